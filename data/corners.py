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
