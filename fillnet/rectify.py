"""The model's input: the photo warped so that the rim becomes a square (the rim homography from the corners), and
five pose numbers from the rim's pose (PnP with K and the box size): what the opening looks like from straight
above, and from where the camera saw it.

The square's x runs along L and its y along W, whichever corner the canonical order starts at; the pose numbers
are in the same frame, so a flip of the square with the matching pose sign is an exact symmetry (augmentation).
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from data.box_pose import box_frame

POSE_NUMBERS = ("camera_x", "camera_y", "camera_height", "box_height", "aspect")
GRID_STRIDE = 8  # px of the rectified square per cell of the fill grid (the CNN level the grid head reads)


def square_corners(size: int, margin: int, l_first: bool) -> np.ndarray:
    """The rim corners' places in the rectified picture, in the canonical order of the photo's corners."""
    lo, hi = margin - 0.5, size - margin - 0.5  # pixel centres at integers: the rim on the margin's outer edge
    if l_first:
        return np.array([[lo, lo], [hi, lo], [hi, hi], [lo, hi]], np.float32)
    return np.array([[lo, lo], [lo, hi], [hi, hi], [hi, lo]], np.float32)


def pose_numbers(frame, lwh: tuple[float, float, float]) -> np.ndarray:
    """(5,) float32: the camera's place over the box centre (share of L and of W), its height over the rim and
    the box height (per sqrt(L W)), and L / W."""
    L, W, H = lwh
    size = math.sqrt(L * W)
    cx, cy, cz = frame.box(np.zeros((1, 3)))[0]
    return np.array([(cx - L / 2) / L, (cy - W / 2) / W, (cz - H) / size, H / size, L / W], np.float32)


def rectify(rgb: np.ndarray, corners: np.ndarray, K: np.ndarray, lwh: tuple[float, float, float], size: int = 96,
            margin: int = 8) -> tuple[np.ndarray, np.ndarray]:
    """(opening uint8 (size, size, 3), pose numbers (5,)) of one photo; GeometryError when no pose fits."""
    opening, pose, _ = rectify_with_order(rgb, corners, K, lwh, size, margin)
    return opening, pose


def rectify_with_order(rgb: np.ndarray, corners: np.ndarray, K: np.ndarray, lwh: tuple[float, float, float], size: int = 96,
                       margin: int = 8) -> tuple[np.ndarray, np.ndarray, bool]:
    """rectify's (opening, pose numbers) and whether the corners' first edge (corner 0 -> 1) is L (then it runs along
    the square's x, else along its y)."""
    corners = np.asarray(corners, np.float64)
    frame = box_frame(corners, np.asarray(K, np.float64), lwh)
    homography = cv2.getPerspectiveTransform(corners.astype(np.float32), square_corners(size, margin, frame.l_first))
    opening = cv2.warpPerspective(rgb, homography, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    return opening, pose_numbers(frame, lwh), bool(frame.l_first)


def grid_cells(size: int, margin: int) -> int:
    """Cells per side of the fill grid over the rim (model.grid_head): the CNN's stride-8 cells between the margins."""
    if margin % GRID_STRIDE or (size - 2 * margin) % GRID_STRIDE or size <= 2 * margin:
        raise ValueError(f"model.grid_head needs data.margin and data.size - 2 x data.margin to be multiples of {GRID_STRIDE} "
                         f"(got size {size}, margin {margin})")
    return (size - 2 * margin) // GRID_STRIDE


def grid_in_square(grid: np.ndarray, l_first: bool) -> np.ndarray:
    """A fill grid in the corners' frame (rows from corner 0 towards 3, data/synth/fill_grid.py) as the rectified
    square shows it (rows along its y): the same when the first edge runs along x, else transposed."""
    return grid if l_first else grid.T


def model_input(opening: np.ndarray, pose: np.ndarray) -> np.ndarray:
    """(size, size, 3 + 5) float32: the opening in [0, 255] with the pose numbers as constant planes. One tensor in
    keeps the model single-input, as every exporter and model runner of NIE expects."""
    h, w = opening.shape[:2]
    return np.concatenate([opening.astype(np.float32), np.broadcast_to(pose.astype(np.float32), (h, w, len(pose)))], axis=-1)
