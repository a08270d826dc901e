"""keypoints/metrics.py: quadrilateral IoU against shapely, corner distances, PCK."""

from __future__ import annotations

import numpy as np
import pytest
from shapely.geometry import Polygon

from data.corners import canonical_order
from keypoints.metrics import keypoint_metrics, polygon_area, quad_iou


def _shapely_iou(a: np.ndarray, b: np.ndarray) -> float:
    pa, pb = Polygon(canonical_order(a)), Polygon(canonical_order(b))
    if pa.area == 0 or pb.area == 0:
        return 0.0
    pa, pb = pa.buffer(0), pb.buffer(0)
    inter = pa.intersection(pb).area
    return inter / (pa.area + pb.area - inter)


def _convex_quad(rng, centre, size):
    angles = np.sort(rng.uniform(0, 2 * np.pi, 4))
    pts = centre + np.stack([np.cos(angles), np.sin(angles)], 1) * size * rng.uniform(0.6, 1.0, (4, 1))
    return pts if Polygon(pts).convex_hull.area == pytest.approx(Polygon(pts).area) else np.array(Polygon(pts).convex_hull.exterior.coords)[:4]


def test_iou_matches_shapely_on_random_quads():
    rng = np.random.default_rng(0)
    checked = 0
    for _ in range(400):
        truth = _convex_quad(rng, rng.uniform(40, 60, 2), 20)
        if len(truth) < 4:
            continue
        pred = truth + rng.normal(0, rng.choice([1.0, 5.0, 15.0]), truth.shape)  # sometimes non-convex or a bow-tie
        assert quad_iou(pred, truth) == pytest.approx(_shapely_iou(pred, truth), abs=1e-9)
        checked += 1
    assert checked > 300


def test_non_convex_on_both_sides_falls_back_correctly():
    dart = np.array([[0, 0], [10, 5], [0, 10], [3, 5]], float)
    other = dart + [1.0, 0.5]
    assert quad_iou(dart, other) == pytest.approx(_shapely_iou(dart, other), abs=1e-9)


def test_degenerate_quads():
    square = np.array([[0, 0], [10, 0], [10, 10], [0, 10]], float)
    line = np.array([[0, 0], [5, 5], [10, 10], [2, 2]], float)
    point = np.zeros((4, 2))
    assert quad_iou(square, square) == pytest.approx(1.0)
    assert quad_iou(line, square) == 0.0 and quad_iou(square, line) == 0.0 and quad_iou(point, point) == 0.0
    assert quad_iou(square, square + 20) == 0.0
    touching = square + [10, 0]
    assert quad_iou(square, touching) == pytest.approx(0.0, abs=1e-12)
    bowtie = np.array([[0, 0], [10, 10], [10, 0], [0, 10]], float)  # the same 4 points, crossed
    assert quad_iou(bowtie, square) == pytest.approx(1.0)
    assert polygon_area(square) == 100


def test_keypoint_metrics_by_hand():
    truth = np.array([[100, 100], [300, 100], [300, 250], [100, 250]], float)
    pred = truth + [[3, 4], [0, 0], [0, 0], [-20, 0]]
    m = keypoint_metrics(pred, truth, (400, 300))
    assert m["mean_px"] == pytest.approx((5 + 20) / 4)
    assert m["mean_pct_diag"] == pytest.approx(6.25 / 500 * 100)
    assert m["pck_05"] == pytest.approx(0.75)  # 5 % of the 250 px diagonal is 12.5 px
    assert 0.9 < m["iou"] < 1.0


def test_order_free_error_forgives_a_flipped_start_only():
    from keypoints.metrics import corner_errors_any_start

    # a diamond whose top and left corners nearly tie on x + y: 1 px moves the canonical start from left to top
    truth = np.array([[50.0, 10.0], [90.0, 50.0], [50.0, 90.0], [10.0, 49.5]])
    shifted = np.array([[50.0, 10.0], [90.0, 50.0], [50.0, 90.0], [10.0, 50.5]])
    m = keypoint_metrics(shifted, truth, (100, 100))
    assert m["mean_px"] > 50  # every corner compared with its neighbour
    assert m["mean_px_any_start"] == pytest.approx(0.25)  # one corner 1 px off, at the best shift
    assert m["iou"] > 0.98
    assert np.allclose(sorted(corner_errors_any_start(shifted, truth)), [0, 0, 0, 1])
