"""Candidates -> scored, ordered, cut tags.

A first, transparent scoring: frequency, first position, presence in the title and kind.
"""
from __future__ import annotations

import math

from .doc import Doc, Tag
from .merge import Candidate
from .tags import style

KIND_WEIGHT = {'PER': 1.0, 'ORG': 1.0, 'LOC': 0.9, 'PHRASE': 0.55, 'TOPIC': 0.4}
MIN_SCORE = 0.6
DEFAULT_TOP = 15


def title_stop(text: str) -> int:
    """End of the title: the first line when it is short and the text goes on after it."""
    line = text.split('\n', 1)[0]
    return len(line) if len(line) < 300 and len(line) < len(text) else 0


def score(cand: Candidate, length: int, title: int) -> float:
    freq = len(cand.mentions)
    first = cand.mentions[0][0] / max(length, 1)
    in_title = any(start < title for start, _ in cand.mentions)
    value = KIND_WEIGHT.get(cand.kind, 0.3) * (1 + math.log(freq))
    value *= 1 + 0.5 * (1 - first)
    if in_title:
        value *= 1.6
    if cand.kind == 'PHRASE':
        value *= 1 + 0.15 * cand.key.count(' ')
    return value


def rank(doc: Doc, cands: list[Candidate], top: int | None = DEFAULT_TOP, min_score: float = MIN_SCORE) -> list[Tag]:
    """Tags for ``doc``: best first, above ``min_score``, at most ``top``."""
    title = title_stop(doc.text)
    tags = [
        Tag(style(c.normal, 'seed'), c.kind, round(score(c, len(doc.text), title), 4), c.mentions)
        for c in cands
    ]
    tags = [t for t in tags if t.text and t.score >= min_score]
    tags.sort(key=lambda t: (-t.score, t.mentions[0][0]))
    return tags[:top] if top else tags
