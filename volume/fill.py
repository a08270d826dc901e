"""Fill from a height map (the metric method) and from normalised depth (the seed's method, the fallback)."""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from volume.geometry import GeometryError, rim_samples
from volume.heightmap import height_map

METHODS = ("learned", "metric", "normalised")


@dataclass
class Fill:
    fill: float  # 0..1 of the inner volume
    empty_volume_l: float
    overfill: bool
    method: str  # "learned", "metric" or "normalised"
    heights: np.ndarray  # (ny, nx) top-down grid, metres above the floor (metric) or share of H (normalised)
    extra: dict = field(default_factory=dict)  # scale, seen share, rim inliers, ...


def learned_fill(fill: float, overfill_probability: float, lwh: tuple[float, float, float], grid: np.ndarray | None = None) -> Fill:
    """The fill model's answer (fillnet/) as a Fill; its height grid, as a share of H: the grid head's fill cell by cell
    (rows along W, columns along L) where the model has one, else the flat level the fill amounts to."""
    L, W, H = lwh
    fill = float(np.clip(fill, 0.0, 1.0))
    heights = np.full((8, 8), fill) if grid is None else np.clip(np.asarray(grid, np.float64), 0.0, 1.0)
    return Fill(fill, (1.0 - fill) * L * W * H * 1000.0, overfill_probability >= 0.5, "learned", heights,
                {"overfill_probability": float(overfill_probability)})


def fill_from_heights(heights: np.ndarray, H: float) -> float:
    """The conventions' fill: the mean of min(h, H) over the floor, over H (negative heights count as 0)."""
    return float(np.mean(np.clip(heights, 0.0, H)) / H)


def metric_fill(depth: np.ndarray, K: np.ndarray, corners: np.ndarray, lwh: tuple[float, float, float], grid_px: int = 96,
                wall_margin: float = 0.003, overfill_margin_m: float = 0.01, scale: str = "none",
                hidden_rule: str = "floor") -> Fill:
    """Fill from depth back-projected with K into the box frame (geometry in volume/heightmap.py)."""
    L, W, H = lwh
    hm = height_map(depth, K, corners, lwh, grid_px=grid_px, wall_margin=wall_margin, scale=scale, hidden_rule=hidden_rule)
    fill = fill_from_heights(hm.heights, H)
    above = (hm.heights > H + overfill_margin_m) & hm.seen
    overfill = bool(above.sum() >= max(2, 0.005 * above.size))  # a few stray points are noise, not content
    low, high = evidence_range(hm.heights, hm.seen, hm.upper, H)
    return Fill(fill, (1 - fill) * L * W * H * 1000, overfill, "metric", hm.heights,
                {"scale": hm.scale, "seen": float(hm.seen.mean()), "rim_inliers": hm.rim_inliers, "l_first": hm.frame.l_first,
                 "fill_low": min(low, fill), "fill_high": max(high, fill)})


def evidence_range(heights: np.ndarray, seen: np.ndarray, upper: np.ndarray, H: float) -> tuple[float, float]:
    """(lowest, highest) fill the photo allows: seen cells keep their heights; a hidden cell holds anything from
    nothing up to the highest content that would still be hidden (its carving bound: rays passed over it that high;
    H where none did)."""
    top = np.clip(np.where(np.isfinite(upper), upper, H), 0.0, H)
    low = np.where(seen, np.clip(heights, 0.0, H), 0.0)
    high = np.where(seen, np.clip(heights, 0.0, H), top)
    return float(low.mean() / H), float(high.mean() / H)


def rectify(image: np.ndarray, corners: np.ndarray, size: tuple[int, int], interpolation: int = cv2.INTER_LINEAR) -> np.ndarray:
    """The box opening warped to a top-down size = (width, height) rectangle, corner 1 at the top left."""
    w, h = size
    target = np.array([[0, 0], [w - 1, 0], [w - 1, h - 1], [0, h - 1]], np.float32)
    M = cv2.getPerspectiveTransform(np.asarray(corners, np.float32), target)
    return cv2.warpPerspective(image, M, (w, h), flags=interpolation, borderMode=cv2.BORDER_REPLICATE)


def normalised_fill(depth: np.ndarray, corners: np.ndarray, lwh: tuple[float, float, float], grid_px: int = 96,
                    overfill_margin: float = 0.05) -> Fill:
    """The seed's method, used without intrinsics: rectify the depth of the opening, take the rim depth (median
    along the edges) as full and the deepest point as the floor, and average the clipped normalised height.
    It ignores tilt and perspective, and calls the deepest visible point the floor even when the box is full."""
    L, W, H = lwh
    valid = np.isfinite(depth) & (depth > 0)
    rim = rim_samples(np.where(valid, depth, 0), corners)
    if len(rim) < 4:
        raise GeometryError("the depth is invalid around the rim corners")
    crop = rectify(np.where(valid, depth, np.nan).astype(np.float32), corners, (grid_px, max(2, int(round(grid_px * W / L)))),
                   cv2.INTER_NEAREST)
    ok = np.isfinite(crop)
    if ok.sum() < 16:
        raise GeometryError("no valid depth inside the box opening")
    rim_z = float(np.median(rim[:, 2]))
    floor_z = float(np.percentile(crop[ok], 98))
    span = max(floor_z - rim_z, 1e-6)
    norm = np.where(ok, (floor_z - crop) / span, 0.0)
    fill = float(np.mean(np.clip(norm, 0, 1)))
    overfill = bool((norm > 1 + overfill_margin).mean() > 0.005)
    return Fill(fill, (1 - fill) * L * W * H * 1000, overfill, "normalised", norm, {"rim_depth_m": rim_z, "floor_depth_m": floor_z})
