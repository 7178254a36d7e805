"""A site's own tag vocabulary: a multi-label classifier over its frequent tags.

Rubric tags (``в мире``, ``политика``) rarely occur in the text; they are predicted from
the document's bag of content lemmas (tf-idf) by one logistic regression per tag, stored
sparse (the largest weights of each tag) in ``house.npz``.
"""
from __future__ import annotations

from collections import Counter

import numpy as np

from .lemmas import tfidf


class HouseTags:
    """One logistic regression per house tag over the tf-idf of the article's lemmas."""

    def __init__(self, tags: list, texts: list, vocab: list, idf: np.ndarray,
                 rows: np.ndarray, cols: np.ndarray, weights: np.ndarray, intercepts: np.ndarray):
        self.tags, self.texts = tags, texts
        self.index = {word: i for i, word in enumerate(vocab)}
        self.vocab, self.idf = vocab, idf
        self.rows, self.cols, self.weights, self.intercepts = rows, cols, weights, intercepts

    @classmethod
    def from_arrays(cls, data) -> 'HouseTags':
        return cls(list(data['tags']), list(data['texts']), list(data['vocab']), data['idf'],
                   data['rows'], data['cols'], data['weights'], data['intercepts'])

    def arrays(self) -> dict[str, np.ndarray]:
        """What ``from_arrays`` reads back (``profile`` stores it)."""
        return dict(tags=np.array(self.tags), texts=np.array(self.texts),
                    vocab=np.array(self.vocab), idf=self.idf.astype(np.float32),
                    rows=self.rows.astype(np.int32), cols=self.cols.astype(np.int32),
                    weights=self.weights.astype(np.float32),
                    intercepts=self.intercepts.astype(np.float32))

    def vector(self, counts: Counter) -> np.ndarray:
        return tfidf(counts, self.index, self.idf)

    def probabilities(self, counts: Counter) -> np.ndarray:
        """Each house tag's probability for an article of lemma ``counts``."""
        x = self.vector(counts)
        z = np.bincount(self.rows, self.weights * x[self.cols], minlength=len(self.tags))
        return 1.0 / (1.0 + np.exp(-(z + self.intercepts)))
