"""Geometry on arrays: back-projection, a robust rim plane, rim-size scale correction; the box frame (the rim's pose
from its corners) lives in data/box_pose.py, where the task packages reach it too, and is re-exported here.

Camera frame: x right, y down, z along the optical axis (depth is z-depth); pixel centres at integers.
"""

from __future__ import annotations

import cv2
import numpy as np

from data.box_pose import BoxFrame, GeometryError, Plane, box_frame

__all__ = ["BoxFrame", "GeometryError", "Plane", "backproject", "box_frame", "RIM_THRESHOLD_FLOOR_M", "RIM_THRESHOLD_SHARE", "check_quad", "fit_plane", "rays", "fit_rim_plane", "rim_samples", "rim_scale", "valid_rim_samples"]


def backproject(u: np.ndarray, v: np.ndarray, z: np.ndarray, K: np.ndarray) -> np.ndarray:
    """Pixels (u, v) at z-depth z -> camera-frame points (..., 3)."""
    x = (u - K[0, 2]) / K[0, 0] * z
    y = (v - K[1, 2]) / K[1, 1] * z
    return np.stack([x, y, z], axis=-1)


def rays(uv: np.ndarray, K: np.ndarray) -> np.ndarray:
    """Camera-frame ray directions (N, 3) with z = 1 through pixels uv (N, 2)."""
    return np.stack([(uv[:, 0] - K[0, 2]) / K[0, 0], (uv[:, 1] - K[1, 2]) / K[1, 1], np.ones(len(uv))], axis=-1)


def check_quad(corners: np.ndarray, width: int, height: int) -> None:
    """Refuses corners that are not 4 points of a convex quadrilateral inside the image."""
    c = np.asarray(corners, np.float64)
    if c.shape != (4, 2) or not np.all(np.isfinite(c)):
        raise GeometryError(f"corners must be 4 finite (x, y) points, got shape {c.shape}")
    outside = [i + 1 for i, (x, y) in enumerate(c) if not (-0.5 <= x <= width - 0.5 and -0.5 <= y <= height - 0.5)]
    if outside:
        raise GeometryError(f"corner {', '.join(map(str, outside))} lies outside the {width}x{height} image")
    edges = np.roll(c, -1, axis=0) - c
    cross = edges[:, 0] * np.roll(edges, -1, axis=0)[:, 1] - edges[:, 1] * np.roll(edges, -1, axis=0)[:, 0]
    if not (np.all(cross > 0) or np.all(cross < 0)):
        raise GeometryError("the corners do not form a convex quadrilateral")
    if abs(cv2.contourArea(c.astype(np.float32))) < 16:
        raise GeometryError("the corners enclose almost no area")


def _plane_through(points: np.ndarray) -> Plane | None:
    centre = points.mean(axis=0)
    _, sv, vt = np.linalg.svd(points - centre)
    n = vt[-1]
    if sv[1] < 1e-9:  # collinear
        return None
    if n @ centre > 0:  # face the camera: the origin is on the positive side
        n = -n
    return Plane(n, float(n @ centre))


def fit_plane(points: np.ndarray, threshold: float, iterations: int = 200, seed: int = 0) -> tuple[Plane, np.ndarray]:
    """RANSAC plane (3-point samples, inliers within `threshold` metres), refined by least squares on the inliers.

    Returns (plane, inlier mask).
    """
    points = np.asarray(points, np.float64)
    if len(points) < 3:
        raise GeometryError(f"only {len(points)} valid rim depth samples; at least 3 are needed")
    rng = np.random.default_rng(seed)
    best, best_count = None, -1
    for _ in range(iterations):
        plane = _plane_through(points[rng.choice(len(points), 3, replace=False)])
        if plane is None:
            continue
        count = int((np.abs(plane.height(points)) < threshold).sum())
        if count > best_count:
            best, best_count = plane, count
    if best is None:
        raise GeometryError("the rim depth samples are collinear")
    inliers = np.abs(best.height(points)) < threshold
    refined = _plane_through(points[inliers]) if inliers.sum() >= 3 else None
    plane = refined or best
    return plane, np.abs(plane.height(points)) < threshold


def rim_samples(depth: np.ndarray, corners: np.ndarray, per_edge: int = 24, radius: int = 2) -> np.ndarray:
    """(u, v, z) of the rim along the 4 edges of the opening: at each sample the nearest valid depth within
    `radius` pixels (the rim is the top of the walls: the content inside and the ground outside lie farther)."""
    h, w = depth.shape
    out = []
    c = np.asarray(corners, np.float64)
    for i in range(4):
        a, b = c[i], c[(i + 1) % 4]
        for t in np.linspace(0.0, 1.0, per_edge, endpoint=False):
            x, y = np.rint(a + t * (b - a)).astype(int)
            y0, y1, x0, x1 = max(0, y - radius), min(h, y + radius + 1), max(0, x - radius), min(w, x + radius + 1)
            win = depth[y0:y1, x0:x1]
            ok = np.isfinite(win) & (win > 0)
            if not ok.any():
                continue
            k = np.argmin(np.where(ok, win, np.inf))
            out.append((x0 + k % win.shape[1], y0 + k // win.shape[1], win.flat[k]))
    return np.asarray(out, np.float64).reshape(-1, 3)


def valid_rim_samples(depth: np.ndarray, valid: np.ndarray, corners: np.ndarray) -> np.ndarray:
    """rim_samples of the valid depth; GeometryError where fewer than 8 are found."""
    samples = rim_samples(np.where(valid, depth, 0), corners)
    if len(samples) < 8:
        raise GeometryError("the depth is invalid around the rim corners")
    return samples


RIM_THRESHOLD_SHARE = 0.01  # the rim plane's inlier threshold: this share of the rim samples' median depth ...
RIM_THRESHOLD_FLOOR_M = 0.004  # ... but at least this


def fit_rim_plane(samples: np.ndarray, K: np.ndarray) -> tuple[Plane, np.ndarray]:
    """The rim plane through (u, v, z) rim samples (fit_plane, inliers within 1 % of their median depth, 4 mm at
    least): (plane, inlier mask)."""
    points = backproject(samples[:, 0], samples[:, 1], samples[:, 2], K)
    return fit_plane(points, threshold=max(RIM_THRESHOLD_FLOOR_M, RIM_THRESHOLD_SHARE * float(np.median(samples[:, 2]))))


def edge_lengths(corners_3d: np.ndarray) -> np.ndarray:
    return np.linalg.norm(np.roll(corners_3d, -1, axis=0) - corners_3d, axis=1)


def rim_scale(plane: Plane, corners: np.ndarray, K: np.ndarray, L: float, W: float, l_first: bool) -> float:
    """The factor that makes the depth's rim measure L x W.

    The rim corners are the corner pixels' rays meeting the plane fitted to the depth; scaling the depth (and
    so the plane) by s scales them by s, so s = known size / measured size, summed over the four edges.
    """
    edges = edge_lengths(plane.intersect(rays(np.asarray(corners, np.float64), K)))
    known = np.array([L, W, L, W] if l_first else [W, L, W, L])
    return float(known.sum() / edges.sum())
