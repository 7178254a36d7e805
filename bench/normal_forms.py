"""Normal forms and NER against RuNormAS, factRuEval-2016 and BSNLP dev files.

Reports ours (``Tagger.normalize`` for RuNormAS spans, ``Tagger`` entities for the rest)
next to natasha's own pipeline (segment, morph, syntax, NER, ``span.normalize`` over our
pymorphy3 vocabulary; a RuNormAS span takes natasha's NER type when natasha found exactly
that span, else ORG), both scored as PROTOCOL.md says:

- runormas: ``exact`` (string equality) and ``key`` (equal after the protocol's key);
  a discontinuous span (``fragments``) is given with the text between its fragments cut out;
- factru: exact-span P/R/F1 per type and micro; the ``~`` figures compare spans modulo quote
  marks on their edges (the gold ORG spans end before the closing quote: ``партии «Яблоко``);
- bsnlp: micro F1 over per-document sets of (type, key(normal)), PER/LOC/ORG.

    python bench/normal_forms.py [--limit N] [--sets runormas,factru,bsnlp] [--systems ours,natasha]
"""
from __future__ import annotations

import argparse
import gzip
import json
import os
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Iterable

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from extractor import Tagger  # noqa: E402
from extractor.evaluate import tag_key  # noqa: E402

TYPES = ('PER', 'LOC', 'ORG')
SETS = ('runormas', 'factru', 'bsnlp')
QUOTES = '«»"„“”\''


def datasets_dir() -> Path:
    return Path(os.environ.get('EXTRACTOR_DATASETS') or ROOT.parent / 'shared' / 'datasets')


def read(name: str, limit: int | None) -> list[dict]:
    rows = []
    with gzip.open(datasets_dir() / f'{name}.dev.jsonl.gz', 'rt', encoding='utf-8') as lines:
        for line in lines:
            rows.append(json.loads(line))
            if limit and len(rows) >= limit:
                break
    return rows


class Natasha:
    """natasha's own Doc pipeline, with our pymorphy3 vocabulary in place of MorphVocab."""

    def __init__(self):
        from natasha import NewsEmbedding, NewsMorphTagger, NewsNERTagger, NewsSyntaxParser, Segmenter

        from extractor.morph import Vocab

        emb = NewsEmbedding()
        self.segmenter = Segmenter()
        self.morph = NewsMorphTagger(emb)
        self.syntax = NewsSyntaxParser(emb)
        self.ner = NewsNERTagger(emb)
        self.vocab = Vocab()

    def doc(self, text: str):
        from natasha import Doc

        doc = Doc(text)
        doc.segment(self.segmenter)
        doc.tag_morph(self.morph)
        doc.parse_syntax(self.syntax)
        doc.tag_ner(self.ner)
        for span in doc.spans:
            span.normalize(self.vocab)
        return doc

    def normalize_spans(self, text: str, spans: list[tuple[int, int]]) -> list[str]:
        """Each span as a DocSpan of its tokens; NER type if natasha found that exact span, else ORG."""
        from natasha.doc import DocSpan

        doc = self.doc(text)
        types = {(s.start, s.stop): s.type for s in doc.spans}
        result = []
        for start, stop in spans:
            tokens = [t for t in doc.tokens if t.start >= start and t.stop <= stop]
            span = DocSpan(start, stop, types.get((start, stop), 'ORG'), text[start:stop], tokens=tokens)
            span.normalize(self.vocab)
            result.append(span.normal or text[start:stop])
        return result

    def entities(self, text: str) -> list[tuple[int, int, str, str]]:
        return [(s.start, s.stop, s.type, s.normal) for s in self.doc(text).spans if s.type in TYPES]


class Ours:
    def __init__(self):
        try:
            self.tagger = Tagger()
        except FileNotFoundError:  # no trained ranking profile: normal forms do not need one
            self.tagger = Tagger(profile='heuristic')

    def normalize_spans(self, text: str, spans: list[tuple[int, int]]) -> list[str]:
        return [self.tagger.normalize(text, start, stop) for start, stop in spans]

    def entities(self, text: str) -> list[tuple[int, int, str, str]]:
        return [(e.start, e.stop, e.type, e.normal) for e in self.tagger(text).entities]


def prf(tp: int, pred: int, gold: int) -> tuple[float, float, float]:
    p = tp / pred if pred else 0.0
    r = tp / gold if gold else 0.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def cut_gaps(text: str, span: dict) -> tuple[str, int, int]:
    """A discontinuous span made contiguous: the text between its fragments is cut out.

    ``normalize(text, start, stop)`` takes one range; for ``Ростовская (28,56%) и
    Волгоградская (12,65%) область`` the gold names ``Ростовская область``.
    """
    fragments = span['fragments']
    if not fragments:
        return text, span['start'], span['stop']
    parts = [text[a:b] for a, b in fragments]
    phrase = ' '.join(parts)
    start = fragments[0][0]
    return text[:start] + phrase + text[fragments[-1][1]:], start, start + len(phrase)


def runormas(system, rows: list[dict], errors: list) -> dict:
    exact = folded = total = 0
    for row in rows:
        groups: dict[str, list] = {}
        for span in row['spans']:
            text, start, stop = cut_gaps(row['text'], span)
            groups.setdefault(text, []).append((span, (start, stop)))
        pairs = []
        for text, items in groups.items():
            normals = system.normalize_spans(text, [r for _, r in items])
            pairs.extend((span, normal) for (span, _), normal in zip(items, normals))
        for span, normal in pairs:
            total += 1
            exact += normal == span['normal']
            ok = tag_key(normal) == tag_key(span['normal'])
            folded += ok
            if not ok or normal != span['normal']:
                errors.append((row['id'], span['text'], normal, span['normal'], ok))
    return {'exact': exact / total, 'key': folded / total, 'n': total}


def unquoted(text: str, start: int, stop: int) -> tuple[int, int]:
    """The span without quote marks on its edges.

    factRuEval's ORG spans run from the kind to the name without its closing quote
    (``партии «Яблоко``); the ``~`` figures compare spans modulo edge quotes.
    """
    while start < stop and text[start] in QUOTES:
        start += 1
    while stop > start and text[stop - 1] in QUOTES:
        stop -= 1
    return start, stop


def factru(system, rows: list[dict], errors: list) -> dict:
    predicted = [system.entities(row['text']) for row in rows]
    result = {}
    for loose in (False, True):
        result.update(factru_scores(rows, predicted, errors if not loose else [], loose))
    return result


def factru_scores(rows: list[dict], predicted: list, errors: list, loose: bool) -> dict:
    counts = {t: Counter() for t in TYPES}
    for row, entities in zip(rows, predicted):
        text = row['text']
        edges = (lambda a, b: unquoted(text, a, b)) if loose else (lambda a, b: (a, b))
        gold = {(*edges(s['start'], s['stop']), s['type']) for s in row['spans'] if s['type'] in TYPES}
        pred = {(*edges(a, b), t) for a, b, t, _ in entities}
        for t in TYPES:
            g = {x for x in gold if x[2] == t}
            p = {x for x in pred if x[2] == t}
            counts[t].update(tp=len(g & p), pred=len(p), gold=len(g))
        for a, b, t in sorted(gold ^ pred):
            errors.append((row['id'], 'missed' if (a, b, t) in gold else 'extra', t, row['text'][a:b]))
    mark = '~' if loose else ''
    result = {t + mark: prf(c['tp'], c['pred'], c['gold'])[2] for t, c in counts.items()}
    total = sum(counts.values(), Counter())
    result['micro' + mark] = prf(total['tp'], total['pred'], total['gold'])[2]
    return result


def bsnlp(system, rows: list[dict], errors: list) -> dict:
    tp = n_pred = n_gold = 0
    for row in rows:
        gold = {(e['type'], tag_key(e['normal'])) for e in row['entities'] if e['type'] in TYPES}
        pred = {(t, tag_key(normal)) for _, _, t, normal in system.entities(row['text'])}
        tp, n_pred, n_gold = tp + len(gold & pred), n_pred + len(pred), n_gold + len(gold)
        for item in sorted(gold ^ pred):
            errors.append((row['id'], 'missed' if item in gold else 'extra', *item))
    return {'micro': prf(tp, n_pred, n_gold)[2], 'P': prf(tp, n_pred, n_gold)[0], 'R': prf(tp, n_pred, n_gold)[1]}


SCORERS = {'runormas': runormas, 'factru': factru, 'bsnlp': bsnlp}


def main(argv: Iterable[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--limit', type=int, help='first N documents of each file')
    parser.add_argument('--sets', default=','.join(SETS))
    parser.add_argument('--systems', default='ours,natasha')
    parser.add_argument('--errors', help='write mismatches to this directory')
    args = parser.parse_args(argv)
    systems = {'ours': Ours, 'natasha': Natasha}
    names = args.systems.split(',')
    built = {name: systems[name]() for name in names}
    for name in args.sets.split(','):
        rows = read(name, args.limit)
        for system in names:
            errors: list = []
            began = time.time()
            figures = SCORERS[name](built[system], rows, errors)
            took = time.time() - began
            print(f'{name:9} {system:8} {len(rows):5} docs {took:7.1f}s  '
                  + '  '.join(f'{k} {v:.4f}' if isinstance(v, float) else f'{k} {v}' for k, v in figures.items()),
                  flush=True)
            if args.errors:
                out = Path(args.errors)
                out.mkdir(parents=True, exist_ok=True)
                with open(out / f'{name}.{system}.tsv', 'w', encoding='utf-8') as f:
                    for error in errors:
                        f.write('\t'.join(map(str, error)) + '\n')


if __name__ == '__main__':
    main()
