"""PROTOCOL.md's scorer: tag keys, lemma keys, matching, P/R/F1 per document and corpus.

``tag_key`` (``extractor.tags``) is the exact key, ``LemmaKeyer`` the lemma key;
``score_document`` matches one document, ``summarize`` / ``score_corpus`` give the macro and
micro figures.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Optional, Sequence

from ..tags import tag_key


def tag_keys(tags: Iterable[str], k: Optional[int] = None) -> list[str]:
    """Distinct non-empty keys of ``tags`` in first-seen order, cut to ``k``."""
    keys = [key for key in dict.fromkeys(tag_key(tag) for tag in tags) if key]
    return keys if k is None else keys[:k]


class LemmaKeyer:
    """Callable: key -> lemma key (razdel words -> pymorphy3 normal forms)."""

    def __init__(self, morph: Any = None) -> None:
        self._morph = morph  # a pymorphy3.MorphAnalyzer, built lazily if None
        self.cache: dict[str, str] = {}

    @property
    def morph(self) -> Any:
        if self._morph is None:
            import pymorphy3
            self._morph = pymorphy3.MorphAnalyzer()
        return self._morph

    def lemma(self, word: str) -> str:
        """Normal form of the first parse, ё folded to е (cached)."""
        lemma = self.cache.get(word)
        if lemma is None:
            parses = self.morph.parse(word)
            lemma = parses[0].normal_form if parses else word
            lemma = lemma.replace('ё', 'е')
            self.cache[word] = lemma
        return lemma

    def __call__(self, key: str) -> str:
        from razdel import tokenize
        return ' '.join(self.lemma(token.text) for token in tokenize(key))


def prf(matched: int, n_pred: int, n_gold: int) -> tuple[float, float, float]:
    """P, R, F1. Both sides empty: 1, 1, 1; exactly one side empty: 0, 0, 0."""
    if n_pred == 0 and n_gold == 0:
        return 1.0, 1.0, 1.0
    p = matched / n_pred if n_pred else 0.0
    r = matched / n_gold if n_gold else 0.0
    f1 = 2 * p * r / (p + r) if p + r else 0.0
    return p, r, f1


@dataclass
class DocScore:
    """Counts for one document; ``lemma`` counts exact plus lemma pairs.

    ``pairs`` holds (pred key, gold key, 'exact' | 'lemma'); ``extra`` the
    unmatched predicted keys, ``missed`` the unmatched gold keys.
    """
    n_pred: int
    n_gold: int
    exact: int
    lemma: int
    pairs: list = field(default_factory=list)
    extra: list = field(default_factory=list)
    missed: list = field(default_factory=list)

    def prf(self, level: str = 'exact') -> tuple[float, float, float]:
        matched = {'exact': self.exact, 'lemma': self.lemma}[level]
        return prf(matched, self.n_pred, self.n_gold)

    p_exact = property(lambda self: self.prf('exact')[0])
    r_exact = property(lambda self: self.prf('exact')[1])
    f1_exact = property(lambda self: self.prf('exact')[2])
    p_lemma = property(lambda self: self.prf('lemma')[0])
    r_lemma = property(lambda self: self.prf('lemma')[1])
    f1_lemma = property(lambda self: self.prf('lemma')[2])


def score_document(pred: Iterable[str], gold: Iterable[str],
                   lemma_key: Callable[[str], str],
                   k: Optional[int] = None) -> DocScore:
    """Score one document: keys as sets, exact first, then one-to-one lemma pairs.

    ``k`` keeps only the first ``k`` distinct predicted keys.
    """
    pred_keys, gold_keys = tag_keys(pred, k), tag_keys(gold)
    gold_set = set(gold_keys)
    pairs = [(key, key, 'exact') for key in pred_keys if key in gold_set]
    exact = len(pairs)

    matched_pred = {key for key, _, _ in pairs}
    rest_gold: dict[str, list[str]] = {}
    for key in gold_keys:
        if key not in matched_pred:
            rest_gold.setdefault(lemma_key(key), []).append(key)
    extra = []
    for key in pred_keys:
        if key in matched_pred:
            continue
        candidates = rest_gold.get(lemma_key(key))
        if candidates:
            pairs.append((key, candidates.pop(0), 'lemma'))
        else:
            extra.append(key)
    paired_gold = {gold_key for _, gold_key, _ in pairs}
    missed = [key for key in gold_keys if key not in paired_gold]
    return DocScore(len(pred_keys), len(gold_keys), exact, len(pairs),
                    pairs, extra, missed)


@dataclass
class Figures:
    """Macro and micro P/R/F1 at one matching level."""
    macro_p: float
    macro_r: float
    macro_f1: float
    micro_p: float
    micro_r: float
    micro_f1: float


@dataclass
class Summary:
    n_docs: int
    exact: Figures
    lemma: Figures
    pred_per_doc: float
    gold_per_doc: float
    n_pred: int
    n_gold: int
    k: Optional[int] = None


def _figures(scores: Sequence[DocScore], level: str) -> Figures:
    n = len(scores)
    per_doc = [score.prf(level) for score in scores]
    macro = [sum(values) / n for values in zip(*per_doc)] if n else [0.0] * 3
    matched = sum(getattr(score, level) for score in scores)
    micro = prf(matched, sum(s.n_pred for s in scores), sum(s.n_gold for s in scores))
    return Figures(*macro, *micro)


def summarize(scores: Iterable[DocScore], k: Optional[int] = None) -> Summary:
    """Macro (mean over documents) and micro (sums) figures; 0 docs -> zeros."""
    scores = list(scores)
    n = len(scores)
    n_pred = sum(score.n_pred for score in scores)
    n_gold = sum(score.n_gold for score in scores)
    return Summary(
        n_docs=n, exact=_figures(scores, 'exact'), lemma=_figures(scores, 'lemma'),
        pred_per_doc=n_pred / n if n else 0.0, gold_per_doc=n_gold / n if n else 0.0,
        n_pred=n_pred, n_gold=n_gold, k=k)


def score_corpus(pairs: Iterable[tuple[Sequence[str], Sequence[str]]],
                 k: Optional[int] = None,
                 lemma_key: Optional[Callable[[str], str]] = None) -> Summary:
    """Summary over (pred tags, gold tags) pairs; ``k`` gives the @k figures."""
    lemma_key = lemma_key or LemmaKeyer()
    return summarize((score_document(pred, gold, lemma_key, k) for pred, gold in pairs), k)
