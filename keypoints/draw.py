"""Drawing corners and quadrilaterals on images (previews, panels, prediction pictures)."""

from __future__ import annotations

import cv2
import numpy as np


def draw_points(image: np.ndarray, points: np.ndarray, colour=(255, 60, 60), closed: bool = True, radius: int = 3) -> np.ndarray:
    """The points as a closed outline with dots; the first point gets a ring (it starts the canonical order)."""
    img = np.ascontiguousarray(image.copy())
    pts = np.round(np.asarray(points, np.float64) * 4).astype(np.int32)  # 2 bits of sub-pixel precision
    if len(pts) > 1:
        cv2.polylines(img, [pts.reshape(-1, 1, 2)], closed, colour, 1, cv2.LINE_AA, shift=2)
    for k, p in enumerate(pts):
        cv2.circle(img, (int(p[0]), int(p[1])), radius * 4, colour, -1, cv2.LINE_AA, shift=2)
        if k == 0:
            cv2.circle(img, (int(p[0]), int(p[1])), (radius + 3) * 4, colour, 1, cv2.LINE_AA, shift=2)
    return img
