"""Scores presented: a plain-text table for the terminal, and a report folder (CSV, JSON, HTML).

The HTML page shows the tags as written (matched by key), a legend, P/R/F1 by kind of tag and
the spread of per-article F1 as inline SVG (``charts``), then the articles, the worst first.
"""
from __future__ import annotations

import html
import json
from dataclasses import asdict
from pathlib import Path
from typing import Any, Callable, Iterable, NamedTuple, Optional, Sequence, Union

from ..tags import tag_key
from .charts import svg_by_kind, svg_spread, svg_worst
from .gold import GoldError
from .scorer import DocScore, Figures, LemmaKeyer, Summary, prf, score_document, summarize, tag_keys


class Row(NamedTuple):
    """One scored document for ``write_report``."""
    id: str
    pred: list
    gold: list
    score: DocScore


HTML_CAP = 200
SEP = ' | '
MENTION_KINDS = ('PER', 'LOC', 'ORG', 'PHRASE', 'TOPIC')


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


def _summary_json(summary: Summary, errors: Sequence[GoldError],
                  at_k: Optional[Summary] = None) -> dict:
    data = asdict(summary)
    if at_k is not None:
        data['k'] = at_k.k  # the --k asked for; the figures above count all tags
        data['at_k'] = asdict(at_k)
    data['skipped'] = len(errors)
    data['skipped_messages'] = [str(error) for error in errors]
    return data


# Colours: one meaning each. Matches are green only (with a mark, not colour alone: ✓ exact,
# ≈ lemma, ✗ missed); names in the text are amber / orchid / blue with an underline of their own
# style (the page's palette); the charts use the Okabe-Ito blue, orange and a dark grey.
CSS = """
body { font-family: system-ui, "DejaVu Sans", sans-serif; margin: 2em auto; padding: 0 1em;
       max-width: 70em; color: #1d2330; line-height: 1.45; }
h1 { font-size: 1.5em; margin-bottom: .3em; }
h2 { font-size: 1.15em; margin: 1.2em 0 .4em; }
.lead, .note { color: #4a5263; }
.note { font-size: .9em; }
table { border-collapse: collapse; display: block; max-width: 100%; overflow-x: auto; }
table.summary td, table.summary th, table.kinds td, table.kinds th {
  border: 1px solid #ccc; padding: 3px 8px; text-align: right; }
table.kinds { font-size: .9em; margin-top: .4em; }
.legend { border: 1px solid #d8dce4; border-radius: 8px; padding: .4em 1em; background: #f7f8fa; }
.legend dt { font-weight: 600; margin-top: .4em; }
.legend dd { margin: .2em 0 .2em 0; }
.charts { display: flex; flex-wrap: wrap; gap: 1.5em; align-items: flex-start; }
.charts figure { margin: 0; max-width: 100%; }
.charts figcaption { font-weight: 600; margin-bottom: .3em; }
svg.chart { max-width: 100%; height: auto; font-family: inherit; }
.doc { border-top: 1px solid #ccc; margin-top: 1.5em; padding-top: 0.5em; overflow-wrap: anywhere; }
.doc h3 { margin: .2em 0; }
.tag { display: inline-block; margin: 2px; padding: 1px 6px; border-radius: 4px;
       border: 1px solid transparent; }
.exact { background: #dcf1e1; border-color: #1b7f3b; }
.exact::before { content: "✓ "; color: #1b7f3b; font-weight: 700; }
.lemma { background: #dcf1e1; border: 1px dashed #1b7f3b; }
.lemma::before { content: "≈ "; color: #1b7f3b; font-weight: 700; }
.lemma .gold-form { color: #4a5263; }
.extra { background: #eeeeee; border-color: #bbbbbb; color: #333; }
.missed { background: #fff; border: 1px solid #b35900; color: #7a3d00; }
.missed::before { content: "✗ "; font-weight: 700; }
.article { white-space: pre-wrap; }
mark.ent { color: inherit; border-radius: 3px; padding: 0 .1em; }
mark.ent-PER { background: #ffd59e; border-bottom: 2px solid #a86400; }
mark.ent-LOC { background: #efcdf6; border-bottom: 2px dotted #8e3fa6; }
mark.ent-ORG { background: #c4dbff; border-bottom: 2px dashed #1f5fbf; }
mark.ent-OTHER { background: #eeeeee; }
.ent-label { font-size: .7em; color: #4a5263; margin-left: 2px; vertical-align: middle; }
.error { color: #b71c1c; }
"""


def _html_summary(summary: Summary, errors: Sequence[GoldError],
                  at_k: Optional[Summary] = None) -> str:
    head = ''.join(f'<th>{name}</th>' for name in
                   ('', 'P macro', 'R macro', 'F1 macro', 'P micro', 'R micro', 'F1 micro'))
    body = ''
    for name, f in _summary_rows(summary) + (_summary_rows(at_k) if at_k else []):
        cells = ''.join(f'<td>{value:.3f}</td>' for value in
                        (f.macro_p, f.macro_r, f.macro_f1, f.micro_p, f.micro_r, f.micro_f1))
        body += f'<tr><th>{html.escape(name)}</th>{cells}</tr>'
    info = (f'<p>docs: {summary.n_docs}; tags/doc: predicted {summary.pred_per_doc:.2f}, '
            f'gold {summary.gold_per_doc:.2f}; skipped: {len(errors)}</p>')
    return f'<table class="summary"><tr>{head}</tr>{body}</table>{info}'


def _html_legend(at_k: Optional[Summary]) -> str:
    cut = (f' <b>@{at_k.k}</b>: only the first {at_k.k} distinct predicted tags of each article '
           f'count.' if at_k else '')
    return f"""<dl class="legend">
<dt>Figures</dt>
<dd><b>exact</b>: a predicted tag matches a gold tag with the same key (case, ё / е, quotes,
dashes and a leading # do not count). <b>lemma</b>: also the same words in another form
(<i>транспортной инфраструктуры</i> and <i>Транспортная инфраструктура</i>), each gold tag
matched once. <b>macro</b>: the mean over articles; <b>micro</b>: from the sums of all
articles' tags.{cut}</dd>
<dt>Tags</dt>
<dd><span class="tag exact">matched exactly</span>
<span class="tag lemma">matched only by lemma <span class="gold-form">≈ the gold tag</span></span>
<span class="tag extra">predicted, not in gold</span>
<span class="tag missed">in gold, not predicted</span>
— tags are shown as the tagger and the editors wrote them; they are matched by key.</dd>
<dd>“matched 12 exactly + 0 by lemma only”: 12 predicted tags have a gold tag with the same key, and
0 more were paired with a gold tag only by their lemmas; the lemma figures count both.</dd>
<dt>Names in the text</dt>
<dd><mark class="ent ent-PER">person<span class="ent-label">PER</span></mark>
<mark class="ent ent-LOC">place<span class="ent-label">LOC</span></mark>
<mark class="ent ent-ORG">organization<span class="ent-label">ORG</span></mark>
— the mentions the tagger found.</dd>
<dt>Kind of a tag</dt>
<dd>A predicted tag has the kind the tagger gave it. A gold tag has the kind of the predicted
tag it is matched with (the same key, or its lemma pair); a gold tag no predicted tag
matches has the kind of a mention in the text with its key (a name PER / LOC / ORG, else a
phrase or a topic), so that a tag the tagger saw but did not emit counts against the recall of
its kind; <b>unmatched</b>: a gold tag with neither, one the tagger never had in reach.</dd>
</dl>"""


def _texts(tags: Iterable[str]) -> dict:
    """key -> the tag as written (the first of those with that key)."""
    texts: dict = {}
    for tag in tags:
        texts.setdefault(tag_key(tag), tag.strip().lstrip('#').strip())
    return texts


def _tag_kinds(score: DocScore, doc: Any) -> tuple[dict, dict]:
    """(pred key -> kind, gold key -> kind) of one article; see the legend for gold tags'."""
    tag_kinds: dict = {}
    for tag in doc.tags:
        tag_kinds.setdefault(tag_key(tag.text), tag.kind)
    pred_keys = [pred for pred, _, _ in score.pairs] + list(score.extra)
    pred_kinds = {key: tag_kinds.get(key, 'unknown') for key in pred_keys}
    gold_kinds = {gold: pred_kinds[pred] for pred, gold, _ in score.pairs}
    if score.missed:
        mentions: dict = {}
        for entity in doc.entities:
            if entity.type in MENTION_KINDS:
                mentions.setdefault(tag_key(entity.normal or entity.text), entity.type)
        for phrase in getattr(doc, 'phrases', ()):
            if phrase.kind in MENTION_KINDS:
                mentions.setdefault(tag_key(phrase.normal or phrase.text), phrase.kind)
        for key in score.missed:
            gold_kinds[key] = mentions.get(key, 'unmatched')
    return pred_kinds, gold_kinds


def _by_kind(rows: Sequence[Row], docs: dict) -> tuple[list[dict], int]:
    """Micro P/R/F1 by kind of tag over the articles with a Doc, and the number without one."""
    counts: dict = {}
    left_out = 0
    for row in rows:
        doc = docs.get(row.id)
        if doc is None:
            left_out += 1
            continue
        pred_kinds, gold_kinds = _tag_kinds(row.score, doc)
        for kind in pred_kinds.values():
            counts.setdefault(kind, [0, 0, 0, 0])[0] += 1
        for kind in gold_kinds.values():
            counts.setdefault(kind, [0, 0, 0, 0])[1] += 1
        for pred, _, level in row.score.pairs:
            count = counts[pred_kinds[pred]]
            count[3] += 1
            if level == 'exact':
                count[2] += 1
    order = [*MENTION_KINDS, *sorted(set(counts) - {*MENTION_KINDS, 'unmatched'}), 'unmatched']
    table = []
    for kind in order:
        if kind not in counts:
            continue
        n_pred, n_gold, exact, lemma = counts[kind]
        table.append({'kind': kind, 'n_pred': n_pred, 'n_gold': n_gold, 'exact': exact,
                      'lemma': lemma, 'exact_prf': prf(exact, n_pred, n_gold),
                      'lemma_prf': prf(lemma, n_pred, n_gold)})
    return table, left_out


def _html_by_kind(rows: Sequence[Row], docs: dict) -> str:
    caption = '<figcaption>P / R / F1 by kind of tag (micro, exact; lemma lighter)</figcaption>'
    if not docs:
        return (f'<figure>{caption}<p class="note">Not available: no tagged documents here; the '
                'tags were read from a file (<code>--pred</code>), which gives no kinds of tags. '
                'Run <code>extractor eval</code> without <code>--pred</code> to see them.</p></figure>')
    table, left_out = _by_kind(rows, docs)
    cells = ''
    for row in table:
        p, r, f1 = row['exact_prf']
        figures = [p if row['n_pred'] else None, r, f1, row['lemma_prf'][2]]
        cells += (f"<tr><th>{html.escape(row['kind'])}</th><td>{row['n_pred']}</td>"
                  f"<td>{row['n_gold']}</td><td>{row['exact']} + {row['lemma'] - row['exact']}</td>"
                  + ''.join('<td>—</td>' if value is None else f'<td>{value:.3f}</td>'
                            for value in figures) + '</tr>')
    head = ('<tr><th>kind</th><th>predicted</th><th>gold</th><th>matched exact + lemma</th>'
            '<th>P</th><th>R</th><th>F1</th><th>F1 lemma</th></tr>')
    note = (f'<p class="note">{left_out} articles left out: they were not tagged here.</p>'
            if left_out else '')
    return (f'<figure>{caption}{svg_by_kind(table)}'
            f'<table class="kinds">{head}{cells}</table>{note}</figure>')


def _rank(rows: Sequence[Row]) -> list[tuple[int, Row]]:
    """(anchor, row), worst first: by exact F1, then lemma F1; ties keep the input order."""
    return sorted(enumerate(rows), key=lambda item: (item[1].score.f1_exact, item[1].score.f1_lemma))


def _html_charts(rows: Sequence[Row], docs: dict, ranked: Sequence[tuple[int, Row]]) -> str:
    shown = min(10, len(ranked))
    return ('<div class="charts">'
            + _html_by_kind(rows, docs)
            + '<figure><figcaption>Spread of per-article F1</figcaption>'
            + svg_spread([row.score for row in rows]) + '</figure>'
            + f'<figure><figcaption>The {shown} worst articles (click: the article)</figcaption>'
            + svg_worst(ranked) + '</figure></div>')


def _entity_spans(doc: Any) -> list[tuple[int, int, str]]:
    """Valid, non-overlapping entity spans of ``doc``: the outer one of nested mentions."""
    spans, last = [], 0
    for e in sorted(doc.entities, key=lambda e: (e.start, -e.stop)):
        if last <= e.start < e.stop <= len(doc.text):
            spans.append((e.start, e.stop, str(e.type)))
            last = e.stop
    return spans


def _html_text(doc: Any) -> str:
    """The article with its mentions marked in the page's colours, every piece escaped."""
    esc, parts, pos = html.escape, [], 0
    for start, stop, kind in _entity_spans(doc):
        css = kind if kind in ('PER', 'LOC', 'ORG') else 'OTHER'
        parts.append(esc(doc.text[pos:start]))
        parts.append(f'<mark class="ent ent-{css}">{esc(doc.text[start:stop])}'
                     f'<span class="ent-label">{esc(kind)}</span></mark>')
        pos = stop
    parts.append(esc(doc.text[pos:]))
    return f'<div class="article">{"".join(parts)}</div>'


def _html_doc(row: Row, doc: Any, anchor: int = 0) -> str:
    score, esc = row.score, html.escape
    pred_text, gold_text = _texts(row.pred), _texts(row.gold)
    kinds = {pred: (kind, gold) for pred, gold, kind in score.pairs}
    tags = []
    for key in tag_keys(row.pred):
        kind, gold = kinds.get(key, ('extra', None))
        if key not in kinds and key not in score.extra:
            continue  # cut off by k
        text = pred_text.get(key, key)
        if kind == 'lemma':
            gold_form = gold_text.get(gold, gold)
            tags.append(f'<span class="tag lemma" title="gold: {esc(gold_form)}">{esc(text)}'
                        f'<span class="gold-form"> ≈ {esc(gold_form)}</span></span>')
        else:
            tags.append(f'<span class="tag {kind}">{esc(text)}</span>')
    missed = ''.join(f'<span class="tag missed">{esc(gold_text.get(key, key))}</span>'
                     for key in score.missed)
    lemma_only = score.lemma - score.exact
    parts = [
        f'<div class="doc" id="doc-{anchor}"><h3>{esc(str(row.id))}</h3>',
        f'<p>F1 exact {score.f1_exact:.3f}, lemma {score.f1_lemma:.3f} '
        f'(predicted {score.n_pred}, gold {score.n_gold}; matched {score.exact} exactly + '
        f'{lemma_only} by lemma only; {len(score.extra)} not in gold, {len(score.missed)} missed)</p>',
        f'<p>predicted: {"".join(tags) or "—"}</p>',
        f'<p>missed: {missed or "—"}</p>',
    ]
    if doc is not None:
        if getattr(doc, 'error', None):
            parts.append(f'<p class="error">{esc(str(doc.error))}</p>')
        parts.append(_html_text(doc))
    parts.append('</div>')
    return '\n'.join(parts)


def write_report(out_dir: Union[str, Path], rows: Iterable[Row], summary: Summary,
                 docs: Optional[dict] = None, errors: Sequence[GoldError] = (),
                 k: Optional[int] = None,
                 lemma_key: Optional[Callable[[str], str]] = None) -> None:
    """Write documents.csv, summary.json and report.html into ``out_dir``.

    ``rows`` are (id, pred tags, gold tags, DocScore); ``docs`` maps id to
    ``extractor.doc.Doc`` for the text, the entity markup and the kinds of tags
    (without them, as with ``--pred``, the report has no figures by kind);
    ``errors`` are the skipped gold lines. ``k`` adds the figures of each
    article's first ``k`` tags (rescored with ``lemma_key``): ``"k"`` and
    ``"at_k"`` in summary.json, rows @k in the HTML table.
    """
    import pandas as pd

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    rows = [Row(*row) for row in rows]
    docs = docs or {}
    at_k = None
    if k is not None and summary.k != k:
        lemma_key = lemma_key or LemmaKeyer()
        at_k = summarize((score_document(row.pred, row.gold, lemma_key, k) for row in rows), k)

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
        json.dumps(_summary_json(summary, errors, at_k), ensure_ascii=False, indent=2),
        encoding='utf-8')

    ranked = _rank(rows)
    body = [_html_summary(summary, errors, at_k), _html_legend(at_k),
            _html_charts(rows, docs, ranked)]
    if errors:
        items = ''.join(f'<li>{html.escape(str(error))}</li>' for error in errors)
        body.append(f'<details><summary>skipped</summary><ul>{items}</ul></details>')
    shown = f'the {HTML_CAP} worst of {len(rows)}' if len(rows) > HTML_CAP else 'all'
    body.append(f'<h2>Articles, the worst first</h2><p class="note">Showing {shown} articles, '
                'by exact F1, then lemma F1.</p>')
    body.extend(_html_doc(row, docs.get(row.id), anchor) for anchor, row in ranked[:HTML_CAP])
    page = ('<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f'<title>tag report</title><style>{CSS}</style></head><body>\n<h1>Tag scores</h1>\n'
            f'<p class="lead">{summary.n_docs} articles: the tagger\'s tags against the editors\' '
            'gold tags.</p>\n' + '\n'.join(body) + '\n</body></html>\n')
    (out / 'report.html').write_text(page, encoding='utf-8')
