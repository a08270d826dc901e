"""Several fill methods scored side by side: one that fails beside the main method costs that method the photo,
never the main method (what `nie fill` answers is what `nie evaluate fill` scores)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from configs import VolumeConfig
from data.box_pose import GeometryError
from tests.volume.analytic import render
from volume.chain import Photo, measure
from volume.evaluate import _by_method


def _photo_without_depth():
    view = render(0.4, 0.3, 0.3, 0.15, tilt_deg=20)
    photo = Photo(Path("box.png"), "box", np.zeros((*view.depth.shape, 3), np.uint8), view.K, "meta", (0.4, 0.3, 0.3))
    return photo, view.corners, np.zeros_like(view.depth)  # no valid depth anywhere: the depth methods fail


def test_a_failing_method_beside_the_main_one_is_left_out_with_its_reason():
    photo, corners, depth = _photo_without_depth()
    failed: dict[str, str] = {}
    fills = measure(photo, corners, depth, VolumeConfig(), ("learned", "normalised"), measured_depth=False,
                    learned=(0.7, 0.1, 0.99), failed=failed)
    assert list(fills) == ["learned"] and fills["learned"].fill == pytest.approx(0.7)
    assert set(failed) == {"normalised"} and "depth" in failed["normalised"]


def test_the_main_method_failing_still_fails_the_photo():
    photo, corners, depth = _photo_without_depth()
    with pytest.raises(GeometryError, match="depth"):
        measure(photo, corners, depth, VolumeConfig(), ("normalised", "learned"), measured_depth=False, learned=(0.7, 0.1, 0.99))


def test_scoring_leaves_a_photo_out_only_for_the_method_that_failed_on_it():
    records = [{"id": "a", "fill": 0.7, "overfill": False, "by_method": {"learned": {"fill": 0.7, "overfill": False},
                                                                         "normalised": {"failed": "no valid depth"}}},
               {"id": "b", "fill": 0.2, "overfill": False, "by_method": {"learned": {"fill": 0.2, "overfill": False},
                                                                         "normalised": {"fill": 0.3, "overfill": False}}}]
    assert set(_by_method(records, "learned", VolumeConfig())) == {"a", "b"}
    assert _by_method(records, "normalised", VolumeConfig()) == {"b": {"fill": 0.3, "overfill": False, "label": "NOK"}}
