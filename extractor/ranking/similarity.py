"""EmbedRank-style closeness of each candidate to its article, in natasha's navec vectors.

The article is the mean vector of its content words (nouns, names, adjectives), a candidate
the mean of its normal form's words; the feature is their cosine. Unknown words are left out;
a candidate with none gets NaN. The vectors are unpacked for all distinct words of a
document in one numpy step.
"""
from __future__ import annotations

import numpy as np

from ..doc import Doc

CONTENT = frozenset({'NOUN', 'PROPN', 'ADJ'})


def similarities(doc: Doc, normals: list[str], embedding) -> np.ndarray:
    """Cosine of each normal form's mean word vector with the document's (NaN: no known word)."""
    out = np.full(len(normals), np.nan)
    if embedding is None or not normals:
        return out
    ids = embedding.vocab.word_ids
    content = [i for i in (ids.get(t.text.lower()) for t in doc.tokens if t.pos in CONTENT)
               if i is not None]
    if not content:
        return out
    phrases = [[i for i in map(ids.get, normal.lower().replace('-', ' ').split()) if i is not None]
               for normal in normals]
    lengths = np.array([len(words) for words in phrases])
    known = np.flatnonzero(lengths)
    if not len(known):
        return out
    words = np.array(content + [i for words in phrases for i in words])
    distinct, where = np.unique(words, return_inverse=True)
    pq = embedding.pq
    vectors = pq.codes[pq.qdims, pq.indexes[distinct]].reshape(len(distinct), -1)
    weights = np.bincount(where[:len(content)], minlength=len(distinct)).astype(vectors.dtype)
    article = (vectors * weights[:, None]).sum(axis=0)
    article /= np.linalg.norm(article) or 1.0
    # every known candidate's words in one gather, summed per candidate word by word (no BLAS:
    # tiny sizes; ``reduceat`` over rows is slower)
    rows = vectors[where[len(content):]]
    lengths = lengths[known]
    starts = np.cumsum(lengths) - lengths
    sums = rows[starts]
    for k in range(1, lengths.max()):
        longer = np.flatnonzero(lengths > k)
        sums[longer] += rows[starts[longer] + k]
    norms = np.sqrt((sums * sums).sum(axis=1))
    out[known] = (sums * article).sum(axis=1) / np.where(norms > 0, norms, 1.0)
    return out
