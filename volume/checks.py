"""Is there a box to measure, and can the numbers be trusted? The status of one `nie fill` row (conventions section 4).

- no_box: no open box found: corners that make no quadrilateral inside the picture, corners the heat maps are not
  sure of (pictures without a box), or corners that no box of the given size fits (a closed parcel's lid, noise).
- uncertain: measured, but a check failed: the default intrinsics or box size were used, a corner lies at the
  image edge, the rim fits the box size only roughly, or the camera would stand implausibly near or far.
"""

from __future__ import annotations

import math

import numpy as np

from configs import VolumeConfig
from data.box_pose import GeometryError, box_frame


class NoBox(Exception):
    """No open box in the picture; str() says why."""


def check_box(corners: np.ndarray, K: np.ndarray | None, lwh: tuple[float, float, float], width: int, height: int,
              cfg: VolumeConfig) -> list[str]:
    """Raises NoBox when no box of the size fits the corners; returns the reasons for `uncertain` (empty: measured)."""
    reasons = []
    diag = math.hypot(width, height)
    if K is not None:
        try:
            frame = box_frame(corners, K, lwh)
        except GeometryError as err:
            raise NoBox(f"the corners make no box: {err}") from None
        error_pct = 100 * frame.reprojection_px / diag
        if error_pct > cfg.max_reprojection_pct:
            raise NoBox(f"the corners make no box of {lwh[0]:g}x{lwh[1]:g}x{lwh[2]:g} m (off by {error_pct:.1f} % of the picture)")
        if error_pct > cfg.uncertain_reprojection_pct:
            reasons.append(f"the rim fits a {lwh[0]:g}x{lwh[1]:g} m box only roughly ({error_pct:.1f} % of the picture)")
        distance = float(np.linalg.norm(frame.t + frame.R @ np.array([lwh[0] / 2, lwh[1] / 2, 0.0])))
        lo, hi = cfg.camera_distance_m
        if not lo <= distance <= hi:
            reasons.append(f"box size implausible for the picture: the camera would be {distance:.2f} m away (is the box size in metres?)")
    margin = 0.01 * min(width, height)
    if np.any(corners < margin - 0.5) or np.any(corners[:, 0] > width - 0.5 - margin) or np.any(corners[:, 1] > height - 0.5 - margin):
        reasons.append("a corner lies at the image edge: the opening may be cut off")
    return reasons


def low_confidence(confidence: np.ndarray | None, cfg: VolumeConfig) -> str | None:
    """The no_box reason when the heat maps are not sure of the corners (pictures without a box), else None."""
    if confidence is None or float(np.mean(confidence)) >= cfg.min_corner_confidence:
        return None
    return f"no open box found (corner confidence {float(np.mean(confidence)):.2f} < {cfg.min_corner_confidence})"


def not_open(open_probability: float | None, cfg: VolumeConfig) -> str | None:
    """The no_box reason when the fill model sees a closed box or none behind the corners, else None."""
    if open_probability is None or open_probability >= cfg.min_open_probability:
        return None
    return (f"no open box: the fill model sees a closed box or none ({100 * open_probability:.0f} % open, "
            f"under {100 * cfg.min_open_probability:.0f} %)")
