"""Scores presented: a plain-text table for the terminal, and a report folder (CSV, JSON, HTML)."""
from __future__ import annotations

import html
import json
from dataclasses import asdict
from pathlib import Path
from typing import Any, Iterable, NamedTuple, Optional, Sequence, Union

from .gold import GoldError
from .scorer import DocScore, Figures, Summary, tag_keys


class Row(NamedTuple):
    """One scored document for ``write_report``."""
    id: str
    pred: list
    gold: list
    score: DocScore


HTML_CAP = 200
SEP = ' | '


def _summary_rows(summary: Summary) -> list[tuple[str, Figures]]:
    at = f'@{summary.k}' if summary.k is not None else ''
    return [(f'exact{at}', summary.exact), (f'lemma{at}', summary.lemma)]


def format_table(summary: Summary, docs_per_sec: Optional[float] = None) -> str:
    """A small plain-text table of the summary for the CLI."""
    lines = [f'{"":10} {"P macro":>8} {"R macro":>8} {"F1 macro":>8} '
             f'{"P micro":>8} {"R micro":>8} {"F1 micro":>8}']
    for name, f in _summary_rows(summary):
        lines.append(f'{name:10} {f.macro_p:8.3f} {f.macro_r:8.3f} {f.macro_f1:8.3f} '
                     f'{f.micro_p:8.3f} {f.micro_r:8.3f} {f.micro_f1:8.3f}')
    tail = (f'tags/doc: predicted {summary.pred_per_doc:.2f}, gold {summary.gold_per_doc:.2f}; '
            f'docs: {summary.n_docs}')
    if docs_per_sec is not None:
        tail += f'; docs/s: {docs_per_sec:.1f}'
    lines.append(tail)
    return '\n'.join(lines)


def _matched_text(score: DocScore) -> list[str]:
    return [pred if kind == 'exact' else f'{pred} ~ {gold}' for pred, gold, kind in score.pairs]


def _summary_json(summary: Summary, errors: Sequence[GoldError]) -> dict:
    data = asdict(summary)
    data['skipped'] = len(errors)
    data['skipped_messages'] = [str(error) for error in errors]
    return data


CSS = """
body { font-family: sans-serif; margin: 2em; max-width: 70em; }
table.summary { border-collapse: collapse; }
table.summary td, table.summary th { border: 1px solid #ccc; padding: 3px 8px; text-align: right; }
.doc { border-top: 1px solid #ccc; margin-top: 1.5em; padding-top: 0.5em; }
.tag { display: inline-block; margin: 2px; padding: 1px 6px; border-radius: 4px; }
.exact { background: #c8e6c9; }
.lemma { background: #c8e6c9; border: 1px dashed #388e3c; }
.extra { background: #eeeeee; color: #b71c1c; }
.missed { background: #ffe0b2; }
.error { color: #b71c1c; }
"""


def _html_summary(summary: Summary, errors: Sequence[GoldError]) -> str:
    head = ''.join(f'<th>{name}</th>' for name in
                   ('', 'P macro', 'R macro', 'F1 macro', 'P micro', 'R micro', 'F1 micro'))
    body = ''
    for name, f in _summary_rows(summary):
        cells = ''.join(f'<td>{value:.3f}</td>' for value in
                        (f.macro_p, f.macro_r, f.macro_f1, f.micro_p, f.micro_r, f.micro_f1))
        body += f'<tr><th>{html.escape(name)}</th>{cells}</tr>'
    info = (f'<p>docs: {summary.n_docs}; tags/doc: predicted {summary.pred_per_doc:.2f}, '
            f'gold {summary.gold_per_doc:.2f}; skipped: {len(errors)}</p>')
    return f'<table class="summary"><tr>{head}</tr>{body}</table>{info}'


def _entity_spans(doc: Any) -> list[tuple[int, int, str]]:
    """Valid, non-overlapping entity spans of ``doc`` (ipymarkup box markup needs that)."""
    spans, last = [], 0
    for e in sorted(doc.entities, key=lambda e: (e.start, -e.stop)):
        if last <= e.start < e.stop <= len(doc.text):
            spans.append((e.start, e.stop, html.escape(str(e.type))))
            last = e.stop
    return spans


def _html_doc(row: Row, doc: Any) -> str:
    from ipymarkup import format_span_box_markup

    score, esc = row.score, html.escape
    kinds = {pred: (kind, gold) for pred, gold, kind in score.pairs}
    tags = []
    for key in tag_keys(row.pred):
        kind, gold = kinds.get(key, ('extra', None))
        if key not in kinds and key not in score.extra:
            continue  # cut off by k
        title = f' title="gold: {esc(gold)}"' if kind == 'lemma' else ''
        tags.append(f'<span class="tag {kind}"{title}>{esc(key)}</span>')
    missed = ''.join(f'<span class="tag missed">{esc(key)}</span>' for key in score.missed)
    parts = [
        f'<div class="doc"><h3>{esc(str(row.id))}</h3>',
        f'<p>F1 exact {score.f1_exact:.3f}, lemma {score.f1_lemma:.3f} '
        f'(predicted {score.n_pred}, gold {score.n_gold}, matched {score.exact} + '
        f'{score.lemma - score.exact})</p>',
        f'<p>predicted: {"".join(tags) or "—"}</p>',
        f'<p>missed: {missed or "—"}</p>',
    ]
    if doc is not None:
        if getattr(doc, 'error', None):
            parts.append(f'<p class="error">{esc(str(doc.error))}</p>')
        parts.append(''.join(format_span_box_markup(doc.text, _entity_spans(doc))))
    parts.append('</div>')
    return '\n'.join(parts)


def write_report(out_dir: Union[str, Path], rows: Iterable[Row], summary: Summary,
                 docs: Optional[dict] = None, errors: Sequence[GoldError] = ()) -> None:
    """Write documents.csv, summary.json and report.html into ``out_dir``.

    ``rows`` are (id, pred tags, gold tags, DocScore); ``docs`` maps id to
    ``extractor.doc.Doc`` for the text and entity markup; ``errors`` are the
    skipped gold lines.
    """
    import pandas as pd

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    rows = [Row(*row) for row in rows]
    docs = docs or {}

    records = []
    for row in rows:
        s = row.score
        records.append({
            'id': row.id,
            'p_exact': s.p_exact, 'r_exact': s.r_exact, 'f1_exact': s.f1_exact,
            'p_lemma': s.p_lemma, 'r_lemma': s.r_lemma, 'f1_lemma': s.f1_lemma,
            'n_pred': s.n_pred, 'n_gold': s.n_gold,
            'n_exact': s.exact, 'n_lemma': s.lemma,
            'matched': SEP.join(_matched_text(s)),
            'missed': SEP.join(s.missed),
            'extra': SEP.join(s.extra),
        })
    columns = ['id', 'p_exact', 'r_exact', 'f1_exact', 'p_lemma', 'r_lemma', 'f1_lemma',
               'n_pred', 'n_gold', 'n_exact', 'n_lemma', 'matched', 'missed', 'extra']
    pd.DataFrame(records, columns=columns).to_csv(out / 'documents.csv', index=False)

    (out / 'summary.json').write_text(
        json.dumps(_summary_json(summary, errors), ensure_ascii=False, indent=2),
        encoding='utf-8')

    body = [_html_summary(summary, errors)]
    if errors:
        items = ''.join(f'<li>{html.escape(str(error))}</li>' for error in errors)
        body.append(f'<details><summary>skipped</summary><ul>{items}</ul></details>')
    if len(rows) > HTML_CAP:
        body.append(f'<p>showing the first {HTML_CAP} of {len(rows)} documents</p>')
    body.extend(_html_doc(row, docs.get(row.id)) for row in rows[:HTML_CAP])
    page = ('<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>tag report</title>'
            f'<style>{CSS}</style></head><body>\n<h2>Tag scores</h2>\n'
            + '\n'.join(body) + '\n</body></html>\n')
    (out / 'report.html').write_text(page, encoding='utf-8')
