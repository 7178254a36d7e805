"""Each thing once (SEED-STYLE.md): a tag that only repeats a likelier one gives way.

After the cut, an abbreviation beside its full name (``МИД России`` beside ``Министерство
иностранных дел России``: the full name stays, wherever it ranks) and an entity that is a kept entity without its tail
(``Департамент ... связей`` beside ``Департамент ... связей Москвы``) are passed over, and the
list is filled up to the cut's count from the next items. Chosen on the k-fold: the shorter of
two such tags was gold in none of a sample's pairs; rules for themes (``Мост`` beside
``Новый мост``) lost F1, as annotators often take both.
"""
from __future__ import annotations

import numpy as np

from .items import Item

MINOR_WORDS = frozenset({'и', 'по', 'в', 'на', 'для', 'при', 'с', 'о', 'об', 'из', 'за', 'к'})
ENTITY_KINDS = ('PER', 'LOC', 'ORG')


def abbreviates(short: str, long: str) -> bool:
    """Whether the key ``short`` is the abbreviation of ``long``'s first words, the rest the
    same (``мид россии``, ``министерство иностранных дел россии``)."""
    head, *rest = short.split(' ')
    words = long.split(' ')
    if not 2 <= len(head) <= 6 or not head.isalpha():
        return False
    letters = ''
    for n, word in enumerate(words, 1):
        if word not in MINOR_WORDS:
            letters += word[:1]
        if len(letters) >= len(head):
            return letters == head and n > 1 and words[n:] == rest
    return False


def repeats(item: Item, kept: list[Item]) -> bool:
    """Whether ``item`` only repeats a likelier tag ``kept`` already holds: an abbreviation of
    a kept full name, an entity that is a kept entity without its tail."""
    abbreviation = is_abbreviation(item)
    entity = item.kind in ENTITY_KINDS
    if not abbreviation and not entity:
        return False
    prefix = item.key + ' '
    for other in kept:
        if abbreviation and abbreviates(item.key, other.key):
            return True
        if entity and other.kind in ENTITY_KINDS and other.key.startswith(prefix):
            return True
    return False


def once(found: list[Item], order: np.ndarray, kept: int) -> np.ndarray:
    """The first ``kept`` of ``order`` that do not repeat a likelier one (``repeats``), the
    list filled up to ``kept`` from the rest of ``order``; the full name of a kept
    abbreviation takes the abbreviation's place (annotators tag the full name)."""
    out, chosen = [], []
    for index in order:
        if len(out) >= kept:
            break
        item = found[index]
        if repeats(item, chosen):
            continue
        short = next((k for k, other in enumerate(chosen) if is_abbreviation(other)
                      and abbreviates(other.key, item.key)), None)
        if short is not None:
            out[short], chosen[short] = index, item
            continue
        out.append(index)
        chosen.append(item)
    return np.array(out, dtype=np.int64)


def is_abbreviation(item: Item) -> bool:
    """A tag written as an abbreviation: its first word in capitals (``МИД России``)."""
    return item.text[:1].isupper() and item.text.split(' ')[0].isupper()
