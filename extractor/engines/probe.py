"""A look at the inputs before a batch run: how many records they hold, and whether their
records have the text field at all.

Both read only what is cheap: ``count_inputs`` counts lines of a JSONL, rows of a CSV, the
row count a Parquet file keeps in its footer, members of a tar or zip, text files of a folder
(and gives None, unknown, for stdin and URLs); ``check_text_field`` reads the first few
records of each JSONL, CSV or Parquet input (and what is already buffered of stdin), so that a
wrong ``--text-field`` stops the run at once, naming the fields the records do have.
"""
from __future__ import annotations

import bz2
import csv
import gzip
import io
import json
import os
import sys
import tarfile
import zipfile
import threading
from typing import IO, Iterable, Iterator, Optional, TypeVar

from .readers import input_kind, is_url
from .records import Fields, PathLike

SAMPLE = 20  # records looked at per input by check_text_field
SHOWN = 12  # field names named in its message, at most
CHECK_EVERY = 1024  # items counted between two looks at the stop event
T = TypeVar('T')


class _Stopped(Exception):
    pass


def _until(items: Iterable[T], stop: Optional[threading.Event]) -> Iterator[T]:
    """``items``, until ``stop`` is set (looked at every ``CHECK_EVERY`` items)."""
    if stop is None:
        yield from items
        return
    for number, item in enumerate(items):
        if number % CHECK_EVERY == 0 and stop.is_set():
            raise _Stopped
        yield item


# ---------------------------------------------------------------------------- counting

def count_inputs(inputs: Iterable[PathLike], stop: Optional[threading.Event] = None
                 ) -> Optional[int]:
    """How many records ``inputs`` hold in all (blank JSONL lines not counted), or None when
    one of them cannot be counted cheaply (stdin, a URL) or not at all (unreadable), or when
    ``stop`` is set before the count is done."""
    total = 0
    for path in map(str, inputs):
        count = count_input(path, stop)
        if count is None:
            return None
        total += count
    return total


def count_input(path: str, stop: Optional[threading.Event] = None) -> Optional[int]:
    """The records of one input (see ``count_inputs``); None when unknown."""
    if path == '-' or is_url(path):
        return None
    try:
        kind = input_kind(path)
        if kind == 'dir':
            return sum(1 for _ in _until(_text_files(path), stop))
        if kind == 'txt':
            return 1
        if kind == 'jsonl':
            with _open(path) as handle:
                return sum(1 for line in _until(handle, stop) if line.strip())
        if kind == 'csv':
            with io.TextIOWrapper(_open(path), encoding='utf-8-sig', newline='') as text:
                return sum(1 for _ in _until(csv.DictReader(text), stop))
        if kind == 'parquet':
            import pyarrow.parquet as pq

            return pq.ParquetFile(path).metadata.num_rows
        if kind == 'archive':
            return _count_archive(path, stop)
    except Exception:  # noqa: BLE001 - a count is a nicety: the run itself reports bad input
        return None
    return None


def _text_files(folder: str) -> Iterator[str]:
    for where, subfolders, files in os.walk(folder):
        subfolders[:] = [d for d in subfolders if not d.startswith('.')]
        yield from (name for name in files if _is_text(name))


def _count_archive(path: str, stop: Optional[threading.Event]) -> int:
    if path.lower().endswith('.zip'):
        with zipfile.ZipFile(path) as archive:
            return sum(1 for info in archive.infolist()
                       if not info.is_dir() and _is_text(info.filename))
    count = 0
    with tarfile.open(path, 'r|*') as archive:
        for member in _until(iter(archive.next, None), stop):
            archive.members.clear()
            count += member.isfile() and _is_text(member.name)
    return count


def _is_text(name: str) -> bool:
    """What the readers tag of a folder or an archive: ``.txt``, not hidden, not macOS's."""
    base = name.rsplit('/', 1)[-1]
    return name.lower().endswith('.txt') and not base.startswith('.') and '__MACOSX/' not in name


def _open(path: str) -> IO[bytes]:
    if path.endswith('.gz'):
        return gzip.open(path, 'rb')
    if path.endswith('.bz2'):
        return bz2.open(path, 'rb')
    return open(path, 'rb')


# ---------------------------------------------------------------------------- the text field

def check_text_field(inputs: Iterable[PathLike], fields: Fields = Fields(),
                     sample: int = SAMPLE) -> None:
    """ValueError when the first records of a JSONL, CSV or Parquet input all lack the text
    field ``fields.text``, naming the fields they have; nothing for inputs of article files
    (they have no fields) and for what cannot be looked at cheaply (URLs)."""
    for path in map(str, inputs):
        try:
            seen = _first_fields(path, sample)
        except Exception:  # noqa: BLE001 - an unreadable input is the run's to report
            continue
        if seen is None:
            continue
        count, names = seen
        if not count or fields.text in names:
            continue
        name = 'stdin' if path == '-' else path
        shown = ', '.join(names[:SHOWN]) + (', ...' if len(names) > SHOWN else '')
        if input_kind(path) in ('csv', 'parquet'):
            raise ValueError(f'{name}: no text column {fields.text!r}; its columns: '
                             f'{shown or "none"} (choose one with --text-field)')
        raise ValueError(f'{name}: none of the first {count} records has a text field '
                         f'{fields.text!r}; their fields: {shown or "none"} (choose one with '
                         f'--text-field)')


def _first_fields(path: str, sample: int) -> Optional[tuple[int, list[str]]]:
    """(records looked at, their field names in order of appearance), or None."""
    if is_url(path):
        return None
    kind = input_kind(path)
    if kind == 'parquet':
        import pyarrow.parquet as pq

        file = pq.ParquetFile(path)
        return file.metadata.num_rows, list(file.schema_arrow.names)
    if kind == 'csv':
        with io.TextIOWrapper(_open(path), encoding='utf-8-sig', newline='') as text:
            reader = csv.DictReader(text)
            rows = sum(1 for _, _ in zip(range(sample), reader))
            return rows, list(reader.fieldnames or [])
    if kind in ('jsonl', 'stdin'):
        lines = _peek_stdin() if path == '-' else _head(path, sample)
        names: dict[str, None] = {}
        count = 0
        for raw in lines:
            try:
                row = json.loads(raw)
            except ValueError:
                continue
            if isinstance(row, dict):
                count += 1
                names.update(dict.fromkeys(map(str, row)))
                if count >= sample:
                    break
        return count, list(names)
    return None


def _head(path: str, lines: int) -> list[bytes]:
    with _open(path) as handle:
        out: list[bytes] = []
        for raw in handle:
            if raw.strip():
                out.append(raw)
                if len(out) >= 4 * lines:  # room for a few broken lines among them
                    break
        return out


def _peek_stdin() -> list[bytes]:
    """The complete lines already buffered on stdin, left there for the reader."""
    buffer = getattr(sys.stdin, 'buffer', None)
    peek = getattr(buffer, 'peek', None)
    if peek is None or sys.stdin.isatty():
        return []
    data = peek(1 << 16)
    lines = data.split(b'\n')
    return [line for line in lines[:-1] if line.strip()]
