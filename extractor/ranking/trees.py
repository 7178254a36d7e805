"""Boosted tree ensembles, fitted by scikit-learn, applied with numpy alone.

``extractor train`` fits a few ``HistGradientBoostingClassifier``s (a bag: each its own
seed and features per split; the average of their probabilities varies less from fit to
fit than any one) and keeps their trees as flat node arrays (``training.trees``; the
profile stores them in ``ranker.npz``); ``members[m]`` is the first tree of member ``m``. For tagging, each tree is
laid out as a complete binary tree of its ensemble's depth (a leaf above the last level passes
every row down to copies of itself), so all trees of a member step one level at once for a
block of rows with a few array look-ups: the children of ``i`` are ``2i+1`` and ``2i+2``.
(A member and a block at a time keep the arrays in the cache.) No scikit-learn and no
pickle at run time.
"""
from __future__ import annotations

from typing import Optional

import numpy as np

MAX_DEPTH = 12  # a complete tree of this depth has 8,191 inner positions
BLOCK = 128  # rows walked at once
FIELDS = ('feature', 'threshold', 'missing_left', 'left', 'right', 'is_leaf', 'value')


class Forest:
    """Trees as flat node arrays; ``roots[t]`` is the first node of tree ``t``, ``members[m]``
    the first tree of ensemble ``m``, ``baseline[m]`` its starting log-odds."""

    def __init__(self, feature, threshold, missing_left, left, right, is_leaf, value,
                 roots, baseline, depth: int, members=(0,)):
        self.feature = np.asarray(feature, dtype=np.int64)
        self.threshold = np.asarray(threshold, dtype=np.float64)
        self.missing_left = np.asarray(missing_left, dtype=bool)
        self.left = np.asarray(left, dtype=np.int64)
        self.right = np.asarray(right, dtype=np.int64)
        self.is_leaf = np.asarray(is_leaf, dtype=bool)
        self.value = np.asarray(value, dtype=np.float64)
        self.roots = np.asarray(roots, dtype=np.int64)
        self.baseline = np.atleast_1d(np.asarray(baseline, dtype=np.float64))
        self.members = np.atleast_1d(np.asarray(members, dtype=np.int64))
        if len(self.baseline) != len(self.members):
            raise ValueError('one baseline per member ensemble')
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

    def raw(self, x: np.ndarray, member: Optional[int] = None,
            trees: Optional[int] = None) -> np.ndarray:
        """Each member's log-odds for each row of ``x`` (rows x members): its baseline plus
        the sum of its trees' leaf values; ``member``: that one's alone (rows x 1); ``trees``:
        its first so many trees only (boosting's first rounds carry most of the signal)."""
        x = np.asarray(x, dtype=np.float64)
        members = range(len(self.members)) if member is None else [member]
        if not len(x) or not len(self.roots):
            return np.tile(self.baseline[list(members)], (len(x), 1))
        if len(x) > BLOCK:  # a block of rows at a time: the walk's arrays stay in the cache
            return np.concatenate([self.raw(x[i:i + BLOCK], member, trees)
                                   for i in range(0, len(x), BLOCK)])
        rows, columns = x.shape
        # Each row twice: NaN as -inf (which goes left of any threshold), then as is (NaN goes
        # right of every one); a split reads the copy its missing values go to.
        both = np.hstack([np.where(np.isnan(x), -np.inf, x), x]).ravel()
        starts = (np.arange(rows) * 2 * columns)[:, None]
        # one member at a time: its trees' nodes stay in the cache too
        return np.column_stack([self._member_raw(m, both, starts, columns, trees) for m in members])

    def _member_raw(self, member: int, both: np.ndarray, starts: np.ndarray,
                    columns: int, first_trees: Optional[int] = None) -> np.ndarray:
        stop = self.members[member + 1] if member + 1 < len(self.members) else len(self.roots)
        if first_trees is not None:
            stop = min(stop, self.members[member] + first_trees)
        trees = slice(self.members[member], stop)
        count, inner = stop - self.members[member], self.split_feature.shape[1]
        cells = (self.split_feature[trees] + np.where(self.split_nan_left[trees], 0, columns)).ravel()
        thresholds = self.split_threshold[trees].ravel()
        first = np.arange(count) * inner  # each tree's inner positions start here
        step = 2 - first
        index = np.broadcast_to(first, (len(starts), count)).copy()
        for _ in range(self.depth):
            left = both[starts + cells[index]] <= thresholds[index]
            # position p = index - first -> 2p + 1 (left) or 2p + 2, in place
            index += index
            index += step
            index -= left
        # last-level position p of tree t: leaf t * (inner + 1) + p - inner
        leaves = self.leaf_value[trees].ravel()[index + np.arange(count) - inner]
        return self.baseline[member] + leaves.sum(axis=1)

    def probabilities(self, x: np.ndarray, member: Optional[int] = None,
                      trees: Optional[int] = None) -> np.ndarray:
        """The members' mean probability for each row of ``x``; ``member`` (and its first
        ``trees``): that one's alone (a quicker, rougher estimate)."""
        return (1.0 / (1.0 + np.exp(-self.raw(x, member, trees)))).mean(axis=1)

    def arrays(self) -> dict[str, np.ndarray]:
        """What ``from_arrays`` reads back (``profile`` stores it)."""
        return dict(feature=self.feature.astype(np.int32), threshold=self.threshold,
                    missing_left=self.missing_left, left=self.left.astype(np.int32),
                    right=self.right.astype(np.int32), is_leaf=self.is_leaf, value=self.value,
                    roots=self.roots.astype(np.int32), baseline=self.baseline,
                    depth=np.array(self.depth), members=self.members.astype(np.int32))

    @classmethod
    def from_arrays(cls, data) -> 'Forest':
        return cls(*(data[name] for name in FIELDS), roots=data['roots'],
                   baseline=data['baseline'], depth=int(data['depth']), members=data['members'])
