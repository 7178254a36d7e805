"""A site's own tag vocabulary: a multi-label classifier over its frequent tags.

Rubric tags (``в мире``, ``политика``) rarely occur in the text; they are predicted from
the document's bag of content lemmas (tf-idf) by one logistic regression per tag, stored
sparse (the largest weights of each tag) in ``house.npz``.
"""
from __future__ import annotations

import math
from collections import Counter
from pathlib import Path

import numpy as np

from .doc import Doc

CONTENT = frozenset({'NOUN', 'PROPN', 'ADJ', 'VERB'})


def bag(doc: Doc) -> Counter:
    """Counts of the document's content lemmas."""
    return Counter(t.lemma for t in doc.tokens if t.pos in CONTENT and t.lemma and len(t.lemma) > 2)


def words(counts: Counter) -> list[str]:
    """A bag as the word list scikit-learn's vectorizers count (each word ``n`` times)."""
    return [word for word, n in counts.items() for _ in range(n)]


def vectorizer(max_features: int):
    """scikit-learn's tf-idf over lemma bags given as ``words`` (training only), the one
    ``tfidf`` computes at run time from its vocabulary and idf."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    return TfidfVectorizer(analyzer=lambda b: b, sublinear_tf=True, min_df=2,
                           max_features=max_features)


def tfidf(counts: Counter, index: dict, idf: np.ndarray) -> np.ndarray:
    """Sublinear tf-idf, L2-normalized (as scikit-learn's TfidfVectorizer does)."""
    x = np.zeros(len(idf))
    for word, count in counts.items():
        i = index.get(word)
        if i is not None:
            x[i] = (1 + math.log(count)) * idf[i]
    norm = np.linalg.norm(x)
    return x / norm if norm else x


class HouseTags:
    def __init__(self, tags: list, texts: list, vocab: list, idf: np.ndarray,
                 rows: np.ndarray, cols: np.ndarray, weights: np.ndarray, intercepts: np.ndarray):
        self.tags, self.texts = tags, texts
        self.index = {word: i for i, word in enumerate(vocab)}
        self.vocab, self.idf = vocab, idf
        self.rows, self.cols, self.weights, self.intercepts = rows, cols, weights, intercepts

    @classmethod
    def load(cls, folder: Path) -> 'HouseTags':
        data = np.load(folder / 'house.npz', allow_pickle=False)
        return cls(list(data['tags']), list(data['texts']), list(data['vocab']), data['idf'],
                   data['rows'], data['cols'], data['weights'], data['intercepts'])

    def save(self, folder: Path) -> None:
        np.savez_compressed(
            folder / 'house.npz', tags=np.array(self.tags), texts=np.array(self.texts),
            vocab=np.array(self.vocab), idf=self.idf.astype(np.float32),
            rows=self.rows.astype(np.int32), cols=self.cols.astype(np.int32),
            weights=self.weights.astype(np.float32), intercepts=self.intercepts.astype(np.float32))

    def vector(self, counts: Counter) -> np.ndarray:
        return tfidf(counts, self.index, self.idf)

    def probabilities(self, counts: Counter) -> np.ndarray:
        x = self.vector(counts)
        z = np.bincount(self.rows, self.weights * x[self.cols], minlength=len(self.tags))
        return 1.0 / (1.0 + np.exp(-(z + self.intercepts)))
