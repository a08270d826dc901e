"""Geometry on arrays: back-projection, a robust rim plane, rim-size scale correction, and the box frame.

Camera frame: x right, y down, z along the optical axis (depth is z-depth); pixel centres at integers.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np


class GeometryError(ValueError):
    """Inputs from which no box geometry can be had (the message says which)."""


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


@dataclass
class Plane:
    """n . X = d in the camera frame, n a unit normal pointing towards the camera (so d < 0)."""

    n: np.ndarray
    d: float

    def height(self, points: np.ndarray) -> np.ndarray:
        """Signed distance above the plane (towards the camera)."""
        return points @ self.n - self.d

    def intersect(self, directions: np.ndarray) -> np.ndarray:
        """Where camera rays (N, 3) from the origin meet the plane."""
        t = self.d / (directions @ self.n)
        return directions * t[:, None]


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


@dataclass
class BoxFrame:
    """The box frame of the conventions (x along L, y along W, z up, rim at z = H) as a camera pose:
    X_camera = R @ X_rim + t, where X_rim has its origin at corner 1 on the rim plane and z towards the camera."""

    R: np.ndarray  # (3, 3)
    t: np.ndarray  # (3,)
    H: float
    l_first: bool  # True when the edge from corner 1 to corner 2 (canonical order) runs along L
    reprojection_px: float  # RMS distance of the reprojected rim corners from the given ones
    up: float = 1.0  # +1 or -1: the sign that makes the rim frame's z point towards the camera

    @property
    def plane(self) -> Plane:
        n = self.up * self.R[:, 2]
        return Plane(n, float(n @ self.t))

    def box(self, points: np.ndarray) -> np.ndarray:
        """Camera-frame points (N, 3) -> box frame (x, y, height above the floor)."""
        local = (points - self.t) @ self.R
        local[:, 2] = self.H + self.up * local[:, 2]
        return local


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


def box_frame(corners: np.ndarray, K: np.ndarray, lwh: tuple[float, float, float]) -> BoxFrame:
    """The rim's pose from its 4 corner pixels, K and the known L x W (PnP, SQPnP: a global solver that also copes with a straight-down view, where IPPE returns NaN).

    Which edge runs along L: both ways are solved and the one that reprojects better is kept (in a
    straight-down view of a nearly square box both fit; then it matters little).
    """
    L, W, H = lwh
    img = np.asarray(corners, np.float64).reshape(4, 1, 2)
    best = None
    for l_first in (True, False):
        a, b = (L, W) if l_first else (W, L)
        obj = np.array([[0, 0, 0], [a, 0, 0], [a, b, 0], [0, b, 0]], np.float64)
        if not l_first:
            obj = obj[:, [1, 0, 2]]  # x stays along L
        ok, rvec, tvec = cv2.solvePnP(obj, img, K, None, flags=cv2.SOLVEPNP_SQPNP)
        if not ok or not np.all(np.isfinite(tvec)):
            continue
        proj, _ = cv2.projectPoints(obj, rvec, tvec, K, None)
        err = float(np.sqrt(np.mean(np.sum((proj - img) ** 2, axis=-1))))
        R, t = cv2.Rodrigues(rvec)[0], tvec.reshape(3)
        up = 1.0 if R[:, 2] @ -t > 0 else -1.0
        if best is None or err < best.reprojection_px:
            best = BoxFrame(R, t, H, l_first, err, up)
    if best is None:
        raise GeometryError("no camera pose fits the rim corners")
    return best
