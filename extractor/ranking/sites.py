"""Which of a profile's sites an article resembles, and so whose habits to follow.

A profile trained on the archives of several sites (``default``: ng and rt) learns one
ranker for all of them, but the sites tag differently: ng gives six tags and names people by
surname, rt ten and by full name. A logistic regression over the article's tf-idf lemmas
(``sites.npz``) gives the probability of each site, and the features are the sites' habits
(``neighbours.STYLE``, each site's mean) weighed by it: the trees can then tag an ng-like
article as ng would, and an article of an unknown site in the habits of the closest one.
"""
from __future__ import annotations

from collections import Counter
import numpy as np

from .lemmas import tfidf


class Sites:
    """A logistic regression over the article's tf-idf lemmas (one class per site) and each
    site's mean habits; fitted by ``extractor.training``."""

    def __init__(self, vocab: list, idf: np.ndarray, coef: np.ndarray, intercept: np.ndarray,
                 habits: np.ndarray):
        self.vocab, self.idf = vocab, np.asarray(idf, dtype=np.float64)
        self.index = {word: i for i, word in enumerate(vocab)}
        self.coef = np.asarray(coef, dtype=np.float64)            # (classes or 1, words)
        self.intercept = np.asarray(intercept, dtype=np.float64)
        self.habits = np.asarray(habits, dtype=np.float64)        # (sites, STYLE)

    def probabilities(self, counts: Counter) -> np.ndarray:
        """How much an article of lemma ``counts`` resembles each site (they sum to 1)."""
        z = self.coef @ tfidf(counts, self.index, self.idf) + self.intercept
        if len(z) == 1:  # two sites: scikit-learn keeps one row, for the second
            p = 1.0 / (1.0 + np.exp(-z[0]))
            return np.array([1.0 - p, p])
        z = np.exp(z - z.max())
        return z / z.sum()

    def mean_habits(self, counts: Counter) -> np.ndarray:
        """The sites' habits weighed by how much the article resembles each site."""
        return self.probabilities(counts) @ self.habits

    def arrays(self) -> dict[str, np.ndarray]:
        """What ``from_arrays`` reads back (``profile`` stores it)."""
        return dict(vocab=np.array(self.vocab), idf=self.idf.astype(np.float32),
                    coef=self.coef.astype(np.float32), intercept=self.intercept.astype(np.float32),
                    habits=self.habits.astype(np.float32))

    @classmethod
    def from_arrays(cls, data) -> 'Sites':
        return cls(list(data['vocab']), data['idf'], data['coef'], data['intercept'], data['habits'])
