"""Fit a profile from an archive of a site's tagged articles -> ``models/NAME/``.

    extractor train ../shared/datasets/ng.dev.jsonl.gz --profile ng

The documents are split by duplicate group (every copy of a text on one side): training
uses the ``train`` side only unless ``--all``. On it, in K folds, the per-key look-ups
(document frequency, how often a normal form was an editor's tag) are counted on the
other folds, so the ranker never sees its own labels; the house-tag classifier is fitted
the same way. The out-of-fold scores, run through the very ``Ranker`` used at tagging
time, choose the score threshold. Then everything is refitted on the whole training side.
"""
from __future__ import annotations

import gzip
import hashlib
import json
import math
import os
import re
import time
from collections import Counter
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Callable, Iterable, Optional

import numpy as np

from .evaluate import GoldRecord, read_gold, record_text
from .house import HouseTags, bag, vectorizer as lemma_vectorizer, words
from .merge import Candidate, candidates
from .neighbours import Neighbours
from .phrases import other_number
from .sites import Sites
from .rank import (KINDS, SURNAME, Lookups, Ranker, best_first, cut, feature_names, items,
                   raw_features, spellings)
from .tags import tag_key
from .trees import Forest

FOLDS = 3
MIN_DOCS = 10  # tagged documents: below this the folds, the cut and the archive mean nothing
MIN_HOUSE_COUNT = 8
MAX_HOUSE_TAGS = 400  # the site's most frequent tags; fitting time grows with their number
HOUSE_VOCAB = 8000
HOUSE_WEIGHTS = 400  # largest weights kept per house tag
HOUSE_C = 32.0  # weak regularization: out of fold it ranks a site's rubrics best (8: worse)
TREES = dict(max_iter=200, learning_rate=0.08, max_depth=6, max_leaf_nodes=31,
             min_samples_leaf=100, l2_regularization=1.0,  # shallow: cheap to walk at run time
             max_features=0.7)  # each split sees 70% of the features: the members differ
BAG = 4  # ensembles whose probabilities are averaged (seeds 0..BAG-1)
EXPECTED = (0.5, 0.75, 1.0, 1.25, 1.5, 1.75, 2.0, 2.5)  # the cut's choices, tuned out of fold
LEAST = (1, 2, 3, 4, 5, 6, 8, 10, 12)  # generous styles (the seed's) want the higher ones


@dataclass
class Sample:
    """One training document, reduced to what fitting needs."""
    id: str
    group: str
    gold: set
    cands: list
    raw: np.ndarray
    bag: Counter
    source: int = 0  # which of the training archives (sites) it came from


# ------------------------------------------------------------------ splitting

def group_key(text: str) -> str:
    """Copies of one text share this key (white space and case folded)."""
    return hashlib.sha1(re.sub(r'\s+', ' ', text).strip().lower().encode('utf-8')).hexdigest()


def side(record: GoldRecord, test_share: float = 0.2) -> str:
    """``train`` or ``test``, fixed by the text's duplicate group."""
    bucket = int(group_key(record.text)[:8], 16) % 1000
    return 'test' if bucket < test_share * 1000 else 'train'


def read_records(paths: Iterable[str]) -> list[GoldRecord]:
    return [r for path in paths for r in read_gold(path) if isinstance(r, GoldRecord)]


# ------------------------------------------------------------------ extraction

_worker = None


def _init_worker(batch_size: int) -> None:
    global _worker
    for name in ('OMP_NUM_THREADS', 'OPENBLAS_NUM_THREADS', 'MKL_NUM_THREADS'):
        os.environ[name] = '1'
    from .pipeline import Tagger

    _worker = Tagger(profile='heuristic', batch_size=batch_size)


def _extract(chunk: list) -> list:
    out = []
    others = partial(other_number, vocab=_worker.models.vocab)
    for doc in _worker.pipe(chunk, ranked=False, errors='yield'):
        cands = candidates(doc) if doc.error is None else []
        for cand in cands:  # every spelling: the trees learn which ones editors choose
            cand.resolve(others)
        out.append((doc.id, cands, raw_features(doc, cands, _worker.models.embedding), bag(doc)))
    return out


def extract(records: list[GoldRecord], jobs: int = 1, batch_size: int = 16,
            progress: Optional[Callable[[int], None]] = None,
            cache: Optional[Path] = None) -> list[Sample]:
    """Candidates and their raw features for every record, on ``jobs`` processes.

    With ``cache`` (a folder), what was extracted from a text by this very code is kept in
    a JSONL file and reused, so that training several profiles tags each text once.
    """
    texts = {r.id: record_text(r) for r in records}
    stored = load_cache(cache)
    todo = [(r.id, texts[r.id]) for r in records if text_hash(texts[r.id]) not in stored]
    if progress and len(todo) < len(records):
        progress(len(records) - len(todo))
    fresh = []
    chunks = [todo[i:i + batch_size] for i in range(0, len(todo), batch_size)]
    if jobs > 1 and len(chunks) > 1:
        import multiprocessing

        with multiprocessing.get_context('spawn').Pool(jobs, _init_worker, (batch_size,)) as pool:
            for result in pool.imap(_extract, chunks):
                fresh += result
                progress and progress(len(result))
    else:
        if chunks:
            _init_worker(batch_size)
        for chunk in chunks:
            result = _extract(chunk)
            fresh += result
            progress and progress(len(result))
    for id, cands, raw, counts in fresh:
        stored[text_hash(texts[id])] = (cands, raw, counts)
    save_cache(cache, {text_hash(texts[id]): stored[text_hash(texts[id])] for id, *_ in fresh})
    samples = []
    for r in records:
        cands, raw, counts = stored[text_hash(texts[r.id])]
        samples.append(Sample(r.id, group_key(r.text), {tag_key(t) for t in r.tags} - {''},
                              cands, raw, counts))
    return samples


def text_hash(text: str) -> str:
    return hashlib.sha1(text.encode('utf-8')).hexdigest()


def cache_file(cache: Path) -> Path:
    """One file per version of the extraction code: any change to it starts afresh."""
    code = hashlib.sha1()
    for path in sorted(Path(__file__).parent.glob('*.py')):
        code.update(path.read_bytes())
    return cache / f'samples-{code.hexdigest()[:12]}.jsonl.gz'


def load_cache(cache: Optional[Path]) -> dict:
    if cache is None or not cache_file(cache).is_file():
        return {}
    stored = {}
    try:
        with gzip.open(cache_file(cache), 'rt', encoding='utf-8') as file:
            for line in file:
                data = json.loads(line)
                cands = [Candidate(k, kind, [tuple(m) for m in mentions], Counter(forms), Counter(types),
                                   Counter(variants))
                         for k, kind, mentions, forms, types, variants in data['cands']]
                raw = np.array(data['raw'], dtype=np.float64).reshape(len(cands), -1)
                stored[data['hash']] = (cands, raw, Counter(data['bag']))
    except (OSError, EOFError, ValueError):  # a torn last line after a crash: keep the rest
        pass
    return stored


def save_cache(cache: Optional[Path], entries: dict) -> None:
    if cache is None or not entries:
        return
    cache.mkdir(parents=True, exist_ok=True)
    with gzip.open(cache_file(cache), 'at', encoding='utf-8') as file:
        for key, (cands, raw, counts) in entries.items():
            data = {'hash': key, 'raw': raw.tolist(), 'bag': counts,
                    'cands': [[c.key, c.kind, c.mentions, c.forms, c.types, c.variants]
                              for c in cands]}
            file.write(json.dumps(data, ensure_ascii=False) + '\n')


# ------------------------------------------------------------------ fitting

def fold_of(sample: Sample, folds: int, salt: int = 0) -> int:
    """A fold fixed by the duplicate group, so copies of a text never straddle two folds."""
    return int(sample.group[salt * 8:salt * 8 + 8], 16) % folds


def joins_hyphens(samples: list[Sample]) -> bool:
    """Whether the site's editors drop hyphens (``Формула-1`` tagged ``формула1``): more of
    their tags are a candidate's hyphenated key without its hyphens than have a hyphen."""
    hyphened = sum('-' in tag for s in samples for tag in s.gold)
    joined = sum(len(s.gold & {c.key.replace('-', '') for c in s.cands if '-' in c.key})
                 for s in samples)
    return joined > hyphened


def count_lookups(samples: list[Sample]) -> Lookups:
    """Document frequencies of every key a candidate offers (other spellings too), gold
    counts, gold spellings, under the site's habit for hyphens."""
    df, tags, written = Counter(), Counter(), {}
    joined = joins_hyphens(samples)
    for s in samples:
        offered = {}
        for cand in s.cands:
            for key, text, _ in spellings(cand, joined=joined, variants=True):
                offered.setdefault(key, text)
        df.update(offered.keys())
        tags.update(s.gold)
        for key in s.gold & offered.keys():
            written.setdefault(key, Counter())[offered[key]] += 1
    spelling = {key: texts.most_common(1)[0][0] for key, texts in written.items()}
    return Lookups(len(samples), dict(df), dict(tags), spelling, joined, variants=True)


def fit_house(samples: list[Sample], min_count: int = MIN_HOUSE_COUNT) -> Optional[HouseTags]:
    """One-vs-rest logistic regression over tf-idf lemma bags, for tags seen ``min_count``+ times."""
    from sklearn.linear_model import LogisticRegression

    counts = Counter(t for s in samples for t in s.gold)
    tags = sorted(t for t, n in counts.most_common(MAX_HOUSE_TAGS) if n >= min_count)
    if not tags:
        return None
    vectorizer = lemma_vectorizer(HOUSE_VOCAB)
    docs = [words(s.bag) for s in samples]
    x = vectorizer.fit_transform(docs)
    rows, cols, weights, intercepts = [], [], [], []
    for index, tag in enumerate(tags):
        y = np.array([tag in s.gold for s in samples], dtype=np.int8)
        model = LogisticRegression(C=HOUSE_C, solver='liblinear', class_weight=None).fit(x, y)
        coef = model.coef_[0]
        keep = np.argsort(-np.abs(coef))[:HOUSE_WEIGHTS]
        keep = keep[coef[keep] != 0]
        rows += [index] * len(keep)
        cols += keep.tolist()
        weights += coef[keep].tolist()
        intercepts.append(float(model.intercept_[0]))
    texts = tags  # gold keys are already lower-cased tag text
    return HouseTags(tags, texts, list(vectorizer.get_feature_names_out()),
                     vectorizer.idf_, np.array(rows), np.array(cols), np.array(weights),
                     np.array(intercepts))


@dataclass
class Archive:
    """What a profile knows of a site's archive: look-ups, house tags, neighbours; and, for
    the archives of several sites, which site an article resembles."""
    lookups: Lookups
    house: Optional[HouseTags]
    neighbours: Optional[Neighbours]
    sites: Optional[Sites] = None

    @classmethod
    def of(cls, samples: list[Sample], house: bool = True) -> 'Archive':
        lookups = count_lookups(samples)
        style = np.array([habits(s, lookups.joined) for s in samples])
        several = len({s.source for s in samples}) > 1
        return cls(lookups, fit_house(samples) if house else None,
                   Neighbours.fit([s.bag for s in samples], [s.gold for s in samples], style=style),
                   Sites.fit([s.bag for s in samples], [s.source for s in samples], style)
                   if several else None)


def habits(sample: Sample, joined: bool = False) -> list[float]:
    """The article's row of ``neighbours.STYLE``: how many tags the editor gave, how many
    people by surname alone and by full name, the share of tags the text names."""
    offered = {}
    for cand in sample.cands:
        for key, _, how in spellings(cand, joined=joined):
            offered.setdefault(key, (cand.kind, how == SURNAME))
    named = [offered[key] for key in sample.gold if key in offered]
    people = [short for kind, short in named if kind == 'PER']
    return [math.log1p(len(sample.gold)), float(sum(people)), float(len(people) - sum(people)),
            len(named) / max(len(sample.gold), 1)]


@dataclass
class Rows:
    """One document's items, feature rows and labels."""
    fold: int
    found: list
    x: np.ndarray
    y: np.ndarray
    gold: set


def rows_of(samples: list[Sample], archive: Archive, fold: int = -1,
            borrow: bool = True) -> list[Rows]:
    out = []
    for s in samples:
        found, x = items(s.cands, s.raw, s.bag, archive.lookups, archive.house, archive.neighbours,
                         borrow, archive.sites)
        y = np.array([item.key in s.gold for item in found], dtype=np.int8)
        out.append(Rows(fold, found, x, y, s.gold))
    return out


def out_of_fold_rows(samples: list[Sample], folds: int, house: bool, borrow: bool,
                     log: Callable[[str], None], salt: int = 1) -> list[Rows]:
    """Rows of each fold with the archive of the other folds: no label sees itself."""
    rows = []
    for fold in range(folds):
        inner = [s for s in samples if fold_of(s, folds, salt) != fold]
        outer = [s for s in samples if fold_of(s, folds, salt) == fold]
        rows += rows_of(outer, Archive.of(inner, house), fold, borrow)
        log(f'fold {fold + 1}/{folds}: archive of {len(inner)} documents, rows of {len(outer)}')
    return rows


def fit_trees(rows: list[Rows], bag: int = BAG) -> list:
    """``bag`` of scikit-learn's boosted tree ensembles on the rows, one per seed
    (``Forest.from_sklearn`` keeps them and averages their probabilities)."""
    from sklearn.ensemble import HistGradientBoostingClassifier

    x = np.vstack([r.x for r in rows])
    y = np.concatenate([r.y for r in rows])
    # A column with no value at all (no house classifier: a small archive, or --no-house)
    # cannot be binned; as zeros it is never split on, and the run-time NaNs are never read.
    x[:, np.isnan(x).all(axis=0)] = 0.0
    return [HistGradientBoostingClassifier(**TREES, random_state=seed).fit(x, y)
            for seed in range(bag)]


def mean_f1(ranked: list[tuple[np.ndarray, np.ndarray, int]], expected: float,
            least: int) -> float:
    """Mean exact F1 of (probabilities best first, hits, number of gold) under the cut."""
    total = 0.0
    for probs, hits, n_gold in ranked:
        kept = cut(probs, expected, least)
        if kept == 0:
            total += float(n_gold == 0)
        elif hits[kept - 1]:
            total += 2 * hits[kept - 1] / (kept + n_gold)
    return total / max(len(ranked), 1)


def choose_cut(rows: list[Rows], folds: int, bag: int = BAG) -> tuple[float, int, float]:
    """The cut's (``expected``, ``least``) that maximize mean exact F1, and that F1, with
    trees fitted out of fold."""
    ranked = []
    for fold in range(folds):
        forest = Forest.from_sklearn(fit_trees([r for r in rows if r.fold != fold], bag))
        for r in rows:
            if r.fold == fold:
                # every item by the whole bag: at tagging time the unlikely ones keep a rougher
                # score (``Ranker.screened``) and only likely candidates offer other spellings
                probs = forest.probabilities(r.x)
                order = best_first(r.found, probs)
                ranked.append((probs[order], np.cumsum(r.y[order]), len(r.gold)))
    scores = {(e, n): mean_f1(ranked, e, n) for e in EXPECTED for n in LEAST}
    expected, least = max(scores, key=scores.get)
    return expected, least, scores[expected, least]


def fit_profile(samples: list[Sample], folds: int = FOLDS, house: bool = True,
                borrow: bool = True, log: Callable[[str], None] = print,
                salt: int = 1, bag: int = BAG) -> tuple[Ranker, dict]:
    """Fit the trees on out-of-fold rows, tune the cut out of fold, keep the whole archive.

    ``borrow``: the neighbours may propose tags the article does not contain (a site's
    story tags); without it they only vote for the article's candidates and house tags.
    ``salt`` (0-4) picks which bits of the duplicate-group hash deal the folds: other
    salts give other, equally valid fits, and their spread is the fitting's own noise.
    ``bag``: how many tree ensembles are averaged (more: steadier, slower to tag).
    """
    rows = out_of_fold_rows(samples, folds, house, borrow, log, salt)
    expected, least, f1 = choose_cut(rows, folds, bag)
    log(f'cut: expected gold = {expected:.2f} x the probabilities, at least {least} tags; '
        f'out-of-fold exact F1 {f1:.3f}')
    archive = Archive.of(samples, house)
    ranker = Ranker(Forest.from_sklearn(fit_trees(rows, bag)), archive.lookups, archive.house,
                    archive.neighbours, expected, least, borrow, archive.sites)
    return ranker, {'oof_exact_f1': round(f1, 4), 'folds': folds, 'bag': bag, 'expected': expected,
                    'least': least, 'borrow': borrow,
                    'house_tags': len(archive.house.tags) if archive.house else 0,
                    'sites': len(archive.sites.habits) if archive.sites else 1,
                    'rows': sum(len(r.found) for r in rows)}


# ------------------------------------------------------------------ saving

def save(ranker: Ranker, folder: Path, card: dict) -> None:
    """Write ``ranker.json`` (+ ``ranker.npz``, the trees), ``lookups.json``, ``house.npz``,
    ``neighbours.npz`` and ``CARD.md`` into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    meta = {'features': feature_names(), 'expected': ranker.expected, 'least': ranker.least,
            'borrow': ranker.borrow, 'trees': TREES, 'bag': card.get('bag', BAG)}
    (folder / 'ranker.json').write_text(json.dumps(meta, indent=1), encoding='utf-8')
    ranker.forest.save(folder / 'ranker.npz')
    lk = ranker.lookups
    # Keys seen once as a candidate and never as a tag carry no information: dropped.
    df = {k: n for k, n in lk.df.items() if n > 1 or k in lk.tags}
    (folder / 'lookups.json').write_text(
        json.dumps({'n_docs': lk.n_docs, 'df': df, 'tags': lk.tags, 'spelling': lk.spelling,
                    'joined': lk.joined, 'variants': lk.variants},
                   ensure_ascii=False, separators=(',', ':'), sort_keys=True), encoding='utf-8')
    for part, name in ((ranker.house, 'house.npz'), (ranker.neighbours, 'neighbours.npz'),
                       (ranker.sites, 'sites.npz')):
        if part is not None:
            part.save(folder)
        elif (folder / name).exists():
            (folder / name).unlink()
    (folder / 'CARD.md').write_text(model_card(card), encoding='utf-8')


def model_card(card: dict) -> str:
    bag = card.get('bag', BAG)
    lines = [f'# Model profile `{card["profile"]}`', '',
             f'- data: {", ".join(card["data"])} ({card["docs"]} training documents, '
             f'{card["split"]})',
             f'- date: {card["date"]}',
             f'- command: `{card["command"]}`',
             f'- fitted: a bag of {bag} boosted tree ensembles (scikit-learn '
             f'HistGradientBoostingClassifier, {TREES}, seeds 0-{bag - 1}, probabilities averaged) '
             f'over {len(feature_names())} features of {card["rows"]} out-of-fold items '
             f'({", ".join(KINDS)} candidates, people also by surname, other spellings: a place '
             f'with its kind, a phrase in the other number; house tags; neighbours\' '
             f'tags), per-key look-ups, house-tag classifier over {card["house_tags"]} frequent '
             f'tags, {card["docs"]} articles kept as neighbours'
             + ('' if card['borrow'] else ' (they vote; they propose no tags the article lacks)')
             + (f'; a classifier of which of the {card["sites"]} sites an article resembles, whose '
                f'habits it follows' if card.get('sites', 1) > 1 else ''),
             f'- cut: where the expected F1 peaks, gold count taken as {card["expected"]:.2f} x the '
             f'sum of the probabilities, at least {card["least"]} tags',
             f'- out-of-fold exact macro F1 on the training side ({card.get("folds", FOLDS)} folds): '
             f'{card["oof_exact_f1"]:.3f}',
             f'- training took {card["seconds"]:.0f} s', '']
    if card.get('figures'):
        lines += ['## Held-out figures', '', card['figures'], '']
    return '\n'.join(lines)


def train(paths: list[str], profile: str, out: Path, jobs: int = 1, use_all: bool = False,
          borrow: bool = True, house: bool = True, folds: int = FOLDS,
          test_share: float = 0.2, command: str = '', log: Callable[[str], None] = print,
          progress: Optional[Callable[[int], None]] = None, cache: Optional[Path] = None,
          bag: int = BAG) -> dict:
    """Read gold, extract candidates, fit and save the profile; returns its card."""
    started = time.time()
    records, sources = [], []
    for source, path in enumerate(paths):  # each archive is a site of its own
        found = [r for r in read_records([path]) if use_all or side(r, test_share) == 'train']
        records += found
        sources += [source] * len(found)
    tagged = sum(1 for r in records if r.tags)
    if tagged < MIN_DOCS:
        raise ValueError(f'training needs at least {MIN_DOCS} documents with gold tags; found {tagged} '
                         f'of {len(records)} in ' + ', '.join(paths)
                         + ('' if use_all else ' (their train side; --all uses every document)'))
    log(f'{len(records)} training documents; extracting candidates on {jobs} process(es)')
    samples = extract(records, jobs=jobs, progress=progress, cache=cache)
    for sample, source in zip(samples, sources):
        sample.source = source
    ranker, card = fit_profile(samples, folds=folds, house=house, borrow=borrow, log=log, bag=bag)
    card.update(profile=profile, data=[Path(p).name for p in paths], docs=len(samples),
                split='all documents' if use_all else
                f'the train side of a split by duplicate group, test share {test_share}',
                date=time.strftime('%Y-%m-%d'), command=command,
                seconds=time.time() - started)
    save(ranker, out / profile, card)
    log(f'wrote {out / profile} in {card["seconds"]:.0f} s')
    return card
