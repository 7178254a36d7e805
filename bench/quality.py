"""Tag quality on the held-out side of the dev corpora (issue: tag quality).

    python bench/quality.py [--jobs 2] [--limit N] [--shipped]
    python bench/quality.py --folds 5 --profiles default     # the seed style, k-fold

Each corpus is split by duplicate group (``extractor.training.data.side``); profiles are fitted
on train sides and scored, with PROTOCOL.md's scorer, on test sides the fitting never saw:
``ng`` -> ng, ``rt`` -> rt, ``default`` (seedstyle: articles of five outlets tagged by
SEED-STYLE.md) -> seedstyle, and across outlets (ng -> rt, rt -> ng), each also without house tags or borrowed tags (what a site with no tag history
can use: the other outlet's rubrics are not its own). Baselines on the same documents:
top-10 tf-idf lemmas, and the transparent heuristic ranker; on seedstyle also natasha's NER
(every PER/LOC/ORG span, normalized), and the share of gold tags among the items a profile
ranks (its candidates, their other spellings and its house tags: what any cut can reach). ``--shipped`` also scores the
profiles in models/ on the same test sides; ``--shipped-only`` tags the test sides only and
scores the shipped profiles and the baselines (the tf-idf baseline then counts document
frequencies on the test side itself). ``--spread K`` refits the ng, rt and default profiles
with K fold salts (1..K) and prints each fit's exact macro F1 and their range: the fitting's
own noise, against which a change to the ranker has to be judged. ``--folds K`` scores
every document instead of the test sides alone: grouped K-fold over each whole corpus (every
copy of a text in one fold), each profile fitted K times on the other folds (ng: 960
documents scored instead of 179, so a figure moves by about half as much between fits).
"""
from __future__ import annotations

import argparse
import hashlib
import math
import os
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / 'bench'))

from extractor.evaluate import LemmaKeyer, record_text, score_document, summarize  # noqa: E402
from extractor.ranking import profile  # noqa: E402
from extractor.ranking.ranker import Heuristic, Ranker  # noqa: E402
from extractor.resources import profile_dir  # noqa: E402
from extractor.training.data import read_records, side  # noqa: E402
from extractor.training.extract import extract  # noqa: E402
from extractor.training.fit import fit_profile  # noqa: E402


def datasets() -> Path:
    return Path(os.environ.get('EXTRACTOR_DATASETS') or ROOT.parent / 'shared' / 'datasets')


def tfidf_baseline(train, test, top=10):
    df = Counter(w for s in train for w in s.bag)
    n = len(train)
    out = []
    for s in test:
        scores = {w: (1 + math.log(c)) * math.log((n + 1) / (df.get(w, 0) + 1)) for w, c in s.bag.items()}
        out.append(sorted(scores, key=lambda w: -scores[w])[:top])
    return out


def heuristic(test):
    ranker = Heuristic()
    return [[t.text for t in ranker.rank_raw(s.cands, s.raw)] for s in test]


def predict(ranker: Ranker, test):
    return [[t.text for t in ranker.rank_rows(s.cands, s.raw, s.bag, top=None)] for s in test]


def predict_tags(ranker: Ranker, test):
    """(cut tags, every ranked item) of each document, as ``Tag`` lists."""
    return [(ranker.rank_rows(s.cands, s.raw, s.bag, top=None), ranker.scored(s.cands, s.raw, s.bag))
            for s in test]


def scores(preds, test, keyer):
    """PROTOCOL.md's figures of ``preds`` against the test documents' gold."""
    return summarize(score_document(p, s.gold, keyer) for p, s in zip(preds, test))


# How each shipped profile is fitted (as models/build.sh): its corpora, fit_profile's options.
RECIPES = {'ng': (('ng',), {}), 'rt': (('rt',), {}),
           # the neighbours vote, propose nothing; two ensembles (as k-fold good as four, tags faster);
           # no floor: a short text gets only the tags it names; each thing once
           'default': (('seedstyle',), {'borrow': False, 'bag': 2, 'least': 1, 'once': True})}
SEEDSTYLE = 'seedstyle'


def ner_baseline(test):
    """natasha's NER as a tagger: every PER/LOC/ORG span's normal form (entity candidates)."""
    return [[c.normal for c in s.cands if c.types] for s in test]


def pool_recall(ranker: Ranker, test) -> tuple[int, int, int]:
    """Over ``test``, exact key: (gold tags among the items ``ranker`` proposes: every spelling
    of every candidate and the house tags; gold tags among those it ranks, one spelling per
    candidate: what any cut can reach; gold tags)."""
    from extractor.ranking.items import items
    from extractor.tags import tag_key

    proposed = reachable = 0
    for s in test:
        found, _ = items(s.cands, s.raw, s.bag, ranker.lookups, ranker.house, ranker.neighbours,
                         ranker.borrow, ranker.sites)
        proposed += len(s.gold & {item.key for item in found})
        reachable += len(s.gold & {tag_key(t.text) for t in ranker.scored(s.cands, s.raw, s.bag)})
    return proposed, reachable, sum(len(s.gold) for s in test)


def fit(parts, name: str, **options) -> Ranker:
    corpora, recipe = RECIPES[name]
    for source, corpus in enumerate(corpora):  # as extractor train: each archive a site
        for sample in parts[corpus]['train']:
            sample.source = source
    train = [s for corpus in corpora for s in parts[corpus]['train']]
    return fit_profile(train, log=lambda message: None, **{**recipe, **options})[0]


def row(name, preds, test, keyer):
    exact = scores(preds, test, keyer)
    e, l = exact.exact, exact.lemma
    return (f'| {name} | {len(test)} | {e.macro_p:.3f} | {e.macro_r:.3f} | {e.macro_f1:.3f} | '
            f'{l.macro_p:.3f} | {l.macro_r:.3f} | {l.macro_f1:.3f} | {exact.pred_per_doc:.1f} |')


def shipped_only(parts, keyer) -> None:
    print('| system | docs | P exact | R exact | F1 exact | P lemma | R lemma | F1 lemma | tags/doc |')
    print('|---|---|---|---|---|---|---|---|---|')
    shipped = {name: profile.load(profile_dir(name)) for name in ('ng', 'rt', 'default')}
    for test in ('ng', 'rt'):
        docs = parts[test]['test']
        other = 'rt' if test == 'ng' else 'ng'
        print(row(f'{test}: tf-idf lemmas top 10', tfidf_baseline(docs, docs), docs, keyer))
        print(row(f'{test}: heuristic ranker', heuristic(docs), docs, keyer))
        print(row(f'{test}: models/{test}', predict(shipped[test], docs), docs, keyer))
        print(row(f'{test}: models/default (seed style, not this site\'s)', predict(shipped['default'], docs),
                  docs, keyer))
        print(row(f'{test}: models/{other} (across outlets)', predict(shipped[other], docs), docs, keyer))


def spread(parts, salts: int, keyer) -> None:
    """Exact macro F1 of profiles refitted with ``salts`` fold salts: one column per salt."""
    from statistics import mean

    print('| profile -> test side | ' + ' | '.join(f'salt {k}' for k in range(1, salts + 1))
          + ' | mean | range |')
    print('|---|' + '---|' * (salts + 2))
    for name, (corpora, _) in RECIPES.items():
        fits = [fit(parts, name, salt=k) for k in range(1, salts + 1)]
        for test in corpora:
            docs = parts[test]['test']
            f1 = [scores(predict(ranker, docs), docs, keyer).exact.macro_f1 for ranker in fits]
            print(f'| {name} -> {test} | ' + ' | '.join(f'{v:.3f}' for v in f1)
                  + f' | {mean(f1):.3f} | {min(f1):.3f}-{max(f1):.3f} |', flush=True)


def outer_fold(sample, folds: int) -> int:
    """The fold of ``sample`` in ``--folds``: its own hash of the duplicate group, apart from
    the bits that deal the train/test side and the fitting's inner folds."""
    return int(hashlib.sha1(f'fold:{sample.group}'.encode()).hexdigest()[:8], 16) % folds


def cross_validated(parts, folds: int, keyer, names, tables: bool = False,
                    dump: Path | None = None) -> None:
    """Each profile in ``names`` fitted ``folds`` times, each fit scoring the documents of
    the fold it never saw; the figures are those of all the predictions pooled. On the seed
    style, also rounds 1-2 alone (the old 593 articles: same folds, same predictions) and,
    with ``tables``, issue 29's tables (``bench/errors.py``); ``dump`` keeps the predictions."""
    import errors

    print('| system | docs | P exact | R exact | F1 exact | P lemma | R lemma | F1 lemma | tags/doc |')
    print('|---|---|---|---|---|---|---|---|---|')
    every = {corpus: part['train'] + part['test'] for corpus, part in parts.items()}
    spreads = []
    for name in names:
        corpora, _ = RECIPES[name]
        pooled = {corpus: ([], [], [], []) for corpus in corpora}  # predictions, docs, tf-idf, Tags
        per_fold = {corpus: [] for corpus in corpora}
        reach = {corpus: [0, 0, 0] for corpus in corpora}
        for fold in range(folds):
            started = time.time()
            train = {c: [s for s in every[c] if outer_fold(s, folds) != fold] for c in corpora}
            ranker = fit({c: {'train': train[c]} for c in corpora}, name)
            for corpus in corpora:
                docs = [s for s in every[corpus] if outer_fold(s, folds) == fold]
                tagged = predict_tags(ranker, docs)
                preds = [[t.text for t in tags] for tags, _ in tagged]
                pooled[corpus][0].extend(preds)
                pooled[corpus][1].extend(docs)
                pooled[corpus][2].extend(tfidf_baseline(train[corpus], docs))
                pooled[corpus][3].extend(tagged)
                per_fold[corpus].append(scores(preds, docs, keyer).exact.macro_f1)
                reach[corpus] = [a + b for a, b in zip(reach[corpus], pool_recall(ranker, docs))]
            print(f'{name}: fold {fold + 1}/{folds} fitted and scored in {time.time() - started:.0f} s',
                  file=sys.stderr, flush=True)
        for corpus in corpora:
            preds, docs, baseline, tagged = pooled[corpus]
            subsets = [('', range(len(docs)))]
            if corpus == SEEDSTYLE:
                rounds = parts[corpus]['rounds']
                subsets.append((', rounds 1-2', [i for i, s in enumerate(docs) if rounds[s.id] in (1, 2)]))
            for label, which in subsets:
                sub = [docs[i] for i in which]
                print(row(f'{corpus}{label}: tf-idf lemmas top 10', [baseline[i] for i in which], sub, keyer))
                if corpus == SEEDSTYLE:
                    print(row(f'{corpus}{label}: natasha NER, every span normalized', ner_baseline(sub),
                              sub, keyer))
                print(row(f'{corpus}{label}: profile {name}, {folds}-fold', [preds[i] for i in which],
                          sub, keyer), flush=True)
            spreads.append(f'{name} -> {corpus}: exact F1 by fold '
                           + ' '.join(f'{v:.3f}' for v in per_fold[corpus]))
            proposed, reachable, gold = reach[corpus]
            spreads.append(f'{name} -> {corpus}: gold tags (exact key) among the proposed items '
                           f'{proposed}/{gold} = {proposed / max(gold, 1):.3f}, among the ranked '
                           f'(one spelling per candidate) {reachable}/{gold} = {reachable / max(gold, 1):.3f}')
            if corpus == SEEDSTYLE and (tables or dump):
                texts, rounds = parts[corpus]['texts'], parts[corpus]['rounds']
                lines = [errors.record(s, texts[s.id], rounds[s.id], tags, ranked, keyer)
                         for s, (tags, ranked) in zip(docs, tagged)]
                if dump:
                    errors.write_dump(dump, lines)
                if tables:
                    spreads.append('\n' + errors.report(lines, keyer))
    print('\n' + '\n'.join(spreads))


def drop_features(names: list) -> None:
    """Zero the columns ``names`` (a trailing ``*``: every name with that prefix) of every
    training row: the trees never split on a constant column, so they never read it."""
    from extractor.ranking.features import feature_names
    from extractor.training import fit

    known = feature_names()
    columns = [i for i, f in enumerate(known)
               if any(f == n or (n.endswith('*') and f.startswith(n[:-1])) for n in names)]
    if not columns:
        raise SystemExit(f'--drop-features: none of {names} is a feature')
    print('dropping features: ' + ', '.join(known[i] for i in columns), file=sys.stderr)
    original = fit.rows_of

    def rows_of(*args, **kwargs):
        out = original(*args, **kwargs)
        for r in out:
            r.x[:, columns] = 0.0
        return out

    fit.rows_of = rows_of


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--jobs', type=int, default=os.cpu_count() or 1)
    parser.add_argument('--limit', type=int, default=None, help='first N documents of each corpus')
    parser.add_argument('--shipped', action='store_true', help='also score the profiles in models/')
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument('--shipped-only', action='store_true', help='score models/ only; no fitting')
    mode.add_argument('--spread', type=int, default=0, choices=range(1, 5), metavar='K',
                        help='refit ng, rt and default with K fold salts (1-4); print the range')
    mode.add_argument('--folds', type=int, default=0, metavar='K',
                      help='grouped K-fold over every document (2-10) instead of the test sides')
    parser.add_argument('--profiles', default='ng,rt,default',
                        help='with --folds: which profiles to fit (comma-separated)')
    parser.add_argument('--cache', type=Path, default=None,
                        help='keep extracted candidates here (as extractor train --cache)')
    parser.add_argument('--tables', action='store_true',
                        help='with --folds on the seed style: issue 29\'s tables (bench/errors.py)')
    parser.add_argument('--dump', type=Path, default=None,
                        help='with --folds on the seed style: the k-fold predictions -> this .jsonl.gz')
    parser.add_argument('--bag', type=int, default=None, metavar='N',
                        help='with --folds: N ensembles instead of the recipe\'s (1: a quicker screen)')
    parser.add_argument('--drop-features', default='', metavar='NAMES',
                        help='comma-separated feature names (or prefixes ending in *) the trees never '
                             'see: zeroed in the training rows (an ablation, no re-extraction)')
    parser.add_argument('--pin-cache', type=Path, default=None, metavar='FILE',
                        help='read candidates from this cache file whatever the code\'s hash (for '
                             'experiments that change the ranking only, never the extraction)')
    args = parser.parse_args()
    names = [name for name in args.profiles.split(',') if name]
    if args.folds and (set(names) - set(RECIPES) or not names or not 2 <= args.folds <= 10):
        parser.error(f'--folds takes 2-10, --profiles some of {", ".join(RECIPES)}')

    if args.drop_features:
        drop_features(args.drop_features.split(','))
    if args.bag:
        for _, recipe in RECIPES.values():
            recipe['bag'] = args.bag
    if args.pin_cache:
        from extractor.training import extract as extraction

        extraction.cache_file = lambda cache: args.pin_cache
        args.cache = args.pin_cache.parent
    started = time.time()
    parts = {}
    if args.folds:
        needed = sorted({c for name in names for c in RECIPES[name][0]})
    else:
        needed = ['ng', 'rt'] + ([] if args.shipped_only else [SEEDSTYLE])
    for name in needed:
        records = read_records([str(datasets() / f'{name}.dev.jsonl.gz')])[:args.limit]
        if args.shipped_only:
            records = [r for r in records if side(r) == 'test']
        samples = extract(records, jobs=args.jobs, cache=args.cache)
        by_id = {s.id: s for s in samples}
        parts[name] = {which: [by_id[r.id] for r in records if side(r) == which] for which in ('train', 'test')}
        if name == SEEDSTYLE:
            import errors

            parts[name]['rounds'] = errors.rounds(datasets() / f'{name}.dev.jsonl.gz')
            parts[name]['texts'] = {r.id: record_text(r) for r in records}
        print(f'{name}: {len(parts[name]["train"])} train, {len(parts[name]["test"])} test documents '
              f'({time.time() - started:.0f} s)', file=sys.stderr)

    keyer = LemmaKeyer()
    if args.folds:
        cross_validated(parts, args.folds, keyer, names, args.tables, args.dump)
        print(f'\n{time.time() - started:.0f} s in all', file=sys.stderr)
        return
    if args.spread:
        spread(parts, args.spread, keyer)
        print(f'\n{time.time() - started:.0f} s in all', file=sys.stderr)
        return
    if args.shipped_only:
        shipped_only(parts, keyer)
        print(f'\n{time.time() - started:.0f} s in all', file=sys.stderr)
        return
    fitted = {name: fit(parts, name) for name in RECIPES}
    for name in ('ng', 'rt'):  # what another site can use: the archive only votes
        fitted[f'{name}-no-house'] = fit(parts, name, house=False, borrow=False)
    print(f'fitted ({time.time() - started:.0f} s)', file=sys.stderr)
    print('| system | docs | P exact | R exact | F1 exact | P lemma | R lemma | F1 lemma | tags/doc |')
    print('|---|---|---|---|---|---|---|---|---|')
    for test in ('ng', 'rt'):
        other = 'rt' if test == 'ng' else 'ng'
        docs = parts[test]['test']
        print(row(f'{test}: tf-idf lemmas top 10', tfidf_baseline(parts[test]['train'], docs), docs, keyer))
        print(row(f'{test}: heuristic ranker', heuristic(docs), docs, keyer))
        print(row(f'{test}: profile {test}', predict(fitted[test], docs), docs, keyer))
        print(row(f'{test}: profile {test}, no house tags, no borrowed tags',
                  predict(fitted[f'{test}-no-house'], docs), docs, keyer))
        print(row(f'{test}: profile default', predict(fitted['default'], docs), docs, keyer))
        print(row(f'{test}: across outlets (trained on {other})', predict(fitted[other], docs), docs, keyer))
        print(row(f'{test}: across outlets (trained on {other}, no house tags, no borrowed tags)',
                  predict(fitted[f'{other}-no-house'], docs), docs, keyer))
        if args.shipped:
            for name in ('ng', 'rt', 'default'):
                shipped = profile.load(profile_dir(name))
                print(row(f'{test}: shipped models/{name}', predict(shipped, docs), docs, keyer))
    docs = parts[SEEDSTYLE]['test']
    print(row(f'{SEEDSTYLE}: tf-idf lemmas top 10', tfidf_baseline(parts[SEEDSTYLE]['train'], docs), docs, keyer))
    print(row(f'{SEEDSTYLE}: natasha NER, every span normalized', ner_baseline(docs), docs, keyer))
    print(row(f'{SEEDSTYLE}: profile default', predict(fitted['default'], docs), docs, keyer))
    print(f'\n{time.time() - started:.0f} s in all', file=sys.stderr)


if __name__ == '__main__':
    main()
