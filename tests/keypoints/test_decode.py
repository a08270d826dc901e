"""keypoints/decode.py: the inference soft-argmax in a window around the peak, against the global one of training."""

from __future__ import annotations

import numpy as np
import pytest

from keypoints.decode import local_soft_argmax, peak_mass


def _global(logits):
    h, w, _ = logits.shape
    p = np.exp(logits - logits.max((0, 1)))
    p /= p.sum((0, 1))
    ys, xs = np.mgrid[0:h, 0:w] + 0.5
    return np.stack([(p * xs[..., None]).sum((0, 1)) / w, (p * ys[..., None]).sum((0, 1)) / h], axis=-1)


def test_a_second_bump_pulls_the_global_expectation_but_not_the_window():
    logits = np.full((24, 32, 1), -20.0)
    logits[10, 8, 0] = 6.0  # the corner
    logits[20, 28, 0] = 5.0  # a weaker bump far away (a flap, a floor seam)
    true = np.array([8.5 / 32, 10.5 / 24])
    assert np.linalg.norm(_global(logits)[0] - true) > 0.1  # dragged a quarter of the way across
    np.testing.assert_allclose(local_soft_argmax(logits)[0], true, atol=1e-6)


def test_the_window_keeps_sub_cell_precision_and_matches_the_global_one_on_a_single_peak():
    ys, xs = np.mgrid[0:24, 0:32] + 0.5
    centre = (13.3, 7.8)  # x, y in cells
    logits = (-((xs - centre[0]) ** 2 + (ys - centre[1]) ** 2) / (2 * 0.7**2))[..., None]
    got = local_soft_argmax(logits)[0]
    np.testing.assert_allclose(got, _global(logits)[0], atol=2e-4)
    np.testing.assert_allclose(got * [32, 24], centre, atol=0.02)


def test_peaks_at_the_border_and_several_maps():
    logits = np.full((6, 8, 2), -10.0)
    logits[0, 0, 0] = logits[0, 1, 0] = 10.0  # two equal cells in the corner of the map: halfway between them
    logits[5, 7, 1] = 10.0
    got = local_soft_argmax(logits, radius_cells=1)
    np.testing.assert_allclose(got, [[1.0 / 8, 0.5 / 6], [7.5 / 8, 5.5 / 6]], atol=1e-6)
    assert peak_mass(logits, got)[1] == pytest.approx(1.0)
