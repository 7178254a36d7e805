"""Fitting a profile: rows made out of fold, trees on them, the cut tuned out of fold.

The documents are dealt into K folds by duplicate group. Each fold's rows (its items, their
features and labels) are made with the archive of the other folds, so no look-up sees its own
label; the trees fit on all of them; the cut (``expected``, ``least``) is the one whose mean
exact F1 is highest when trees fitted without a fold rank that fold. Then the archive is
refitted on every document.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Optional

import numpy as np

from ..ranking.items import items
from ..ranking.ranker import Ranker, best_first, cut
from .archive import Archive
from .data import Sample, fold_of
from .trees import BAG, fit_trees, forest_of


FOLDS = 3
EXPECTED = (0.5, 0.75, 1.0, 1.25, 1.5, 1.75, 2.0, 2.5)  # the cut's choices, tuned out of fold
LEAST = (1, 2, 3, 4, 5, 6, 8, 10, 12)  # generous styles (the seed's) want the higher ones


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


def choose_cut(rows: list[Rows], folds: int, bag: int = BAG,
               floors: tuple = LEAST) -> tuple[float, int, float]:
    """The cut's (``expected``, ``least``) that maximize mean exact F1, and that F1, with
    trees fitted out of fold; ``least`` one of ``floors``."""
    ranked = []
    for fold in range(folds):
        forest = forest_of(fit_trees([r for r in rows if r.fold != fold], bag))
        for r in rows:
            if r.fold == fold:
                # every item by the whole bag: at tagging time the unlikely ones keep a rougher
                # score (``Ranker.screened``) and only likely candidates offer other spellings
                probs = forest.probabilities(r.x)
                order = best_first(r.found, probs)
                ranked.append((probs[order], np.cumsum(r.y[order]), len(r.gold)))
    scores = {(e, n): mean_f1(ranked, e, n) for e in EXPECTED for n in floors}
    expected, least = max(scores, key=scores.get)
    return expected, least, scores[expected, least]


def fit_profile(samples: list[Sample], folds: int = FOLDS, house: bool = True,
                borrow: bool = True, log: Callable[[str], None] = print,
                salt: int = 1, bag: int = BAG, least: Optional[int] = None,
                once: bool = False) -> tuple[Ranker, dict]:
    """Fit the trees on out-of-fold rows, tune the cut out of fold, keep the whole archive.

    ``borrow``: the neighbours may propose tags the article does not contain (a site's
    story tags); without it they only vote for the article's candidates and house tags.
    ``salt`` (0-4) picks which bits of the duplicate-group hash deal the folds: other
    salts give other, equally valid fits, and their spread is the fitting's own noise.
    ``bag``: how many tree ensembles are averaged (more: steadier, slower to tag).
    ``least``: the cut's floor, fixed (1: a short text gets only what it names; the seed
    style) instead of tuned out of fold among ``LEAST``. ``once``: a tag that only repeats a
    likelier one (an abbreviation, a name without its tail: ``ranking.once``) gives way to
    the next (the seed style: each thing once).
    """
    rows = out_of_fold_rows(samples, folds, house, borrow, log, salt)
    expected, least, f1 = choose_cut(rows, folds, bag, LEAST if least is None else (least,))
    log(f'cut: expected gold = {expected:.2f} x the probabilities, at least {least} tags; '
        f'out-of-fold exact F1 {f1:.3f}')
    archive = Archive.of(samples, house)
    ranker = Ranker(forest_of(fit_trees(rows, bag)), archive.lookups, archive.house,
                    archive.neighbours, expected, least, borrow, archive.sites, once=once)
    return ranker, {'oof_exact_f1': round(f1, 4), 'folds': folds, 'bag': bag, 'expected': expected,
                    'least': least, 'borrow': borrow, 'once': once,
                    'house_tags': len(archive.house.tags) if archive.house else 0,
                    'sites': len(archive.sites.habits) if archive.sites else 1,
                    'rows': sum(len(r.found) for r in rows)}
