"""Command-line inputs (data/inputs.py): a file or a folder, and images decoded ahead in the files' order."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from data.images import write_image
from data.inputs import ItemReport, iter_images, list_inputs


def _folder(tmp_path, n=12, bad=(3, 7)):
    for i in range(n):
        if i in bad:
            (tmp_path / f"im{i:02d}.png").write_bytes(b"not a picture")
        else:
            write_image(tmp_path / f"im{i:02d}.png", np.full((6 + i, 5, 3), i * 5, np.uint8))
    return list_inputs(tmp_path)


@pytest.mark.parametrize("ahead", [0, 1, 4, 50])
def test_images_come_in_order_and_bad_ones_are_skipped(tmp_path, ahead):
    files = _folder(tmp_path)
    report = ItemReport()
    got = list(iter_images(files, report, "t", progress=False, ahead=ahead))
    names = [p.name for p, _ in got]
    assert names == [f"im{i:02d}.png" for i in range(12) if i not in (3, 7)]
    for path, rgb in got:  # each picture is its own file's, not a neighbour's
        i = int(path.stem[2:])
        assert rgb.shape == (6 + i, 5, 3) and rgb[0, 0, 0] == i * 5
    assert [name for name, _ in report.skipped] == ["im03.png", "im07.png"]
    assert all(reason for _, reason in report.skipped)


def test_stopping_early_leaves_no_decoder_thread(tmp_path):
    files = _folder(tmp_path, n=40, bad=())
    gen = iter_images(files, ItemReport(), "t", progress=False, ahead=8)
    first = [next(gen) for _ in range(3)]
    assert [p.name for p, _ in first] == ["im00.png", "im01.png", "im02.png"]
    gen.close()
    assert not [t for t in threading.enumerate() if t.name.startswith("decode")]
