"""Where the seed-style profile's tags go wrong (issue 29's tables), from k-fold predictions.

Used by ``bench/quality.py --folds K --profiles default --tables``; also on its own, over a
dump of those predictions (``--dump FILE``: one JSON line per article, its gold, its cut tags
and its first ``RANKED`` ranked items with their kinds and probabilities):

    python bench/errors.py /tmp/quality/base.jsonl.gz

Two tables, each for the whole set and for rounds 1-2 alone:

- by kind: a gold tag is an *entity* when a PER/LOC/ORG candidate offers its key (any
  spelling), a *theme* when another candidate does, *no candidate* otherwise; a predicted
  tag, by the same look-up of its own key. Recall and precision per kind (micro), theme F1.
- what happened to each gold tag, the first that holds of: emitted; same lemmas in another
  form emitted; a shorter or longer variant emitted (its lemma words a run of the gold's, or
  the gold's a run of its); among the first 40 ranked, cut; in the text lemma by lemma (a
  ranked item past 40, or no item at all); not in the text.

Beside them: the share of false tags that are such a variant of a gold tag, wrong-form tags
per 100 (a gold tag's lemmas in another form), one-character tags.
"""
from __future__ import annotations

import gzip
import json
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from extractor.evaluate import LemmaKeyer, score_document, summarize  # noqa: E402
from extractor.tags import tag_key  # noqa: E402

ENTITY = ('PER', 'LOC', 'ORG')
RANKED = 60  # ranked items kept per article in a dump
FIRST = 40  # the "first 40"
CLASSES = ('emitted', 'same lemmas, other form', 'shorter variant emitted', 'longer variant emitted',
           'in first 40, cut', 'in text, ranked past 40', 'in text, no item', 'not in text')


def key_kinds(cands) -> dict:
    """key -> 'entity' | 'theme' for every spelling of every candidate (entities first)."""
    from extractor.ranking.items import spellings

    kinds = {}
    for cand in cands:
        for key, _, _ in spellings(cand, variants=True):
            kinds.setdefault(key, 'entity' if cand.kind in ENTITY else 'theme')
    return kinds


def text_lemmas(text: str, keyer: LemmaKeyer) -> list:
    from razdel import tokenize

    return [keyer.lemma(t.text.lower()) for t in tokenize(text)]


def record(sample, text: str, round_: int, tags, ranked, keyer: LemmaKeyer) -> dict:
    """One article's dump line: what the tables need, and nothing of its text but lemma runs
    of its gold tags (whether each occurs)."""
    kinds = key_kinds(sample.cands)
    rank = {}
    for i, t in enumerate(ranked):
        rank.setdefault(tag_key(t.text), i)
    lemmas = ' ' + ' '.join(text_lemmas(text, keyer)) + ' '
    return {'id': sample.id, 'round': round_, 'gold': sorted(sample.gold),
            'in_text': sorted(g for g in sample.gold if f' {keyer(g)} ' in lemmas),
            'tags': [[t.text, t.kind] for t in tags],
            'ranked': [[t.text, t.kind, t.score] for t in ranked[:RANKED]],
            'gold_rank': {g: rank[g] for g in sample.gold if g in rank},
            'kinds': {k: v for k, v in kinds.items()
                      if k in sample.gold or k in {tag_key(t.text) for t in ranked[:RANKED]}}}


def run_of(short: list, long: list) -> bool:
    n = len(short)
    return 0 < n < len(long) and any(long[i:i + n] == short for i in range(len(long) - n + 1))


def classify(line: dict, keyer: LemmaKeyer) -> tuple[Counter, int, int]:
    """(gold classes, false tags that are a variant of a gold tag, false tags)."""
    pred = [tag_key(t) for t, _ in line['tags']]
    pred_set = set(pred)
    rank = line['gold_rank']
    gold = set(line['gold'])
    in_text = set(line['in_text'])
    pred_lemmas = {p: keyer(p) for p in pred_set}
    out = Counter()
    for g in gold:
        lg = keyer(g)
        words = lg.split()
        if g in pred_set:
            out['emitted'] += 1
        elif any(pl == lg for p, pl in pred_lemmas.items() if p not in gold):
            out['same lemmas, other form'] += 1
        elif any(run_of(pl.split(), words) for pl in pred_lemmas.values()):
            out['shorter variant emitted'] += 1
        elif any(run_of(words, pl.split()) for pl in pred_lemmas.values()):
            out['longer variant emitted'] += 1
        elif rank.get(g, FIRST) < FIRST:
            out['in first 40, cut'] += 1
        elif g in in_text:
            out['in text, ranked past 40' if g in rank else 'in text, no item'] += 1
        else:
            out['not in text'] += 1
    gold_lemmas = [keyer(g).split() for g in gold]
    false = [p for p in pred_set if p not in gold]
    variants = sum(any(run_of(pred_lemmas[p].split(), gl) or run_of(gl, pred_lemmas[p].split())
                       for gl in gold_lemmas) for p in false)
    return out, variants, len(false)


def tables(lines: list, keyer: LemmaKeyer, title: str) -> str:
    """The figures and both tables for ``lines``, as Markdown."""
    summary = summarize(score_document([t for t, _ in l['tags']], l['gold'], keyer) for l in lines)
    e, lm = summary.exact, summary.lemma
    out = [f'### {title}: {len(lines)} articles', '',
           f'exact P {e.macro_p:.3f} R {e.macro_r:.3f} F1 **{e.macro_f1:.3f}**; lemma F1 '
           f'{lm.macro_f1:.3f}; {summary.pred_per_doc:.1f} tags/article (gold {summary.gold_per_doc:.1f})', '']
    gold_kind, hit_kind, pred_kind, right_kind = Counter(), Counter(), Counter(), Counter()
    classes, variants, false, one, wrong_form, n_tags = Counter(), 0, 0, 0, 0, 0
    for l in lines:
        gold = set(l['gold'])
        pred = {tag_key(t) for t, _ in l['tags']}
        kinds = l['kinds']
        for g in gold:
            kind = kinds.get(g, 'no candidate')
            gold_kind[kind] += 1
            hit_kind[kind] += g in pred
        for p in pred:
            kind = kinds.get(p, 'no candidate')
            pred_kind[kind] += 1
            right_kind[kind] += p in gold
        c, v, f = classify(l, keyer)
        classes.update(c)
        variants, false = variants + v, false + f
        one += sum(len(t.strip()) <= 1 for t, _ in l['tags'])
        n_tags += len(pred)
        gold_lemmas = {keyer(g) for g in gold}
        wrong_form += sum(p not in gold and keyer(p) in gold_lemmas for p in pred)
    total = sum(gold_kind.values())
    out += ['| kind | gold share | recall | precision | F1 | predicted/article |', '|---|---|---|---|---|---|']
    for kind in ('entity', 'theme', 'no candidate'):
        r = hit_kind[kind] / max(gold_kind[kind], 1)
        p = right_kind[kind] / max(pred_kind[kind], 1)
        f = 2 * p * r / (p + r) if p + r else 0.0
        out.append(f'| {kind} | {gold_kind[kind] / max(total, 1):.1%} | {r:.3f} | {p:.3f} | {f:.3f} | '
                   f'{pred_kind[kind] / max(len(lines), 1):.1f} |')
    out += ['', '| what happened to a gold tag | share |', '|---|---|']
    out += [f'| {c} | {classes[c] / max(total, 1):.1%} |' for c in CLASSES]
    out += ['', f'false tags that are a shorter/longer variant of a gold tag: {variants}/{false} = '
            f'{variants / max(false, 1):.1%}; wrong-form tags per 100: {100 * wrong_form / max(n_tags, 1):.2f}; '
            f'one-character tags: {one}', '']
    return '\n'.join(out)


def report(lines: list, keyer: LemmaKeyer) -> str:
    old = [l for l in lines if l['round'] in (1, 2)]
    return tables(lines, keyer, 'whole') + '\n' + tables(old, keyer, 'rounds 1-2')


def read_dump(path: Path) -> list:
    with gzip.open(path, 'rt', encoding='utf-8') as file:
        return [json.loads(line) for line in file]


def write_dump(path: Path, lines: list) -> None:
    with gzip.open(path, 'wt', encoding='utf-8') as file:
        for line in lines:
            file.write(json.dumps(line, ensure_ascii=False) + '\n')


def rounds(path: Path) -> dict:
    """id -> round of the seedstyle records."""
    with gzip.open(path, 'rt', encoding='utf-8') as file:
        return {str(d['id']): d.get('round', 0) for d in map(json.loads, file)}


def main() -> None:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('dump', type=Path)
    args = parser.parse_args()
    print(report(read_dump(args.dump), LemmaKeyer()))


if __name__ == '__main__':
    main()
