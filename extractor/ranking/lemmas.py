"""An article as a bag of content lemmas, and its tf-idf vector over a fitted vocabulary."""
from __future__ import annotations

import math
from collections import Counter

import numpy as np

from ..doc import Doc

CONTENT = frozenset({'NOUN', 'PROPN', 'ADJ', 'VERB'})


def bag(doc: Doc) -> Counter:
    """Counts of the document's content lemmas."""
    return Counter(t.lemma for t in doc.tokens if t.pos in CONTENT and t.lemma and len(t.lemma) > 2)


def tfidf(counts: Counter, index: dict, idf: np.ndarray) -> np.ndarray:
    """Sublinear tf-idf, L2-normalized (as scikit-learn's TfidfVectorizer does)."""
    x = np.zeros(len(idf))
    for word, count in counts.items():
        i = index.get(word)
        if i is not None:
            x[i] = (1 + math.log(count)) * idf[i]
    norm = np.linalg.norm(x)
    return x / norm if norm else x
