"""Local batch engine: many inputs -> one output, in worker processes, in order, resumable.

Records are read lazily in this process, sent to the workers in chunks of ``batch_size`` with at
most ``2 * jobs`` chunks in flight, and written back in input order, flushed chunk by chunk, so
memory stays flat and a kill loses at most the chunks in flight (``--resume`` redoes them).
"""
from __future__ import annotations

import argparse
import multiprocessing
import os
import signal
import sys
import time
from collections import deque
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Iterator, Optional

from extractor.doc import Doc
from extractor.io import (PathLike, Record, check_inputs, check_output, done_ids, open_writer,
                          read_records, row_record)

THREAD_VARS = ('OMP_NUM_THREADS', 'OPENBLAS_NUM_THREADS', 'MKL_NUM_THREADS')

TaggerFactory = Callable[[Optional[str]], Any]


@dataclass
class BatchSummary:
    """What a run did; ``str()`` is the line printed at the end."""
    read: int = 0
    tagged: int = 0
    failed: int = 0
    skipped: int = 0
    renamed: int = 0
    seconds: float = 0.0

    @property
    def docs_per_s(self) -> float:
        done = self.tagged + self.failed
        return done / self.seconds if self.seconds > 0 else 0.0

    def __str__(self) -> str:
        text = (f'read {self.read}, tagged {self.tagged}, failed {self.failed}, '
                f'skipped by resume {self.skipped}')
        if self.renamed:
            text += f', {self.renamed} repeated ids made unique with #2, #3...'
        return text + f'; {self.seconds:.1f} s, {self.docs_per_s:.1f} docs/s'


class BatchAborted(RuntimeError):
    """The run stopped early (Ctrl-C, a worker died); what was written is kept for ``resume``."""

    def __init__(self, message: str, summary: BatchSummary, interrupted: bool = False) -> None:
        super().__init__(message)
        self.summary = summary
        self.interrupted = interrupted


# ---------------------------------------------------------------------------- tagging

def default_tagger(profile: Optional[str] = None) -> Any:
    from extractor import Tagger

    return Tagger(profile=profile)


def doc_record(doc: Doc, rid: str) -> dict:
    """The output record of one tagged document."""
    if doc.error:
        return {'id': rid, 'error': doc.error}
    return {'id': rid, 'tags': [t.text for t in doc.tags],
            'entities': [{'start': e.start, 'stop': e.stop, 'type': e.type, 'text': e.text,
                          'normal': e.normal} for e in doc.entities]}


def _pipe(tagger: Any, items: list[tuple[str, str]], batch_size: int) -> list[Doc]:
    try:
        docs = list(tagger.pipe(items, batch_size=batch_size, errors='yield'))
        if len(docs) == len(items):
            return docs
    except Exception:
        pass
    # errors='yield' should confine failures to their documents; if not, isolate them one by one
    docs = []
    for rid, text in items:
        try:
            docs.extend(tagger.pipe([(rid, text)], batch_size=1, errors='yield'))
        except Exception as e:
            docs.append(Doc(text=text, id=rid, error=f'{type(e).__name__}: {e}'))
    return docs


def tag_chunk(tagger: Any, chunk: list[Record], batch_size: int = 32) -> list[dict]:
    """Output records for a chunk, in order; records that came with an error are passed through."""
    items = [(r.id, r.text) for r in chunk if r.error is None]
    docs = iter(_pipe(tagger, items, batch_size))
    return [{'id': r.id, 'error': r.error} if r.error is not None else doc_record(next(docs), r.id)
            for r in chunk]


_worker_tagger: Any = None


def _init_worker(factory: Optional[TaggerFactory], profile: Optional[str]) -> None:
    for var in THREAD_VARS:  # also set by the parent before spawning, ahead of any numpy import
        os.environ[var] = '1'
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    global _worker_tagger
    _worker_tagger = (factory or default_tagger)(profile)


def _work(chunk: list[Record], batch_size: int) -> list[dict]:
    return tag_chunk(_worker_tagger, chunk, batch_size)


@contextmanager
def single_threaded_env() -> Iterator[None]:
    saved = {var: os.environ.get(var) for var in THREAD_VARS}
    os.environ.update({var: '1' for var in THREAD_VARS})
    try:
        yield
    finally:
        for var, value in saved.items():
            if value is None:
                os.environ.pop(var, None)
            else:
                os.environ[var] = value


def _mp_context() -> multiprocessing.context.BaseContext:
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context('forkserver' if 'forkserver' in methods else 'spawn')


def _run_local(chunks: Iterable[list[Record]], tagger: Any, batch_size: int
               ) -> Iterator[list[dict]]:
    for chunk in chunks:
        yield tag_chunk(tagger, chunk, batch_size)


def _run_pool(chunks: Iterable[list[Record]], jobs: int, profile: Optional[str], batch_size: int,
              factory: Optional[TaggerFactory]) -> Iterator[list[dict]]:
    window: deque = deque()
    with single_threaded_env(), ProcessPoolExecutor(
            jobs, mp_context=_mp_context(), initializer=_init_worker,
            initargs=(factory, profile)) as pool:
        try:
            for chunk in chunks:
                window.append(pool.submit(_work, chunk, batch_size))
                if len(window) >= 2 * jobs:
                    yield window.popleft().result()
            while window:
                yield window.popleft().result()
        except BaseException:  # Ctrl-C, a dead worker, the consumer gone: drop what is in flight
            for future in window:
                future.cancel()
            # no public way before Python 3.14 (terminate_workers); else shutdown waits for chunks
            for process in list((getattr(pool, '_processes', None) or {}).values()):
                process.terminate()
            raise


# ---------------------------------------------------------------------------- the run

def _unique(records: Iterable[Record], summary: BatchSummary) -> Iterator[Record]:
    """Count records; give a repeated id the first free ``#2``, ``#3``... suffix."""
    seen: set[str] = set()
    next_n: dict[str, int] = {}
    for r in records:
        summary.read += 1
        if r.id in seen:
            n = next_n.get(r.id, 2)
            while f'{r.id}#{n}' in seen:
                n += 1
            next_n[r.id] = n + 1
            r = Record(f'{r.id}#{n}', r.text, r.error)
            summary.renamed += 1
        seen.add(r.id)
        yield r


def _chunks(records: Iterable[Record], size: int, done: set[str], summary: BatchSummary
            ) -> Iterator[list[Record]]:
    chunk: list[Record] = []
    for r in records:
        if r.id in done:
            summary.skipped += 1
            continue
        chunk.append(r)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def run_batch(inputs: Iterable[PathLike], output: PathLike, jobs: Optional[int] = None,
              resume: bool = False, profile: Optional[str] = None, batch_size: int = 32,
              id_field: Optional[str] = None, text_field: str = 'text',
              title_field: Optional[str] = 'title', progress: Optional[bool] = None,
              tagger_factory: Optional[TaggerFactory] = None, engine: str = 'local',
              scheduler: Optional[str] = None, partitions: Optional[int] = None,
              client: Any = None) -> BatchSummary:
    """Tag every record of ``inputs`` into ``output``; see the module docstring.

    ``jobs``: worker processes (default ``os.cpu_count()``; 1 runs here, no pool).
    ``engine='dask'``: each chunk is a task on the Dask cluster at ``scheduler`` (or on
    ``client``), else on a new local cluster of ``jobs`` worker processes; ``partitions``
    chunks are kept in flight (default 2 per worker thread). Reading, ordering, resume and
    output are the same as the local engine's.
    ``progress``: a tqdm bar on stderr (default: when stderr is a terminal).
    ``tagger_factory(profile)``: builds the tagger (default ``extractor.Tagger``); it must be
    picklable (a module-level function) when ``jobs > 1``.
    Raises ``BatchAborted`` on Ctrl-C or a dead worker, ``OSError``/``ValueError`` on bad
    arguments (before any model loads).
    """
    from tqdm import tqdm

    inputs = [str(p) for p in inputs]
    jobs = jobs or os.cpu_count() or 1
    if jobs < 1 or batch_size < 1:
        raise ValueError('jobs and batch size must be at least 1')
    if engine not in ('local', 'dask'):
        raise ValueError(f"engine must be 'local' or 'dask', not {engine!r}")
    check_inputs(inputs)
    check_output(output, resume)
    if engine == 'dask':
        from extractor import dask as dask_engine

        dask_engine._require()
        if tagger_factory is not None:
            raise ValueError('the Dask engine builds its taggers itself: no tagger_factory')
        if partitions is not None and partitions < 1:
            raise ValueError('partitions must be at least 1')
    factory = tagger_factory or default_tagger
    # Tagger() only resolves its profile (models load on first use): a bad profile fails here,
    # once, and not in every worker
    local = factory(profile) if engine == 'local' and (jobs == 1 or tagger_factory is None) else None
    started = time.monotonic()
    summary = BatchSummary()
    writer = open_writer(output, resume)
    bar = None
    results: Optional[Iterator[list[dict]]] = None
    try:
        done = done_ids(output) if resume else set()
        records = _unique(read_records(inputs, id_field, text_field, title_field or None), summary)
        chunks = _chunks(records, batch_size, done, summary)
        if engine == 'dask':
            results = dask_engine.run_chunks(chunks, profile, batch_size, scheduler, partitions,
                                             client, jobs)
        elif jobs == 1:
            results = _run_local(chunks, local, batch_size)
        else:
            results = _run_pool(chunks, jobs, profile, batch_size, tagger_factory)
        bar = tqdm(unit='doc', file=sys.stderr, dynamic_ncols=True,
                   disable=not (sys.stderr.isatty() if progress is None else progress))
        for out in results:
            writer.write(out)
            failed = sum(1 for r in out if 'error' in r)
            summary.failed += failed
            summary.tagged += len(out) - failed
            bar.update(len(out))
            bar.set_postfix(errors=summary.failed, refresh=False)
    except KeyboardInterrupt:
        raise BatchAborted('interrupted; rerun with --resume to continue', summary, True) from None
    except BrokenProcessPool:
        raise BatchAborted('a worker process died (killed, out of memory or failed to load '
                           'the models); rerun with --resume to continue', summary) from None
    except Exception as e:
        if type(e).__name__ != 'ClusterError':
            raise
        raise BatchAborted(f'the Dask cluster failed: {e}; rerun with --resume to continue',
                           summary) from None
    finally:
        if results is not None:
            results.close()  # cancels what is still queued in the pool
        if bar is not None:
            bar.close()
        writer.close()
        summary.seconds = time.monotonic() - started
    return summary


# ---------------------------------------------------------------------------- DataFrames

def tag_dataframe(df: Any, text: str = 'text', title: Optional[str] = 'title', id: str = 'id',
                  tagger: Any = None, batch_size: int = 32) -> Any:
    """A copy of ``df`` with ``tags`` (list of str), ``entities`` (list of dict) and ``error``.

    The title column, when present, is tagged first (title + '\\n' + text); rows with no text
    get the error "empty text" or "missing text field"; the index gives ids when ``id`` is absent.
    """
    import pandas as pd

    tagger = tagger if tagger is not None else default_tagger()
    columns = [c for c in (id, text, title) if c and c in df.columns]
    ids = df[id] if id in df.columns else df.index.to_series()
    records = []
    for number, (index, row) in enumerate(zip(ids, df[columns].to_dict('records')), 1):
        records.append(row_record(row, f'row {number}', str(index), id, text, title))
    out: list[dict] = []
    for start in range(0, len(records), batch_size):
        out.extend(tag_chunk(tagger, records[start:start + batch_size], batch_size))
    result = df.copy()
    result['tags'] = [r.get('tags', []) for r in out]
    result['entities'] = [r.get('entities', []) for r in out]
    result['error'] = pd.Series([r.get('error') for r in out], index=df.index, dtype=object)
    return result


# ---------------------------------------------------------------------------- command line

EXAMPLES = """\
examples:
  extractor batch articles/ news.jsonl.gz -o tags.jsonl -j 4
  extractor batch dump.tar.gz -o tags.parquet --title-field ''
  zcat news.jsonl.gz | extractor batch - -o tags.csv --id-field url
  extractor batch articles/ -o tags.jsonl --resume      # after a crash or Ctrl-C
  extractor batch s3://news/2024.jsonl.gz -o tags.jsonl --engine dask --scheduler tcp://10.0.0.5:8786

inputs: a directory (all *.txt below it, articles in the seed format), .txt, .jsonl[.gz|.bz2],
.csv[.gz|.bz2], .parquet, .tar[.gz|.bz2], .zip of .txt files, or - for JSONL on stdin.
Text files may be UTF-8 (with or without BOM), UTF-16, cp1251 or koi8-r.
output records: {"id", "tags": [...], "entities": [{"start","stop","type","text","normal"}]}
or {"id", "error"}; the exit status is 1 when any record failed.
"""


def add_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Add the ``batch`` arguments to ``parser`` (a subcommand's parser)."""
    parser.description = 'Tag many documents into one JSONL, CSV or Parquet file.'
    parser.epilog = EXAMPLES
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument('inputs', nargs='+', metavar='INPUT',
                        help='directories, files or archives to tag; - reads JSONL on stdin')
    parser.add_argument('-o', '--output', required=True, metavar='OUTPUT',
                        help='.jsonl, .jsonl.gz, .csv or .parquet')
    parser.add_argument('-j', '--jobs', type=int, default=None, metavar='N',
                        help=f'worker processes (default: CPU count, {os.cpu_count()} here); '
                             '1 tags in this process')
    parser.add_argument('--resume', action='store_true',
                        help='skip ids already in OUTPUT and append the rest (JSONL/CSV only)')
    parser.add_argument('--profile', default=None, metavar='NAME', help='tagger profile')
    parser.add_argument('--id-field', default=None, metavar='F',
                        help="id field of JSONL/CSV/Parquet records (default: id, else "
                             "<file>:<line>)")
    parser.add_argument('--text-field', default='text', metavar='F',
                        help='text field (default: text)')
    parser.add_argument('--title-field', default='title', metavar='F',
                        help="title field, tagged before the text (default: title; '' for none)")
    parser.add_argument('--batch-size', type=int, default=32, metavar='N',
                        help='documents per chunk sent to a worker (default: 32)')
    parser.add_argument('--engine', choices=('local', 'dask'), default='local',
                        help='local: a process pool here (default); dask: a Dask cluster '
                             '(pip install "extractor[dask]")')
    parser.add_argument('--scheduler', default=None, metavar='ADDRESS',
                        help='dask: the scheduler to connect to (tcp://host:8786); default: '
                             'a local cluster of -j worker processes')
    parser.add_argument('--partitions', type=int, default=None, metavar='N',
                        help='dask: chunks (partitions of --batch-size documents) in flight at '
                             'once (default: 2 per worker thread)')
    return parser


main_args = add_arguments


def run_from_args(args: argparse.Namespace) -> int:
    """Run ``batch`` from parsed arguments; print the summary; return the exit status."""
    try:
        summary = run_batch(args.inputs, args.output, jobs=args.jobs, resume=args.resume,
                            profile=args.profile, batch_size=args.batch_size,
                            id_field=args.id_field, text_field=args.text_field,
                            title_field=args.title_field or None, engine=args.engine,
                            scheduler=args.scheduler, partitions=args.partitions)
    except BatchAborted as e:
        print(f'extractor batch: {e.summary}', file=sys.stderr)
        print(f'extractor batch: {e}', file=sys.stderr)
        return 130 if e.interrupted else 1
    except (OSError, ValueError, ImportError) as e:
        print(f'extractor batch: error: {e}', file=sys.stderr)
        return 2
    print(f'extractor batch: {summary}', file=sys.stderr)
    return 1 if summary.failed else 0


def main(argv: Optional[list[str]] = None) -> int:
    parser = add_arguments(argparse.ArgumentParser(prog='extractor batch'))
    return run_from_args(parser.parse_args(argv))


if __name__ == '__main__':
    # run through the imported module so that workers pickle extractor.batch, not __main__
    from extractor.batch import main as _main

    sys.exit(_main())
