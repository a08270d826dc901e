"""The rim's pose from its 4 corner pixels, K and the box size (PnP): the box frame of shared/conventions.md.

Camera frame: x right, y down, z along the optical axis; pixel centres at integers. Used by the fill geometry
(volume/) and by the learned fill model's rectification of the opening (fillnet/).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np


class GeometryError(ValueError):
    """Inputs from which no box geometry can be had (the message says which)."""


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
        try:
            ok, rvec, tvec = cv2.solvePnP(obj, img, K, None, flags=cv2.SOLVEPNP_SQPNP)
        except cv2.error:  # degenerate corners (all in one point or on one line): SQPnP asserts
            continue
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
