"""Writers of tagged records: JSONL (``.jsonl``, ``.jsonl.gz``), CSV, Parquet; and resume.

Records are appended and flushed chunk by chunk, one run per output (a lock); ``done_ids`` and
a repair of a half-written last record let a killed run go on where it stopped. A Parquet file
is readable only once its footer is written: its records go to complete part files beside it
(``.NAME.parts/``), merged into ``NAME`` when the run ends, so a kill keeps every part written
and ``--resume`` goes on from them.
"""
from __future__ import annotations

import csv
import gzip
import io
import json
import os
import shutil
import tempfile
import time
import zlib
from typing import IO, Any, Iterable, Iterator, Optional, Union

from .records import PathLike


OUTPUT_FIELDS = ('id', 'tags', 'entities', 'error')


def output_kind(path: PathLike) -> str:
    """'jsonl', 'jsonl.gz', 'csv' or 'parquet'; ValueError otherwise."""
    name = str(path).lower()
    for kind, suffixes in (('jsonl.gz', ('.jsonl.gz', '.ndjson.gz')),
                           ('jsonl', ('.jsonl', '.ndjson')), ('csv', ('.csv',)),
                           ('parquet', ('.parquet', '.pq'))):
        if name.endswith(suffixes):
            return kind
    raise ValueError(f'{path}: unknown output format (want .jsonl, .jsonl.gz, .csv or .parquet)')


class OutputExists(FileExistsError):
    """The output is not empty and ``resume`` was not asked for."""


class OutputBusy(OSError):
    """Another process holds the output's lock."""


def _gzip_lines(path: str, damaged: Optional[list] = None) -> Iterator[bytes]:
    """Complete lines of a (multi-member) gzip file, up to a truncated or corrupt tail.

    ``damaged`` gets True appended when the file has a bad tail or a last line without newline.
    """
    tail = b''
    try:
        with gzip.open(path, 'rb') as handle:
            while True:
                block = handle.read1(1 << 16)  # read() would drop a block that hits the bad tail
                if not block:
                    break
                lines = (tail + block).split(b'\n')
                tail = lines.pop()
                for line in lines:
                    yield line + b'\n'
    except (EOFError, OSError, zlib.error):  # BadGzipFile is an OSError
        if damaged is not None:
            damaged.append(True)
    if tail and damaged is not None:
        damaged.append(True)


def _plain_lines(path: str) -> Iterator[bytes]:
    """Complete (newline-terminated) lines of a plain file."""
    with open(path, 'rb') as handle:
        for line in handle:
            if line.endswith(b'\n'):
                yield line


def _csv_rows(path: str) -> Iterator[tuple[int, list[str]]]:
    """(end offset, fields) of each complete CSV record, quoted newlines included."""
    offset, buffer, quotes = 0, [], 0
    with open(path, 'rb') as handle:
        for line in handle:
            offset += len(line)
            buffer.append(line)
            quotes += line.count(b'"')
            if quotes % 2 == 0 and line.endswith(b'\n'):
                text = b''.join(buffer).decode('utf-8', 'replace')
                buffer, quotes = [], 0
                for fields in csv.reader([text]):
                    yield offset, fields


def done_ids(path: PathLike) -> set[str]:
    """Ids already in an output (JSONL, JSONL.gz or CSV); a half-written last record is ignored."""
    path = str(path)
    kind = output_kind(path)
    if kind == 'parquet':
        return _parquet_ids(path)
    if not os.path.exists(path) or os.path.getsize(path) == 0:
        return set()
    ids: set[str] = set()
    if kind == 'csv':
        rows = _csv_rows(path)
        header = next(rows, (0, []))[1]
        column = header.index('id') if 'id' in header else 0
        for _, fields in rows:
            if len(fields) > column:
                ids.add(fields[column])
        return ids
    lines = _gzip_lines(path) if kind == 'jsonl.gz' else _plain_lines(path)
    for line in lines:
        try:
            ids.add(str(json.loads(line)['id']))
        except (ValueError, KeyError, TypeError, RecursionError):
            continue  # a damaged line in the middle is not an id we have
    return ids


def _repair(path: str, kind: str) -> bool:
    """Cut a half-written last record so that appending starts on a record boundary.

    True when the file was replaced by a new one (gzip), False when cut in place or intact.
    """
    if kind == 'jsonl':
        with open(path, 'rb+') as handle:
            size = handle.seek(0, os.SEEK_END)
            good = size
            while good > 0:  # find the last newline, reading backwards in blocks
                step = min(good, 1 << 16)
                handle.seek(good - step)
                block = handle.read(step)
                cut = block.rfind(b'\n')
                if cut >= 0:
                    good = good - step + cut + 1
                    break
                good -= step
            if good != size:
                handle.truncate(good)
    elif kind == 'csv':
        good = 0
        for good, _ in _csv_rows(path):
            pass
        if good != os.path.getsize(path):
            with open(path, 'rb+') as handle:
                handle.truncate(good)
    elif kind == 'jsonl.gz':
        damaged: list = []
        for _ in _gzip_lines(path, damaged):
            pass
        if damaged:  # rewrite the good prefix as one member, then swap it in
            folder = os.path.dirname(os.path.abspath(path))
            fd, temp = tempfile.mkstemp(prefix='.resume-', suffix='.jsonl.gz', dir=folder)
            try:
                with os.fdopen(fd, 'wb') as raw, gzip.GzipFile(fileobj=raw, mode='wb') as out:
                    for line in _gzip_lines(path):
                        out.write(line)
                os.replace(temp, path)
            except BaseException:
                os.unlink(temp)
                raise
            return True
    return False


def _lock(handle: IO[bytes], path: str) -> None:
    """One run per output: a second one appending at the same time would interleave records."""
    try:
        import fcntl
    except ImportError:  # not POSIX: no lock
        return
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        handle.close()
        raise OutputBusy(f'{path} is being written by another run') from None


def check_output(path: PathLike, resume: bool = False) -> None:
    """Fail early on an output of unknown format, or one that exists without ``resume``."""
    _check_output(str(path), output_kind(path), resume)


def _check_output(path: str, kind: str, resume: bool) -> None:
    if not resume and os.path.exists(path) and os.path.getsize(path) > 0:
        raise OutputExists(f'{path} exists; use --resume or remove it')
    if not resume and kind == 'parquet' and _parts(path):
        raise OutputExists(f'{parts_dir(path)} holds the parts of a stopped run; use --resume '
                           'or remove it')


class Writer:
    """Appends output records (dicts with id, tags, entities or error); flushed per ``write``."""

    def __init__(self, path: PathLike, resume: bool = False) -> None:
        self.path = str(path)
        self.kind = output_kind(self.path)
        _check_output(self.path, self.kind, resume)
        os.makedirs(os.path.dirname(os.path.abspath(self.path)), exist_ok=True)
        self._file = open(self.path, 'ab')
        _lock(self._file, self.path)
        if resume and _repair(self.path, self.kind):
            self._file.close()
            self._file = open(self.path, 'ab')
            _lock(self._file, self.path)
        self._new = os.path.getsize(self.path) == 0

    def write(self, records: Iterable[dict]) -> None:
        data = b''.join(self._encode(r) for r in records)
        if not data:
            return
        if self.kind == 'jsonl.gz':
            data = gzip.compress(data, compresslevel=6)  # one gzip member per chunk
        self._file.write(data)
        self._file.flush()

    def _encode(self, record: dict) -> bytes:
        # a lone surrogate (from a JSON escape) is written back as the same escape
        return (json.dumps(record, ensure_ascii=False) + '\n').encode('utf-8', 'backslashreplace')

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> 'Writer':
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


class CsvWriter(Writer):
    """CSV with columns id, tags, entities, error; tags and entities as JSON."""

    def write(self, records: Iterable[dict]) -> None:
        text = io.StringIO()
        out = csv.writer(text, lineterminator='\n')
        if self._new:
            out.writerow(OUTPUT_FIELDS)
            self._new = False
        for r in records:
            error = r.get('error')
            out.writerow([
                r['id'],
                '' if error else json.dumps(r.get('tags', []), ensure_ascii=False),
                '' if error else json.dumps(r.get('entities', []), ensure_ascii=False),
                error or '',
            ])
        self._file.write(text.getvalue().encode('utf-8', 'backslashreplace'))
        self._file.flush()


def parts_dir(path: str) -> str:
    """Where the parts of a Parquet output wait until the run ends: ``.NAME.parts`` beside it."""
    folder, name = os.path.split(os.path.abspath(path))
    return os.path.join(folder, f'.{name}.parts')


def _parts(path: str) -> list[str]:
    """The complete part files of a Parquet output, in the order they were written."""
    folder = parts_dir(path)
    if not os.path.isdir(folder):
        return []
    return [os.path.join(folder, n) for n in sorted(os.listdir(folder))
            if n.startswith('part-') and n.endswith('.parquet')]


def _parquet_ids(path: str) -> set[str]:
    """Ids in a Parquet output and in the parts a stopped run left."""
    import pyarrow.parquet as pq

    ids: set[str] = set()
    sources = ([path] if os.path.exists(path) and os.path.getsize(path) > 0 else []) + _parts(path)
    for source in sources:
        try:
            ids.update(str(i) for i in pq.read_table(source, columns=['id']).column('id').to_pylist())
        except Exception as e:  # noqa: BLE001 - pyarrow raises ArrowInvalid, OSError, ...
            raise ValueError(f'{source}: not a readable Parquet file ({e}); remove it to start '
                             'afresh') from None
    return ids


class ParquetWriter:
    """Parquet via pyarrow: records go to part files (``parts_dir``), each a complete Parquet
    file written under a temporary name and renamed, one every ``rows`` records or ``seconds``
    seconds; ``close`` merges the output's own records (on resume) and the parts into the
    output, each id once, and removes the parts. A kill loses at most the records of the
    last ``seconds``; ``resume`` goes on from the parts."""

    def __init__(self, path: PathLike, resume: bool = False, rows: int = 4096,
                 seconds: float = 10.0) -> None:
        import pyarrow as pa

        self.path = str(path)
        _check_output(self.path, 'parquet', resume)
        if resume:
            _parquet_ids(self.path)  # an unreadable output or part: refused before any work
        self.parts = parts_dir(self.path)
        os.makedirs(self.parts, exist_ok=True)
        self._lock = open(os.path.join(self.parts, 'lock'), 'ab')
        _lock(self._lock, self.path)
        for name in os.listdir(self.parts):  # a part a kill caught half-written
            if name.startswith('.part-'):
                os.unlink(os.path.join(self.parts, name))
        done = _parts(self.path)
        self._number = int(os.path.basename(done[-1])[5:-8]) + 1 if done else 0
        entity = pa.struct([('start', pa.int64()), ('stop', pa.int64()), ('type', pa.string()),
                            ('text', pa.string()), ('normal', pa.string())])
        self._schema = pa.schema([('id', pa.string()), ('tags', pa.list_(pa.string())),
                                  ('entities', pa.list_(entity)), ('error', pa.string())])
        self._rows: list[dict] = []
        self._limit, self._seconds = rows, seconds
        self._flushed = time.monotonic()

    def write(self, records: Iterable[dict]) -> None:
        for r in records:
            self._rows.append({'id': r['id'], 'tags': r.get('tags', []),
                               'entities': r.get('entities', []), 'error': r.get('error')})
        if (len(self._rows) >= self._limit
                or time.monotonic() - self._flushed >= self._seconds):
            self._flush()

    def _flush(self) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        self._flushed = time.monotonic()
        if not self._rows:
            return
        name = f'part-{self._number:06d}.parquet'
        temp = os.path.join(self.parts, '.' + name)
        pq.write_table(pa.Table.from_pylist(self._rows, schema=self._schema), temp)
        os.replace(temp, os.path.join(self.parts, name))
        self._number += 1
        self._rows = []

    def close(self) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        if self._lock.closed:
            return
        self._flush()
        sources = ([self.path] if os.path.exists(self.path) and os.path.getsize(self.path) > 0
                   else []) + _parts(self.path)
        temp = os.path.join(self.parts, '.merged.parquet')
        seen: set[str] = set()
        with pq.ParquetWriter(temp, self._schema) as out:
            for source in sources:
                with pq.ParquetFile(source) as file:
                    for batch in file.iter_batches(batch_size=self._limit):
                        ids = batch.column('id').to_pylist()
                        keep = [i not in seen and not seen.add(i) for i in ids]  # each id once
                        table = pa.Table.from_batches([batch]).filter(pa.array(keep, pa.bool_()))
                        out.write_table(table.cast(self._schema))
        os.replace(temp, self.path)
        self._lock.close()
        shutil.rmtree(self.parts, ignore_errors=True)

    def __enter__(self) -> 'ParquetWriter':
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def open_writer(path: PathLike, resume: bool = False) -> Union[Writer, ParquetWriter]:
    """A writer for ``path`` by its suffix.

    Without ``resume`` a non-empty existing output raises ``OutputExists``; with it, a
    half-written last record is cut and new records are appended (Parquet: to new parts).
    """
    kind = output_kind(path)
    if kind == 'parquet':
        return ParquetWriter(path, resume)
    if kind == 'csv':
        return CsvWriter(path, resume)
    return Writer(path, resume)
