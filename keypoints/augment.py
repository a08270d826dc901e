"""Keypoint-aware augmentation with albumentations: the points follow the pixels.

Rotation, scale, translation, perspective, flips, colour, blur and noise. Points that leave the frame
are kept (remove_invisible=False: a corner outside the image is still a corner; borders are filled by
replicating the edge, since albumentations adds mirrored copies of keypoints under reflection), and after every
transform the corners are put back in canonical order, since a flip or a large rotation changes which
corner comes first. albumentations 2 uses OpenCV's pixel convention (pixel centres at integers), as NIE does.
"""

from __future__ import annotations

import albumentations as A
import cv2
import numpy as np

from configs import KeypointsAugmentConfig
from data.corners import canonical_order
from keypoints.warp_augment import BLUR_SIZES, COLOUR, NOISE_STD, WarpAugment


def build_transform(cfg: KeypointsAugmentConfig, seed: int | None = None) -> A.Compose:
    """The training transform (applied to the share `cfg.p` of images); `seed` makes it reproducible (previews, tests)."""
    ops = [
        A.HorizontalFlip(p=cfg.hflip_p),
        A.VerticalFlip(p=cfg.vflip_p),
        A.Affine(scale=tuple(cfg.scale), translate_percent=(-cfg.translate, cfg.translate), rotate=(-cfg.rotate_deg, cfg.rotate_deg),
                 border_mode=cv2.BORDER_REPLICATE, p=1.0 if cfg.rotate_deg or cfg.translate or cfg.scale != (1.0, 1.0) else 0.0),
        A.Perspective(scale=(0.0, cfg.perspective), keep_size=True, border_mode=cv2.BORDER_REPLICATE, p=0.5 if cfg.perspective > 0 else 0.0),
        A.ColorJitter(**COLOUR, p=cfg.colour_p),
        A.GaussianBlur(blur_limit=BLUR_SIZES, p=cfg.blur_p),
        A.GaussNoise(std_range=NOISE_STD, p=cfg.noise_p),
    ]
    return A.Compose(ops, keypoint_params=A.KeypointParams(format="xy", remove_invisible=False), p=cfg.p, seed=seed)


def augment(transform: A.Compose, image: np.ndarray, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Applies the transform to a uint8 image and its (K, 2) points; returns them with the points in canonical order."""
    out = transform(image=image, keypoints=np.asarray(points, np.float32))
    pts = np.asarray(out["keypoints"], np.float64).reshape(-1, 2)
    if len(pts) != len(points):
        raise RuntimeError(f"augmentation lost keypoints ({len(pts)} of {len(points)})")
    return out["image"], canonical_order(pts) if len(pts) >= 3 else pts


class AlbumentationsAugment:
    """`build_transform` as `(image, points, rng) -> (image, points in canonical order)`, reseeded from `rng` per call
    (the loader's per-batch generator), the calling convention of WarpAugment."""

    def __init__(self, cfg: KeypointsAugmentConfig, seed: int | None = None):
        self.transform = build_transform(cfg, seed=seed)

    def __call__(self, image: np.ndarray, points: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        self.transform.set_random_seed(int(rng.integers(2**31 - 1)))
        return augment(self.transform, image, points)


def training_augment(cfg: KeypointsAugmentConfig, seed: int | None = None) -> AlbumentationsAugment | WarpAugment:
    """The training transform `cfg.engine` names: albumentations, or one OpenCV warp (keypoints/warp_augment.py)."""
    return WarpAugment(cfg) if cfg.engine == "opencv" else AlbumentationsAugment(cfg, seed)
