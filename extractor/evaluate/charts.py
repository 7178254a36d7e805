"""Small charts for the report, as inline SVG: no script, no CDN, readable where it is saved."""
from __future__ import annotations

import html
from typing import Any, Iterable, Sequence

from .scorer import DocScore


KIND_NAMES = {'PER': 'people', 'LOC': 'places', 'ORG': 'organizations', 'PHRASE': 'phrases',
              'TOPIC': 'topics', 'unmatched': 'unmatched'}
# The charts' colours (Okabe-Ito blue and orange, a dark grey): P, R, F1; lemma figures lighter.
CHART = {'p': '#0072b2', 'r': '#e69f00', 'f1': '#3a3f4b'}


def _svg(width: int, height: int, title: str, body: Iterable[str]) -> str:
    esc = html.escape
    return (f'<svg class="chart" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
            f'role="img" aria-label="{esc(title)}"><title>{esc(title)}</title>'
            + ''.join(body) + '</svg>')


def _text(x: float, y: float, content: str, anchor: str = 'start', size: int = 12,
          fill: str = '#1d2330', weight: str = 'normal') -> str:
    return (f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}" '
            f'fill="{fill}" font-weight="{weight}">{html.escape(content)}</text>')


def _bar(x: float, y: float, width: float, height: float, fill: str, opacity: float = 1.0,
         title: str = '') -> str:
    tip = f'<title>{html.escape(title)}</title>' if title else ''
    return (f'<rect x="{x:.1f}" y="{y:.1f}" width="{max(width, 0):.1f}" height="{height:.1f}" '
            f'fill="{fill}" fill-opacity="{opacity}">{tip}</rect>')


def _scale(x0: float, width: float, top: float, bottom: float) -> list[str]:
    """Grid lines and labels at 0, .25, .5, .75, 1 of a horizontal 0..1 axis."""
    parts = []
    for step in range(5):
        x = x0 + width * step / 4
        parts.append(f'<line x1="{x:.1f}" y1="{top:.1f}" x2="{x:.1f}" y2="{bottom:.1f}" '
                     'stroke="#d8dce4" stroke-width="1"/>')
        parts.append(_text(x, bottom + 14, f'{step / 4:g}', 'middle', 11, '#4a5263'))
    return parts


def _chart_legend(x: float, y: float) -> list[str]:
    parts = []
    for name, label in (('p', 'P'), ('r', 'R'), ('f1', 'F1')):
        parts += [_bar(x, y - 9, 12, 10, CHART[name]), _text(x + 16, y, label)]
        x += 48
    parts += [_bar(x, y - 9, 12, 10, CHART['f1'], 0.3), _text(x + 16, y, 'lighter: lemma')]
    return parts


def svg_by_kind(table: list[dict]) -> str:
    """Bars of exact P, R, F1 by kind (the lemma figures lighter behind them)."""
    left, span, bar, gap = 150, 300, 9, 14
    rows = [row for row in table if row['kind'] != 'unmatched']
    unmatched = next((row for row in table if row['kind'] == 'unmatched'), None)
    group = 3 * bar + gap
    height = 30 + group * len(rows) + (22 if unmatched else 0) + 22
    width = left + span + 60
    parts = _chart_legend(left, 14)
    top = 26
    parts += _scale(left, span, top, top + group * len(rows))
    for index, row in enumerate(rows):
        y = top + index * group + gap / 2
        name = f"{row['kind']} ({KIND_NAMES.get(row['kind'], row['kind'])})"
        parts.append(_text(left - 8, y + 12, name, 'end', 12, weight='bold'))
        parts.append(_text(left - 8, y + 25, f"{row['n_pred']} predicted, {row['n_gold']} gold",
                           'end', 10, '#4a5263'))
        for offset, (name, exact, lemma) in enumerate(zip(
                ('p', 'r', 'f1'), row['exact_prf'], row['lemma_prf'])):
            yy = y + offset * bar
            tip = f"{row['kind']} {name.upper()}: exact {exact:.3f}, lemma {lemma:.3f}"
            parts.append(_bar(left, yy, span * lemma, bar - 1, CHART[name], 0.3, tip))
            parts.append(_bar(left, yy, span * exact, bar - 1, CHART[name], 1.0, tip))
            parts.append(_text(left + span * max(exact, lemma) + 4, yy + bar - 1.5, f'{exact:.2f}',
                               size=9, fill='#4a5263'))
    if unmatched:
        y = top + group * len(rows) + 34
        parts.append(_text(left - 8, y, 'unmatched', 'end', 12, weight='bold'))
        parts.append(_text(left, y, f"{unmatched['n_gold']} gold tags: recall 0, no predicted tag",
                           size=11, fill='#4a5263'))
    return _svg(width, height, 'P, R and F1 by kind of tag', parts)


def svg_spread(scores: Sequence[DocScore]) -> str:
    """A histogram of per-article F1 in ten bins, exact and lemma side by side."""
    bins = {'exact': [0] * 10, 'lemma': [0] * 10}
    for score in scores:
        for level in bins:
            bins[level][min(int(score.prf(level)[2] * 10), 9)] += 1
    left, base, step, plot = 34, 190, 42, 150
    top = max(max(bins['exact']), max(bins['lemma']), 1)
    parts = [_bar(left, 2, 12, 10, CHART['p']), _text(left + 16, 11, 'exact'),
             _bar(left + 70, 2, 12, 10, CHART['p'], 0.35), _text(left + 86, 11, 'lemma')]
    for tick in sorted({0, top // 2, top}):
        y = base - plot * tick / top
        parts.append(f'<line x1="{left}" y1="{y:.1f}" x2="{left + 10 * step}" y2="{y:.1f}" '
                     'stroke="#d8dce4" stroke-width="1"/>')
        parts.append(_text(left - 6, y + 4, str(tick), 'end', 11, '#4a5263'))
    for index in range(10):
        x = left + index * step
        for offset, (level, opacity) in enumerate((('exact', 1.0), ('lemma', 0.35))):
            count = bins[level][index]
            height = plot * count / top
            tip = (f'F1 {level} {index / 10:.1f}–{(index + 1) / 10:.1f}: {count} '
                   + ('article' if count == 1 else 'articles'))
            parts.append(_bar(x + 4 + offset * 17, base - height, 16, height, CHART['p'], opacity, tip))
            if count:
                parts.append(_text(x + 12 + offset * 17, base - height - 3, str(count), 'middle', 10))
        parts.append(_text(x, base + 14, f'{index / 10:g}', 'middle', 11, '#4a5263'))
    parts.append(_text(left + 10 * step, base + 14, '1', 'middle', 11, '#4a5263'))
    parts.append(_text(left + 5 * step, base + 30, 'F1 of an article', 'middle', 11, '#4a5263'))
    if scores:  # the mean behind the bars, its label in the legend's line
        mean = sum(score.f1_exact for score in scores) / len(scores)
        x = left + 10 * step * mean
        parts.insert(0, f'<line x1="{x:.1f}" y1="{base - plot - 4}" x2="{x:.1f}" y2="{base}" '
                     f'stroke="{CHART["f1"]}" stroke-width="1.5" stroke-dasharray="4 3"/>')
        parts += [f'<line x1="{left + 140}" y1="7" x2="{left + 156}" y2="7" stroke="{CHART["f1"]}" '
                  'stroke-width="1.5" stroke-dasharray="4 3"/>',
                  _text(left + 160, 11, f'mean exact F1 {mean:.2f}')]
    return _svg(left + 10 * step + 16, base + 36, 'Articles by F1', parts)


def svg_worst(ranked: Sequence[tuple[int, Any]], count: int = 10) -> str:
    """The worst articles' F1 (exact, lemma lighter), each bar a link to its article."""
    left, span, bar = 190, 260, 16
    worst = ranked[:count]
    parts = _scale(left, span, 4, 4 + bar * len(worst))
    for index, (anchor, row) in enumerate(worst):
        y = 6 + index * bar
        name = str(row.id)
        label = name if len(name) <= 28 else name[:27] + '…'
        exact, lemma = row.score.f1_exact, row.score.f1_lemma
        parts.append(f'<a href="#doc-{anchor}"><title>{html.escape(name)}: F1 exact {exact:.3f}, '
                     f'lemma {lemma:.3f}</title>'
                     + _text(left - 6, y + bar - 5, label, 'end', 11, '#1f5fbf')
                     + _bar(left, y, span * lemma, bar - 3, CHART['p'], 0.35)
                     + _bar(left, y, span * exact, bar - 3, CHART['p'])
                     + _text(left + span * max(exact, lemma) + 4, y + bar - 5, f'{exact:.2f}', size=10)
                     + '</a>')
    return _svg(left + span + 40, 4 + bar * len(worst) + 22, 'The worst articles by F1', parts)
