"""An analytic box scene for the volume tests: exact z-depth of an open, zero-thickness box with a flat content
layer (optionally a raised block), standing on the ground, seen by a pinhole camera at any tilt and yaw."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from data.corners import canonical_order


@dataclass
class View:
    depth: np.ndarray  # (h, w) z-depth, metres
    K: np.ndarray
    corners: np.ndarray  # (4, 2) canonical order


def render(L: float, W: float, H: float, level: float, tilt_deg: float = 0.0, yaw_deg: float = 0.0, size=(256, 192), fov_deg=55.0,
           distance: float | None = None, block: tuple[float, float, float, float, float] | None = None, wall: float = 0.0) -> View:
    """Content fills the box to `level` metres (may exceed H: then it is a slab standing out of the box);
    `block` = (x0, y0, x1, y1, top) adds a cuboid on it; `wall` > 0 gives the walls that thickness (a rim top to see)."""
    w, h = size
    f = 0.5 * w / math.tan(math.radians(fov_deg) / 2)
    K = np.array([[f, 0, (w - 1) / 2], [0, f, (h - 1) / 2], [0, 0, 1.0]])
    t, y = math.radians(tilt_deg), math.radians(yaw_deg)
    x_cam, y_cam, z_cam = np.array([1.0, 0, 0]), np.array([0, -1.0, 0]), np.array([0, 0, -1.0])
    ct, st = math.cos(t), math.sin(t)  # tilt about the camera's x axis
    y_cam, z_cam = ct * y_cam + st * z_cam, -st * y_cam + ct * z_cam
    cy, sy = math.cos(y), math.sin(y)
    Rz = np.array([[cy, -sy, 0], [sy, cy, 0], [0, 0, 1.0]])
    R = Rz @ np.stack([x_cam, y_cam, z_cam], axis=1)  # camera -> world
    target = np.array([L / 2, W / 2, H / 2])
    distance = distance or 1.6 * max(L, W, H) / math.tan(math.radians(fov_deg) / 2)
    C = target - distance * R[:, 2]
    u, v = np.meshgrid(np.arange(w, dtype=np.float64), np.arange(h, dtype=np.float64))
    d_cam = np.stack([(u - K[0, 2]) / K[0, 0], (v - K[1, 2]) / K[1, 1], np.ones_like(u)], -1).reshape(-1, 3)
    d = d_cam @ R.T
    best = np.full(len(d), np.inf)

    def hit(axis, value, ranges, hole=None):
        with np.errstate(divide="ignore", invalid="ignore"):
            tt = (value - C[axis]) / d[:, axis]
        P = C + tt[:, None] * d
        ok = tt > 0
        for ax, (lo, hi) in ranges.items():
            ok &= (P[:, ax] >= lo) & (P[:, ax] <= hi)
        if hole is not None:  # a ring: leave out the inner rectangle
            ok &= ~((P[:, 0] > hole[0]) & (P[:, 0] < hole[1]) & (P[:, 1] > hole[2]) & (P[:, 1] < hole[3]))
        np.minimum(best, np.where(ok, tt, np.inf), out=best)

    top = level
    hit(2, top, {0: (0, L), 1: (0, W)})  # the content surface (or the floor when level = 0)
    for axis, value, other, span in ((0, 0.0, 1, W), (0, L, 1, W), (1, 0.0, 0, L), (1, W, 0, L)):
        hit(axis, value, {other: (0, span), 2: (0, max(H, top))})  # walls (and the slab's sides above the rim)
    if wall > 0:
        hit(2, H, {0: (-wall, L + wall), 1: (-wall, W + wall)}, hole=(0, L, 0, W))  # the rim's top
        for axis, value, other, span in ((0, -wall, 1, W + wall), (0, L + wall, 1, W + wall), (1, -wall, 0, L + wall), (1, W + wall, 0, L + wall)):
            hit(axis, value, {other: (-wall, span), 2: (0, H)})  # outer faces
    hit(2, 0.0, {})  # the ground (inside the box it lies behind the content)
    if block is not None:
        x0, y0, x1, y1, bt = block
        hit(2, bt, {0: (x0, x1), 1: (y0, y1)})
        for axis, value, other, lo, hi in ((0, x0, 1, y0, y1), (0, x1, 1, y0, y1), (1, y0, 0, x0, x1), (1, y1, 0, x0, x1)):
            hit(axis, value, {other: (lo, hi), 2: (top, bt)})
    depth = np.where(np.isfinite(best), best, 0.0).reshape(h, w)  # z-depth: d_cam has z = 1
    rim = np.array([[0, 0, H], [L, 0, H], [L, W, H], [0, W, H]], np.float64)
    pc = (rim - C) @ R
    uv = pc[:, :2] / pc[:, 2:] * [K[0, 0], K[1, 1]] + K[:2, 2]
    return View(depth.astype(np.float32), K, canonical_order(uv))
