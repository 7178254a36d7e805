"""A boosted tree ensemble, fitted by scikit-learn, applied with numpy alone.

``extractor train`` fits a ``HistGradientBoostingClassifier`` and keeps its trees as flat
node arrays (``Forest.from_sklearn``, ``save`` -> ``ranker.npz``). For tagging, each tree is
laid out as a complete binary tree of its ensemble's depth (a leaf above the last level passes
every row down to copies of itself), so all trees step one level at once for all rows with a
few array look-ups: the children of ``i`` are ``2i+1`` and ``2i+2``. No scikit-learn and no
pickle at run time.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

MAX_DEPTH = 12  # a complete tree of this depth has 8,191 inner positions
FIELDS = ('feature', 'threshold', 'missing_left', 'left', 'right', 'is_leaf', 'value')


class Forest:
    """Trees as flat node arrays; ``roots[t]`` is the first node of tree ``t``."""

    def __init__(self, feature, threshold, missing_left, left, right, is_leaf, value,
                 roots, baseline: float, depth: int):
        self.feature = np.asarray(feature, dtype=np.int64)
        self.threshold = np.asarray(threshold, dtype=np.float64)
        self.missing_left = np.asarray(missing_left, dtype=bool)
        self.left = np.asarray(left, dtype=np.int64)
        self.right = np.asarray(right, dtype=np.int64)
        self.is_leaf = np.asarray(is_leaf, dtype=bool)
        self.value = np.asarray(value, dtype=np.float64)
        self.roots = np.asarray(roots, dtype=np.int64)
        self.baseline = float(baseline)
        self.depth = int(depth)
        self._complete()

    def _complete(self) -> None:
        """Per tree: split feature, threshold and NaN direction of each of the 2^depth - 1
        inner positions, and the value of each of the 2^depth last-level positions."""
        depth, trees = self.depth, len(self.roots)
        if depth > MAX_DEPTH:
            raise ValueError(f'trees of depth {depth}: fit them with max_depth <= {MAX_DEPTH}')
        inner, last = 2 ** depth - 1, 2 ** depth
        self.split_feature = np.zeros((trees, inner), dtype=np.int64)
        self.split_threshold = np.full((trees, inner), np.inf)  # pass-through: all go left
        self.split_nan_left = np.ones((trees, inner), dtype=bool)
        self.leaf_value = np.zeros((trees, last))
        for tree, root in enumerate(self.roots):
            stack = [(int(root), 0, 0)]  # node, level, position within the level
            while stack:
                node, level, position = stack.pop()
                if self.is_leaf[node] or level == depth:
                    span = 2 ** (depth - level)
                    self.leaf_value[tree, position * span:(position + 1) * span] = self.value[node]
                    continue
                at = 2 ** level - 1 + position
                self.split_feature[tree, at] = self.feature[node]
                self.split_threshold[tree, at] = self.threshold[node]
                self.split_nan_left[tree, at] = self.missing_left[node]
                stack.append((int(self.left[node]), level + 1, 2 * position))
                stack.append((int(self.right[node]), level + 1, 2 * position + 1))

    @classmethod
    def from_sklearn(cls, model) -> 'Forest':
        """The trees of a fitted binary ``HistGradientBoostingClassifier`` (numeric features)."""
        parts, roots, offset, depth = {name: [] for name in FIELDS}, [], 0, 0
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
        arrays = {name: np.concatenate(chunks) if chunks else np.zeros(0) for name, chunks in parts.items()}
        return cls(**arrays, roots=roots, baseline=float(np.ravel(model._baseline_prediction)[0]),
                   depth=depth)

    def raw(self, x: np.ndarray) -> np.ndarray:
        """Sum of the trees' leaf values (plus the baseline) for each row of ``x``."""
        x = np.asarray(x, dtype=np.float64)
        if not len(x) or not len(self.roots):
            return np.full(len(x), self.baseline)
        trees, inner = self.split_feature.shape
        features, thresholds = self.split_feature.ravel(), self.split_threshold.ravel()
        nan_left = self.split_nan_left.ravel()
        missing = np.isnan(x)
        values, missing = np.where(missing, 0.0, x).ravel(), missing.ravel()
        rows = (np.arange(len(x)) * x.shape[1])[:, None]
        first = np.arange(trees) * inner  # each tree's inner positions start here
        index = np.broadcast_to(first, (len(x), trees)).copy()
        for _ in range(self.depth):
            cell = rows + features[index]
            left = np.where(missing[cell], nan_left[index], values[cell] <= thresholds[index])
            index += index - first + 1 + ~left  # position p -> 2p + 1 (left) or 2p + 2
        # last-level position p of tree t: leaf t * (inner + 1) + p - inner
        return self.baseline + self.leaf_value.ravel()[index + np.arange(trees) - inner].sum(axis=1)

    def probabilities(self, x: np.ndarray) -> np.ndarray:
        return 1.0 / (1.0 + np.exp(-self.raw(x)))

    def save(self, path: Path) -> None:
        np.savez_compressed(
            path, feature=self.feature.astype(np.int32), threshold=self.threshold,
            missing_left=self.missing_left, left=self.left.astype(np.int32),
            right=self.right.astype(np.int32), is_leaf=self.is_leaf,
            value=self.value, roots=self.roots.astype(np.int32),
            baseline=np.array(self.baseline), depth=np.array(self.depth))

    @classmethod
    def load(cls, path: Path) -> 'Forest':
        data = np.load(path, allow_pickle=False)
        return cls(*(data[name] for name in FIELDS), roots=data['roots'],
                   baseline=float(data['baseline']), depth=int(data['depth']))
