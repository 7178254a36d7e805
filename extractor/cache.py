"""Bounded look-up caches: what was looked up stays while it is used, memory stays flat.

Tagging asks pymorphy3, the neural models' vocabularies and the normalizer the same questions
again and again; a ``Memo`` remembers the answers. When full it drops its least recently used
half, so an endless archive never grows it past ``SIZE`` entries (about 20 MB when full).
"""
from __future__ import annotations

from itertools import islice
from typing import Any, Hashable

SIZE = 24_000
MISSING = object()  # what ``Memo.get`` returns for a key it does not hold


class Memo:
    """A dict of at most ``size`` entries, least recently used half dropped when full."""

    __slots__ = ('entries', 'size')

    def __init__(self, size: int = SIZE):
        self.entries: dict = {}
        self.size = size

    def get(self, key: Hashable) -> Any:
        """The value of ``key``, now the most recently used; ``MISSING`` if absent."""
        value = self.entries.pop(key, MISSING)
        if value is not MISSING:
            self.entries[key] = value
        return value

    def put(self, key: Hashable, value: Any) -> Any:
        """Remember ``value`` for ``key`` (making room first when full); returns it."""
        entries = self.entries
        if len(entries) >= self.size:
            # dicts keep insertion order and ``get`` moves what is used to the end
            for old in list(islice(entries, len(entries) // 2)):
                del entries[old]
        entries[key] = value
        return value

    def __len__(self) -> int:
        return len(self.entries)
