"""Keypoint metrics (shared/conventions.md, section 5): mean_px, mean_pct_diag, iou, pck_05, and the order-free
mean_px_any_start and mean_pct_diag_any_start (the distances at the best cyclic shift of the corner order).

Predicted corners are put in canonical order before scoring: ordering by angle around the centroid
turns a self-intersecting ("bow-tie") prediction into the simple quadrilateral through the same
points, so IoU is always between two simple polygons. Intersection areas come from clipping one
polygon by the other when one of them is convex (Sutherland-Hodgman), else from shapely.
"""

from __future__ import annotations

import numpy as np

from data.corners import canonical_order, match_order

METRIC_NAMES = ("mean_px", "mean_pct_diag", "iou", "pck_05", "mean_px_any_start", "mean_pct_diag_any_start")


def polygon_area(poly: np.ndarray) -> float:
    """Absolute area of a simple polygon (N, 2) by the shoelace formula."""
    x, y = poly[:, 0], poly[:, 1]
    return 0.5 * abs(float(np.dot(x, np.roll(y, -1)) - np.dot(np.roll(x, -1), y)))


def _signed_area(poly: np.ndarray) -> float:
    x, y = poly[:, 0], poly[:, 1]
    return 0.5 * float(np.dot(x, np.roll(y, -1)) - np.dot(np.roll(x, -1), y))


def is_convex(poly: np.ndarray, eps: float = 1e-9) -> bool:
    d = np.roll(poly, -1, axis=0) - poly
    cross = d[:, 0] * np.roll(d[:, 1], -1) - d[:, 1] * np.roll(d[:, 0], -1)
    return bool((cross >= -eps).all() or (cross <= eps).all())


def _inside(p, a: np.ndarray, edge: np.ndarray) -> bool:
    return edge[0] * (p[1] - a[1]) - edge[1] * (p[0] - a[0]) >= 0


def _crossing(p, q, a: np.ndarray, edge: np.ndarray) -> tuple[float, float]:
    """Where segment p-q crosses the line through a along edge."""
    p, q = np.asarray(p), np.asarray(q)
    d = q - p
    t = (edge[1] * (p[0] - a[0]) - edge[0] * (p[1] - a[1])) / (edge[0] * d[1] - edge[1] * d[0])
    return tuple(p + t * d)


def _clip(subject: np.ndarray, clipper: np.ndarray) -> np.ndarray:
    """Sutherland-Hodgman: the part of `subject` inside the convex, counter-clockwise `clipper`."""
    output = [tuple(p) for p in subject]
    for i in range(len(clipper)):
        a = clipper[i]
        edge = clipper[(i + 1) % len(clipper)] - a
        inputs, output = output, []
        if not inputs:
            break
        prev = inputs[-1]
        for cur in inputs:
            if _inside(cur, a, edge):
                if not _inside(prev, a, edge):
                    output.append(_crossing(prev, cur, a, edge))
                output.append(cur)
            elif _inside(prev, a, edge):
                output.append(_crossing(prev, cur, a, edge))
            prev = cur
    return np.array(output, dtype=np.float64).reshape(-1, 2)


def _ccw(poly: np.ndarray) -> np.ndarray:
    return poly if _signed_area(poly) >= 0 else poly[::-1]


def intersection_area(p: np.ndarray, q: np.ndarray) -> float:
    """Area of the intersection of two simple polygons."""
    if polygon_area(p) < 1e-12 or polygon_area(q) < 1e-12:
        return 0.0
    if is_convex(q):
        clipped = _clip(p, _ccw(q))
        return polygon_area(clipped) if len(clipped) >= 3 else 0.0
    if is_convex(p):
        return intersection_area(q, p)
    from shapely.geometry import Polygon

    return float(Polygon(p).buffer(0).intersection(Polygon(q).buffer(0)).area)


def quad_iou(pred: np.ndarray, truth: np.ndarray) -> float:
    """IoU of two quadrilaterals (4, 2); both are put in canonical order first. 0 when either has no area."""
    p, t = canonical_order(pred), canonical_order(truth)
    inter = intersection_area(p, t)
    union = polygon_area(p) + polygon_area(t) - inter
    return float(inter / union) if union > 1e-12 else 0.0


def corner_errors(pred: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """Euclidean distance (pixels) of each corner, both sets in canonical order."""
    return np.linalg.norm(canonical_order(pred) - canonical_order(truth), axis=1)


def corner_errors_any_start(pred: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """Corner distances (pixels) at the best cyclic shift of the predicted order: the error that does not count a
    canonical start that flipped (a near-diamond box, whose two top corners almost tie on x + y)."""
    t = canonical_order(truth)
    return np.linalg.norm(match_order(t, pred) - t, axis=1)


def keypoint_metrics(pred: np.ndarray, truth: np.ndarray, image_wh: tuple[int, int]) -> dict[str, float]:
    """Metrics of one image's corners in original pixels.

    pck_05 counts corners within 5 % of the box diagonal (the longer diagonal of the true quadrilateral).
    """
    err = corner_errors(pred, truth)
    free = corner_errors_any_start(pred, truth)
    t = canonical_order(truth)
    box_diag = max(np.linalg.norm(t[2] - t[0]), np.linalg.norm(t[3] - t[1])) if len(t) == 4 else np.ptp(t, 0).max()
    image_diag = float(np.hypot(*image_wh))
    return {
        "mean_px": float(err.mean()),
        "mean_pct_diag": float(err.mean() / image_diag * 100),
        "iou": quad_iou(pred, truth) if len(t) == 4 else float("nan"),
        "pck_05": float(np.mean(err <= 0.05 * box_diag)),
        "mean_px_any_start": float(free.mean()),
        "mean_pct_diag_any_start": float(free.mean() / image_diag * 100),
    }
