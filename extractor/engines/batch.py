"""Local batch engine: many inputs -> one output, in worker processes, in order, resumable.

Records are read lazily in this process, sent to the workers in chunks of ``batch_size`` with at
most ``2 * jobs`` chunks in flight, and written back in input order, flushed chunk by chunk, so
memory stays flat and a kill loses at most the chunks in flight (``--resume`` redoes them).
With a ``Cluster``, each chunk is a task on Dask instead (``cluster.run_chunks``); reading,
ordering, resume and output stay the same.
"""
from __future__ import annotations

import os
import signal
import sys
import threading
import time
from contextlib import contextmanager
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from functools import partial
from typing import Any, Callable, Iterable, Iterator, Optional

from .cluster import ClusterError, require, run_chunks
from .pool import ordered_map
from .probe import check_text_field
from .progress import EVERY, Progress
from .readers import check_inputs, read_records
from .records import Fields, PathLike, Record, default_tagger, tag_chunk
from .writers import check_output, done_ids, open_writer

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
    """The run stopped early (Ctrl-C, SIGTERM, a worker died); what was written is kept for
    ``resume``. ``interrupted``: by Ctrl-C or SIGTERM; ``terminated``: by SIGTERM."""

    def __init__(self, message: str, summary: BatchSummary, interrupted: bool = False,
                 terminated: bool = False) -> None:
        super().__init__(message)
        self.summary = summary
        self.interrupted = interrupted
        self.terminated = terminated


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised where the run is, as Ctrl-C raises KeyboardInterrupt."""


@contextmanager
def sigterm_stops():
    """Inside the block SIGTERM stops the run as Ctrl-C does (in the main thread; a second
    one while stopping is ignored); the previous handler is back after it."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum, frame):
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        raise Terminated()

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@dataclass(frozen=True)
class Cluster:
    """Tag on Dask: on ``client``'s cluster, else the one at ``scheduler``, else a new local
    cluster of ``jobs`` worker processes; ``partitions``: chunks in flight (default 2 per
    worker thread)."""
    scheduler: Optional[str] = None
    partitions: Optional[int] = None
    client: Any = None


# ---------------------------------------------------------------------------- tagging

_worker_tagger: Any = None


def _init_worker(factory: Optional[TaggerFactory], profile: Optional[str]) -> None:
    global _worker_tagger
    _worker_tagger = (factory or default_tagger)(profile)


def _work(chunk: list[Record], batch_size: int) -> list[dict]:
    return tag_chunk(_worker_tagger, chunk, batch_size)


def _run_local(chunks: Iterable[list[Record]], tagger: Any, batch_size: int
               ) -> Iterator[list[dict]]:
    for chunk in chunks:
        yield tag_chunk(tagger, chunk, batch_size)


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
              fields: Fields = Fields(), progress: Optional[bool] = None,
              tagger_factory: Optional[TaggerFactory] = None,
              cluster: Optional[Cluster] = None,
              progress_every: Optional[float] = EVERY) -> BatchSummary:
    """Tag every record of ``inputs`` into ``output``; see the module docstring.

    ``jobs``: worker processes (default ``os.cpu_count()``; 1 runs here, no pool), or the
    workers of a new local Dask cluster. ``fields``: which fields of JSONL/CSV/Parquet rows
    hold the id, text and title (the first records of an input that all lack the text field
    are a ValueError naming the fields they have: ``probe.check_text_field``). ``progress``:
    the progress line on stderr (``engines.progress``), redrawn in place (True) or none
    (False); default: in place on a terminal, else a line every ``progress_every`` seconds
    (0 or None: none). ``tagger_factory(profile)``: builds the tagger (default ``extractor.Tagger``);
    it must be picklable (a module-level function) when ``jobs > 1``. ``cluster``: tag on
    Dask (see ``Cluster``) instead of here.
    Raises ``BatchAborted`` on Ctrl-C, SIGTERM (in the main thread), a dead worker or a failed
    cluster, ``OSError`` /
    ``ValueError`` / ``ImportError`` on bad arguments (before any model loads).
    """
    inputs = [str(p) for p in inputs]
    jobs = jobs or os.cpu_count() or 1
    _check(inputs, output, jobs, resume, batch_size, tagger_factory, cluster)
    check_text_field(inputs, fields)
    factory = tagger_factory or default_tagger
    # Tagger() only resolves its profile (models load on first use): a bad profile fails here,
    # once, and not in every worker
    local = factory(profile) if cluster is None and (jobs == 1 or tagger_factory is None) else None
    if local is not None and hasattr(local, 'ranker'):
        # and its files read: a broken one is one clear error (ProfileError, a ValueError)
        # here, not a worker dying as it starts
        local.ranker  # noqa: B018
        local = local if jobs == 1 else None
    started = time.monotonic()
    summary = BatchSummary()
    with sigterm_stops():  # SIGTERM: as Ctrl-C, the summary printed and resumable
        writer = open_writer(output, resume)
        bar = None
        results: Optional[Iterator[list[dict]]] = None
        try:
            done = done_ids(output) if resume else set()
            chunks = _chunks(_unique(read_records(inputs, fields), summary), batch_size, done,
                             summary)
            if cluster is not None:
                results = run_chunks(chunks, profile, batch_size, cluster.scheduler,
                                     cluster.partitions, cluster.client, jobs)
            elif jobs == 1:
                results = _run_local(chunks, local, batch_size)
            else:
                results = ordered_map(partial(_work, batch_size=batch_size), chunks, jobs,
                                      _init_worker, (tagger_factory, profile))
            bar = _bar(progress, inputs, summary, progress_every)
            for out in results:
                writer.write(out)
                failed = sum(1 for r in out if 'error' in r)
                summary.failed += failed
                summary.tagged += len(out) - failed
                bar.update()
        except KeyboardInterrupt as e:
            terminated = isinstance(e, Terminated)
            raise BatchAborted(f'{"terminated (SIGTERM)" if terminated else "interrupted"}; rerun '
                               'with --resume to continue', summary, True, terminated) from None
        except BrokenProcessPool:
            raise BatchAborted('a worker process died (killed, out of memory or failed to load '
                               'the models); rerun with --resume to continue', summary) from None
        except ClusterError as e:
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


def _check(inputs: list[str], output: PathLike, jobs: int, resume: bool, batch_size: int,
           tagger_factory: Optional[TaggerFactory], cluster: Optional[Cluster]) -> None:
    """Bad arguments fail here, before any model loads or any output is opened."""
    if jobs < 1 or batch_size < 1:
        raise ValueError('jobs and batch size must be at least 1')
    check_inputs(inputs)
    check_output(output, resume)
    if cluster is not None:
        require()
        if tagger_factory is not None:
            raise ValueError('the Dask engine builds its taggers itself: no tagger_factory')
        if cluster.partitions is not None and cluster.partitions < 1:
            raise ValueError('partitions must be at least 1')


def _bar(progress: Optional[bool], inputs: list[str], summary: BatchSummary,
         every: Optional[float]) -> Progress:
    live = sys.stderr.isatty() if progress is None else progress
    return Progress(inputs, summary, live, every if progress is None else None)
