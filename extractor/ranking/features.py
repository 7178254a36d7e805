"""The features of an item, by name: ``feature_names()`` is the order of a row's columns.

A candidate's own (``RAW``: frequency, position, title, spread, capitals, nesting, closeness
to the article; ``CONTEXT``: paragraphs, the lead, its words' frequency, its nested variants,
its number), what the archive says of its key (``LOOKUP``), its kind, and some of those
crossed with the kind; then of every item (``ITEM``: the house classifier's and the
neighbours' say, how the item spells its candidate) and of the document (``HABITS``,
``SITE_HABITS``: the site's habits as the neighbours and the sites classifier show them).
A profile names the features its trees read (``ranker.json``), and rows are filled by name.
"""
from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from ..analysis.candidates import Candidate
from ..doc import Doc
from .lemmas import CONTENT
from .similarity import similarities


KINDS = ('PER', 'LOC', 'ORG', 'PHRASE', 'TOPIC')
CONTEXT = ['paragraphs', 'in_lead', 'word_freq', 'word_top', 'longer_share', 'shorter_share',
           'plural']
RAW = ['log_freq', 'freq_rel', 'first', 'spread', 'sent_share', 'in_title',
       'n_words', 'capital', 'abbr', 'log_len', 'nested', 'similarity'] + CONTEXT
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


def candidate_names() -> list[str]:
    """The candidate's part of a row (``design``): kind, raw, look-ups, kind crosses."""
    return ([f'kind={k}' for k in KINDS] + RAW + LOOKUP
            + [f'{k}*{f}' for k in KINDS for f in CROSSED])


def feature_names() -> list[str]:
    """Every column of a row, in order."""
    return candidate_names() + ITEM + HABITS + SITE_HABITS


COLUMN = {name: index for index, name in enumerate(feature_names())}  # a feature's column


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
        context(doc, cands, title),
    ]).astype(np.float64)


LEAD_SENTENCES = 3  # the lead: the first sentences after the title


def context(doc: Doc, cands: list[Candidate], title: int) -> np.ndarray:
    """``CONTEXT`` of each candidate: how its mentions spread over the paragraphs, whether the
    lead names it, how frequent its words are in the article (a theme's words recur beyond
    the phrase: ``волны`` of ``гравитационные волны``), and how it nests with the other
    candidates by lemmas (``мост`` in ``новый мост``, a name with and without its tail):
    the longest share of its mentions a longer candidate has, and that of a shorter one; the
    share of its mentions whose head noun is plural (the guideline's singular, unless the
    theme is plural by nature: its text or its other number)."""
    out = np.zeros((len(cands), len(CONTEXT)))
    if not cands or not doc.tokens:
        return out
    text = doc.text
    paragraphs = np.array([0] + [m.end() for m in re.finditer('\n', text)])
    after = [s for s in doc.sentences if s.start >= title]
    lead = after[min(LEAD_SENTENCES, len(after)) - 1].stop if after else 0
    tokens = doc.tokens
    starts = np.array([t.start for t in tokens])
    counts = Counter(t.lemma for t in tokens if t.pos in CONTENT and t.lemma)
    top = max(counts.values(), default=1)
    # every mention at once: its paragraph, its first token, its first noun (the head of
    # ``ADJ* NOUN``) and whether that noun is plural
    n = np.array([len(c.mentions) for c in cands])
    owner = np.repeat(np.arange(len(cands)), n)
    spans = np.array([m for c in cands for m in c.mentions], dtype=np.int64).reshape(-1, 2)
    paragraph = np.searchsorted(paragraphs, spans[:, 0], side='right')
    pairs = np.unique(owner * (len(paragraphs) + 1) + paragraph)
    out[:, 0] = np.bincount(pairs // (len(paragraphs) + 1), minlength=len(cands)) / len(paragraphs)
    out[:, 1] = np.bincount(owner, (spans[:, 0] >= title) & (spans[:, 0] < lead), len(cands)) > 0
    noun = np.array([t.pos in ('NOUN', 'PROPN') for t in tokens] + [True])
    plural = np.array([t.feats.get('Number') == 'Plur' for t in tokens] + [False])
    following = np.arange(len(noun))[::-1]
    following = np.minimum.accumulate(np.where(noun[::-1], following, len(noun) - 1))[::-1]
    lo, hi = np.searchsorted(starts, spans[:, 0]), np.searchsorted(starts, spans[:, 1])
    head = following[lo]
    out[:, 6] = np.bincount(owner, (head < hi) & plural[head], len(cands)) / n
    # the first mention's words: how frequent their lemmas are (cumulative sums over the
    # tokens, no loop), and their lemmas for the nesting below
    first = np.cumsum(n) - n
    a, b = lo[first], hi[first]
    freq = np.array([counts.get(t.lemma, 0) for t in tokens] + [0], dtype=np.float64)
    has = freq > 0
    logs = np.concatenate([[0.0], np.cumsum(np.log1p(freq) * has)])
    known = np.concatenate([[0], np.cumsum(has)])
    words = known[b] - known[a]
    out[:, 2] = np.where(words > 0, (logs[b] - logs[a]) / np.maximum(words, 1), 0.0)
    bounds = np.empty(2 * len(cands), dtype=np.int64)
    bounds[0::2], bounds[1::2] = a, b
    out[:, 3] = np.where(words > 0, np.maximum.reduceat(freq, bounds)[0::2] / top, 0.0)
    lowered = [(t.lemma or t.text).lower() for t in tokens]
    runs = {}
    for i in range(len(cands)):
        if b[i] > a[i]:
            runs.setdefault(tuple(lowered[a[i]:b[i]]), i)
    n = n.astype(np.float64)
    for lemmas, i in runs.items():
        for size in range(1, len(lemmas)):
            for k in range(len(lemmas) - size + 1):
                j = runs.get(lemmas[k:k + size])
                if j is not None and j != i:  # j is a shorter candidate inside i
                    out[j, 4] = max(out[j, 4], n[i] / n[j])
                    out[i, 5] = max(out[i, 5], n[j] / n[i])
    return out


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


@dataclass
class Lookups:
    """Per-key statistics of the training archive (``LOOKUP`` of a key: ``rows``)."""
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
