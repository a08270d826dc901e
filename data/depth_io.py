"""Depth maps on disk: 16-bit PNG in `scale` units per metre (0 = invalid) or .npy float32 metres.

In memory a depth map is float32 metres of z-depth; invalid pixels (0, NaN, inf, negative on disk)
are 0.0 after reading, and `valid_mask` tells them apart.
"""

from __future__ import annotations

import io
import os
from pathlib import Path

import cv2
import numpy as np

from data.atomic_files import write_bytes_atomic

DEPTH_SUFFIXES = (".png", ".npy")


class DepthReadError(ValueError):
    """A depth file that cannot be used; str() names the file."""


def valid_mask(depth: np.ndarray) -> np.ndarray:
    """True where a depth value is usable: finite and positive."""
    return np.isfinite(depth) & (depth > 0)


def read_depth(path: str | os.PathLike, scale: float = 1000.0) -> np.ndarray:
    """Reads a depth file as float32 metres, (H, W); invalid pixels become 0.

    Args:
      path: a 16-bit PNG (units of 1/scale metre) or a .npy of float metres.
      scale: PNG units per metre (1000 = millimetres).
    """
    path = Path(path)
    if not path.is_file():
        raise DepthReadError(f"{path}: depth file not found")
    suffix = path.suffix.lower()
    if suffix == ".npy":
        try:
            arr = np.load(path, allow_pickle=False)
        except (ValueError, OSError, EOFError) as err:
            raise DepthReadError(f"{path}: cannot read .npy ({err})") from None
        if arr.ndim == 3 and arr.shape[2] == 1:
            arr = arr[..., 0]
        if arr.ndim != 2 or not np.issubdtype(arr.dtype, np.number):
            raise DepthReadError(f"{path}: expected a 2-D numeric array, got {arr.dtype} {arr.shape}")
        depth = arr.astype(np.float32)
    elif suffix == ".png":
        arr = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
        if arr is None:
            raise DepthReadError(f"{path}: cannot decode depth PNG")
        if arr.ndim != 2:
            raise DepthReadError(f"{path}: depth PNG must have one channel, got {arr.shape[2]}")
        if arr.dtype != np.uint16:
            raise DepthReadError(f"{path}: depth PNG must be 16-bit, got {arr.dtype}")
        depth = arr.astype(np.float32) / np.float32(scale)
    else:
        raise DepthReadError(f"{path}: unsupported depth format {suffix!r} (use .png or .npy)")
    depth[~valid_mask(depth)] = 0.0
    return depth


def encode_depth_png(depth_m: np.ndarray, scale: float = 1000.0) -> bytes:
    """16-bit PNG bytes of a depth map in metres; invalid pixels become 0."""
    depth = np.asarray(depth_m, dtype=np.float64)
    ok = valid_mask(depth)
    units = np.zeros(depth.shape, dtype=np.float64)
    units[ok] = np.round(depth[ok] * scale)
    if units.max(initial=0) > 65535:
        raise ValueError(f"depth up to {depth[ok].max():.2f} m does not fit 16 bits at scale {scale}")
    ok_png, buf = cv2.imencode(".png", units.astype(np.uint16))
    if not ok_png:
        raise ValueError("cannot encode depth PNG")
    return buf.tobytes()


def write_depth(path: str | os.PathLike, depth_m: np.ndarray, scale: float = 1000.0) -> None:
    """Writes a depth map (metres) atomically as 16-bit PNG or float32 .npy, by suffix."""
    path = Path(path)
    if path.suffix.lower() == ".npy":
        buf = io.BytesIO()
        np.save(buf, np.asarray(depth_m, dtype=np.float32), allow_pickle=False)
        write_bytes_atomic(path, buf.getvalue())
    elif path.suffix.lower() == ".png":
        write_bytes_atomic(path, encode_depth_png(depth_m, scale))
    else:
        raise ValueError(f"{path}: unsupported depth format (use .png or .npy)")
