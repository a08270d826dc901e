"""Independent references for the tests: the same answers as the project's code, computed another way."""

from __future__ import annotations

import numpy as np
from shapely.geometry import MultiPoint
from shapely.geometry.polygon import orient


def screen_clockwise(points: np.ndarray) -> np.ndarray:
    """The conventions' canonical order of a convex quadrilateral's corners, by shapely instead of data/corners.py:
    the convex hull oriented so that its shoelace area is positive (clockwise on screen, where y points down),
    started at the corner with the smallest x + y."""
    pts = np.asarray(points, np.float64).reshape(-1, 2)
    hull = orient(MultiPoint([tuple(p) for p in pts]).convex_hull, sign=1.0)
    ring = np.array(hull.exterior.coords)[:-1]
    assert len(ring) == len(pts), "not a convex polygon"
    return np.roll(ring, -int(np.argmin(ring.sum(1))), axis=0)


def label_by_default_rule(fill: float, overfill: bool) -> str:
    """The default OK / NOK rule written out (configs.LabelRule: NOK under 60 % fill, or when overfilled)."""
    return "NOK" if fill < 0.6 or overfill else "OK"
