"""Mentions -> candidates: one per entity or phrase, with all its mentions' offsets.

Merges a surname into the full name (``Логвиненко`` -> ``Алексей Логвиненко``), a short
place name into the longer one the article uses (``Ростов`` -> ``Ростов-на-Дону``), and
drops phrases that repeat an entity. Other spellings a candidate may be tagged by are kept
in ``variants``: a place with its kind (``Город Лусака``), a phrase in the other number
(``resolve``).
"""
from __future__ import annotations

import re
from bisect import bisect_right
from collections import Counter
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Callable

from ..doc import Doc
from ..tags import tag_key

ENTITY_KINDS = ('PER', 'LOC', 'ORG')
# Addresses and handles of embedded posts (``pic.twitter.com/Qqg1XMZClO``, ``(@FilipowiczMar)``):
# what the NER reads in them is no name of the article. Hashtags stay: annotators tag the
# campaigns an article quotes (``#ЯтожеДоброволец``, ``#covfefe``).
WEB = re.compile(r'(?:https?://|www\.|pic\.twitter\.com/)\S+|\b[\w.-]+\.(?:com|ru|org|net|co|io|me|ly)/\S*'
                 r'|(?<![\w@])@[\w.]+', re.IGNORECASE)


def web_spans(text: str) -> tuple[list, list]:
    """Starts and stops of the addresses and handles of ``text``, in text order."""
    spans = [(m.start(), m.end()) for m in WEB.finditer(text)]
    return [a for a, _ in spans], [b for _, b in spans]


def on_web(spans: tuple[list, list], start: int, stop: int) -> bool:
    """Whether ``start:stop`` overlaps one of ``web_spans``."""
    starts, stops = spans
    i = bisect_right(starts, start) - 1
    if i >= 0 and stops[i] > start:
        return True
    j = i + 1
    return j < len(starts) and starts[j] < stop


def junk(key: str) -> bool:
    """A key no editor tags: one character (``D`` of ``3D``, ``В``), or no letter at all."""
    return len(key) < 2 or not any(ch.isalpha() for ch in key)


def counter() -> Counter:
    """An empty Counter without ``Counter.__init__``'s update (a few hundred candidates an
    article, four Counters each: a third of the time ``candidates`` takes)."""
    return Counter.__new__(Counter)


@dataclass
class Candidate:
    """A tag-to-be: its normal form, kind and every mention; ``forms`` counts the spellings
    the text gives, ``variants`` the other spellings it may be tagged by."""
    key: str
    kind: str
    mentions: list = field(default_factory=list)
    forms: Counter = field(default_factory=counter)
    types: Counter = field(default_factory=counter)
    variants: Counter = field(default_factory=counter)
    numbers: Counter = field(default_factory=counter)  # (normal, core): see ``resolve``

    @property
    def normal(self) -> str:
        """The most frequent spelling, the first seen of equals (as ``most_common(1)``)."""
        return max(self.forms.items(), key=itemgetter(1))[0]

    def absorb(self, other: 'Candidate') -> None:
        self.mentions += other.mentions
        self.types.update(other.types)
        self.variants.update(other.variants)
        self.numbers.update(other.numbers)

    def resolve(self, other_number: Callable[[str, int], str]) -> None:
        """Add to ``variants`` the other number of the forms that have one (``numbers``:
        a form and how many of its first words take it, ``phrases.other_number``): looked
        up only for a candidate likely enough to be tagged so."""
        for (normal, core), count in self.numbers.items():
            other = other_number(normal, core)
            if other:
                self.variants[other] += count
        self.numbers = counter()

    def spellings(self) -> list[str]:
        """Other spellings than ``normal``, most frequent first, each key once."""
        seen, out = {self.key}, []
        for text, _ in (self.forms + self.variants).most_common():
            key = tag_key(text)
            if key and key not in seen:
                seen.add(key)
                out.append(text)
        return out


def candidates(doc: Doc) -> list[Candidate]:
    """Merged entity candidates first, then phrase candidates that are not entities."""
    groups: dict[str, Candidate] = {}
    web = web_spans(doc.text)
    junked: set = set()  # keys no editor tags (``junk``), each judged once
    for entity in doc.entities:
        key = tag_key(entity.normal)
        if key in junked or web[0] and on_web(web, entity.start, entity.stop):
            continue
        cand = groups.get(key)
        if cand is None:
            if not key or junk(key):
                junked.add(key)
                continue
            cand = groups[key] = Candidate(key, entity.type)
        cand.mentions.append((entity.start, entity.stop))
        cand.forms[entity.normal] += 1
        cand.types[entity.type] += 1
    for cand in groups.values():
        cand.kind = cand.types.most_common(1)[0][0]
    entities = merge_short_names(list(groups.values()))

    known = {c.key: c for c in entities}
    known.update((alias, c) for c in entities for alias in aliases(c) if alias not in known)
    groups = {}
    for phrase in doc.phrases:
        group = tag_key(phrase.lemma or phrase.normal)
        if phrase.kind == 'KIND':
            entity = known.get(group)
            if entity is not None:
                entity.variants[phrase.normal] += 1
            continue
        if group in junked or web[0] and on_web(web, phrase.start, phrase.stop):
            continue
        cand = groups.get(group)
        if cand is None:
            if not group or junk(group):
                junked.add(group)
                continue
            cand = groups[group] = Candidate(group, phrase.kind)
        if phrase.kind == 'ORG':  # a Latin name: the chunker read its words as a topic
            cand.kind = 'ORG'
        cand.mentions.append((phrase.start, phrase.stop))
        cand.forms[phrase.normal] += 1
        if phrase.other:
            cand.variants[phrase.other] += 1
        if phrase.core:
            cand.numbers[(phrase.normal, phrase.core)] += 1
    phrases: dict[str, Candidate] = {}
    for group, cand in groups.items():
        cand.key = tag_key(cand.normal)  # the most common number of a topic
        entity = known.get(cand.key) or known.get(group)
        if entity is not None:
            entity.mentions += cand.mentions
        elif cand.key in phrases:
            phrases[cand.key].absorb(cand)
        elif cand.key:
            phrases[cand.key] = cand
    for cand in entities + list(phrases.values()):
        cand.mentions = sorted(set(cand.mentions))
    return entities + list(phrases.values())


def merge_short_names(cands: list[Candidate]) -> list[Candidate]:
    """Fold one-word PER/LOC candidates into a longer one that ends/starts with them."""
    longer = [c for c in cands if ' ' in c.key or '-' in c.key]
    merged: set[int] = set()
    for cand in cands:
        if ' ' in cand.key or '-' in cand.key:
            continue
        target = None
        if cand.kind == 'PER':
            target = best([c for c in longer if c.kind == 'PER' and c.key.split(' ')[-1] == cand.key])
        elif cand.kind == 'LOC':
            target = best([
                c for c in longer if c.kind == 'LOC'
                and (c.key.startswith(cand.key + '-') or c.key.startswith(cand.key + ' '))
            ])
        if target is not None:
            target.absorb(cand)
            merged.add(id(cand))
    return [c for c in cands if id(c) not in merged]


def aliases(cand: Candidate) -> list[str]:
    """Shorter keys a mention of ``cand`` may take: a person's surname."""
    if cand.kind == 'PER' and ' ' in cand.key:
        return [cand.key.rsplit(' ', 1)[1]]
    return []


def best(options: list[Candidate]):
    return max(options, key=lambda c: len(c.mentions)) if options else None
