"""Depth -> heights above the box floor on a top-down grid of the opening, with the hidden-floor rule.

Every valid pixel is back-projected, placed in the box frame (x along L, y along W, z up from the floor,
which lies H below the rim plane) and binned onto the grid: what a camera straight above would see,
whatever the tilt and perspective of the photo. Only surfaces that face up (at most `max_slope_deg` from
horizontal, normals from the neighbouring pixels) count: the inner wall faces and the sides of items would
otherwise put mid heights over the floor. A cell's height is the mean of its points, which weighs a cell
that an item's edge crosses by area as fill does (on fully seen straight-down synthetic scenes the highest
point per cell overestimated fill by 0.64 pp, the mean is off by 0.34). A cell left empty among seen neighbours (oblique views
foreshorten pixels, so a row of cells can miss every point) takes their mean; a cell by a wall with points
on steep surfaces only (where the floor meets the wall) takes its lowest point.

Hidden floor: in oblique views the near wall, and tall content, hide some cells. The rule:
- cells within `wall_margin` (plus one cell) of a wall, and cells that the walls alone would hide at the
  height of their nearest seen neighbour (the near wall's shadow, see `wall_shadow_height`), take that
  neighbour's height, but never more than their carving bound (each ray that passes over a cell on its way
  down proves the cell empty above the ray);
- any other hidden cell is hidden by content. By default ("floor") it counts as empty floor: the camera
  cannot show what lies there, and on held-out synthetic scenes such cells are mostly deep gaps between tall
  items. "border" gives it the lowest seen height around its hidden region instead: exact for an item
  standing on a flat layer, but worse on the synthetic scenes (README, "How fill is measured").
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from scipy import ndimage

from data.depth_io import valid_mask
from volume.geometry import (
    RIM_THRESHOLD_FLOOR_M,
    RIM_THRESHOLD_SHARE,
    BoxFrame,
    GeometryError,
    Plane,
    backproject,
    box_frame,
    fit_rim_plane,
    rays,
    rim_scale,
    valid_rim_samples,
)


@dataclass
class HeightMap:
    heights: np.ndarray  # (ny, nx) metres above the floor after the hidden-floor rule (x along L in columns)
    seen: np.ndarray  # (ny, nx) bool: some surface point landed in the cell
    upper: np.ndarray  # (ny, nx) carving bound in metres (inf where no ray passed over)
    frame: BoxFrame
    scale: float  # factor applied to the depth (1 when not corrected)
    rim_inliers: float  # share of rim samples on the fitted plane
    rim_plane: Plane | None = None  # that plane in the scaled depth's frame, where fitting the scaled depth again would find it (see depth_scale)


def _grid(L: float, W: float, grid_px: int) -> tuple[int, int]:
    return grid_px, max(2, int(round(grid_px * W / L)))


def _cells(xy: np.ndarray, L: float, W: float, nx: int, ny: int) -> tuple[np.ndarray, np.ndarray]:
    ix = np.clip((xy[:, 0] / L * nx).astype(int), 0, nx - 1)
    iy = np.clip((xy[:, 1] / W * ny).astype(int), 0, ny - 1)
    return iy, ix


HIDDEN_RULES = ("floor", "border")


def _lowest_border(top: np.ndarray, seen: np.ndarray, hidden: np.ndarray) -> np.ndarray:
    """Per cell of each connected hidden region: the lowest seen height on the region's border (0 if none)."""
    labels, n = ndimage.label(hidden)
    out = np.zeros_like(top)
    if n == 0:
        return out
    ring = ndimage.binary_dilation(hidden, np.ones((3, 3), bool)) & seen
    owner = ndimage.grey_dilation(labels, size=(3, 3))  # the region a border cell touches
    values = np.full(n + 1, np.inf)
    np.minimum.at(values, owner[ring], top[ring])
    values[~np.isfinite(values)] = 0.0
    out[hidden] = values[labels[hidden]]
    return out


def _facing_up(points: np.ndarray, up: np.ndarray, max_slope_deg: float) -> np.ndarray:
    """(h, w) bool: pixels whose surface slopes at most max_slope_deg from horizontal, from the image's
    back-projected points (h, w, 3; NaN where the depth is invalid). The normal comes from central differences of
    the neighbours: walls and the sides of items fail, and so do the pixels along depth edges (their differences
    straddle two surfaces); tops and the floor pass."""
    du = np.full_like(points, np.nan)
    dv = np.full_like(points, np.nan)
    du[:, 1:-1] = points[:, 2:] - points[:, :-2]
    dv[1:-1] = points[2:] - points[:-2]
    n = np.cross(du, dv)
    norm = np.linalg.norm(n, axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        cos = np.abs(n @ up) / norm
    return np.nan_to_num(cos, nan=0.0) >= np.cos(np.radians(max_slope_deg))


def wall_shadow_height(camera: np.ndarray, xs: np.ndarray, ys: np.ndarray, L: float, W: float, H: float) -> np.ndarray:
    """(ny, nx): the lowest height at which a point over each cell centre is seen over the walls (0 if the floor is).

    The line from the point to the camera (box frame) must cross the rim height inside the opening. At the rim
    it lies a share s = (H - z) / (Cz - z) of the way to the camera; s grows as z falls, so each wall allows s up
    to a bound, and z = (H - s Cz) / (1 - s) at the smallest bound.
    """
    X, Y = np.meshgrid(xs, ys)
    cx, cy, cz = camera
    s_max = np.ones_like(X)
    for pos, c, lo, hi in ((X, cx, 0.0, L), (Y, cy, 0.0, W)):
        with np.errstate(divide="ignore", invalid="ignore"):
            to_lo = np.where(c < pos, (pos - lo) / (pos - c), np.inf)  # reaching the wall at lo
            to_hi = np.where(c > pos, (hi - pos) / (c - pos), np.inf)
        s_max = np.minimum(s_max, np.minimum(to_lo, to_hi))
    z = (H - s_max * cz) / np.maximum(1.0 - s_max, 1e-9)
    return np.clip(z, 0.0, H)


def height_map(depth: np.ndarray, K: np.ndarray, corners: np.ndarray, lwh: tuple[float, float, float], grid_px: int = 96,
               wall_margin: float = 0.003, scale: str = "none", hidden_rule: str = "floor", max_slope_deg: float = 60.0,
               carve_step: int = 2, carve_samples: int = 24) -> HeightMap:
    """The height map of one photo, in named stages: the depth's scale, the grid, the surface points, their mean
    height per cell, space carving, sampling holes, and the hidden-floor rule.

    The rim's pose comes from the corners, K and L x W (geometry.box_frame); the depth gives the heights.

    Args:
      depth: (h, w) z-depth in metres, non-finite or <= 0 invalid; same pixels as the corners and K.
      corners: (4, 2) rim corners, canonical order.
      lwh: inner box length, width, height in metres.
      scale: how to fix the depth's global scale (predicted depth is often off; measured depth keeps its own):
        "none"; "rim_size": so that the rim plane fitted to the depth measures L x W; "rim_depth": so that the
        depth along the rim edges matches, in the median, the rim plane that the corners and L x W place.
      hidden_rule: cells hidden by content count as "floor" (empty) or take the lowest seen height on the
        border of their hidden region ("border"); see the module docstring.
      max_slope_deg: surfaces steeper than this are left out (90 = keep all).
    """
    if hidden_rule not in HIDDEN_RULES:
        raise ValueError(f"hidden_rule must be one of {HIDDEN_RULES}, got {hidden_rule!r}")
    valid = valid_mask(depth)
    frame = box_frame(corners, K, lwh)
    factor, inlier_share, rim_plane = depth_scale(depth, valid, K, corners, frame, lwh, scale)
    grid = Grid.for_opening(corners, lwh, grid_px, wall_margin)
    points = surface_points(depth * factor, valid, K, frame, grid, max_slope_deg)
    top, seen, lowest_any = mean_heights(points, grid)
    upper = carve(points, frame, grid, carve_step, carve_samples)
    top, seen = fill_sampling_holes(top, seen)
    heights = top
    if not seen.all():
        if not seen.any():
            raise GeometryError("no surface inside the box opening is seen")
        heights = hidden_floor(top, seen, upper, lowest_any, frame, grid, hidden_rule)
    return HeightMap(heights, seen, upper, frame, factor, inlier_share, rim_plane)


def depth_scale(depth: np.ndarray, valid: np.ndarray, K: np.ndarray, corners: np.ndarray, frame: BoxFrame,
                lwh: tuple[float, float, float], scale: str) -> tuple[float, float, Plane | None]:
    """(factor for the depth, share of rim samples on the fitted plane (NaN unless rim_size), that plane scaled by the
    factor or None); see height_map's `scale`.

    The scaled plane is what fit_rim_plane would find in the scaled depth (same samples, same RANSAC draws, every
    residual scaled), so volume.fill.rim_overfill need not fit it again; but only while the inlier threshold is the
    relative one (1 % of the median depth) before and after scaling: where the 4 mm floor applies to either, the
    inliers could differ, and None makes the caller fit it again.
    """
    if scale == "none":
        return 1.0, float("nan"), None
    L, W, _ = lwh
    samples = valid_rim_samples(depth, valid, corners)
    if scale == "rim_size":
        fitted, inliers = fit_rim_plane(samples, K)
        factor = rim_scale(fitted, corners, K, L, W, frame.l_first)
        relative = RIM_THRESHOLD_SHARE * min(1.0, factor) * float(np.median(samples[:, 2])) > RIM_THRESHOLD_FLOOR_M
        return factor, float(inliers.mean()), Plane(fitted.n, factor * fitted.d) if relative else None
    if scale == "rim_depth":
        on_plane = frame.plane.intersect(rays(samples[:, :2], K))[:, 2]
        return float(np.median(on_plane / samples[:, 2])), float("nan"), None
    raise ValueError(f"scale must be none, rim_size or rim_depth, got {scale!r}")


@dataclass
class Grid:
    """The top-down grid over the opening: nx cells along L (columns), ny along W, and the wall margins in metres."""

    L: float
    W: float
    H: float
    nx: int
    ny: int
    mx: float
    my: float

    @classmethod
    def for_opening(cls, corners: np.ndarray, lwh: tuple[float, float, float], grid_px: int, wall_margin: float) -> Grid:
        """At most one cell per ~3 pixels of the opening, so that a fully visible floor has every cell seen."""
        L, W, H = lwh
        area = abs(cv2.contourArea(np.asarray(corners, np.float32)))
        nx, ny = _grid(L, W, int(min(grid_px, max(8, np.sqrt(area / 3.0 * L / W)))))
        return cls(L, W, H, nx, ny, wall_margin * L, wall_margin * W)

    def cells(self, xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return _cells(xy, self.L, self.W, self.nx, self.ny)

    def centres(self) -> tuple[np.ndarray, np.ndarray]:
        return (np.arange(self.nx) + 0.5) / self.nx * self.L, (np.arange(self.ny) + 0.5) / self.ny * self.W

    def wall_band(self, cells: int) -> np.ndarray:
        """(ny, nx) bool: cell centres within the wall margin plus `cells` cells of a wall."""
        xs, ys = self.centres()
        return ((np.minimum(xs, self.L - xs)[None, :] < self.mx + cells * self.L / self.nx)
                | (np.minimum(ys, self.W - ys)[:, None] < self.my + cells * self.W / self.ny))


@dataclass
class SurfacePoints:
    """The valid pixels back-projected into the box frame."""

    P: np.ndarray  # (n, 3) camera frame, one per valid pixel
    u: np.ndarray  # (n,) pixel column
    v: np.ndarray  # (n,) pixel row
    xy: np.ndarray  # (n, 2) box frame, metres along L and W
    h: np.ndarray  # (n,) height above the floor
    in_box: np.ndarray  # (n,) bool: inside the opening (off the wall margins), at a plausible height
    inside: np.ndarray  # (n,) bool: in_box and facing up


def surface_points(depth: np.ndarray, valid: np.ndarray, K: np.ndarray, frame: BoxFrame, grid: Grid, max_slope_deg: float) -> SurfacePoints:
    """Every valid pixel in the box frame; which of them lie in the opening, and which face up."""
    v_img, u_img = np.mgrid[0 : depth.shape[0], 0 : depth.shape[1]].astype(np.float64)
    P_img = backproject(u_img, v_img, np.where(valid, depth, np.nan).astype(np.float64), K)  # (h, w, 3)
    v, u = np.nonzero(valid)
    P = P_img[valid]
    local = frame.box(P)
    xy, h = local[:, :2], local[:, 2]
    L, W, H = grid.L, grid.W, grid.H
    in_box = (xy[:, 0] > grid.mx) & (xy[:, 0] < L - grid.mx) & (xy[:, 1] > grid.my) & (xy[:, 1] < W - grid.my) & (h > -0.05 * H) & (h < 3 * H)
    inside = in_box
    if max_slope_deg < 90:
        inside = in_box & _facing_up(P_img, frame.R[:, 2] * frame.up, max_slope_deg)[valid]
    if inside.sum() < 16:
        raise GeometryError("no valid depth inside the box opening")
    return SurfacePoints(P, u, v, xy, h, in_box, inside)


def mean_heights(points: SurfacePoints, grid: Grid) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(mean height of the up-facing points per cell (-inf where none), seen, lowest point of any in-box point per
    cell (inf where none): for cells with points on steep surfaces only, a wall's or an item's side or a depth edge)."""
    lowest_any = np.full((grid.ny, grid.nx), np.inf)
    np.minimum.at(lowest_any, grid.cells(points.xy[points.in_box]), points.h[points.in_box])
    iy, ix = grid.cells(points.xy[points.inside])
    total, count = np.zeros((grid.ny, grid.nx)), np.zeros((grid.ny, grid.nx))
    np.add.at(total, (iy, ix), points.h[points.inside])
    np.add.at(count, (iy, ix), 1.0)
    seen = count > 0
    return np.where(seen, total / np.maximum(count, 1.0), -np.inf), seen, lowest_any


def carve(points: SurfacePoints, frame: BoxFrame, grid: Grid, step: int, samples: int) -> np.ndarray:
    """Space carving: the segment of each ray between the rim plane and the surface it hits is empty. Returns the
    (ny, nx) upper bound of any content per cell (inf where no ray passed over)."""
    upper = np.full((grid.ny, grid.nx), np.inf)
    pick = points.inside & (points.u % step == 0) & (points.v % step == 0) & (points.h < grid.H)
    if pick.any():
        plane = frame.plane
        Pp = points.P[pick]
        entry = Pp * (plane.d / (Pp @ plane.n))[:, None]  # the ray meets the rim plane
        t = np.linspace(0.0, 1.0, samples, endpoint=False)[1:]
        Q = frame.box((entry[:, None, :] + t[None, :, None] * (Pp - entry)[:, None, :]).reshape(-1, 3))
        ok = (Q[:, 0] >= 0) & (Q[:, 0] < grid.L) & (Q[:, 1] >= 0) & (Q[:, 1] < grid.W)
        qy, qx = grid.cells(Q[ok, :2])
        np.minimum.at(upper, (qy, qx), Q[ok, 2])
    return upper


def fill_sampling_holes(top: np.ndarray, seen: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """An oblique view foreshortens pixels, so a row of cells can get no point; a cell whose neighbours are mostly
    seen takes their mean (hidden regions are larger than that)."""
    ring = np.ones((3, 3))
    ring[1, 1] = 0
    n_seen = ndimage.convolve(seen.astype(float), ring, mode="constant")
    hole = ~seen & (n_seen >= 5)
    if not hole.any():
        return top, seen
    sums = ndimage.convolve(np.where(seen, top, 0.0), ring, mode="constant")
    return np.where(hole, sums / np.maximum(n_seen, 1), top), seen | hole


def hidden_floor(top: np.ndarray, seen: np.ndarray, upper: np.ndarray, lowest_any: np.ndarray, frame: BoxFrame, grid: Grid,
                 hidden_rule: str) -> np.ndarray:
    """Heights for every cell: seen cells keep theirs, hidden ones follow the rule of the module docstring."""
    _, (ny_idx, nx_idx) = ndimage.distance_transform_edt(~seen, return_indices=True)
    xs, ys = grid.centres()
    near_wall = grid.wall_band(1)
    nearest = top[ny_idx, nx_idx]
    wall_hidden = nearest < wall_shadow_height(frame.box(np.zeros((1, 3)))[0], xs, ys, grid.L, grid.W, grid.H)
    by_content = ~seen & ~near_wall & ~wall_hidden
    lowest = _lowest_border(top, seen, by_content) if hidden_rule == "border" else np.zeros_like(top)
    guess = np.where(by_content, np.minimum(lowest, np.maximum(upper, 0.0)), np.minimum(nearest, np.maximum(upper, 0.0)))
    steep_only = np.isfinite(lowest_any) & grid.wall_band(3)  # where the floor meets a wall: central differences straddle both
    return np.where(seen, top, np.where(steep_only, np.maximum(lowest_any, 0.0), guess))
