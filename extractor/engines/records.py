"""The per-record core every engine shares: input rows -> ``Record`` -> output records.

An input row (a JSONL object, a CSV or Parquet row, a DataFrame row, a Dask item) becomes a
``Record`` (its id and text, or why it cannot be tagged); ``tag_chunk`` tags a chunk of
records through a ``Tagger`` and gives one output record each, in order: ``{"id", "tags",
"entities"}`` or ``{"id", "error"}``.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Optional, Union

from ..article import join_title
from ..doc import Doc

PathLike = Union[str, 'os.PathLike[str]']


@dataclass
class Record:
    """One input document: its id and text, or the reason it cannot be tagged."""
    id: str
    text: str = ''
    error: Optional[str] = None


@dataclass(frozen=True)
class Fields:
    """Which fields of a row hold the id (None: ``id``, else the row's place), the text and
    the title (None: no title)."""
    id: Optional[str] = None
    text: str = 'text'
    title: Optional[str] = 'title'


def checked(record: Record) -> Record:
    """``record``, or an error record when its text is empty."""
    if record.error is None and not record.text.strip():
        return Record(record.id, error='empty text')
    return record


def row_record(row: dict, where: str, fallback: str, fields: Fields = Fields()) -> Record:
    """A Record from one row: its id (or ``fallback``), its title before its text
    (``article.join_title``); errors name ``where``."""
    rid = _pick_id(row, fields.id, fallback)
    text = row.get(fields.text)
    if text is None or (isinstance(text, float) and text != text):
        return Record(rid, error=f'{where}: missing text field {fields.text!r}')
    if not isinstance(text, str):
        return Record(rid, error=f'{where}: text field {fields.text!r} is not a string')
    title = row.get(fields.title) if fields.title else None
    return checked(Record(rid, join_title(title if isinstance(title, str) else None, text)))


def _pick_id(row: dict, id_field: Optional[str], fallback: str) -> str:
    value = row.get(id_field or 'id')
    if value is None or value == '' or (isinstance(value, float) and value != value):
        return fallback
    return str(value)


def default_tagger(profile: Optional[str] = None) -> Any:
    from ..tagger import Tagger

    return Tagger(profile=profile)


def doc_record(doc: Doc, rid: str) -> dict:
    """The output record of one tagged document."""
    if doc.error:
        return {'id': rid, 'error': doc.error}
    return {'id': rid, 'tags': [t.text for t in doc.tags],
            'entities': [{'start': e.start, 'stop': e.stop, 'type': e.type, 'text': e.text,
                          'normal': e.normal} for e in doc.entities]}


def tag_chunk(tagger: Any, chunk: list[Record], batch_size: int = 32) -> list[dict]:
    """Output records for a chunk, in order; records that came with an error are passed
    through. A document that fails is an error record (``Tagger.pipe(errors='yield')``)."""
    items = [(r.id, r.text) for r in chunk if r.error is None]
    docs = iter(tagger.pipe(items, batch_size=batch_size, errors='yield'))
    return [{'id': r.id, 'error': r.error} if r.error is not None else doc_record(next(docs), r.id)
            for r in chunk]
