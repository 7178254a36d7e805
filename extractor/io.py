"""Readers and writers for batch tagging: generators only, nothing read whole.

Inputs: a directory (recursive ``*.txt`` articles), ``.txt``, ``.jsonl[.gz|.bz2]``,
``.csv[.gz|.bz2]``, ``.parquet``, ``.tar[.gz|.bz2]`` / ``.tgz`` / ``.zip`` of text files and
``-`` (JSONL on stdin). Outputs: ``.jsonl[.gz]``, ``.csv``, ``.parquet``.
"""
from __future__ import annotations

import bz2
import codecs
import csv
import gzip
import io
import json
import os
import sys
import tarfile
import tempfile
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Callable, Iterable, Iterator, Optional, Union

PathLike = Union[str, 'os.PathLike[str]']

OUTPUT_FIELDS = ('id', 'tags', 'entities', 'error')

csv.field_size_limit(2 ** 31 - 1)


@dataclass
class Record:
    """One input document: its id and text, or the reason it cannot be tagged."""
    id: str
    text: str = ''
    error: Optional[str] = None


# ---------------------------------------------------------------------------- decoding

class DecodeError(UnicodeDecodeError):
    """Bytes that are none of UTF-8/16/32, cp1251 or koi8-r."""

    def __init__(self, data: bytes, reason: str) -> None:
        super().__init__('auto', data, 0, len(data), reason)

    def __str__(self) -> str:
        return f'cannot decode text: {self.reason}'


_BOMS = (
    (codecs.BOM_UTF32_LE, 'utf-32'), (codecs.BOM_UTF32_BE, 'utf-32'),
    (codecs.BOM_UTF8, 'utf-8-sig'),
    (codecs.BOM_UTF16_LE, 'utf-16'), (codecs.BOM_UTF16_BE, 'utf-16'),
)
_COMMON = frozenset('оеаинтсрвлкмдпуяыь')
_LOWER = frozenset('абвгдеёжзийклмнопрстуфхцчшщъыьэюя')
_UPPER = frozenset('АБВГДЕЁЖЗИЙКЛМНОПРСТУФХЦЧШЩЪЫЬЭЮЯ')
_PUNCT = frozenset('«»„“”‘’–—…№\u00a0·•°§©®™€')
_SAMPLE = 1 << 16


def _russian_score(text: str) -> int:
    """Higher for text that reads as Russian: lowercase, common letters, Ab-not-aB case."""
    score, prev = 0, ''
    for ch in text:
        if ch in _LOWER:
            score += 2 if ch in _COMMON else 1
            if prev in _UPPER:
                score += 2
        elif ch in _UPPER:
            score -= 1
            if prev in _LOWER:
                score -= 3
        elif '\u2500' <= ch <= '\u25ff':  # koi8-r box drawing: a sure sign of a wrong guess
            score -= 3
        prev = ch
    return score


def _controls(text: str) -> int:
    return sum(1 for ch in text if ch < ' ' and ch not in '\t\n\r\f\v')


def _few_controls(text: str) -> bool:
    sample = text[:_SAMPLE]
    return _controls(sample) <= len(sample) // 100


def _looks_like_text(text: str) -> bool:
    """Few control characters; non-ASCII mostly Cyrillic letters and Russian punctuation."""
    if not _few_controls(text):
        return False
    sample = text[:_SAMPLE]
    high = [ch for ch in sample if ch >= '\x80']
    good = sum(1 for ch in high if ch in _LOWER or ch in _UPPER or ch in _PUNCT)
    return not high or good >= 0.6 * len(high)


def _utf16_guess(data: bytes) -> Optional[str]:
    """Endianness of BOM-less UTF-16 whose high bytes are mostly 0x00 (ASCII) or 0x04 (Cyrillic)."""
    if len(data) % 2:
        return None
    sample = data[:_SAMPLE]
    half = len(sample) // 2 or 1
    even = sum(1 for b in sample[0::2] if b in (0, 4)) / half
    odd = sum(1 for b in sample[1::2] if b in (0, 4)) / half
    if odd > 0.6 and odd > 2 * even:
        return 'utf-16-le'
    if even > 0.6 and even > 2 * odd:
        return 'utf-16-be'
    return None


def decode_bytes(data: bytes) -> str:
    """Text from bytes in UTF-8 (BOM or not), UTF-16/32 (BOM), UTF-16 (no BOM), cp1251 or koi8-r.

    Raises ``DecodeError`` (a ``UnicodeDecodeError``) for binary data or text in none of these.
    """
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(encoding)
            except UnicodeDecodeError as e:
                raise DecodeError(data, f'invalid {encoding} after its byte-order mark: '
                                        f'{e.reason}') from None
    if b'\x00' in data:  # before UTF-8: BOM-less UTF-16 of Cyrillic is valid UTF-8 bytes
        encoding = _utf16_guess(data)
        if encoding:
            try:
                text = data.decode(encoding)
                if _looks_like_text(text):
                    return text
            except UnicodeDecodeError:
                pass
        raise DecodeError(data, 'binary data (NUL bytes), not text')
    try:
        text = data.decode('utf-8')
    except UnicodeDecodeError:
        pass
    else:
        if _few_controls(text):
            return text
        raise DecodeError(data, 'binary data (control characters), not text')
    candidates = []
    for encoding in ('cp1251', 'koi8-r'):
        try:
            candidates.append(data.decode(encoding))
        except UnicodeDecodeError:
            continue
    if candidates:
        text = max(candidates, key=lambda t: _russian_score(t[:_SAMPLE]))
        if _looks_like_text(text):
            return text
    raise DecodeError(data, 'not UTF-8, UTF-16, cp1251 or koi8-r text')


# ---------------------------------------------------------------------------- readers

_ARCHIVES = ('.tar', '.tar.gz', '.tgz', '.tar.bz2', '.tbz2', '.zip')
_JSONL = ('.jsonl', '.jsonl.gz', '.jsonl.bz2', '.ndjson', '.ndjson.gz', '.ndjson.bz2')
_CSV = ('.csv', '.csv.gz', '.csv.bz2')


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


_article_text: Optional[Callable[[str], str]] = None


def article_text(raw: str) -> str:
    """Title line + body of an article in the seed format (gold tags and footer dropped)."""
    global _article_text
    if _article_text is None:
        try:
            from extractor.article import parse_article
            _article_text = lambda raw: parse_article(raw).text  # noqa: E731
        except ImportError:  # no article module yet: the whole text
            _article_text = str.strip
    return _article_text(raw)


def _file_record(rid: str, data: bytes) -> Record:
    try:
        text = article_text(decode_bytes(data))
    except UnicodeDecodeError as e:
        return Record(rid, error=str(e))
    return _checked(Record(rid, text))


def _checked(record: Record) -> Record:
    if record.error is None and not record.text.strip():
        return Record(record.id, error='empty text')
    return record


def _read_dir(path: str) -> Iterator[Record]:
    """Text files below ``path`` in a fixed order (each folder's files, then its subfolders)."""
    for folder, subfolders, files in os.walk(path):
        subfolders[:] = sorted(d for d in subfolders if not d.startswith('.'))
        for name in sorted(files):
            if _is_text_member(name):
                file = Path(folder, name)
                yield _file_record(file.relative_to(path).as_posix(), file.read_bytes())


def _read_archive(path: str) -> Iterator[Record]:
    if path.lower().endswith('.zip'):
        with zipfile.ZipFile(path) as archive:
            for info in archive.infolist():
                if not info.is_dir() and _is_text_member(info.filename):
                    yield _file_record(info.filename, archive.read(info))
        return
    with tarfile.open(path, 'r|*') as archive:  # stream mode: members one at a time
        while (member := archive.next()) is not None:
            archive.members.clear()  # TarFile keeps every header it read: 0.5 KB a member
            if member.isfile() and _is_text_member(member.name):
                handle = archive.extractfile(member)
                yield _file_record(member.name, handle.read() if handle else b'')


def _is_text_member(name: str) -> bool:
    base = name.rsplit('/', 1)[-1]
    return name.lower().endswith('.txt') and not base.startswith('.') and '__MACOSX/' not in name


def _pick_id(row: dict, id_field: Optional[str], fallback: str) -> str:
    value = row.get(id_field or 'id')
    if value is None or value == '' or (isinstance(value, float) and value != value):
        return fallback
    return str(value)


def row_record(row: dict, where: str, fallback: str, id_field: Optional[str] = None,
               text_field: str = 'text', title_field: Optional[str] = 'title') -> Record:
    """A Record from one row: id (or ``fallback``), title + '\\n' + text; errors name ``where``."""
    rid = _pick_id(row, id_field, fallback)
    text = row.get(text_field)
    if text is None or (isinstance(text, float) and text != text):
        return Record(rid, error=f'{where}: missing text field {text_field!r}')
    if not isinstance(text, str):
        return Record(rid, error=f'{where}: text field {text_field!r} is not a string')
    title = row.get(title_field) if title_field else None
    if isinstance(title, str) and title.strip():
        text = title + '\n' + text
    return _checked(Record(rid, text))


def _read_jsonl(path: str, id_field: Optional[str], text_field: str,
                title_field: Optional[str]) -> Iterator[Record]:
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
            if not isinstance(row, dict):
                yield Record(fallback, error=f'{where}: not a JSON object')
                continue
            yield row_record(row, where, fallback, id_field, text_field, title_field)
    finally:
        if handle is not sys.stdin.buffer:
            handle.close()


def _read_csv(path: str, id_field: Optional[str], text_field: str,
              title_field: Optional[str]) -> Iterator[Record]:
    base = os.path.basename(path)
    with io.TextIOWrapper(_open_binary(path), encoding='utf-8-sig', newline='') as handle:
        for number, row in enumerate(csv.DictReader(handle), 1):
            yield row_record(row, f'row {number}', f'{base}:{number}', id_field, text_field,
                              title_field)


def _read_parquet(path: str, id_field: Optional[str], text_field: str,
                  title_field: Optional[str]) -> Iterator[Record]:
    import pyarrow.parquet as pq

    base = os.path.basename(path)
    with pq.ParquetFile(_open_binary(path) if is_url(path) else path) as file:
        wanted = [id_field or 'id', text_field, title_field]
        columns = [c for c in dict.fromkeys(wanted) if c and c in file.schema_arrow.names]
        number = 0
        for batch in file.iter_batches(batch_size=1024, columns=columns):
            for row in batch.to_pylist():
                number += 1
                yield row_record(row, f'row {number}', f'{base}:{number}', id_field, text_field,
                                  title_field)


_BROKEN = (OSError, EOFError, ValueError, zlib.error, tarfile.TarError, zipfile.BadZipFile,
           csv.Error)


def read_records(inputs: Iterable[PathLike], id_field: Optional[str] = None,
                 text_field: str = 'text', title_field: Optional[str] = 'title'
                 ) -> Iterator[Record]:
    """Records of every input in turn, lazily; bad records come with ``error`` set.

    Ids: the id field (``id_field``, default ``id``) for JSONL/CSV/Parquet, else
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
                    yield _file_record(path, handle.read())
            elif kind == 'archive':
                yield from _read_archive(path)
            elif kind == 'csv':
                yield from _read_csv(path, id_field, text_field, title_field)
            elif kind == 'parquet':
                yield from _read_parquet(path, id_field, text_field, title_field)
            else:
                yield from _read_jsonl(path, id_field, text_field, title_field)
        except _BROKEN as e:  # a truncated or corrupt file: keep what came before, go on
            yield Record(path, error=f'cannot read on: {type(e).__name__}: {e}')


# ---------------------------------------------------------------------------- outputs

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
    if not os.path.exists(path) or os.path.getsize(path) == 0:
        return set()
    kind = output_kind(path)
    if kind == 'parquet':
        raise ValueError(f'{path}: resume is only supported for JSONL and CSV outputs')
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
        except (ValueError, KeyError, TypeError):
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
    if resume and kind == 'parquet':
        raise ValueError(f'{path}: resume is only supported for JSONL and CSV outputs')
    if not resume and os.path.exists(path) and os.path.getsize(path) > 0:
        raise OutputExists(f'{path} exists; use --resume or remove it')


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


class ParquetWriter:
    """Parquet via pyarrow, a row group every ``rows`` records; no resume."""

    def __init__(self, path: PathLike, resume: bool = False, rows: int = 4096) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        self.path = str(path)
        _check_output(self.path, 'parquet', resume)
        os.makedirs(os.path.dirname(os.path.abspath(self.path)), exist_ok=True)
        entity = pa.struct([('start', pa.int64()), ('stop', pa.int64()), ('type', pa.string()),
                            ('text', pa.string()), ('normal', pa.string())])
        self._schema = pa.schema([('id', pa.string()), ('tags', pa.list_(pa.string())),
                                  ('entities', pa.list_(entity)), ('error', pa.string())])
        self._writer = pq.ParquetWriter(self.path, self._schema)
        self._rows: list[dict] = []
        self._limit = rows

    def write(self, records: Iterable[dict]) -> None:
        for r in records:
            self._rows.append({'id': r['id'], 'tags': r.get('tags', []),
                               'entities': r.get('entities', []), 'error': r.get('error')})
        if len(self._rows) >= self._limit:
            self._flush()

    def _flush(self) -> None:
        import pyarrow as pa

        if self._rows:
            self._writer.write_table(pa.Table.from_pylist(self._rows, schema=self._schema))
            self._rows = []

    def close(self) -> None:
        self._flush()
        self._writer.close()

    def __enter__(self) -> 'ParquetWriter':
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def open_writer(path: PathLike, resume: bool = False) -> Union[Writer, ParquetWriter]:
    """A writer for ``path`` by its suffix.

    Without ``resume`` a non-empty existing output raises ``OutputExists``; with it, a
    half-written last record is cut and new records are appended (JSONL/CSV only).
    """
    kind = output_kind(path)
    if kind == 'parquet':
        return ParquetWriter(path, resume)
    if kind == 'csv':
        return CsvWriter(path, resume)
    return Writer(path, resume)
