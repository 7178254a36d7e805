"""Tags of the most similar articles in the site's archive, as votes.

A site keeps coming back to its long-running stories (``ситуация в сирии``, ``олимпийские
игры 2018 в пхёнчхане``) and its own habits (``путин`` or ``владимир путин``). The archive's
articles are kept as sparse tf-idf vectors of their content lemmas (``neighbours.npz``);
an article's ``K`` nearest ones (cosine) vote for their gold tags, weighted by similarity.
"""
from __future__ import annotations

from collections import Counter
from typing import Optional

import numpy as np

from .lemmas import tfidf

K = 20
# What each archive article says of the site's habits, averaged over an article's neighbours
# (a profile of several sites then tags an article in the habits of the site it resembles).
STYLE = ('log_gold', 'surnames', 'full_names', 'in_text')


def shares(style: np.ndarray) -> np.ndarray:
    """A mean ``STYLE`` row with people by surname and by full name as the share of the two."""
    style = np.array(style, dtype=np.float64)
    people = style[1] + style[2]
    style[1:3] = style[1:3] / people if people > 0 else np.nan
    return style


class Neighbours:
    """The archive's articles as tf-idf vectors (rows of a sparse matrix), their gold tags and
    their ``STYLE`` rows; fitted by ``extractor.training``."""

    def __init__(self, vocab: list, idf: np.ndarray, indptr: np.ndarray, indices: np.ndarray,
                 data: np.ndarray, tags: list, tag_indptr: np.ndarray, tag_ids: np.ndarray, k: int = K,
                 style: Optional[np.ndarray] = None):
        self.vocab, self.idf = vocab, np.asarray(idf, dtype=np.float64)
        self.index = {word: i for i, word in enumerate(vocab)}
        self.indptr, self.indices, self.data = indptr, indices, np.asarray(data, dtype=np.float64)
        self.tags, self.tag_indptr, self.tag_ids = tags, tag_indptr, tag_ids
        self.k = k
        self.style = (np.zeros((len(indptr) - 1, len(STYLE))) if style is None
                      else np.asarray(style, dtype=np.float64))
        # The same weights by word (postings): a query touches only its own words' articles.
        rows = np.repeat(np.arange(len(indptr) - 1), np.diff(indptr))
        order = np.argsort(indices, kind='stable')
        self.post_docs, self.post_weights = rows[order], self.data[order]
        self.post_start = np.searchsorted(np.asarray(indices)[order], np.arange(len(vocab) + 1))

    def neighbourhood(self, counts: Counter) -> tuple[dict, float, np.ndarray]:
        """``votes`` and the similarity-weighted mean ``STYLE`` row of the neighbours
        (surnames and full names as the share of the two; NaN without neighbours)."""
        none = ({}, 0.0, np.full(len(STYLE), np.nan))
        if not len(self.data):
            return none
        x = tfidf(counts, self.index, self.idf)
        words = np.flatnonzero(x)
        starts, lengths = self.post_start[words], np.diff(self.post_start)[words]
        if not lengths.sum():
            return none
        at = np.repeat(starts - np.cumsum(lengths) + lengths, lengths) + np.arange(lengths.sum())
        sims = np.bincount(self.post_docs[at], self.post_weights[at] * np.repeat(x[words], lengths),
                           minlength=len(self.indptr) - 1)
        top = np.argsort(-sims, kind='stable')[:self.k]
        total = float(sims[top].sum())
        if total <= 0:
            return none
        votes: dict = {}
        for doc in top:
            for tag in self.tag_ids[self.tag_indptr[doc]:self.tag_indptr[doc + 1]]:
                key = self.tags[tag]
                votes[key] = votes.get(key, 0.0) + float(sims[doc]) / total
        return votes, float(sims[top[0]]), shares(sims[top] @ self.style[top] / total)

    def arrays(self) -> dict[str, np.ndarray]:
        """What ``from_arrays`` reads back (``profile`` stores it)."""
        return dict(vocab=np.array(self.vocab), idf=self.idf.astype(np.float32),
                    indptr=self.indptr.astype(np.int32), indices=self.indices.astype(np.int32),
                    data=self.data.astype(np.float32), tags=np.array(self.tags),
                    tag_indptr=self.tag_indptr.astype(np.int32),
                    tag_ids=self.tag_ids.astype(np.int32), k=np.array(self.k),
                    style=self.style.astype(np.float32))

    @classmethod
    def from_arrays(cls, data) -> 'Neighbours':
        return cls(list(data['vocab']), data['idf'], data['indptr'], data['indices'], data['data'],
                   list(data['tags']), data['tag_indptr'], data['tag_ids'], int(data['k']),
                   data['style'])
