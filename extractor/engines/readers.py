"""Readers of inputs to tag: generators only, nothing read whole.

Inputs: a directory (recursive ``*.txt`` articles), ``.txt``, ``.jsonl[.gz|.bz2]``,
``.csv[.gz|.bz2]``, ``.parquet``, ``.tar[.gz|.bz2]`` / ``.tgz`` / ``.zip`` of text files and
``-`` (JSONL on stdin). An article file is read as ``read_article`` reads one.
"""
from __future__ import annotations

import bz2
import csv
import gzip
import io
import json
import os
import stat
import sys
import tarfile
import zipfile
import zlib
from pathlib import Path
from typing import IO, Iterable, Iterator, Optional

from ..article import Article, parse_article
from .decode import decode_bytes
from .markup import looks_like_html, strip_html
from .records import Fields, PathLike, Record, checked, row_record


_ARCHIVES = ('.tar', '.tar.gz', '.tgz', '.tar.bz2', '.tbz2', '.zip')
_JSONL = ('.jsonl', '.jsonl.gz', '.jsonl.bz2', '.ndjson', '.ndjson.gz', '.ndjson.bz2')
_CSV = ('.csv', '.csv.gz', '.csv.bz2')
csv.field_size_limit(2 ** 31 - 1)


def input_kind(path: str) -> str:
    """'stdin', 'dir', 'txt', 'archive', 'jsonl', 'csv' or 'parquet'; ValueError otherwise."""
    if path == '-':
        return 'stdin'
    if os.path.isdir(path):
        return 'dir'
    name = path.lower()
    for kind, suffixes in (('archive', _ARCHIVES), ('jsonl', _JSONL), ('csv', _CSV),
                           ('parquet', ('.parquet', '.pq')), ('txt', ('.txt',))):
        if name.endswith(suffixes):
            return kind
    raise ValueError(f'{path}: unknown input format (want a directory, .txt, .jsonl[.gz|.bz2], '
                     '.csv[.gz|.bz2], .parquet, .tar[.gz], .zip or - for JSONL on stdin)')


def is_url(path: str) -> bool:
    """``s3://...``, ``hdfs://...``, ``https://...``: read through fsspec."""
    return '://' in path


def check_inputs(inputs: Iterable[PathLike]) -> None:
    """Fail early (before any model loads) on a missing input or an unknown format."""
    for path in map(str, inputs):
        if is_url(path):
            if input_kind(path) in ('dir', 'archive'):
                raise ValueError(f'{path}: directories and archives are read from local paths '
                                 'only; give JSONL, CSV, Parquet or .txt URLs')
            continue
        if path != '-' and not os.path.exists(path):
            raise FileNotFoundError(f'{path}: no such file or directory')
        input_kind(path)


def _open_binary(path: str) -> IO[bytes]:
    if path == '-':
        return sys.stdin.buffer
    if is_url(path):
        try:
            import fsspec
        except ImportError:
            raise ValueError(f'{path}: reading URLs needs fsspec: pip install "extractor[dask]"') from None
        return fsspec.open(path, 'rb', compression='infer').open()
    if path.endswith('.gz'):
        return gzip.open(path, 'rb')
    if path.endswith('.bz2'):
        return bz2.open(path, 'rb')
    return open(path, 'rb')


def article_of(data: bytes) -> Article:
    """An article file's bytes as an Article: decoded (``decode_bytes``: UnicodeDecodeError for
    binary data), an HTML page turned into its text, gold line and footer split off."""
    text = decode_bytes(data)
    return parse_article(strip_html(text) if looks_like_html(text) else text)


# An article file is at most this big: a bigger one (a dump, /dev/zero, a zip bomb) is refused
# before it fills the memory (the tagger reads a text's first ``article.MAX_CHARS`` only).
MAX_FILE_BYTES = 64 << 20


class TooLarge(ValueError):
    """A file over ``MAX_FILE_BYTES``."""


def read_limited(handle: IO[bytes], name: str, limit: int = MAX_FILE_BYTES) -> bytes:
    """All of ``handle``, or ``TooLarge`` past ``limit`` bytes (without reading on)."""
    data = handle.read(limit + 1)
    if len(data) > limit:
        raise TooLarge(f'{name}: over {limit >> 20} MiB, too large for an article')
    return data


def read_article(path: PathLike) -> Article:
    """The article in the file at ``path`` (see ``article_of``); OSError, UnicodeDecodeError,
    ``TooLarge`` (a ValueError)."""
    with open(path, 'rb') as file:
        return article_of(read_limited(file, str(path)))


def _file_record(rid: str, data: bytes) -> Record:
    try:
        text = article_of(data).text
    except UnicodeDecodeError as e:
        return Record(rid, error=str(e))
    return checked(Record(rid, text))


def _entry_record(rid: str, file: Path) -> Record:
    """The record of one file of a directory; an error record naming it when it is not a
    regular file (a FIFO would block the walk for good, a device never end) or cannot be read
    (a dangling symlink, a symlink loop, no permission, too large)."""
    try:
        if not stat.S_ISREG(os.stat(file).st_mode):
            return Record(rid, error=f'{file}: not a regular file')
        with open(file, 'rb') as handle:
            return _file_record(rid, read_limited(handle, str(file)))
    except OSError as e:
        return Record(rid, error=f'{file}: cannot read: {e.strerror or e}')
    except TooLarge as e:
        return Record(rid, error=str(e))


def _read_dir(path: str) -> Iterator[Record]:
    """Text files below ``path`` in a fixed order (each folder's files, then its subfolders);
    an entry that cannot be read, and a folder that cannot be listed, is an error record
    naming it, and the walk goes on."""
    failed: list[OSError] = []
    for folder, subfolders, files in os.walk(path, onerror=failed.append):
        while failed:  # a subfolder os.walk could not list: reported where it would be read
            yield _folder_error(path, failed.pop(0))
        subfolders[:] = sorted(d for d in subfolders if not d.startswith('.'))
        for name in sorted(files):
            if _is_text_member(name):
                file = Path(folder, name)
                yield _entry_record(file.relative_to(path).as_posix(), file)
    for error in failed:  # the top folder itself, or the last subfolder
        yield _folder_error(path, error)


def _folder_error(top: str, error: OSError) -> Record:
    where = str(error.filename or top)
    inside = where != top and where.startswith(top)
    return Record(Path(where).relative_to(top).as_posix() if inside else where,
                  error=f'{where}: cannot list the folder: {error.strerror or error}')


def _read_archive(path: str) -> Iterator[Record]:
    if path.lower().endswith('.zip'):
        with zipfile.ZipFile(path) as archive:
            for info in archive.infolist():
                if not info.is_dir() and _is_text_member(info.filename):
                    if info.file_size > MAX_FILE_BYTES:
                        yield Record(info.filename, error=f'{info.filename}: over '
                                     f'{MAX_FILE_BYTES >> 20} MiB, too large for an article')
                        continue
                    with archive.open(info) as member:
                        yield _file_record(info.filename, read_limited(member, info.filename))
        return
    with tarfile.open(path, 'r|*') as archive:  # stream mode: members one at a time
        while (member := archive.next()) is not None:
            archive.members.clear()  # TarFile keeps every header it read: 0.5 KB a member
            if member.isfile() and _is_text_member(member.name):
                if member.size > MAX_FILE_BYTES:
                    yield Record(member.name, error=f'{member.name}: over '
                                 f'{MAX_FILE_BYTES >> 20} MiB, too large for an article')
                    continue
                handle = archive.extractfile(member)
                yield _file_record(member.name, handle.read() if handle else b'')


def _is_text_member(name: str) -> bool:
    base = name.rsplit('/', 1)[-1]
    return name.lower().endswith('.txt') and not base.startswith('.') and '__MACOSX/' not in name


def _read_jsonl(path: str, fields: Fields) -> Iterator[Record]:
    base = 'stdin' if path == '-' else os.path.basename(path)
    handle = _open_binary(path)
    try:
        for number, raw in enumerate(handle, 1):
            if not raw.strip():
                continue
            where, fallback = f'line {number}', f'{base}:{number}'
            try:
                row = json.loads(raw.decode('utf-8-sig' if number == 1 else 'utf-8'))
            except UnicodeDecodeError as e:
                yield Record(fallback, error=f'{where}: invalid UTF-8: {e.reason}')
                continue
            except json.JSONDecodeError as e:
                yield Record(fallback, error=f'{where}: invalid JSON: {e}')
                continue
            except RecursionError:  # [[[[... a hundred thousand deep
                yield Record(fallback, error=f'{where}: invalid JSON: nested too deeply')
                continue
            if not isinstance(row, dict):
                yield Record(fallback, error=f'{where}: not a JSON object')
                continue
            yield row_record(row, where, fallback, fields)
    finally:
        if handle is not sys.stdin.buffer:
            handle.close()


def _read_csv(path: str, fields: Fields) -> Iterator[Record]:
    """Rows of a CSV file with a header. A row that breaks the quoting (an unclosed quote
    would swallow every row after it into one field) is an error record naming its row and
    line, and reading goes on on the line after the one it began on."""
    base = os.path.basename(path)
    with io.TextIOWrapper(_open_binary(path), encoding='utf-8-sig', newline='') as handle:
        lines = _Lines(handle)
        header: Optional[list[str]] = None
        number = 0
        while True:
            reader = csv.reader(lines, strict=True)
            try:
                for values in reader:
                    began = lines.record_start()
                    if not values:
                        continue
                    if header is None:
                        header = values
                        continue
                    number += 1
                    row = dict(zip(header, values))
                    yield row_record(row, f'row {number}', f'{base}:{number}', fields)
                return
            except csv.Error as e:
                began = lines.record_start()
                number += 1
                yield Record(f'{base}:{number}', error=f'row {number} (line {began}): broken CSV '
                                                        f'({e}); read on from line {began + 1}')
                lines.again()


class _Lines:
    """The lines of a file for ``csv.reader``, those of the record being read kept, so that
    after a broken record the reader can start again on the line after its first."""

    def __init__(self, handle: IO[str]) -> None:
        self.handle, self.pending, self.record, self.number = handle, [], [], 0
        self.first = 1  # line number of the record's first line

    def __iter__(self) -> '_Lines':
        return self

    def __next__(self) -> str:
        line = self.pending.pop() if self.pending else next(self.handle)
        self.record.append(line)
        return line

    def record_start(self) -> int:
        """The first line of the record just read (or broken); the next one starts after it."""
        began = self.first
        self.first += len(self.record)
        self.kept, self.record = self.record, []
        return began

    def again(self) -> None:
        """Read the broken record's lines again, but its first."""
        self.first -= len(self.kept) - 1
        self.pending.extend(reversed(self.kept[1:]))
        self.kept = []


def _read_parquet(path: str, fields: Fields) -> Iterator[Record]:
    import pyarrow.parquet as pq

    base = os.path.basename(path)
    with pq.ParquetFile(_open_binary(path) if is_url(path) else path) as file:
        wanted = [fields.id or 'id', fields.text, fields.title]
        columns = [c for c in dict.fromkeys(wanted) if c and c in file.schema_arrow.names]
        number = 0
        for batch in file.iter_batches(batch_size=1024, columns=columns):
            for row in batch.to_pylist():
                number += 1
                yield row_record(row, f'row {number}', f'{base}:{number}', fields)


_BROKEN = (OSError, EOFError, ValueError, zlib.error, tarfile.TarError, zipfile.BadZipFile,
           csv.Error)


def read_records(inputs: Iterable[PathLike], fields: Fields = Fields()) -> Iterator[Record]:
    """Records of every input in turn, lazily; bad records come with ``error`` set.

    Ids: the id field (``fields.id``, default ``id``) for JSONL/CSV/Parquet, else
    ``<basename>:<line or row>``; for text files the path (relative to a directory input,
    the member name inside an archive, the path as given for a ``.txt``). Ids are not made
    unique here. An input that breaks off (truncated archive, non-UTF-8 CSV, ...) gives one
    error record with its path as id, after the records read before the break.
    """
    for path in map(str, inputs):
        kind = input_kind(path)
        try:
            if kind == 'dir':
                yield from _read_dir(path)
            elif kind == 'txt':
                with _open_binary(path) as handle:
                    yield _file_record(path, read_limited(handle, path))
            elif kind == 'archive':
                yield from _read_archive(path)
            elif kind == 'csv':
                yield from _read_csv(path, fields)
            elif kind == 'parquet':
                yield from _read_parquet(path, fields)
            else:
                yield from _read_jsonl(path, fields)
        except _BROKEN as e:  # a truncated or corrupt file: keep what came before, go on
            yield Record(path, error=f'cannot read on: {type(e).__name__}: {e}')
