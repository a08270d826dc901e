"""data/depth_io.py: 16-bit PNG (mm or another scale) and .npy depth, invalid pixels, errors."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from data.depth_io import DepthReadError, read_depth, valid_mask, write_depth


def test_png_round_trip_in_millimetres(tmp_path):
    depth = np.random.default_rng(0).uniform(0.2, 5.0, (12, 16)).astype(np.float32)
    depth[0, 0] = 0
    depth[1, 1] = np.nan
    depth[2, 2] = np.inf
    depth[3, 3] = -1
    write_depth(tmp_path / "d.png", depth)
    raw = cv2.imread(str(tmp_path / "d.png"), cv2.IMREAD_UNCHANGED)
    assert raw.dtype == np.uint16 and raw[5, 5] == int(round(depth[5, 5] * 1000))
    back = read_depth(tmp_path / "d.png")
    ok = valid_mask(depth)
    assert np.abs(back[ok] - depth[ok]).max() <= 0.0005 + 1e-6
    assert (back[~ok] == 0).all() and not valid_mask(back)[~ok].any()


def test_other_scale(tmp_path):
    depth = np.full((4, 4), 1.2344, np.float32)
    write_depth(tmp_path / "d.png", depth, scale=5000)
    assert cv2.imread(str(tmp_path / "d.png"), cv2.IMREAD_UNCHANGED)[0, 0] == 6172
    assert abs(read_depth(tmp_path / "d.png", scale=5000)[0, 0] - 1.2344) < 1e-4


def test_npy_round_trip_and_invalid_values(tmp_path):
    depth = np.array([[1.5, np.nan], [-2.0, 0.75]], np.float32)
    write_depth(tmp_path / "d.npy", depth)
    back = read_depth(tmp_path / "d.npy")
    assert back.dtype == np.float32
    assert back[0, 0] == 1.5 and back[1, 1] == 0.75 and back[0, 1] == 0 and back[1, 0] == 0


def test_overflow_is_refused(tmp_path):
    with pytest.raises(ValueError, match="does not fit 16 bits"):
        write_depth(tmp_path / "d.png", np.full((2, 2), 70.0))
    assert not list(tmp_path.iterdir())


def test_bad_depth_files(tmp_path):
    cv2.imwrite(str(tmp_path / "rgb.png"), np.zeros((4, 4, 3), np.uint8))
    cv2.imwrite(str(tmp_path / "8bit.png"), np.zeros((4, 4), np.uint8))
    (tmp_path / "junk.npy").write_bytes(b"not numpy")
    with pytest.raises(DepthReadError, match="one channel"):
        read_depth(tmp_path / "rgb.png")
    with pytest.raises(DepthReadError, match="16-bit"):
        read_depth(tmp_path / "8bit.png")
    with pytest.raises(DepthReadError, match="junk.npy"):
        read_depth(tmp_path / "junk.npy")
    with pytest.raises(DepthReadError, match="not found"):
        read_depth(tmp_path / "missing.png")
