"""data/contact_sheet.py: a grid of image | depth cells with corners and labels drawn."""

from __future__ import annotations

import numpy as np
import pytest

from data.contact_sheet import colour_depth, contact_sheet, draw_corners
from data.images import read_image


def test_sheet_size_and_content(tmp_path, synth_dataset):
    out = contact_sheet(synth_dataset, tmp_path / "sheet.png", n=5, columns=2)
    sheet = read_image(out)
    # 3 rows x 2 columns of (256 x 192 image | 256 x 192 depth) cells, 4 px gaps
    assert sheet.shape == (3 * (192 + 4), 2 * (2 * 256 + 4), 3)
    assert sheet[:, : 2 * 256].std() > 10  # pictures, not a blank canvas
    assert (sheet[-196:, 516:] == 30).all()  # the unused 6th cell stays background


def test_corners_are_drawn_where_they_are():
    img = np.zeros((50, 80, 3), np.uint8)
    out = draw_corners(img, np.array([[10.0, 10.0], [70.0, 10.0], [70.0, 40.0], [10.0, 40.0]]))
    assert out[10, 10].max() > 200 and out[25, 40].max() == 0
    assert tuple(out[10, 10]) != tuple(out[40, 70])  # corners are told apart by colour


def test_colour_depth_marks_invalid_black():
    depth = np.linspace(0.5, 2.0, 200, dtype=np.float32).reshape(10, 20)
    depth[0, 0] = 0
    rgb = colour_depth(depth)
    assert (rgb[0, 0] == 0).all() and rgb[5, 5].max() > 0
    assert not np.array_equal(rgb[1, 1], rgb[9, 19])


def test_empty_dataset_is_refused(tmp_path):
    (tmp_path / "meta.jsonl").write_text("")
    with pytest.raises(ValueError, match="no samples"):
        contact_sheet(tmp_path, tmp_path / "s.png")
