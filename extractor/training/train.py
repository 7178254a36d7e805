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

import time
from pathlib import Path
from typing import Callable, Optional

from ..ranking import profile as profile_file
from ..ranking.features import KINDS, feature_names
from .data import read_records, side
from .extract import extract
from .fit import FOLDS, fit_profile
from .trees import BAG, TREES

SHOWN_ERRORS = 10  # bad gold lines named one by one; the rest are counted
MIN_DOCS = 10  # tagged documents: below this the folds, the cut and the archive mean nothing


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
          bag: int = BAG, least: Optional[int] = None, once: bool = False) -> dict:
    """Read gold, extract candidates, fit and save the profile; returns its card."""
    started = time.time()
    records, sources, skipped = [], [], []
    for source, path in enumerate(paths):  # each archive is a site of its own
        found = [r for r in read_records([path], skipped)
                 if use_all or side(r, test_share) == 'train']
        records += found
        sources += [source] * len(found)
    for error in skipped[:SHOWN_ERRORS]:
        log(f'warning: skipped {error}')
    if skipped:
        log(f'warning: skipped {len(skipped)} bad gold record(s) in all; training on the rest')
    tagged = sum(1 for r in records if r.tags)
    if tagged < MIN_DOCS:
        raise ValueError(f'training needs at least {MIN_DOCS} documents with gold tags; found {tagged} '
                         f'of {len(records)} in ' + ', '.join(paths)
                         + ('' if use_all else ' (their train side; --all uses every document)'))
    log(f'{len(records)} training documents; extracting candidates on {jobs} process(es)')
    samples = extract(records, jobs=jobs, progress=progress, cache=cache)
    for sample, source in zip(samples, sources):
        sample.source = source
    ranker, card = fit_profile(samples, folds=folds, house=house, borrow=borrow, log=log, bag=bag,
                               least=least, once=once)
    card.update(profile=profile, data=[Path(p).name for p in paths], docs=len(samples),
                split='all documents' if use_all else
                f'the train side of a split by duplicate group, test share {test_share}',
                date=time.strftime('%Y-%m-%d'), command=command,
                seconds=time.time() - started)
    profile_file.save(ranker, out / profile, {'trees': TREES, 'bag': card['bag']}, model_card(card))
    log(f'wrote {out / profile} in {card["seconds"]:.0f} s')
    return card
