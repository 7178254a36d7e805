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
from pathlib import Path
from typing import Callable, Iterable, Optional

import numpy as np

from .evaluate import GoldRecord, read_gold, record_text
from .house import HouseTags, bag
from .merge import Candidate, candidates
from .rank import DEFAULT_TOP, KINDS, Lookups, Ranker, design, feature_names, raw_features
from .tags import tag_key

FOLDS = 3
MIN_HOUSE_COUNT = 8
MAX_HOUSE_TAGS = 200  # the site's most frequent tags; fitting time grows with their number
HOUSE_VOCAB = 8000
HOUSE_WEIGHTS = 400  # largest weights kept per house tag


@dataclass
class Sample:
    """One training document, reduced to what fitting needs."""
    id: str
    group: str
    gold: set
    cands: list
    raw: np.ndarray
    bag: Counter


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
    for doc in _worker.pipe(chunk, ranked=False, errors='yield'):
        cands = candidates(doc) if doc.error is None else []
        out.append((doc.id, cands, raw_features(doc, cands), bag(doc)))
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
                cands = [Candidate(k, kind, [tuple(m) for m in mentions], Counter(forms), Counter(types))
                         for k, kind, mentions, forms, types in data['cands']]
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
                    'cands': [[c.key, c.kind, c.mentions, c.forms, c.types] for c in cands]}
            file.write(json.dumps(data, ensure_ascii=False) + '\n')


# ------------------------------------------------------------------ fitting

def fold_of(sample: Sample, folds: int, salt: int = 0) -> int:
    """A fold fixed by the duplicate group, so copies of a text never straddle two folds."""
    return int(sample.group[salt * 8:salt * 8 + 8], 16) % folds


def person_style(samples: list[Sample]) -> str:
    """``surname`` when the site tags people by surname more often than by full name."""
    full = surname = 0
    for s in samples:
        for c in s.cands:
            if c.kind == 'PER' and ' ' in c.key:
                full += c.key in s.gold
                surname += c.key.rsplit(' ', 1)[1] in s.gold
    return 'surname' if surname > full else 'full'


def output_key(cand: Candidate, person: str) -> str:
    if person == 'surname' and cand.kind == 'PER' and ' ' in cand.key:
        return cand.key.rsplit(' ', 1)[1]
    return cand.key


def count_lookups(samples: list[Sample], person: str) -> Lookups:
    df, tags = Counter(), Counter()
    for s in samples:
        df.update({output_key(c, person) for c in s.cands})
        tags.update(s.gold)
    return Lookups(len(samples), dict(df), dict(tags))


def matrix(samples: list[Sample], lookups: Lookups, person: str):
    xs, ys = [], []
    for s in samples:
        if not s.cands:
            continue
        keys = [output_key(c, person) for c in s.cands]
        xs.append(design(s.raw, [c.kind for c in s.cands], lookups.rows(keys)))
        ys.append(np.array([k in s.gold for k in keys], dtype=np.int8))
    return np.vstack(xs), np.concatenate(ys)


def fit_weights(x: np.ndarray, y: np.ndarray, c: float = 1.0) -> dict:
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    scaler = StandardScaler().fit(x)
    scale = np.where(scaler.scale_ > 0, scaler.scale_, 1.0)
    model = LogisticRegression(C=c, max_iter=2000).fit((x - scaler.mean_) / scale, y)
    return {'features': feature_names(), 'mean': scaler.mean_.tolist(), 'scale': scale.tolist(),
            'coef': model.coef_[0].tolist(), 'intercept': float(model.intercept_[0])}


def fit_house(samples: list[Sample], min_count: int = MIN_HOUSE_COUNT) -> Optional[HouseTags]:
    """One-vs-rest logistic regression over tf-idf lemma bags, for tags seen ``min_count``+ times."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    counts = Counter(t for s in samples for t in s.gold)
    tags = sorted(t for t, n in counts.most_common(MAX_HOUSE_TAGS) if n >= min_count)
    if not tags:
        return None
    vectorizer = TfidfVectorizer(analyzer=lambda b: b, sublinear_tf=True, min_df=2,
                                 max_features=HOUSE_VOCAB)
    docs = [[w for w, n in s.bag.items() for _ in range(n)] for s in samples]
    x = vectorizer.fit_transform(docs)
    rows, cols, weights, intercepts = [], [], [], []
    for index, tag in enumerate(tags):
        y = np.array([tag in s.gold for s in samples], dtype=np.int8)
        model = LogisticRegression(C=8.0, solver='liblinear', class_weight=None).fit(x, y)
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


def choose_cut(scored: list[tuple[list, set]], top: int = DEFAULT_TOP) -> tuple[float, int, float]:
    """The (threshold, min_tags) that maximize mean exact F1 over out-of-fold rankings."""
    docs = []
    for tags, gold in scored:
        tags = tags[:top]
        scores = np.array([t.score for t in tags])
        hits = np.cumsum([tag_key(t.text) in gold for t in tags]) if tags else np.zeros(0)
        docs.append((scores, hits, len(gold)))
    best = (0.5, 3, -1.0)
    for min_tags in range(1, 7):
        for threshold in np.arange(0.05, 0.8, 0.01):
            total = 0.0
            for scores, hits, n_gold in docs:
                kept = min(max(int((scores >= threshold).sum()), min_tags), len(scores))
                if kept == 0:
                    total += 1.0 if n_gold == 0 else 0.0
                elif hits[kept - 1]:
                    total += 2 * hits[kept - 1] / (kept + n_gold)
            value = total / max(len(docs), 1)
            if value > best[2]:
                best = (round(float(threshold), 2), min_tags, value)
    return best


def fit_profile(samples: list[Sample], folds: int = FOLDS, house: bool = True,
                log: Callable[[str], None] = print) -> tuple[Ranker, dict]:
    """Fit ranker, look-ups and house classifier; tune the cut out of fold."""
    person = person_style(samples)
    log(f'people are tagged by {"surname" if person == "surname" else "full name"}')
    scored = []
    for fold in range(folds):
        train = [s for s in samples if fold_of(s, folds) != fold]
        held = [s for s in samples if fold_of(s, folds) == fold]
        ranker = fit_ranker(train, person, folds, house)
        for s in held:
            scored.append((ranker.scored(s.cands, s.raw, s.bag), s.gold))
        log(f'fold {fold + 1}/{folds} fitted')
    threshold, min_tags, f1 = choose_cut(scored)
    log(f'cut: threshold {threshold:.2f}, at least {min_tags} tags; out-of-fold exact F1 {f1:.3f}')
    ranker = fit_ranker(samples, person, folds, house)
    ranker.threshold, ranker.min_tags = threshold, min_tags
    return ranker, {'oof_exact_f1': round(f1, 4), 'threshold': threshold, 'min_tags': min_tags,
                    'person': person, 'house_tags': len(ranker.house.tags) if ranker.house else 0}


def fit_ranker(samples: list[Sample], person: str, folds: int, house: bool) -> Ranker:
    """Ranker weights fitted on out-of-fold look-ups; final look-ups from all ``samples``."""
    xs, ys = [], []
    for fold in range(folds):
        inner = [s for s in samples if fold_of(s, folds, salt=1) != fold]
        outer = [s for s in samples if fold_of(s, folds, salt=1) == fold]
        x, y = matrix(outer, count_lookups(inner, person), person)
        xs.append(x)
        ys.append(y)
    weights = fit_weights(np.vstack(xs), np.concatenate(ys))
    weights.update(threshold=0.0, min_tags=0, person=person)
    lookups = count_lookups(samples, person)
    return Ranker(weights, lookups, fit_house(samples) if house else None)


# ------------------------------------------------------------------ saving

def save(ranker: Ranker, folder: Path, card: dict) -> None:
    """Write ``ranker.json``, ``lookups.json``, ``house.npz`` and ``CARD.md`` into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    weights = {'features': feature_names(), 'mean': ranker.mean.tolist(),
               'scale': ranker.scale.tolist(), 'coef': ranker.coef.tolist(),
               'intercept': ranker.intercept, 'threshold': ranker.threshold,
               'min_tags': ranker.min_tags, 'person': ranker.person}
    (folder / 'ranker.json').write_text(json.dumps(weights, indent=1), encoding='utf-8')
    lk = ranker.lookups
    # Keys seen once as a candidate and never as a tag carry no information: dropped.
    df = {k: n for k, n in lk.df.items() if n > 1 or k in lk.tags}
    (folder / 'lookups.json').write_text(
        json.dumps({'n_docs': lk.n_docs, 'df': df, 'tags': lk.tags}, ensure_ascii=False,
                   separators=(',', ':'), sort_keys=True), encoding='utf-8')
    if ranker.house is not None:
        ranker.house.save(folder)
    elif (folder / 'house.npz').exists():
        (folder / 'house.npz').unlink()
    (folder / 'CARD.md').write_text(model_card(card), encoding='utf-8')


def model_card(card: dict) -> str:
    lines = [f'# Model profile `{card["profile"]}`', '',
             f'- data: {", ".join(card["data"])} ({card["docs"]} training documents, '
             f'{card["split"]})',
             f'- date: {card["date"]}',
             f'- command: `{card["command"]}`',
             f'- fitted: logistic-regression ranker over {len(feature_names())} features '
             f'({", ".join(KINDS)} candidates), per-key look-ups, house-tag classifier over '
             f'{card["house_tags"]} frequent tags; people tagged by '
             f'{"surname" if card["person"] == "surname" else "full name"}',
             f'- cut: score ≥ {card["threshold"]:.2f}, at least {card["min_tags"]} tags',
             f'- out-of-fold exact macro F1 on the training side: {card["oof_exact_f1"]:.3f}',
             f'- training took {card["seconds"]:.0f} s', '']
    if card.get('figures'):
        lines += ['## Held-out figures', '', card['figures'], '']
    return '\n'.join(lines)


def train(paths: list[str], profile: str, out: Path, jobs: int = 1, use_all: bool = False,
          test_share: float = 0.2, command: str = '', log: Callable[[str], None] = print,
          progress: Optional[Callable[[int], None]] = None, cache: Optional[Path] = None) -> dict:
    """Read gold, extract candidates, fit and save the profile; returns its card."""
    started = time.time()
    records = read_records(paths)
    if not use_all:
        records = [r for r in records if side(r, test_share) == 'train']
    if not records:
        raise ValueError('no training records found in ' + ', '.join(paths))
    log(f'{len(records)} training documents; extracting candidates on {jobs} process(es)')
    samples = extract(records, jobs=jobs, progress=progress, cache=cache)
    ranker, card = fit_profile(samples, log=log)
    card.update(profile=profile, data=[Path(p).name for p in paths], docs=len(samples),
                split='all documents' if use_all else
                f'the train side of a split by duplicate group, test share {test_share}',
                date=time.strftime('%Y-%m-%d'), command=command,
                seconds=time.time() - started)
    save(ranker, out / profile, card)
    log(f'wrote {out / profile} in {card["seconds"]:.0f} s')
    return card
