"""Keypoint augmentation as one homography per image (`augment.engine=opencv`): the loader for many cores.

The geometric steps of keypoints/augment.py (flips, rotation, scale, translation, perspective) are composed into
one 3 x 3 matrix and applied by a single `cv2.warpPerspective` (edges replicated); the corners go through the same
matrix, exactly. Colour (training/colour_jitter.py's jitter), blur and noise follow, in OpenCV and NumPy. Same
settings (KeypointsAugmentConfig) and ranges as the albumentations transform; the colour step is the project's own
jitter (brightness added, not multiplied). Why: albumentations' Python holds the GIL, so on a GPU machine the
corner loader needed worker processes, and their batches come back pickled through pipes (bench/results/
gpu_train.md: the GPU waited); OpenCV and NumPy release the GIL, so this transform scales on loader threads,
which hand batches over in memory (bench/keypoints_augment.py). Pixel centres at integers, as everywhere in NIE.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from configs import KeypointsAugmentConfig
from data.corners import canonical_order
from training.colour_jitter import colour_affine, hue_matrices

# the fixed colour, blur and noise settings of both transforms (this one and keypoints/augment.py's albumentations)
COLOUR = {"brightness": 0.25, "contrast": 0.25, "saturation": 0.25, "hue": 0.04}
BLUR_SIZES = (3, 5)
NOISE_STD = (0.01, 0.05)  # share of 255


def sample_homography(cfg: KeypointsAugmentConfig, width: int, height: int, rng: np.random.Generator) -> np.ndarray:
    """(3, 3) float64 mapping source pixels to augmented ones: flips, then rotation / scale / translation about the
    centre, then a perspective zoom (the frame's corners pulled in by |N(0, s)| of the side, s up to
    cfg.perspective, that quadrilateral stretched to the frame, in half of the draws)."""
    cx, cy = (width - 1) / 2.0, (height - 1) / 2.0
    m = np.eye(3)
    if rng.random() < cfg.hflip_p:
        m = np.array([[-1.0, 0, width - 1], [0, 1, 0], [0, 0, 1]]) @ m
    if rng.random() < cfg.vflip_p:
        m = np.array([[1.0, 0, 0], [0, -1, height - 1], [0, 0, 1]]) @ m
    angle = math.radians(rng.uniform(-cfg.rotate_deg, cfg.rotate_deg))
    scale = rng.uniform(*cfg.scale)
    tx, ty = rng.uniform(-cfg.translate, cfg.translate, 2) * (width, height)
    c, s = math.cos(angle) * scale, math.sin(angle) * scale
    # about the centre: x' = R S (x - centre) + centre + t (the angle's range is symmetric: its sense does not matter)
    affine = np.array([[c, s, cx - c * cx - s * cy + tx], [-s, c, cy + s * cx - c * cy + ty], [0, 0, 1]])
    m = affine @ m
    if cfg.perspective > 0 and rng.random() < 0.5:
        sigma = rng.uniform(0.0, cfg.perspective)
        frame = np.array([[0, 0], [width - 1, 0], [width - 1, height - 1], [0, height - 1]], np.float64)
        inward = np.abs(rng.normal(0.0, sigma, (4, 2))) * (width - 1, height - 1) * [[1, 1], [-1, 1], [-1, -1], [1, -1]]
        m = cv2.getPerspectiveTransform((frame + inward).astype(np.float32), frame.astype(np.float32)).astype(np.float64) @ m
    return m


def warp_points(points: np.ndarray, homography: np.ndarray) -> np.ndarray:
    pts = np.asarray(points, np.float64).reshape(-1, 2)
    mapped = np.c_[pts, np.ones(len(pts))] @ homography.T
    return mapped[:, :2] / mapped[:, 2:3]


class WarpAugment:
    """The training transform: `(image uint8 (H, W, 3), points (K, 2)) -> (image, points in canonical order)`,
    its draws from the numpy Generator given per call (the loader's per-batch one)."""

    def __init__(self, cfg: KeypointsAugmentConfig):
        self.cfg = cfg

    def __call__(self, image: np.ndarray, points: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        cfg = self.cfg
        if rng.random() >= cfg.p:
            return image, np.asarray(points, np.float64)
        h, w = image.shape[:2]
        homography = sample_homography(cfg, w, h, rng)
        out = cv2.warpPerspective(image, homography, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        pts = warp_points(points, homography)
        if rng.random() < cfg.colour_p:  # uint8 throughout: cv2.transform rounds and clips
            hue = hue_matrices(np.array([rng.uniform(-COLOUR["hue"], COLOUR["hue"]) * 2 * math.pi]))[0]
            shift, contrast, saturation = (rng.uniform(-COLOUR["brightness"], COLOUR["brightness"]),
                                           rng.uniform(1 - COLOUR["contrast"], 1 + COLOUR["contrast"]),
                                           rng.uniform(1 - COLOUR["saturation"], 1 + COLOUR["saturation"]))
            out = cv2.transform(out, colour_affine(cv2.mean(out)[:3], shift, contrast, saturation, hue, 255.0))
        if rng.random() < cfg.blur_p:
            k = int(rng.choice(BLUR_SIZES))
            out = cv2.GaussianBlur(out, (k, k), 0)
        if rng.random() < cfg.noise_p:  # OpenCV's generator (per thread), seeded from the loader's draws
            cv2.setRNGSeed(int(rng.integers(2**31 - 1)))
            std = rng.uniform(*NOISE_STD) * 255.0
            noise = cv2.randn(np.empty(out.shape, np.int16), (0.0,) * 3, (std,) * 3)  # per channel (a bare number: the first only)
            out = cv2.add(out, noise, dtype=cv2.CV_8U)
        return out, canonical_order(pts) if len(pts) >= 3 else pts
