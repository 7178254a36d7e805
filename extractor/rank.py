"""Candidates -> items -> features -> probabilities -> ordered, cut tags.

A profile (``models/NAME/``, written by ``extractor train``) proposes, for one document,
every tag it may give: the candidates (a person also by surname alone: sites differ), the
site's frequent tags from its classifier (``house.py``), and the tags of the archive's most
similar articles (``neighbours.py``). Each gets a row of features: the candidate's own
(frequency, position, title, kind, ...), the archive's look-ups (document frequency, how
often it was an editor's tag), the house probability and the neighbours' vote. Boosted
trees (``trees.py``) turn a row into the probability that an editor chose the tag; the
list is cut where the expected F1 of the document is highest. No scikit-learn at run time.
"""
from __future__ import annotations

import json
import math
from collections import Counter
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Optional

import numpy as np

from .doc import Doc, Tag
from .house import bag
from .merge import Candidate
from .phrases import other_number
from .similarity import similarities
from .tags import DASHES, style, tag_key
from .trees import Forest

KINDS = ('PER', 'LOC', 'ORG', 'PHRASE', 'TOPIC')
DEFAULT_TOP = 40  # a cap only: the profile's learned cut decides how many


def title_stop(text: str) -> int:
    """End of the title: the first line when it is short and the text goes on after it."""
    line = text.split('\n', 1)[0]
    return len(line) if len(line) < 300 and len(line) < len(text) else 0


def raw_features(doc: Doc, cands: list[Candidate], embedding=None) -> np.ndarray:
    """Per-candidate features that need nothing but the document (rows follow ``cands``, their
    mentions in text order); ``embedding`` (natasha's navec) adds each candidate's closeness
    to the article."""
    if not cands:
        return np.zeros((0, len(RAW)))
    length = max(len(doc.text.rstrip()), 1)  # trailing white space (a reader's choice) counts not
    title = title_stop(doc.text)
    starts = np.array([s.start for s in doc.sentences] or [0])
    counts = np.array([len(c.mentions) for c in cands])
    offsets = np.cumsum(counts) - counts
    mentions = np.array([start for c in cands for start, _ in c.mentions])
    first, last = mentions[offsets] / length, mentions[offsets + counts - 1] / length
    # distinct (candidate, sentence) pairs, counted per candidate
    sentence = np.searchsorted(starts, mentions, side='right')
    pairs = np.unique(np.repeat(np.arange(len(cands)), counts) * (len(starts) + 1) + sentence)
    sents = np.bincount(pairs // (len(starts) + 1), minlength=len(cands))
    normals = [c.normal for c in cands]
    words = np.array([[c.key.count(' ') + 1, normal[:1].isupper(),
                       any(w.isupper() and len(w) > 1 for w in normal.split())]
                      for c, normal in zip(cands, normals)], dtype=np.float64)
    return np.column_stack([
        np.log1p(counts), counts / counts.max(), first, last - first,
        sents / len(starts), mentions[offsets] < title,
        words, np.full(len(cands), math.log(length)),
        nested(doc, cands), similarities(doc, normals, embedding),
    ]).astype(np.float64)


def nested(doc: Doc, cands: list[Candidate]) -> np.ndarray:
    """Each candidate's share of mentions inside a longer entity (``Москвы`` in ``Правительства
    Москвы``): a part of a name rather than a thing the article names."""
    mentions = np.array([m for c in cands for m in c.mentions], dtype=np.int64).reshape(-1, 2)
    spans = np.array(sorted((e.start, e.stop) for e in doc.entities), dtype=np.int64).reshape(-1, 2)
    if not len(cands) or not len(spans):
        return np.zeros(len(cands))
    # A longer entity holds a mention when it starts before it and ends at or after its end,
    # or starts with it and ends after it: the furthest end among the spans that start before
    # (a running maximum) and among those that start with it (the last of them, sorted) tell.
    # Memory and time linear in mentions and entities, not their product.
    start, stop = mentions[:, 0], mentions[:, 1]
    before = np.searchsorted(spans[:, 0], start, side='left')
    upto = np.searchsorted(spans[:, 0], start, side='right')
    furthest = np.maximum.accumulate(spans[:, 1])
    inside = (((before > 0) & (furthest[np.maximum(before - 1, 0)] >= stop))
              | ((upto > before) & (spans[np.maximum(upto - 1, 0), 1] > stop)))
    counts = np.array([len(c.mentions) for c in cands])
    return np.add.reduceat(inside.astype(np.float64), np.cumsum(counts) - counts) / counts


RAW = ['log_freq', 'freq_rel', 'first', 'spread', 'sent_share', 'in_title',
       'n_words', 'capital', 'abbr', 'log_len', 'nested', 'similarity']
LOOKUP = ['idf', 'prior', 'log_tag_count', 'unseen']
# Each kind gets its own copy of these, so the model can weigh them per kind.
CROSSED = ['log_freq', 'first', 'in_title', 'idf', 'prior', 'n_words', 'sent_share']
# Of every item, candidate or not: what the house classifier and the neighbours say of it.
ITEM = ['house', 'is_house', 'is_candidate', 'vote', 'top_similarity', 'tag_rate', 'surname',
        'variant']
# Of the document: the site's habits as its neighbours show them (``neighbours.STYLE``).
HABITS = ['nb_log_gold', 'nb_surnames', 'nb_full_names', 'nb_in_text']
# and as the habits of the profile's site it resembles (``sites.py``; none for one site).
SITE_HABITS = ['site_log_gold', 'site_surnames', 'site_full_names', 'site_in_text']
SPELLED = 60  # candidates whose other spellings are offered (``Ranker.scored_items``)
SCREENED = 100  # items the whole bag scores (``Ranker.screened``)
SCREENED_SPELLINGS = 30  # and other spellings of the likely candidates
SCREENING_TREES = 50  # the first member's first trees screen the items (``Ranker.screened``)
VOTE_FLOOR = 0.15  # a tag only the neighbours propose needs this share of their votes
HOUSE_FLOOR = 0.01  # and one only the house classifier proposes, this probability


def candidate_names() -> list[str]:
    return ([f'kind={k}' for k in KINDS] + RAW + LOOKUP
            + [f'{k}*{f}' for k in KINDS for f in CROSSED])


def feature_names() -> list[str]:
    return candidate_names() + ITEM + HABITS + SITE_HABITS


@dataclass
class Lookups:
    """Per-key statistics of the training archive."""
    n_docs: int
    df: dict          # key -> number of documents with it as a candidate
    tags: dict        # key -> number of documents with it as a gold tag
    spelling: dict = field(default_factory=dict)  # gold key -> how the candidates wrote it
    joined: bool = False  # the site's tags drop hyphens (``spellings``)
    variants: bool = False  # other spellings are offered (profiles trained before: none)

    def rows(self, keys: list[str]) -> np.ndarray:
        df = np.array([self.df.get(key, 0) for key in keys], dtype=np.float64)
        tagged = np.array([self.tags.get(key, 0) for key in keys], dtype=np.float64)
        return np.column_stack([np.log((self.n_docs + 1) / (df + 1)), (tagged + 0.1) / (df + 1),
                                np.log1p(tagged), df == 0]).reshape(len(keys), len(LOOKUP))


def design(raw: np.ndarray, kinds: list[str], lookups: np.ndarray) -> np.ndarray:
    """The candidates' part of the rows: kind one-hots, raw and look-up features, kind crosses."""
    n = len(kinds)
    if not n:
        return np.zeros((0, len(candidate_names())))
    onehot = np.zeros((n, len(KINDS)))
    for i, kind in enumerate(kinds):
        onehot[i, KINDS.index(kind)] = 1.0
    base = np.hstack([onehot, raw, lookups])
    names = RAW + LOOKUP
    columns = [base[:, len(KINDS) + names.index(f)] for f in CROSSED]
    crossed = [onehot[:, k] * col for k in range(len(KINDS)) for col in columns]
    return np.column_stack([base] + crossed)


TEXT, SURNAME, VARIANT, PROPOSED = 0, 1, 2, -1  # how an item spells its candidate


@dataclass
class Item:
    """A tag a profile may give: its key, text, kind and the mentions behind it; ``source``
    is the index of its candidate (-1 for none): one candidate gives at most one tag;
    ``how`` it spells that candidate (``PROPOSED``: it is the house's or the neighbours' tag)."""
    key: str
    text: str
    kind: str
    mentions: list
    source: int = -1
    how: int = PROPOSED


def spellings(cand: Candidate, normal: Optional[str] = None, joined: bool = False,
              variants: bool = False):
    """(key, text, how) a candidate may be tagged by: ``TEXT`` its normal form, ``SURNAME`` a
    person by surname alone, ``VARIANT`` (with ``variants``) another spelling: the other
    number, a place with its kind. ``joined``: the site writes no hyphens (as a hashtag
    cannot), ``Формула-1`` is ``Формула1``."""
    key, normal = cand.key, cand.normal if normal is None else normal
    if joined and '-' in key:
        key, normal = key.replace('-', ''), DASHES.sub('', normal)
    yield key, normal, TEXT
    if cand.kind == 'PER' and ' ' in key:
        yield key.rsplit(' ', 1)[1], normal.strip().rsplit(' ', 1)[-1], SURNAME
    for text in cand.spellings() if variants else ():
        if joined:
            text = DASHES.sub('', text)
        yield tag_key(text), text, VARIANT


@dataclass
class Facts:
    """What the house classifier and the neighbours say of a document, for its items' rows."""
    house: dict           # key -> the house classifier's probability
    votes: dict           # key -> the neighbours' share of votes
    top: float            # the nearest neighbour's similarity
    habits: np.ndarray    # ``HABITS``
    site_habits: Optional[np.ndarray] = None  # ``SITE_HABITS`` (a profile of several sites)


def items(cands: list[Candidate], raw: np.ndarray, counts: Counter, lookups: Lookups,
          house=None, neighbours=None, borrow: bool = True,
          sites=None) -> tuple[list[Item], np.ndarray]:
    """Every tag the profile may give the document, and its row of ``feature_names()``:
    ``proposals`` and, where the profile offers them, every candidate's other spellings."""
    found, facts = proposals(cands, counts, lookups, house, neighbours, borrow, sites)
    if lookups.variants:
        found += variant_items(cands, range(len(cands)), lookups, {item.key for item in found})
    return found, rows(found, cands, raw, lookups, facts)


def proposals(cands: list[Candidate], counts: Counter, lookups: Lookups, house=None,
              neighbours=None, borrow: bool = True, sites=None) -> tuple[list[Item], Facts]:
    """The candidates' own spellings (normal form, a person's surname), the house's tags and
    (``borrow``) the neighbours', each key once; and the facts their rows need. ``sites``
    (a profile of several sites): which one's habits the document resembles."""
    chosen: dict[str, Item] = {}
    normals = [cand.normal for cand in cands]
    for i, cand in enumerate(cands):
        for key, text, how in spellings(cand, normals[i], lookups.joined):
            if key and key not in chosen:
                chosen[key] = Item(key, text, cand.kind, cand.mentions, i, how)
    # A name the article gives alone (the NER may miss a lone surname: any capitalized word)
    # is the house's or the neighbours' two-word name ending with it (``путин`` ->
    # ``владимир путин``): one tag of the two.
    names = {c.key: i for i, c in enumerate(cands) if ' ' not in c.key and normals[i][:1].isupper()}
    house_p = dict(zip(house.tags, house.probabilities(counts))) if house is not None else {}
    for key, text in zip(house.tags, house.texts) if house is not None else ():
        if house_p[key] >= HOUSE_FLOOR and key not in chosen:
            chosen[key] = Item(key, lookups.spelling.get(key, text), 'TOPIC', [],
                               names.get(key.split(' ')[1], -1) if key.count(' ') == 1 else -1)
    votes, top, habits = (neighbours.neighbourhood(counts) if neighbours is not None
                          else ({}, 0.0, np.full(len(HABITS), np.nan)))
    for key, vote in votes.items() if borrow else ():
        if vote >= VOTE_FLOOR and key not in chosen:
            chosen[key] = Item(key, lookups.spelling.get(key, key), 'TOPIC', [],
                               names.get(key.split(' ')[1], -1) if key.count(' ') == 1 else -1)
    facts = Facts(house_p, votes, top, habits,
                  sites.mean_habits(counts) if sites is not None else None)
    return list(chosen.values()), facts


def variant_items(cands: list[Candidate], which, lookups: Lookups, taken: set) -> list[Item]:
    """The other spellings (``VARIANT``) of the candidates ``which`` whose keys are not
    ``taken`` yet (it takes them)."""
    out = []
    for i in which:
        cand = cands[i]
        for key, text, how in spellings(cand, None, lookups.joined, variants=True):
            if how == VARIANT and key and key not in taken:
                taken.add(key)
                out.append(Item(key, text, cand.kind, cand.mentions, i, how))
    return out


def rows(found: list[Item], cands: list[Candidate], raw: np.ndarray, lookups: Lookups,
         facts: Facts) -> np.ndarray:
    """The items' rows of ``feature_names()``. Features an item does not have (a house tag
    that is no candidate) are NaN: the trees learn where those go."""
    x = np.full((len(found), len(feature_names())), np.nan)
    width = len(candidate_names())
    how = np.array([item.how for item in found], dtype=np.int64)
    spelled = np.flatnonzero(how != PROPOSED)
    if len(spelled):
        index = [found[i].source for i in spelled]
        x[spelled, :width] = design(raw[index], [cands[i].kind for i in index],
                                    lookups.rows([found[i].key for i in spelled]))
    keys = [item.key for item in found]
    house_col = np.array([facts.house.get(key, np.nan) for key in keys], dtype=np.float64)
    x[:, width] = house_col
    x[:, width + 1] = ~np.isnan(house_col)
    x[:, width + 2] = how != PROPOSED
    x[:, width + 3] = [facts.votes.get(key, 0.0) for key in keys]
    x[:, width + 4] = facts.top
    x[:, width + 5] = np.array([lookups.tags.get(key, 0) for key in keys]) / max(lookups.n_docs, 1)
    x[:, width + 6] = how == SURNAME
    x[:, width + 7] = how == VARIANT
    at = width + len(ITEM)
    x[:, at:at + len(HABITS)] = facts.habits
    if facts.site_habits is not None:
        x[:, at + len(HABITS):at + len(HABITS) + len(SITE_HABITS)] = facts.site_habits
    return x


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
    TOP = 20  # it has no cut: a fixed number
    house = None

    def rank(self, doc: Doc, cands: list[Candidate], top: Optional[int] = TOP,
             least: Optional[int] = None, embedding=None, vocab=None) -> list[Tag]:
        """The first ``top`` candidates by score (``least`` is ignored: no cut to lift)."""
        return self.rank_raw(cands, raw_features(doc, cands), top)

    def rank_raw(self, cands: list[Candidate], raw: np.ndarray, top: Optional[int] = TOP) -> list[Tag]:
        col = {name: i for i, name in enumerate(RAW)}
        tags: dict[str, Tag] = {}
        for cand, row in zip(cands, raw):
            value = self.WEIGHT[cand.kind] * (1 + row[col['log_freq']])
            value *= (1 + 0.5 * (1 - row[col['first']])) * (1.6 if row[col['in_title']] else 1)
            text = style(cand.normal, 'seed')
            if text and cand.key not in tags:
                tags[cand.key] = Tag(text, cand.kind, round(value, 4), cand.mentions)
        ranked = sorted(tags.values(), key=lambda t: -t.score)
        return ranked[:top or self.TOP]


class Ranker:
    """A fitted profile: ``rank(doc, cands)`` -> tags, best first, cut by expected F1."""

    def __init__(self, forest: Forest, lookups: Lookups, house=None, neighbours=None,
                 expected: float = 1.0, least: int = 1, borrow: bool = True, sites=None,
                 columns: Optional[list[int]] = None):
        self.forest, self.lookups = forest, lookups
        self.house, self.neighbours, self.sites = house, neighbours, sites
        self.expected, self.least, self.borrow = expected, least, borrow
        self.columns = columns  # of ``feature_names()`` the trees read; None: all

    @classmethod
    def load(cls, folder: Path) -> 'Ranker':
        from .house import HouseTags
        from .neighbours import Neighbours
        from .sites import Sites

        meta = json.loads((folder / 'ranker.json').read_text(encoding='utf-8'))
        names, known = meta.get('features') or [], feature_names()
        if not names or not set(names) <= set(known):
            raise ValueError(f'{folder}: the profile was trained for other features; '
                             f'retrain it with `extractor train` (see models/build.sh)')
        # A profile trained before a feature was added reads the columns it knows.
        columns = None if names == known else [known.index(name) for name in names]
        stats = json.loads((folder / 'lookups.json').read_text(encoding='utf-8'))
        lookups = Lookups(stats['n_docs'], stats['df'], stats['tags'], stats.get('spelling', {}),
                          stats.get('joined', False), stats.get('variants', False))
        house = HouseTags.load(folder) if (folder / 'house.npz').is_file() else None
        near = Neighbours.load(folder) if (folder / 'neighbours.npz').is_file() else None
        sites = Sites.load(folder) if (folder / 'sites.npz').is_file() else None
        return cls(Forest.load(folder / 'ranker.npz'), lookups, house, near, meta['expected'],
                   meta['least'], meta['borrow'], sites, columns)

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
        if self.columns is not None and feature_names().index('similarity') not in self.columns:
            embedding = None  # a profile trained before the feature: not worth computing
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
            order = order[:cut(probs[order], self.expected, self.least if least is None else least)]
        tags = []
        for index in order[:top or None]:
            item = found[index]
            text = style(item.text, 'seed')
            if text:
                tags.append(Tag(text, item.kind, round(float(probs[index]), 4), item.mentions))
        return tags
