"""Feed slovnet models many sentences at once, sorted by length to waste little padding."""
from __future__ import annotations

from typing import Any, Callable, Sequence


def map_by_length(model: Any, items: Sequence, size: Callable[[Any], int] = len) -> list:
    """``list(model.map(items))`` in input order, computed in batches of similar lengths."""
    order = sorted(range(len(items)), key=lambda i: size(items[i]))
    results: list = [None] * len(items)
    for index, result in zip(order, model.map([items[i] for i in order])):
        results[index] = result
    return results
