"""Scoring a tagger (or ready predictions) against gold records: what ``extractor eval`` runs."""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Optional

from .gold import GoldRecord, record_text
from .report import Row
from .scorer import LemmaKeyer, Summary, score_document, summarize


@dataclass
class Evaluation:
    rows: list
    summary: Summary
    docs: dict
    seconds: float


def evaluate(records: Iterable[GoldRecord], tagger: Any = None, predictions: Optional[dict] = None,
             k: Optional[int] = None, lemma_key: Optional[Callable[[str], str]] = None,
             progress: Optional[Callable[[int], None]] = None) -> Evaluation:
    """Score ``tagger``'s tags (or ready ``predictions`` by id) against gold ``records``."""
    records = list(records)
    lemma_key = lemma_key or LemmaKeyer()
    started = time.perf_counter()
    docs: dict = {}
    if predictions is None:
        items = ((r.id, record_text(r)) for r in records)
        for doc in tagger.pipe(items, errors='yield'):
            docs[doc.id] = doc
            if progress:
                progress(1)
        predictions = {id: [t.text for t in doc.tags] for id, doc in docs.items()}
    seconds = time.perf_counter() - started
    rows = [Row(r.id, predictions.get(r.id, []), r.tags,
                score_document(predictions.get(r.id, []), r.tags, lemma_key, k))
            for r in records]
    return Evaluation(rows, summarize((row.score for row in rows), k), docs, seconds)
