"""Data only: the document and what the pipeline finds in it.

Every object here is plain data with offsets into ``Doc.text``; ``Doc.as_json``
and ``Doc.from_json`` round-trip it.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Optional


# Slotted: a document holds one per word, and each would carry a dict of its own.
@dataclass(slots=True)
class Token:
    start: int
    stop: int
    text: str
    lemma: str = ''
    pos: str = ''
    feats: dict = field(default_factory=dict)


@dataclass(slots=True)
class Sentence:
    start: int
    stop: int
    text: str
    tokens: list = field(default_factory=list)  # indices into Doc.tokens


@dataclass
class Entity:
    """A named-entity mention: PER, LOC or ORG."""
    start: int
    stop: int
    type: str
    text: str
    normal: str = ''


@dataclass(slots=True)
class Phrase:
    """A noun-phrase or topic-noun mention (kind PHRASE or TOPIC).

    ``lemma`` groups a topic's mentions whatever their number (``санкция``); ``normal``
    keeps the number the text used (``санкции``); ``other`` is the normal form in the other
    number (``умный город`` / ``умные города``), '' where it has none or it is looked up only
    when wanted: then ``core`` is the number of first words that take the other number (an
    adjectives-and-noun group; the words after it stay as written). A ``KIND`` phrase is
    a place named with its kind (``городом Лусакой`` -> ``Город Лусака``): its ``lemma`` is
    the key of the place's entity, of which it is another spelling.
    """
    start: int
    stop: int
    kind: str
    text: str
    normal: str = ''
    lemma: str = ''
    other: str = ''
    core: int = 0


@dataclass
class Tag:
    """One output tag: its text (no ``#``), kind, score and the mentions behind it."""
    text: str
    kind: str
    score: float = 0.0
    mentions: list = field(default_factory=list)  # [(start, stop), ...]


@dataclass
class Doc:
    text: str
    id: Optional[str] = None
    sentences: list = field(default_factory=list)
    tokens: list = field(default_factory=list)
    entities: list = field(default_factory=list)
    phrases: list = field(default_factory=list)
    tags: list = field(default_factory=list)
    error: Optional[str] = None

    def as_json(self) -> dict[str, Any]:
        """A JSON-serializable dict holding everything in the document."""
        data = asdict(self)
        for tag in data['tags']:
            tag['mentions'] = [list(m) for m in tag['mentions']]
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> 'Doc':
        return cls(
            text=data['text'],
            id=data.get('id'),
            sentences=[Sentence(**s) for s in data.get('sentences', [])],
            tokens=[Token(**t) for t in data.get('tokens', [])],
            entities=[Entity(**e) for e in data.get('entities', [])],
            phrases=[Phrase(**p) for p in data.get('phrases', [])],
            tags=[Tag(t['text'], t['kind'], t['score'], [tuple(m) for m in t['mentions']])
                  for t in data.get('tags', [])],
            error=data.get('error'),
        )
