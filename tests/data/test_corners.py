"""data/corners.py: the canonical corner order of the conventions."""

from __future__ import annotations

import itertools

import numpy as np

from data.corners import canonical_order


def _signed_area(pts: np.ndarray) -> float:
    x, y = pts[:, 0], pts[:, 1]
    return 0.5 * float(np.sum(x * np.roll(y, -1) - np.roll(x, -1) * y))


def test_any_input_order_gives_the_same_clockwise_order():
    rng = np.random.default_rng(1)
    for _ in range(50):
        centre = rng.uniform(50, 200, 2)
        angles = np.sort(rng.uniform(0, 2 * np.pi, 4))
        quad = centre + np.stack([np.cos(angles), np.sin(angles)], 1) * rng.uniform(20, 60, (4, 1))
        first = canonical_order(quad)
        for perm in itertools.permutations(range(4)):
            assert np.array_equal(canonical_order(quad[list(perm)]), first)
        # clockwise on screen (y down) has a positive shoelace sum in image coordinates
        assert _signed_area(first) > 0
        assert np.argmin(first.sum(1)) == 0


def test_axis_aligned_rectangle():
    rect = np.array([[10, 50], [90, 10], [10, 10], [90, 50]], float)
    assert canonical_order(rect).tolist() == [[10, 10], [90, 10], [90, 50], [10, 50]]
