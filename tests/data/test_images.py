"""data/images.py: EXIF orientation, grey / RGBA / palette / 16-bit inputs, and clear errors."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from PIL import Image

from data.images import ImageReadError, read_image, write_image


def _pattern(h=20, w=30) -> np.ndarray:
    img = np.zeros((h, w, 3), np.uint8)
    img[:, :, 0] = np.arange(w)[None, :] * 8
    img[:, :, 1] = np.arange(h)[:, None] * 12
    img[0, 0] = (255, 255, 255)
    return img


def test_exif_orientation_is_applied(tmp_path):
    rgb = _pattern()
    pil = Image.fromarray(rgb)
    exif = pil.getexif()
    exif[0x0112] = 6  # "rotate 90 CW to view"
    path = tmp_path / "rot.jpg"
    pil.save(path, exif=exif, quality=100)
    out = read_image(path)
    assert out.shape == (30, 20, 3)  # upright: width and height swap
    # the white top-left pixel ends up at the top right after a clockwise turn
    assert out[0, -1].mean() > 200 and out[-1, 0].mean() < 200


@pytest.mark.parametrize("mode", ["L", "RGBA", "P", "LA"])
def test_grey_alpha_palette_become_rgb(tmp_path, mode):
    path = tmp_path / f"x_{mode}.png"
    Image.fromarray(_pattern()).convert(mode).save(path)
    out = read_image(path)
    assert out.shape == (20, 30, 3) and out.dtype == np.uint8
    if mode in ("L", "LA"):
        assert np.array_equal(out[..., 0], out[..., 1])


def test_16bit_grey_and_rgb_are_scaled_to_8bit(tmp_path):
    grey16 = (np.arange(600, dtype=np.uint32).reshape(20, 30) * 100).astype(np.uint16)
    cv2.imwrite(str(tmp_path / "g16.png"), grey16)
    out = read_image(tmp_path / "g16.png")
    assert out.shape == (20, 30, 3)
    assert np.array_equal(out[..., 0], (grey16 >> 8).astype(np.uint8))
    rgb16 = np.dstack([grey16, grey16 // 2, grey16 // 4])  # written as BGR by OpenCV
    cv2.imwrite(str(tmp_path / "c16.png"), rgb16)
    out = read_image(tmp_path / "c16.png")
    assert np.array_equal(out[..., 2], (grey16 >> 8).astype(np.uint8))  # B of BGR is the last RGB channel
    assert np.array_equal(out[..., 0], ((grey16 // 4) >> 8).astype(np.uint8))


def test_truncated_image_is_refused_by_name(tmp_path):
    path = tmp_path / "cut.jpg"
    Image.fromarray(_pattern(200, 300)).save(path, quality=95)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ImageReadError, match="cut.jpg"):
        read_image(path)


def test_not_an_image_and_missing_file(tmp_path):
    (tmp_path / "a.png").write_text("hello")
    with pytest.raises(ImageReadError, match="a.png: cannot decode"):
        read_image(tmp_path / "a.png")
    with pytest.raises(ImageReadError, match="not found"):
        read_image(tmp_path / "none.png")


def test_write_is_atomic_and_lossless_for_png(tmp_path):
    rgb = _pattern()
    write_image(tmp_path / "o.png", rgb)
    assert np.array_equal(read_image(tmp_path / "o.png"), rgb)
    assert [p.name for p in tmp_path.iterdir()] == ["o.png"]
