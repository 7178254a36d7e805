"""Candidates -> items -> features -> probabilities -> ordered, cut tags.

A profile (``models/NAME/``, written by ``extractor train``, read by ``profile.load``)
proposes, for one document, every tag it may give (``items``): the candidates (a person also
by surname alone: sites differ), the site's frequent tags from its classifier (``house``),
and the tags of the archive's most similar articles (``neighbours``). Each gets a row of
``features``; boosted trees (``trees``) turn a row into the probability that an editor chose
the tag; the list is cut where the expected F1 of the document is highest.
"""
from __future__ import annotations

from collections import Counter
from functools import partial
from typing import Optional

import numpy as np

from ..analysis.candidates import Candidate
from ..analysis.phrases import other_number
from ..doc import Doc, Tag
from ..tags import style
from .features import COLUMN, RAW, Lookups, feature_names, raw_features
from .items import Item, proposals, rows, variant_items
from .lemmas import bag
from .once import once
from .trees import Forest


DEFAULT_TOP = 40  # a cap only: the profile's learned cut decides how many
SPELLED = 60  # candidates whose other spellings are offered (``Ranker.scored_items``)
SCREENED = 100  # items the whole bag scores (``Ranker.screened``)
SCREENED_SPELLINGS = 30  # and other spellings of the likely candidates
SCREENING_TREES = 50  # the first member's first trees screen the items (``Ranker.screened``)


def best_first(found: list[Item], probs: np.ndarray) -> np.ndarray:
    """Indices of ``found`` by falling probability, each candidate's best spelling only
    (``Алексей Логвиненко`` or ``Логвиненко``, not both)."""
    order, seen = [], set()
    for index in np.argsort(-probs, kind='stable'):
        source = found[index].source
        if source < 0 or source not in seen:
            seen.add(source)
            order.append(index)
    return np.array(order, dtype=np.int64)


def cut(probs: np.ndarray, expected: float, least: int = 1) -> int:
    """How many of ``probs`` (best first) to keep: the count with the highest expected F1,
    the document's number of gold tags taken as ``expected`` times the sum of ``probs``;
    at least ``least`` (as many as there are)."""
    if not len(probs):
        return 0
    hits = np.cumsum(probs)
    best = int(np.argmax(2 * hits / (np.arange(1, len(probs) + 1) + expected * hits[-1]))) + 1
    return min(max(best, least), len(probs))


class Heuristic:
    """The first, transparent scoring (profile ``heuristic``): no training needed."""

    WEIGHT = {'PER': 1.0, 'ORG': 1.0, 'LOC': 0.9, 'PHRASE': 0.55, 'TOPIC': 0.4}
    EARLY = 0.5  # up to this much more for a candidate named at the start
    IN_TITLE = 1.6  # times as much for one named in the title
    TOP = 20  # it has no cut: a fixed number
    # Training extracts candidates through it, and learns from every spelling.
    offers_spellings = True

    def rank(self, doc: Doc, cands: list[Candidate], top: Optional[int] = TOP,
             least: Optional[int] = None, embedding=None, vocab=None) -> list[Tag]:
        """The first ``top`` candidates by score (``least`` is ignored: no cut to lift)."""
        return self.rank_raw(cands, raw_features(doc, cands), top)

    def rank_raw(self, cands: list[Candidate], raw: np.ndarray, top: Optional[int] = TOP) -> list[Tag]:
        """``rank`` from the candidates' ``raw_features``."""
        col = {name: i for i, name in enumerate(RAW)}
        tags: dict[str, Tag] = {}
        for cand, row in zip(cands, raw):
            value = self.WEIGHT[cand.kind] * (1 + row[col['log_freq']])
            value *= (1 + self.EARLY * (1 - row[col['first']])) * (self.IN_TITLE if row[col['in_title']] else 1)
            text = style(cand.normal, 'seed')
            if text and cand.key not in tags:
                tags[cand.key] = Tag(text, cand.kind, round(value, 4), cand.mentions)
        ranked = sorted(tags.values(), key=lambda t: -t.score)
        return ranked[:top or self.TOP]


class Ranker:
    """A fitted profile: ``rank(doc, cands)`` -> tags, best first, cut by expected F1.

    ``features``: the names of the columns its trees read, in their order (default: every
    one of ``feature_names()``; a profile trained before a feature existed names fewer).
    ``once``: after the cut, a tag that only repeats a likelier one gives way (``once``).
    """

    def __init__(self, forest: Forest, lookups: Lookups, house=None, neighbours=None,
                 expected: float = 1.0, least: int = 1, borrow: bool = True, sites=None,
                 features: Optional[list[str]] = None, once: bool = False):
        self.forest, self.lookups = forest, lookups
        self.once = once  # each thing once (``once``): the seed style's profiles
        self.house, self.neighbours, self.sites = house, neighbours, sites
        self.expected, self.least, self.borrow = expected, least, borrow
        self.features = list(features or feature_names())
        unknown = set(self.features) - set(COLUMN)
        if unknown:
            raise ValueError(f'features no row has: {", ".join(sorted(unknown))}')
        # rows hold every feature: the trees' columns are picked out of them by name
        self.columns = (None if self.features == feature_names()
                        else [COLUMN[name] for name in self.features])

    @property
    def offers_spellings(self) -> bool:
        """Whether the profile tags candidates in their other spellings too (the phrases'
        other number, places with their kind): only one trained to."""
        return self.lookups.variants

    def scored(self, cands: list[Candidate], raw: np.ndarray, counts: Counter,
               top: Optional[int] = None, vocab=None) -> list[Tag]:
        """Every item (the first ``top``) as a Tag with its probability, best first."""
        return self._ranked(cands, raw, counts, top, cut_list=False, vocab=vocab)

    def rank(self, doc: Doc, cands: list[Candidate], top: Optional[int] = DEFAULT_TOP,
             least: Optional[int] = None, embedding=None, vocab=None) -> list[Tag]:
        """Tags best first, as many as maximize the expected F1, at least ``least`` (default:
        the profile's own; a site that tags generously asks for more); at most ``top``.
        ``embedding``: natasha's navec, for the candidates' closeness to the article;
        ``vocab``: the morphology that looks up the other number of a likely phrase."""
        if 'similarity' not in self.features:
            embedding = None  # the trees never read it: not worth computing
        return self.rank_rows(cands, raw_features(doc, cands, embedding), bag(doc), top, least,
                              vocab)

    def rank_rows(self, cands: list[Candidate], raw: np.ndarray, counts: Counter,
                  top: Optional[int] = DEFAULT_TOP, least: Optional[int] = None,
                  vocab=None) -> list[Tag]:
        return self._ranked(cands, raw, counts, top, cut_list=True, least=least, vocab=vocab)

    def screened(self, rows: np.ndarray, keep: int = SCREENED) -> np.ndarray:
        """Probabilities of ``rows``: by the whole bag for the ``keep`` likeliest by the first
        ``SCREENING_TREES`` of its first member, by those trees for the rest (a long article's
        hundreds of unlikely words need no finer estimate)."""
        rows = rows if self.columns is None else rows[:, self.columns]
        if len(rows) <= keep or len(self.forest.members) < 2:
            return self.forest.probabilities(rows)
        probs = self.forest.probabilities(rows, member=0, trees=SCREENING_TREES)
        best = np.argsort(-probs, kind='stable')[:keep]
        probs[best] = self.forest.probabilities(rows[best])
        return probs

    def scored_items(self, cands: list[Candidate], raw: np.ndarray, counts: Counter,
                     vocab=None) -> tuple[list[Item], np.ndarray]:
        """Every item and its probability. Other spellings are offered for the ``SPELLED``
        candidates likeliest by their own spelling only (a long article has hundreds, and
        only a likely candidate's other spelling becomes a tag); with ``vocab``, their
        phrases' other number is looked up then."""
        lookups = self.lookups
        found, facts = proposals(cands, counts, lookups, self.house, self.neighbours,
                                 self.borrow, self.sites)
        probs = self.screened(rows(found, cands, raw, lookups, facts))
        if not lookups.variants or not cands:
            return found, probs
        likely = {found[i].source for i in np.argsort(-probs, kind='stable')[:SPELLED]} - {-1}
        if vocab is not None:
            others = partial(other_number, vocab=vocab)
            for i in likely:
                cands[i].resolve(others)
        more = variant_items(cands, sorted(likely), lookups, {item.key for item in found})
        if not more:
            return found, probs
        x = rows(more, cands, raw, lookups, facts)
        more_probs = self.screened(x, SCREENED_SPELLINGS)
        return found + more, np.concatenate([probs, more_probs])

    def _ranked(self, cands, raw, counts, top: Optional[int], cut_list: bool,
                least: Optional[int] = None, vocab=None) -> list[Tag]:
        if not cands and not counts:  # no names, no content words: nothing to tag
            return []
        found, probs = self.scored_items(cands, raw, counts, vocab)
        order = best_first(found, probs)
        if cut_list:
            kept = cut(probs[order], self.expected, self.least if least is None else least)
            order = once(found, order, kept) if self.once else order[:kept]
        tags = []
        for index in order[:top or None]:
            item = found[index]
            text = style(item.text, 'seed')
            if text:
                tags.append(Tag(text, item.kind, round(float(probs[index]), 4), item.mentions))
        return tags
