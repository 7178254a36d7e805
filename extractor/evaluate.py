"""Scoring of predicted tags against gold, kept apart from prediction.

Follows /work/shared/datasets/PROTOCOL.md: ``tag_key`` is the exact key,
``LemmaKeyer`` the lemma key, ``score_document`` / ``summarize`` /
``score_corpus`` the per-document and corpus figures.  ``read_gold`` reads
gold data, ``write_report`` and ``format_table`` present the results.
"""
from __future__ import annotations

import gzip
import html
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, NamedTuple, Optional, Sequence, Union

from .article import parse_article
from .tags import tag_key

__all__ = [
    'tag_key', 'tag_keys', 'LemmaKeyer', 'prf', 'DocScore', 'score_document',
    'Figures', 'Summary', 'summarize', 'score_corpus', 'GoldRecord', 'GoldError',
    'read_gold', 'Row', 'write_report', 'format_table',
]

# ---------------------------------------------------------------- keys

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


# ---------------------------------------------------------------- one document

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


# ---------------------------------------------------------------- corpus

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


# ---------------------------------------------------------------- gold data

@dataclass
class GoldRecord:
    id: str
    title: str
    text: str
    tags: list
    line: Optional[int] = None  # 1-based line in a .jsonl file; None for .txt


@dataclass
class GoldError:
    line: Optional[int]
    source: str
    message: str

    def __str__(self) -> str:
        where = self.source if self.line is None else f'{self.source}:{self.line}'
        return f'{where}: {self.message}'


def read_gold(path: Union[str, Path]) -> Iterator[Union[GoldRecord, GoldError]]:
    """Gold records from .jsonl(.gz), a seed-format .txt file or a folder of them.

    Bad input yields a ``GoldError`` (with its 1-based line for .jsonl) and
    reading goes on.
    """
    path = Path(path)
    if path.is_dir():
        for file in sorted(path.glob('*.txt')):
            yield _read_article(file)
    elif path.name.endswith('.txt'):
        yield _read_article(path)
    elif path.name.endswith(('.jsonl', '.jsonl.gz')):
        yield from _read_jsonl(path)
    else:
        raise ValueError(f'{path}: expected a .jsonl, .jsonl.gz, .txt file or a folder')


def _read_article(path: Path) -> Union[GoldRecord, GoldError]:
    try:
        raw = path.read_text(encoding='utf-8-sig')
    except (OSError, UnicodeDecodeError) as error:
        return GoldError(None, str(path), f'unreadable: {error}')
    article = parse_article(raw)
    if not article.tags:
        return GoldError(None, str(path), 'no #tags line')
    return GoldRecord(path.name, article.title, article.text, article.tags)


def _read_jsonl(path: Path) -> Iterator[Union[GoldRecord, GoldError]]:
    source = str(path)
    opener = gzip.open if path.name.endswith('.gz') else open
    number = 0
    try:
        with opener(path, 'rb') as file:
            for number, data in enumerate(file, 1):
                if data.strip():
                    yield _jsonl_record(data, number, source)
    except (OSError, EOFError) as error:  # e.g. a truncated .gz
        yield GoldError(number + 1, source, f'unreadable: {error}')


def _jsonl_record(data: bytes, number: int, source: str) -> Union[GoldRecord, GoldError]:
    try:
        record = json.loads(data.decode('utf-8-sig' if number == 1 else 'utf-8'))
    except ValueError as error:  # JSONDecodeError and UnicodeDecodeError
        return GoldError(number, source, f'bad JSON: {error}')
    if not isinstance(record, dict):
        return GoldError(number, source, 'not a JSON object')
    for name in ('text', 'tags'):
        if name not in record:
            return GoldError(number, source, f'no "{name}"')
    tags, text = record['tags'], record['text']
    if not isinstance(tags, list) or not all(isinstance(tag, str) for tag in tags):
        return GoldError(number, source, '"tags" is not a list of strings')
    if not isinstance(text, str):
        return GoldError(number, source, '"text" is not a string')
    title = record.get('title') or ''
    return GoldRecord(str(record.get('id', number)), str(title), text, tags, number)


# ---------------------------------------------------------------- reports

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


# ---------------------------------------------------------------- running a tagger

def record_text(record: GoldRecord) -> str:
    """What the tagger reads: the title first, then the text."""
    if record.title and not record.text.lstrip().startswith(record.title.strip()):
        return f'{record.title}\n{record.text}'
    return record.text


def read_predictions(path: Union[str, Path]) -> dict:
    """``{id: [tags]}`` from a JSONL(.gz) of ``{"id", "tags"}`` records (our batch output)."""
    path = Path(path)
    opener = gzip.open if path.name.endswith('.gz') else open
    predictions = {}
    with opener(path, 'rt', encoding='utf-8') as file:
        for number, line in enumerate(file, 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
                predictions[str(record['id'])] = list(record.get('tags') or [])
            except (ValueError, KeyError, TypeError) as error:
                raise ValueError(f'{path}:{number}: bad prediction record: {error}') from None
    return predictions


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
    import time

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
