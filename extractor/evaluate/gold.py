"""Gold tags and predictions to score: JSONL(.gz) records, article files, folders of them."""
from __future__ import annotations

import gzip
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Optional, Union

from ..article import join_title, parse_article


@dataclass
class GoldRecord:
    id: str
    title: str
    text: str
    tags: list
    line: Optional[int] = None  # 1-based line in a .jsonl file; None for .txt


@dataclass
class GoldError:
    line: Optional[int]
    source: str
    message: str

    def __str__(self) -> str:
        where = self.source if self.line is None else f'{self.source}:{self.line}'
        return f'{where}: {self.message}'


def record_text(record: GoldRecord) -> str:
    """What the tagger reads of a gold record: its title before its text (``join_title``)."""
    return join_title(record.title, record.text)


def read_gold(path: Union[str, Path]) -> Iterator[Union[GoldRecord, GoldError]]:
    """Gold records from .jsonl(.gz), a seed-format .txt file or a folder of them.

    Bad input yields a ``GoldError`` (with its 1-based line for .jsonl) and
    reading goes on.
    """
    path = Path(path)
    if path.is_dir():
        for file in sorted(path.glob('*.txt')):
            yield _read_article(file)
    elif path.name.endswith('.txt'):
        yield _read_article(path)
    elif path.name.endswith(('.jsonl', '.jsonl.gz')):
        yield from _read_jsonl(path)
    else:
        raise ValueError(f'{path}: expected a .jsonl, .jsonl.gz, .txt file or a folder')


def _read_article(path: Path) -> Union[GoldRecord, GoldError]:
    try:
        raw = path.read_text(encoding='utf-8-sig')
    except (OSError, UnicodeDecodeError) as error:
        return GoldError(None, str(path), f'unreadable: {error}')
    article = parse_article(raw)
    if not article.tags:
        return GoldError(None, str(path), 'no #tags line')
    return GoldRecord(path.name, article.title, article.text, article.tags)


def _read_jsonl(path: Path) -> Iterator[Union[GoldRecord, GoldError]]:
    source = str(path)
    opener = gzip.open if path.name.endswith('.gz') else open
    number = 0
    try:
        with opener(path, 'rb') as file:
            for number, data in enumerate(file, 1):
                if data.strip():
                    yield _jsonl_record(data, number, source)
    except (OSError, EOFError) as error:  # e.g. a truncated .gz
        yield GoldError(number + 1, source, f'unreadable: {error}')


def _jsonl_record(data: bytes, number: int, source: str) -> Union[GoldRecord, GoldError]:
    try:
        record = json.loads(data.decode('utf-8-sig' if number == 1 else 'utf-8'))
    except ValueError as error:  # JSONDecodeError and UnicodeDecodeError
        return GoldError(number, source, f'bad JSON: {error}')
    except RecursionError:  # [[[[... a hundred thousand deep
        return GoldError(number, source, 'bad JSON: nested too deeply')
    if not isinstance(record, dict):
        return GoldError(number, source, 'not a JSON object')
    for name in ('text', 'tags'):
        if name not in record:
            return GoldError(number, source, f'no "{name}"')
    tags, text = record['tags'], record['text']
    if not isinstance(tags, list) or not all(isinstance(tag, str) for tag in tags):
        return GoldError(number, source, '"tags" is not a list of strings')
    if not isinstance(text, str):
        return GoldError(number, source, '"text" is not a string')
    title = record.get('title') or ''
    return GoldRecord(str(record.get('id', number)), str(title), text, tags, number)


def read_predictions(path: Union[str, Path]) -> dict:
    """``{id: [tags]}`` from a JSONL(.gz) of ``{"id", "tags"}`` records (our batch output)."""
    path = Path(path)
    opener = gzip.open if path.name.endswith('.gz') else open
    predictions = {}
    with opener(path, 'rt', encoding='utf-8') as file:
        for number, line in enumerate(file, 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except ValueError as error:
                raise ValueError(f'{path}:{number}: bad prediction record: {error}') from None
            except RecursionError:
                raise ValueError(f'{path}:{number}: bad prediction record: JSON nested too '
                                 'deeply') from None
            if not isinstance(record, dict) or 'id' not in record:
                raise ValueError(f'{path}:{number}: bad prediction record: not a JSON object '
                                 'with an "id"')
            tags = record.get('tags') or []
            if not isinstance(tags, list) or not all(isinstance(tag, str) for tag in tags):
                raise ValueError(f'{path}:{number}: bad prediction record: "tags" is not a list '
                                 'of strings')
            predictions[str(record['id'])] = tags
    return predictions
