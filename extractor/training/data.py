"""The training archive: gold records read, split by duplicate group, dealt into folds.

Every copy of a text (white space and case aside) shares a duplicate group, and a group is
never on two sides of a split or in two folds: a model is never scored on a copy of what it saw.
"""
from __future__ import annotations

import hashlib
import re
from collections import Counter
from dataclasses import dataclass
from typing import Iterable, Optional

import numpy as np

from ..evaluate import GoldRecord, read_gold


@dataclass
class Sample:
    """One training document, reduced to what fitting needs."""
    id: str
    group: str
    gold: set
    cands: list
    raw: np.ndarray
    bag: Counter
    source: int = 0  # which of the training archives (sites) it came from


def group_key(text: str) -> str:
    """Copies of one text share this key (white space and case folded)."""
    return hashlib.sha1(re.sub(r'\s+', ' ', text).strip().lower().encode('utf-8')).hexdigest()


def side(record: GoldRecord, test_share: float = 0.2) -> str:
    """``train`` or ``test``, fixed by the text's duplicate group."""
    bucket = int(group_key(record.text)[:8], 16) % 1000
    return 'test' if bucket < test_share * 1000 else 'train'


def fold_of(sample: Sample, folds: int, salt: int = 0) -> int:
    """A fold fixed by the duplicate group, so copies of a text never straddle two folds."""
    return int(sample.group[salt * 8:salt * 8 + 8], 16) % folds


def read_records(paths: Iterable[str], skipped: Optional[list] = None) -> list[GoldRecord]:
    """The gold records of ``paths``; ``skipped`` gets the ``GoldError`` of each bad line
    (bad JSON, no text, a truncated .gz), which training reports."""
    records = []
    for path in paths:
        for r in read_gold(path):
            if isinstance(r, GoldRecord):
                records.append(r)
            elif skipped is not None:
                skipped.append(r)
    return records
