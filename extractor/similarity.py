"""EmbedRank-style closeness of each candidate to its article, in natasha's navec vectors.

The article is the mean vector of its content words (nouns, names, adjectives), a candidate
the mean of its normal form's words; the feature is their cosine. Unknown words are left out;
a candidate with none gets NaN. The vectors are unpacked for all distinct words of a
document in one numpy step.
"""
from __future__ import annotations

import numpy as np

from .doc import Doc

CONTENT = frozenset({'NOUN', 'PROPN', 'ADJ'})


def similarities(doc: Doc, normals: list[str], embedding) -> np.ndarray:
    """Cosine of each normal form's mean word vector with the document's (NaN: no known word)."""
    out = np.full(len(normals), np.nan)
    if embedding is None or not normals:
        return out
    ids = embedding.vocab.word_ids
    content = [i for i in (ids.get(t.text.lower()) for t in doc.tokens if t.pos in CONTENT)
               if i is not None]
    phrases = [[i for i in (ids.get(w) for w in normal.lower().replace('-', ' ').split())
                if i is not None] for normal in normals]
    distinct = sorted(set(content).union(*phrases))
    if not content:
        return out
    where = {word: row for row, word in enumerate(distinct)}
    pq = embedding.pq
    vectors = pq.codes[pq.qdims, pq.indexes[distinct]].reshape(len(distinct), -1)
    weights = np.zeros(len(distinct), dtype=vectors.dtype)
    np.add.at(weights, [where[i] for i in content], 1.0)
    article = (vectors * weights[:, None]).sum(axis=0)
    article /= np.linalg.norm(article) or 1.0
    known = [index for index, words in enumerate(phrases) if words]
    if not known:
        return out
    # every known candidate's words in one gather, summed per candidate (no BLAS: tiny sizes)
    rows = vectors[[where[i] for index in known for i in phrases[index]]]
    starts = np.cumsum([0] + [len(phrases[index]) for index in known[:-1]])
    sums = np.add.reduceat(rows, starts, axis=0)
    norms = np.sqrt((sums * sums).sum(axis=1))
    out[known] = (sums * article).sum(axis=1) / np.where(norms > 0, norms, 1.0)
    return out
