"""What a profile knows of a site's archive, fitted: look-ups, house tags, neighbours, sites."""
from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from typing import Optional

import numpy as np

from ..ranking.features import Lookups
from ..ranking.house import HouseTags
from ..ranking.items import SURNAME, spellings
from ..ranking.neighbours import Neighbours, shares
from ..ranking.sites import Sites
from .data import Sample

NEIGHBOUR_VOCAB = 20000  # words of the neighbours' tf-idf
NEIGHBOUR_WEIGHTS = 150  # largest weights kept per archive article
SITES_VOCAB = 8000
SITES_C = 4.0


def words(counts: Counter) -> list[str]:
    """A bag as the word list scikit-learn's vectorizers count (each word ``n`` times)."""
    return [word for word, n in counts.items() for _ in range(n)]


def vectorizer(max_features: int):
    """scikit-learn's tf-idf over lemma bags given as ``words``, the one ``lemmas.tfidf``
    computes at run time from its vocabulary and idf."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    return TfidfVectorizer(analyzer=lambda b: b, sublinear_tf=True, min_df=2,
                           max_features=max_features)


MIN_HOUSE_COUNT = 8
MAX_HOUSE_TAGS = 400  # the site's most frequent tags; fitting time grows with their number
HOUSE_VOCAB = 8000
HOUSE_WEIGHTS = 400  # largest weights kept per house tag
HOUSE_C = 32.0  # weak regularization: out of fold it ranks a site's rubrics best (8: worse)


def joins_hyphens(samples: list[Sample]) -> bool:
    """Whether the site's editors drop hyphens (``Формула-1`` tagged ``формула1``): more of
    their tags are a candidate's hyphenated key without its hyphens than have a hyphen."""
    hyphened = sum('-' in tag for s in samples for tag in s.gold)
    joined = sum(len(s.gold & {c.key.replace('-', '') for c in s.cands if '-' in c.key})
                 for s in samples)
    return joined > hyphened


def count_lookups(samples: list[Sample]) -> Lookups:
    """Document frequencies of every key a candidate offers (other spellings too), gold
    counts, gold spellings, under the site's habit for hyphens."""
    df, tags, written = Counter(), Counter(), {}
    joined = joins_hyphens(samples)
    for s in samples:
        offered = {}
        for cand in s.cands:
            for key, text, _ in spellings(cand, joined=joined, variants=True):
                offered.setdefault(key, text)
        df.update(offered.keys())
        tags.update(s.gold)
        for key in s.gold & offered.keys():
            written.setdefault(key, Counter())[offered[key]] += 1
    spelling = {key: texts.most_common(1)[0][0] for key, texts in written.items()}
    return Lookups(len(samples), dict(df), dict(tags), spelling, joined, variants=True)


def fit_house(samples: list[Sample], min_count: int = MIN_HOUSE_COUNT) -> Optional[HouseTags]:
    """One-vs-rest logistic regression over tf-idf lemma bags, for tags seen ``min_count``+ times."""
    from sklearn.linear_model import LogisticRegression

    counts = Counter(t for s in samples for t in s.gold)
    tags = sorted(t for t, n in counts.most_common(MAX_HOUSE_TAGS) if n >= min_count)
    if not tags:
        return None
    tfidf = vectorizer(HOUSE_VOCAB)
    x = tfidf.fit_transform([words(s.bag) for s in samples])
    rows, cols, weights, intercepts = [], [], [], []
    for index, tag in enumerate(tags):
        y = np.array([tag in s.gold for s in samples], dtype=np.int8)
        model = LogisticRegression(C=HOUSE_C, solver='liblinear', class_weight=None).fit(x, y)
        coef = model.coef_[0]
        keep = np.argsort(-np.abs(coef))[:HOUSE_WEIGHTS]
        keep = keep[coef[keep] != 0]
        rows += [index] * len(keep)
        cols += keep.tolist()
        weights += coef[keep].tolist()
        intercepts.append(float(model.intercept_[0]))
    texts = tags  # gold keys are already lower-cased tag text
    return HouseTags(tags, texts, list(tfidf.get_feature_names_out()), tfidf.idf_, np.array(rows), np.array(cols), np.array(weights),
                     np.array(intercepts))


@dataclass
class Archive:
    """What a profile knows of a site's archive: look-ups, house tags, neighbours; and, for
    the archives of several sites, which site an article resembles."""
    lookups: Lookups
    house: Optional[HouseTags]
    neighbours: Optional[Neighbours]
    sites: Optional[Sites] = None

    @classmethod
    def of(cls, samples: list[Sample], house: bool = True) -> 'Archive':
        lookups = count_lookups(samples)
        style = np.array([habits(s, lookups.joined) for s in samples])
        several = len({s.source for s in samples}) > 1
        return cls(lookups, fit_house(samples) if house else None,
                   fit_neighbours([s.bag for s in samples], [s.gold for s in samples], style=style),
                   fit_sites([s.bag for s in samples], [s.source for s in samples], style)
                   if several else None)


def habits(sample: Sample, joined: bool = False) -> list[float]:
    """The article's row of ``neighbours.STYLE``: how many tags the editor gave, how many
    people by surname alone and by full name, the share of tags the text names."""
    offered = {}
    for cand in sample.cands:
        for key, _, how in spellings(cand, joined=joined):
            offered.setdefault(key, (cand.kind, how == SURNAME))
    named = [offered[key] for key in sample.gold if key in offered]
    people = [short for kind, short in named if kind == 'PER']
    return [math.log1p(len(sample.gold)), float(sum(people)), float(len(people) - sum(people)),
            len(named) / max(len(sample.gold), 1)]


def fit_neighbours(bags: list[Counter], golds: list[set], keep: int = NEIGHBOUR_WEIGHTS,
                   style: Optional[np.ndarray] = None) -> Neighbours:
    """Vectors of ``bags`` (their ``keep`` largest weights), their gold tag keys and
    ``style`` rows (one per article, ``STYLE`` columns)."""
    tfidf = vectorizer(NEIGHBOUR_VOCAB)
    matrix = tfidf.fit_transform([words(b) for b in bags]).tocsr()
    indptr, indices, data = [0], [], []
    for row in range(matrix.shape[0]):
        start, stop = matrix.indptr[row], matrix.indptr[row + 1]
        order = np.argsort(-matrix.data[start:stop])[:keep]
        indices += matrix.indices[start:stop][order].tolist()
        data += matrix.data[start:stop][order].tolist()
        indptr.append(len(indices))
    tags = sorted({t for gold in golds for t in gold})
    tag_index = {t: i for i, t in enumerate(tags)}
    tag_indptr, tag_ids = [0], []
    for gold in golds:
        tag_ids += sorted(tag_index[t] for t in gold)
        tag_indptr.append(len(tag_ids))
    return Neighbours(list(tfidf.get_feature_names_out()), tfidf.idf_, np.array(indptr),
               np.array(indices, dtype=np.int64), np.array(data), tags, np.array(tag_indptr),
               np.array(tag_ids, dtype=np.int64), style=style)


def fit_sites(bags: list[Counter], sources: list[int], habits: np.ndarray) -> Sites:
    """``sources[i]``: the site of ``bags[i]`` (0..n-1, at least two); ``habits``: one
    ``STYLE`` row per article, averaged per site."""
    from sklearn.linear_model import LogisticRegression

    tfidf = vectorizer(SITES_VOCAB)
    x = tfidf.fit_transform([words(b) for b in bags])
    model = LogisticRegression(C=SITES_C, max_iter=500).fit(x, sources)
    sites = np.asarray(sources)
    means = np.array([shares(np.asarray(habits)[sites == site].mean(axis=0))
                      for site in model.classes_])
    return Sites(list(tfidf.get_feature_names_out()), tfidf.idf_, model.coef_, model.intercept_,
                 means)

