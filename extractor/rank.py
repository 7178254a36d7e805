"""Candidates -> features -> scores -> ordered, cut tags.

The scores come from a profile (``models/NAME/``, written by ``extractor train``): a
logistic regression over the features below, a document-frequency table, how often each
normal form was an editor's tag in the training archive, and a classifier over the site's
own frequent tags (``house.py``). Applying it is a dot product; no scikit-learn at run time.
"""
from __future__ import annotations

import json
import math
from bisect import bisect_right
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import numpy as np

from .doc import Doc, Tag
from .merge import Candidate
from .tags import style

KINDS = ('PER', 'LOC', 'ORG', 'PHRASE', 'TOPIC')
DEFAULT_TOP = 20


def title_stop(text: str) -> int:
    """End of the title: the first line when it is short and the text goes on after it."""
    line = text.split('\n', 1)[0]
    return len(line) if len(line) < 300 and len(line) < len(text) else 0


def raw_features(doc: Doc, cands: list[Candidate]) -> np.ndarray:
    """Per-candidate features that need nothing but the document (rows follow ``cands``)."""
    length = max(len(doc.text), 1)
    title = title_stop(doc.text)
    starts = [s.start for s in doc.sentences] or [0]
    n_sents = len(starts)
    top_freq = max((len(c.mentions) for c in cands), default=1)
    rows = []
    for cand in cands:
        freq = len(cand.mentions)
        first, last = cand.mentions[0][0] / length, cand.mentions[-1][0] / length
        sents = len({bisect_right(starts, start) for start, _ in cand.mentions})
        normal = cand.normal
        rows.append([
            math.log1p(freq), freq / top_freq, first, last - first, sents / n_sents,
            float(any(start < title for start, _ in cand.mentions)),
            float(cand.key.count(' ') + 1), float(normal[:1].isupper()),
            float(any(w.isupper() and len(w) > 1 for w in normal.split())),
            math.log(length),
        ])
    return np.array(rows, dtype=np.float64).reshape(len(cands), len(RAW))


RAW = ['log_freq', 'freq_rel', 'first', 'spread', 'sent_share', 'in_title',
       'n_words', 'capital', 'abbr', 'log_len']
LOOKUP = ['idf', 'prior', 'log_tag_count', 'unseen']
# Each kind gets its own copy of these, so the model can weigh them per kind.
CROSSED = ['log_freq', 'first', 'in_title', 'idf', 'prior', 'n_words', 'sent_share']


def feature_names() -> list[str]:
    return ([f'kind={k}' for k in KINDS] + RAW + LOOKUP
            + [f'{k}*{f}' for k in KINDS for f in CROSSED])


@dataclass
class Lookups:
    """Per-key statistics of the training archive."""
    n_docs: int
    df: dict          # key -> number of documents with it as a candidate
    tags: dict        # key -> number of documents with it as a gold tag

    def rows(self, keys: list[str]) -> np.ndarray:
        out = np.zeros((len(keys), len(LOOKUP)))
        for i, key in enumerate(keys):
            df, tagged = self.df.get(key, 0), self.tags.get(key, 0)
            out[i] = (math.log((self.n_docs + 1) / (df + 1)), (tagged + 0.1) / (df + 1),
                      math.log1p(tagged), float(df == 0))
        return out


def design(raw: np.ndarray, kinds: list[str], lookups: np.ndarray) -> np.ndarray:
    """The model's input matrix: kind one-hots, raw and look-up features, kind crosses."""
    n = len(kinds)
    onehot = np.zeros((n, len(KINDS)))
    for i, kind in enumerate(kinds):
        onehot[i, KINDS.index(kind)] = 1.0
    base = np.hstack([onehot, raw, lookups]) if n else np.zeros((0, len(KINDS) + len(RAW) + len(LOOKUP)))
    names = RAW + LOOKUP
    columns = [base[:, len(KINDS) + names.index(f)] for f in CROSSED]
    crossed = [onehot[:, k] * col for k in range(len(KINDS)) for col in columns]
    return np.column_stack([base] + crossed) if n else np.zeros((0, len(feature_names())))


class Heuristic:
    """The first, transparent scoring (profile ``heuristic``): no training needed."""

    WEIGHT = {'PER': 1.0, 'ORG': 1.0, 'LOC': 0.9, 'PHRASE': 0.55, 'TOPIC': 0.4}
    house = None

    def rank(self, doc: Doc, cands: list[Candidate], top: Optional[int] = DEFAULT_TOP) -> list[Tag]:
        return self.rank_raw(cands, raw_features(doc, cands), top)

    def rank_raw(self, cands: list[Candidate], raw: np.ndarray, top: Optional[int] = DEFAULT_TOP) -> list[Tag]:
        col = {name: i for i, name in enumerate(RAW)}
        tags: dict[str, Tag] = {}
        for cand, row in zip(cands, raw):
            value = self.WEIGHT[cand.kind] * (1 + row[col['log_freq']])
            value *= (1 + 0.5 * (1 - row[col['first']])) * (1.6 if row[col['in_title']] else 1)
            text = style(cand.normal, 'seed')
            if text and cand.key not in tags:
                tags[cand.key] = Tag(text, cand.kind, round(value, 4), cand.mentions)
        ranked = sorted(tags.values(), key=lambda t: -t.score)
        return ranked[:top or 15]


class Ranker:
    """A fitted profile's ranker: ``probabilities(doc, cands)`` and ``rank``."""

    def __init__(self, weights: dict, lookups: Lookups, house=None):
        self.mean = np.array(weights['mean'])
        self.scale = np.array(weights['scale'])
        self.coef = np.array(weights['coef'])
        self.intercept = float(weights['intercept'])
        self.threshold = float(weights['threshold'])
        self.min_tags = int(weights.get('min_tags', 3))
        self.person = weights.get('person', 'full')
        self.lookups = lookups
        self.house = house

    @classmethod
    def load(cls, folder: Path) -> 'Ranker':
        from .house import HouseTags

        weights = json.loads((folder / 'ranker.json').read_text(encoding='utf-8'))
        stats = json.loads((folder / 'lookups.json').read_text(encoding='utf-8'))
        lookups = Lookups(stats['n_docs'], stats['df'], stats['tags'])
        house = HouseTags.load(folder) if (folder / 'house.npz').is_file() else None
        return cls(weights, lookups, house)

    def probabilities(self, cands: list[Candidate], raw: np.ndarray) -> np.ndarray:
        if not cands:
            return np.zeros(0)
        keys = [self.output_key(c) for c in cands]
        x = design(raw, [c.kind for c in cands], self.lookups.rows(keys))
        z = ((x - self.mean) / self.scale) @ self.coef + self.intercept
        return 1.0 / (1.0 + np.exp(-z))

    def output_key(self, cand: Candidate) -> str:
        if self.person == 'surname' and cand.kind == 'PER' and ' ' in cand.key:
            return cand.key.rsplit(' ', 1)[1]
        return cand.key

    def output_text(self, cand: Candidate) -> str:
        if self.person == 'surname' and cand.kind == 'PER' and ' ' in cand.normal.strip():
            return cand.normal.strip().rsplit(' ', 1)[1]
        return cand.normal

    def rank(self, doc: Doc, cands: list[Candidate], top: Optional[int] = DEFAULT_TOP) -> list[Tag]:
        """Tags above the threshold, best first; at least ``min_tags``, at most ``top``."""
        bag = self.house.bag(doc) if self.house is not None else None
        return self.rank_rows(cands, raw_features(doc, cands), bag, top)

    def scored(self, cands: list[Candidate], raw: np.ndarray, bag,
               floor: Optional[float] = None) -> list[Tag]:
        """Every candidate (and house tag) as a Tag with its probability, best first.

        ``floor``: leave out candidates under it that can change nothing (the ranking is cut
        there): beyond the first ``min_tags``, unless a house tag may lift them.
        """
        probs = self.probabilities(cands, raw)
        house = list(self.house.predict(bag)) if self.house is not None and bag is not None else []
        house_keys = {key for key, _, _ in house}
        tags: dict[str, Tag] = {}
        for index in np.argsort(-probs, kind='stable'):
            cand, p = cands[index], float(probs[index])
            key = self.output_key(cand)
            if floor is not None and p < floor and len(tags) >= self.min_tags and key not in house_keys:
                continue
            text = style(self.output_text(cand), 'seed')
            if text and key not in tags:
                tags[key] = Tag(text, cand.kind, round(p, 4), cand.mentions)
        if house:
            for key, text, p in house:
                tag = tags.get(key)
                if tag is None:
                    tags[key] = Tag(style(text, 'seed'), 'TOPIC', round(p, 4), [])
                else:  # both models vote for it
                    tag.score = round(1 - (1 - tag.score) * (1 - p), 4)
        return sorted(tags.values(), key=lambda t: -t.score)

    def rank_rows(self, cands: list[Candidate], raw: np.ndarray, bag,
                  top: Optional[int] = DEFAULT_TOP) -> list[Tag]:
        ranked = self.scored(cands, raw, bag, floor=self.threshold)
        kept = [t for t in ranked if t.score >= self.threshold]
        if len(kept) < self.min_tags:
            kept = ranked[:self.min_tags]
        return kept[:top] if top else kept
