"""Reading and writing RGB images the way every NIE reader must (shared/conventions.md, section 2).

Readers honour EXIF orientation and turn grey, grey+alpha, RGBA, palette and 16-bit images into
8-bit RGB; anything else, or a file that does not decode, raises `ImageReadError` naming the file.
"""

from __future__ import annotations

import os
import struct
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from data.atomic_files import write_bytes_atomic

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp")


class ImageReadError(ValueError):
    """An image that cannot be used; str() is a one-line reason that names the file."""


def _to_rgb8(img: Image.Image, path: Path) -> np.ndarray:
    mode = img.mode
    if mode in ("RGB", "L", "P", "RGBA", "LA", "CMYK", "YCbCr", "PA"):
        return np.asarray(img.convert("RGB"), dtype=np.uint8)
    if mode in ("I;16", "I;16B", "I;16L", "I;16N", "I"):
        arr = np.asarray(img)
        if arr.dtype != np.uint16 and arr.max(initial=0) > 65535:
            raise ImageReadError(f"{path}: 32-bit integer image is not supported")
        grey = (arr.astype(np.uint32) >> 8).astype(np.uint8)
        return np.repeat(grey[..., None], 3, axis=2)
    if mode == "F":
        raise ImageReadError(f"{path}: floating-point image (mode F) is not supported; save it as 8- or 16-bit")
    if mode == "1":
        return np.asarray(img.convert("RGB"), dtype=np.uint8)
    raise ImageReadError(f"{path}: unsupported image mode {mode}")


def read_image(path: str | os.PathLike) -> np.ndarray:
    """Reads an image file as uint8 RGB of shape (H, W, 3), upright per its EXIF orientation.

    16-bit RGB PNGs (which PIL cannot hold) are read with OpenCV and scaled to 8 bits.
    """
    path = Path(path)
    if not path.is_file():
        raise ImageReadError(f"{path}: file not found")
    try:
        with Image.open(path) as img:
            img = ImageOps.exif_transpose(img)
            img.load()
            if path.suffix.lower() == ".png" and img.mode == "RGB" and _png_bit_depth(path) == 16:
                return _read_rgb16_png(path)
            return _to_rgb8(img, path)
    except ImageReadError:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as err:
        raise ImageReadError(f"{path}: cannot decode image ({err})") from None


def read_image_scaled(path: str | os.PathLike, max_side: int) -> tuple[np.ndarray, tuple[int, int]]:
    """(uint8 RGB at most `max_side` px on its longer side, (width, height) of the full upright image).

    Large JPEGs decode at 1/2, 1/4 or 1/8 scale straight from the file (PIL's draft mode), so a 6000 x 4000 phone
    photo costs a fraction of a full decode; the rest is an area-filter resize.
    """
    path = Path(path)
    if not path.is_file():
        raise ImageReadError(f"{path}: file not found")
    try:
        with Image.open(path) as img:
            full = img.size
            if img.getexif().get(0x0112, 1) in (5, 6, 7, 8):  # EXIF orientations that turn the picture by 90 degrees
                full = full[::-1]
            if img.format == "JPEG" and max(img.size) > max_side:
                scale = max_side / max(img.size)
                img.draft("RGB", (max(1, int(img.width * scale)), max(1, int(img.height * scale))))
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as err:
        raise ImageReadError(f"{path}: cannot decode image ({err})") from None
    if max(full) <= max_side or (path.suffix.lower() == ".png" and _png_bit_depth(path) == 16):
        rgb = read_image(path)
        scale = max_side / max(rgb.shape[:2])
        if scale < 1:
            rgb = cv2.resize(rgb, (max(1, int(round(rgb.shape[1] * scale))), max(1, int(round(rgb.shape[0] * scale)))),
                             interpolation=cv2.INTER_AREA)
        return rgb, full
    try:
        with Image.open(path) as img:
            if img.format == "JPEG":
                scale = max_side / max(img.size)
                img.draft("RGB", (max(1, int(img.width * scale)), max(1, int(img.height * scale))))
            img = ImageOps.exif_transpose(img)
            img.load()
            rgb = _to_rgb8(img, path)
    except ImageReadError:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as err:
        raise ImageReadError(f"{path}: cannot decode image ({err})") from None
    scale = max_side / max(rgb.shape[:2])
    if scale < 1:
        size = (max(1, int(round(rgb.shape[1] * scale))), max(1, int(round(rgb.shape[0] * scale))))
        rgb = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)
    return rgb, (int(full[0]), int(full[1]))


def _png_bit_depth(path: Path) -> int:
    with open(path, "rb") as fh:
        head = fh.read(26)
    return head[24] if len(head) >= 26 and head[:8] == b"\x89PNG\r\n\x1a\n" else 8


def _read_rgb16_png(path: Path) -> np.ndarray:
    arr = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    if arr is None:
        raise ImageReadError(f"{path}: cannot decode 16-bit PNG")
    arr = (arr >> 8).astype(np.uint8)
    return cv2.cvtColor(arr, cv2.COLOR_BGR2RGB if arr.shape[2] == 3 else cv2.COLOR_BGRA2RGB)


def encode_image(rgb: np.ndarray, suffix: str = ".png") -> bytes:
    """Encodes uint8 RGB (H, W, 3) or grey (H, W) to PNG/JPEG bytes, deterministically."""
    if rgb.dtype != np.uint8:
        raise ValueError(f"expected uint8 image, got {rgb.dtype}")
    bgr = cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR) if rgb.ndim == 3 else rgb
    params = [cv2.IMWRITE_JPEG_QUALITY, 95] if suffix.lower() in (".jpg", ".jpeg") else []
    ok, buf = cv2.imencode(suffix, bgr, params)
    if not ok:
        raise ValueError(f"cannot encode image as {suffix}")
    return buf.tobytes()


def write_image(path: str | os.PathLike, rgb: np.ndarray) -> None:
    """Writes uint8 RGB atomically; the format follows the suffix."""
    path = Path(path)
    write_bytes_atomic(path, encode_image(rgb, path.suffix or ".png"))


def image_size(path: str | os.PathLike) -> tuple[int, int]:
    """(width, height) from the file header, without decoding the pixels."""
    with open(path, "rb") as fh:
        head = fh.read(26)
    if head[:8] == b"\x89PNG\r\n\x1a\n":
        return struct.unpack(">II", head[16:24])
    if str(path).endswith(".npy"):
        shape = np.load(path, mmap_mode="r").shape
        return shape[1], shape[0]
    with Image.open(path) as img:
        return img.size


def check_decodes(path: str | os.PathLike) -> None:
    """Raises ImageReadError unless the whole image decodes (JPEGs at 1/8 scale, which is fast and still reads every block).

    Training pipelines call this while listing their files, so a corrupt image is reported by name up
    front instead of failing deep inside TensorFlow in the middle of an epoch.
    """
    path = Path(path)
    try:
        with Image.open(path) as img:
            if img.format == "JPEG":
                img.draft("L", (max(1, img.width // 8), max(1, img.height // 8)))
            img.load()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as err:
        raise ImageReadError(f"{path}: cannot decode image ({err})") from None
