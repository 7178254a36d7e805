"""The ranker's trees fitted by scikit-learn, and kept as the numpy ``Forest`` that walks them."""
from __future__ import annotations

import numpy as np

from ..ranking.trees import FIELDS, Forest


TREES = dict(max_iter=200, learning_rate=0.08, max_depth=6, max_leaf_nodes=31,
             min_samples_leaf=100, l2_regularization=1.0,  # shallow: cheap to walk at run time
             max_features=0.7)  # each split sees 70% of the features: the members differ
BAG = 4  # ensembles whose probabilities are averaged (seeds 0..BAG-1)


def fit_trees(rows: list, bag: int = BAG) -> list:
    """``bag`` of scikit-learn's boosted tree ensembles on ``rows`` (``fit.Rows``: features
    ``x``, labels ``y``), one per seed (``forest_of`` keeps them and averages them)."""
    from sklearn.ensemble import HistGradientBoostingClassifier

    x = np.vstack([r.x for r in rows])
    y = np.concatenate([r.y for r in rows])
    # A column with no value at all (no house classifier: a small archive, or --no-house)
    # cannot be binned; as zeros it is never split on, and the run-time NaNs are never read.
    x[:, np.isnan(x).all(axis=0)] = 0.0
    return [HistGradientBoostingClassifier(**TREES, random_state=seed).fit(x, y)
            for seed in range(bag)]


def forest_of(models) -> Forest:
    """The trees of fitted binary ``HistGradientBoostingClassifier``s (numeric features):
    one model, or a list whose probabilities are averaged."""
    models = models if isinstance(models, (list, tuple)) else [models]
    parts, roots, depth = {name: [] for name in FIELDS}, [], 0
    members = []
    for model in models:
        members.append(len(roots))
        depth = max(depth, _add(model, parts, roots))
    arrays = {name: np.concatenate(chunks) if chunks else np.zeros(0) for name, chunks in parts.items()}
    return Forest(**arrays, roots=roots, depth=depth, members=members,
                  baseline=[float(np.ravel(m._baseline_prediction)[0]) for m in models])


def _add(model, parts: dict, roots: list) -> int:
    """Append ``model``'s trees to ``parts`` and ``roots``; their depth."""
    offset, depth = sum(len(chunk) for chunk in parts['value']), 0
    for (tree,) in model._predictors:
        nodes = tree.nodes
        if nodes['is_categorical'].any():
            raise ValueError('categorical splits are not supported')
        roots.append(offset)
        parts['feature'].append(nodes['feature_idx'])
        parts['threshold'].append(nodes['num_threshold'])
        parts['missing_left'].append(nodes['missing_go_to_left'])
        parts['left'].append(nodes['left'].astype(np.int64) + offset)
        parts['right'].append(nodes['right'].astype(np.int64) + offset)
        parts['is_leaf'].append(nodes['is_leaf'])
        parts['value'].append(nodes['value'])
        depth = max(depth, int(nodes['depth'].max()))
        offset += len(nodes)
    return depth

