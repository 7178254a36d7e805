"""The items of a document: every tag a profile may give it, each with its row of features.

The candidates in each spelling they may be tagged by (their normal form, a person by
surname, their other spellings), the house classifier's tags and the neighbours' tags, each
key once; an item's row is its candidate's features (``features.design``) and the item's own.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Optional

import numpy as np

from ..analysis.candidates import Candidate
from ..tags import DASHES, tag_key
from .features import COLUMN, HABITS, SITE_HABITS, Lookups, candidate_names, design


TEXT, SURNAME, VARIANT, PROPOSED = 0, 1, 2, -1  # how an item spells its candidate
VOTE_FLOOR = 0.15  # a tag only the neighbours propose needs this share of their votes
HOUSE_FLOOR = 0.01  # and one only the house classifier proposes, this probability


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
    # Python floats: hundreds of house tags are looked up and compared per document
    probs = house.probabilities(counts).tolist() if house is not None else []
    house_p = dict(zip(house.tags, probs)) if house is not None else {}
    for key, text, p in zip(house.tags, house.texts, probs) if house is not None else ():
        if p >= HOUSE_FLOOR and key not in chosen:
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
    x = np.full((len(found), len(COLUMN)), np.nan)
    width = len(candidate_names())  # the first columns: the candidate's (``design``)
    how = np.array([item.how for item in found], dtype=np.int64)
    spelled = np.flatnonzero(how != PROPOSED)
    if len(spelled):
        index = [found[i].source for i in spelled]
        x[spelled, :width] = design(raw[index], [cands[i].kind for i in index],
                                    lookups.rows([found[i].key for i in spelled]))
    keys = [item.key for item in found]
    house = np.array([facts.house.get(key, np.nan) for key in keys], dtype=np.float64)
    x[:, COLUMN['house']] = house
    x[:, COLUMN['is_house']] = ~np.isnan(house)
    x[:, COLUMN['is_candidate']] = how != PROPOSED
    x[:, COLUMN['vote']] = [facts.votes.get(key, 0.0) for key in keys]
    x[:, COLUMN['top_similarity']] = facts.top
    x[:, COLUMN['tag_rate']] = (np.array([lookups.tags.get(key, 0) for key in keys])
                                / max(lookups.n_docs, 1))
    x[:, COLUMN['surname']] = how == SURNAME
    x[:, COLUMN['variant']] = how == VARIANT
    for name, value in zip(HABITS, facts.habits):
        x[:, COLUMN[name]] = value
    for name, value in zip(SITE_HABITS, () if facts.site_habits is None else facts.site_habits):
        x[:, COLUMN[name]] = value
    return x
