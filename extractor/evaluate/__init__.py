"""Scoring predicted tags against gold, kept apart from prediction (PROTOCOL.md).

``scorer``: keys, matching, P/R/F1; ``gold``: reading gold and predictions; ``report``: the
table and the report folder; ``run``: a tagger's figures on gold records.
"""
from ..tags import tag_key
from .gold import GoldError, GoldRecord, read_gold, read_predictions, record_text
from .report import Row, format_table, write_report
from .run import Evaluation, evaluate
from .scorer import (DocScore, Figures, LemmaKeyer, Summary, prf, score_corpus, score_document,
                     summarize, tag_keys)

__all__ = [
    'tag_key', 'tag_keys', 'LemmaKeyer', 'prf', 'DocScore', 'score_document',
    'Figures', 'Summary', 'summarize', 'score_corpus', 'GoldRecord', 'GoldError',
    'read_gold', 'read_predictions', 'record_text', 'Row', 'write_report', 'format_table',
    'Evaluation', 'evaluate',
]
