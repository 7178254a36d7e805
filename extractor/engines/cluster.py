"""Tagging on a Dask cluster: bags, DataFrames, and the ``--engine dask`` of ``extractor batch``.

    from extractor.engines.cluster import read_articles, tag_bag, tag_ddf
    tagged = tag_ddf(dd.read_parquet('s3://news/2024/*.parquet'), text='body')
    records = tag_bag(read_articles('s3://news/articles/*.txt'))  # one document per file

Each worker process builds its ``Tagger`` once, on its first task, and keeps it for every later
task (a per-process cache, so a restarted worker simply builds it again); the records and error
records are those of the local engine, from the same ``records.tag_chunk``. Dask is an optional
extra: ``pip install "extractor[dask]"``; this module imports it only when used.
"""
from __future__ import annotations

import os
import threading
from collections import deque
from typing import Any, Iterable, Iterator, Optional

from ..threads import THREAD_VARS, single_threaded
from .frames import check_text_column, output_columns, tag_dataframe, typed, typed_meta
from .readers import article_of
from .records import Fields, Record, default_tagger, row_record, tag_chunk

INSTALL = 'the Dask engine needs dask.distributed: pip install "extractor[dask]"'

_taggers: dict[Optional[str], Any] = {}
_lock = threading.Lock()
_loads = 0


def require() -> None:
    """ImportError saying how to install Dask, where it is missing."""
    try:
        import dask  # noqa: F401
        import distributed  # noqa: F401
    except ImportError:
        raise ImportError(INSTALL) from None


def worker_tagger(profile: Optional[str] = None) -> Any:
    """This process's tagger for ``profile``, built (and its models loaded) on first use."""
    global _loads
    with _lock:
        tagger = _taggers.get(profile)
        if tagger is None:
            for var in THREAD_VARS:  # one BLAS thread per process: processes share the cores
                os.environ.setdefault(var, '1')
            tagger = _taggers[profile] = default_tagger(profile)
            tagger.models  # load now, once, not inside the first record's time
            _loads += 1
        return tagger


def loads() -> int:
    """How many taggers this process has built (``client.run(loads)`` asks every worker)."""
    return _loads


def tag_records(records: list[Record], profile: Optional[str] = None,
                batch_size: int = 32) -> list[dict]:
    """Output records (``id``, ``tags``, ``entities`` or ``id``, ``error``) for ``records``."""
    tagger = worker_tagger(profile)
    out: list[dict] = []
    for start in range(0, len(records), batch_size):
        out.extend(tag_chunk(tagger, records[start:start + batch_size], batch_size))
    return out


def _item_record(item: Any, where: str, fallback: str, fields: Fields) -> Record:
    if isinstance(item, Record):  # read_articles' record of a file it could not read
        return item
    if isinstance(item, str):
        return row_record({fields.text: item}, where, fallback, Fields(None, fields.text, None))
    if isinstance(item, (tuple, list)) and len(item) == 2:
        return row_record({'id': item[0], fields.text: item[1]}, where, fallback,
                          Fields('id', fields.text, None))
    if isinstance(item, dict):
        return row_record(item, where, fallback, fields)
    return Record(fallback, error=f'{where}: not a text, (id, text) pair or dict but {type(item).__name__}')


def _tag_partition(items: Iterable[Any], number: int, profile: Optional[str], batch_size: int,
                   fields: Fields) -> list[dict]:
    records = [_item_record(item, f'partition {number} item {i}', f'{number}:{i}', fields)
               for i, item in enumerate(items, 1)]
    return tag_records(records, profile, batch_size)


def tag_bag(bag: Any, profile: Optional[str] = None, batch_size: int = 32,
            id_field: Optional[str] = None, text_field: str = 'text',
            title_field: Optional[str] = 'title') -> Any:
    """A bag of output records for a bag of texts, ``(id, text)`` pairs or dicts.

    Dicts are read as JSONL records are (``id_field``, ``text_field``, ``title_field``); an
    item without an id gets ``<partition>:<position>``. Bad items become error records.
    Every item is one document: ``db.read_text`` gives one item per *line*, right for JSONL
    (``.map(json.loads)``), wrong for article files; ``read_articles`` makes a bag of whole files.
    """
    require()
    import dask
    import dask.bag as db

    fields = Fields(id_field, text_field, title_field)
    parts = bag.to_delayed()
    tag = dask.delayed(_tag_partition, pure=True)
    return db.from_delayed([tag(part, number, profile, batch_size, fields)
                            for number, part in enumerate(parts)])


def read_articles(urlpath: Any, files_per_partition: int = 32, **storage_options: Any) -> Any:
    """A bag of ``(path, text)``, one item per article file of ``urlpath`` (a glob, a list of
    paths, any fsspec URL: ``'s3://bucket/news/*.txt'``), for ``tag_bag``.

    Each file is read as ``extractor.read_article`` reads one, on the workers: decoded (UTF-8,
    UTF-16, cp1251, koi8-r), an HTML page turned into its text, the gold ``#tags`` line and
    the footer split off. A file that cannot be read or decoded is an error record instead
    (``tag_bag`` passes it through as ``{"id", "error"}``). Relative local paths stay as given.
    """
    require()
    import dask.bag as db
    from fsspec import open_files

    files = open_files(urlpath, 'rb', **storage_options)
    if not files:
        raise FileNotFoundError(f'{urlpath}: no files match')
    relative = all(isinstance(p, str) and '://' not in p and not os.path.isabs(p)
                   for p in ([urlpath] if isinstance(urlpath, str) else urlpath))
    named = [(os.path.relpath(f.path) if relative else f.path, f) for f in files]
    return db.from_sequence(named, partition_size=files_per_partition).map(_read_file)


def _read_file(item: tuple[str, Any]) -> Any:
    name, file = item
    try:
        with file as handle:
            return name, article_of(handle.read()).text
    except (OSError, UnicodeDecodeError) as e:
        return Record(name, error=f'{name}: {e}')


def _tag_frame(df: Any, text: str, title: Optional[str], id: str, profile: Optional[str],
               batch_size: int, prefix: str = '') -> Any:
    result = tag_dataframe(df, text=text, title=title, id=id, tagger=worker_tagger(profile),
                           batch_size=batch_size, prefix=prefix)
    return typed(result, output_columns(df.columns, prefix))


def tag_ddf(ddf: Any, text: str = 'text', title: Optional[str] = 'title', id: str = 'id',
            profile: Optional[str] = None, batch_size: int = 32, prefix: str = '') -> Any:
    """``ddf`` with ``tags``, ``entities`` and ``error`` columns (after ``prefix``), as
    ``extractor.tag_dataframe`` gives them for a pandas DataFrame, partition by partition.

    The new columns are typed (``frames.arrow_types``: lists of strings, lists of entity
    structs, strings) in the meta and in every partition alike, so ``to_parquet`` writes them
    as they are; read them back with ``dd.read_parquet(dir, dtype_backend='pyarrow')`` (or
    pandas' ``read_parquet`` with the same argument). A frame that already has one of the
    columns, or lacks the ``text`` column, is a ValueError here, before anything runs.
    """
    require()
    names = output_columns(ddf.columns, prefix)
    check_text_column(ddf.columns, text)
    return ddf.map_partitions(_tag_frame, text, title, id, profile, batch_size, prefix,
                              meta=typed_meta(ddf._meta, names))


# ---------------------------------------------------------------------------- the engine

def connect(scheduler: Optional[str] = None, workers: Optional[int] = None) -> tuple[Any, Any]:
    """A client of the cluster at ``scheduler``, or of a new ``LocalCluster`` with one
    single-threaded worker process per core (or ``workers``); returns (client, cluster or None)."""
    require()
    from distributed import Client, LocalCluster

    if scheduler:
        return Client(scheduler), None
    with single_threaded():  # inherited by the worker processes
        cluster = LocalCluster(n_workers=workers or os.cpu_count() or 1, threads_per_worker=1,
                               processes=True, dashboard_address=None)
    return Client(cluster), cluster


class ClusterError(RuntimeError):
    """A task failed on the cluster for good (its workers kept dying, or the scheduler left)."""


def _result(future: Any) -> list[dict]:
    try:
        return future.result()
    except Exception as e:  # noqa: BLE001 - KilledWorker, CommClosedError, ... from distributed
        raise ClusterError(f'{type(e).__name__}: {e}') from e
    finally:
        future.release()


def run_chunks(chunks: Iterable[list[Record]], profile: Optional[str], batch_size: int,
               scheduler: Optional[str] = None, in_flight: Optional[int] = None,
               client: Any = None, workers: Optional[int] = None) -> Iterator[list[dict]]:
    """Output records of each chunk, in input order, each chunk a task on the cluster.

    The cluster: ``client``'s, else the one at ``scheduler``, else a new local one of
    ``workers`` processes (closed at the end). At most ``in_flight`` chunks are submitted ahead
    (default: 2 per worker thread), so the input streams through in constant memory; a task
    lost with a worker is run again by Dask.
    """
    own_client, cluster = (client, None) if client is not None else connect(scheduler, workers)
    try:
        if in_flight is None:
            threads = sum(own_client.nthreads().values()) or 1
            in_flight = 2 * threads
        window: deque = deque()
        try:
            for chunk in chunks:
                window.append(own_client.submit(tag_records, chunk, profile, batch_size, pure=False))
                if len(window) >= in_flight:
                    yield _result(window.popleft())
            while window:
                yield _result(window.popleft())
        finally:
            for future in window:
                future.cancel()
    finally:
        if client is None:
            own_client.close()
            if cluster is not None:
                cluster.close()
