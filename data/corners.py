"""The canonical corner order of shared/conventions.md, section 1."""

from __future__ import annotations

import numpy as np


def canonical_order(points: np.ndarray) -> np.ndarray:
    """Sorts points clockwise on screen (x right, y down) around their centroid, first the smallest x + y.

    Args:
      points: (N, 2) pixel coordinates.
    Returns:
      (N, 2) float64, the same points reordered.
    """
    pts = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    centre = pts.mean(axis=0)
    # With y pointing down, increasing atan2 angle runs clockwise on screen.
    angles = np.arctan2(pts[:, 1] - centre[1], pts[:, 0] - centre[0])
    ordered = pts[np.argsort(angles, kind="stable")]
    start = int(np.argmin(ordered.sum(axis=1)))
    return np.roll(ordered, -start, axis=0)


def match_order(reference: np.ndarray, points: np.ndarray) -> np.ndarray:
    """`points` in the order of `reference` (both (N, 2), the same corners seen twice): clockwise, at the cyclic
    shift nearest to it (the smallest summed distance). A mirrored picture's corners come back counter-clockwise,
    and a canonical start flips on a near-diamond box: this undoes both."""
    pts = canonical_order(points)
    return min((np.roll(pts, s, axis=0) for s in range(len(pts))), key=lambda p: float(np.linalg.norm(p - reference, axis=1).sum()))
