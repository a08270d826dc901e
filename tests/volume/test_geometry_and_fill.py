"""volume/ on analytic scenes: exact z-depth of an open box with flat content, at any tilt and yaw."""

from __future__ import annotations

import numpy as np
import pytest

from data.depth_io import valid_mask
from tests.volume.analytic import render
from volume.fill import metric_fill, normalised_fill, rim_overfill
from volume.geometry import GeometryError, backproject, box_frame, check_quad, fit_rim_plane, valid_rim_samples
from volume.heightmap import height_map, wall_shadow_height

L, W, H = 0.5, 0.3, 0.3
VIEWS = [(0, 0), (12, 75), (25, 200), (35, 320)]


@pytest.mark.parametrize("tilt,yaw", VIEWS)
@pytest.mark.parametrize("level", [0.0, 0.09, 0.21, H])
def test_flat_layer_gives_its_fill_at_any_tilt_and_yaw(tilt, yaw, level):
    view = render(L, W, H, level, tilt, yaw)
    f = metric_fill(view.depth, view.K, view.corners, (L, W, H))
    assert f.fill * 100 == pytest.approx(level / H * 100, abs=0.5)
    assert not f.overfill
    assert f.empty_volume_l == pytest.approx((1 - f.fill) * L * W * H * 1000)


def test_empty_and_full_boxes_and_the_pose():
    empty = render(L, W, H, 0.0, 20, 30)
    assert metric_fill(empty.depth, empty.K, empty.corners, (L, W, H)).fill == pytest.approx(0.0, abs=0.005)
    full = render(L, W, H, H, 20, 30)
    assert metric_fill(full.depth, full.K, full.corners, (L, W, H)).fill == pytest.approx(1.0, abs=0.005)
    frame = box_frame(empty.corners, empty.K, (L, W, H))
    assert frame.reprojection_px < 1e-3
    # floor points land at height 0 inside [0, L] x [0, W]
    v, u = np.nonzero(empty.depth > 0)
    pts = frame.box(backproject(u * 1.0, v * 1.0, empty.depth[v, u].astype(np.float64), empty.K))
    inside = (pts[:, 0] > 0.05) & (pts[:, 0] < L - 0.05) & (pts[:, 1] > 0.05) & (pts[:, 1] < W - 0.05) & (pts[:, 2] < 0.5 * H)
    assert inside.sum() > 500 and np.abs(pts[inside, 2]).max() < 1e-3


def test_overfill_is_flagged_and_counts_up_to_the_rim():
    over = render(L, W, H, 0.15, 15, 40, block=(0.15, 0.09, 0.35, 0.21, H + 0.08))  # its shadow stays off the walls
    f = metric_fill(over.depth, over.K, over.corners, (L, W, H), hidden_rule="border")
    assert f.overfill
    share = 0.2 * 0.12 / (L * W)
    # the block counts up to H only; cells its edges cross take its height (the highest point per cell): +1.5 pp
    assert f.fill == pytest.approx(0.5 + share * 0.5, abs=0.02)
    floor = metric_fill(over.depth, over.K, over.corners, (L, W, H))  # the default rule: its shadow counts as empty
    assert floor.overfill and floor.fill < f.fill - 0.01
    flush = render(L, W, H, 0.15, 15, 40, block=(0.15, 0.09, 0.35, 0.21, H))
    assert not metric_fill(flush.depth, flush.K, flush.corners, (L, W, H)).overfill


@pytest.mark.parametrize("scale", ["rim_size", "rim_depth"])
def test_scale_correction_recovers_a_wrong_global_scale(scale):
    view = render(L, W, H, 0.12, 20, 60)
    for factor in (0.7, 1.4):
        wrong = view.depth * factor
        try:  # uncorrected: far off, or no content inside the box at all
            assert abs(metric_fill(wrong, view.K, view.corners, (L, W, H)).fill - 0.4) > 0.1
        except GeometryError:
            pass
        f = metric_fill(wrong, view.K, view.corners, (L, W, H), scale=scale)
        assert f.extra["scale"] == pytest.approx(1 / factor, rel=0.03)
        assert f.fill == pytest.approx(0.4, abs=0.03)


def test_normalised_fallback_at_nadir():
    """The seed's method: right straight down through a narrow lens where the floor shows (z-depth differences
    are heights there, and the walls hardly show)."""
    view = render(L, W, H, 0.0, 0, 0, fov_deg=8.0, block=(0.15, 0.1, 0.35, 0.2, 0.15), wall=0.01)
    f = normalised_fill(view.depth, view.corners, (L, W, H))
    empty = render(L, W, H, 0.0, 0, 0, fov_deg=8.0, wall=0.01)
    base = normalised_fill(empty.depth, empty.corners, (L, W, H)).fill  # the rim's top along the crop's edges reads as full
    assert f.method == "normalised" and base < 0.08
    assert f.fill - base == pytest.approx(0.2 * 0.1 / (L * W) * 0.5, abs=0.01)
    flat = render(L, W, H, 0.15, 0, 0, wall=0.01)
    assert normalised_fill(flat.depth, flat.corners, (L, W, H)).fill < 0.2  # its known flaw: a half-full flat layer reads as floor


def test_wall_shadow_height():
    xs, ys = np.array([0.05, 0.25, 0.45]), np.array([0.15])
    above = wall_shadow_height(np.array([0.25, 0.15, 2.0]), xs, ys, L, W, H)
    assert np.all(above == 0)  # straight above the opening: the whole floor shows
    side = wall_shadow_height(np.array([-1.0, 0.15, 1.0]), xs, ys, L, W, H)
    assert side[0, 0] > side[0, 1] > side[0, 2] >= 0  # seen from beyond x = 0: the near wall hides most near itself
    # analytic: from (-1, ., 1), a point at x = 0.05 clears the rim of the wall at x = 0 when z >= (H - s Cz) / (1 - s)
    s = 0.05 / 1.05
    assert side[0, 0] == pytest.approx((H - s * 1.0) / (1 - s))


def test_bad_corners_and_depth_are_refused_clearly():
    view = render(L, W, H, 0.1, 10, 10)
    h, w = view.depth.shape
    with pytest.raises(GeometryError, match="convex"):
        check_quad(view.corners[[0, 2, 1, 3]], w, h)
    outside = view.corners.copy()
    outside[2] = (w + 10, 5)
    with pytest.raises(GeometryError, match="corner 3 lies outside"):
        check_quad(outside, w, h)
    with pytest.raises(GeometryError, match="no valid depth inside"):
        metric_fill(np.zeros_like(view.depth), view.K, view.corners, (L, W, H))


def test_overfill_is_judged_against_the_rim_plane_of_the_depth_not_of_the_corners():
    """Corners a few pixels off tilt the rim plane that PnP gives by centimetres; the depth's own rim does not move."""
    over = render(L, W, H, 0.15, 25, 40, block=(0.15, 0.09, 0.35, 0.21, H + 0.03))  # 3 cm above the rim
    flush = render(L, W, H, H - 0.005, 25, 40)  # full to 5 mm under the rim: not overfilled
    shift = np.array([[0.0, -3.0], [0.0, -3.0], [0.0, 3.0], [0.0, 3.0]])  # 3 px: two corners up, two down
    for view, expect in ((over, True), (flush, False)):
        for corners in (view.corners, view.corners + shift, view.corners - shift, view.corners + np.roll(shift, 1, 0)):
            assert rim_overfill(view.depth, view.K, corners, 0.01) is expect
            assert metric_fill(view.depth, view.K, corners, (L, W, H)).overfill is expect
    # the height map's cells against the corners' rim plane take the flush box for overfilled (the rule before)
    hm = height_map(flush.depth, flush.K, flush.corners - shift, (L, W, H))
    assert ((hm.heights > H + 0.01) & hm.seen).mean() > 0.005
    assert rim_overfill(np.zeros_like(over.depth), over.K, over.corners, 0.01) is None  # no depth, no plane


@pytest.mark.parametrize("off", [0.8, 1.25])
def test_the_rim_plane_of_the_scale_fix_is_the_one_rim_overfill_would_fit_again(off):
    """height_map(scale="rim_size") hands its rim plane, scaled with the depth, to rim_overfill: the same plane (and so
    the same answer) as fitting the scaled depth's rim again, which it saves; where the 4 mm floor of the inlier
    threshold applies (a rim closer than 40 cm), it hands none and rim_overfill fits its own."""
    for view, expect in ((render(L, W, H, 0.15, 25, 40, block=(0.15, 0.09, 0.35, 0.21, H + 0.03)), True),
                         (render(L, W, H, H - 0.005, 25, 40), False)):
        depth = view.depth * off  # predicted depth off in scale
        hm = height_map(depth, view.K, view.corners, (L, W, H), scale="rim_size")
        assert hm.scale == pytest.approx(1 / off, rel=0.01)
        scaled = depth * hm.scale
        refit, _ = fit_rim_plane(valid_rim_samples(scaled, valid_mask(scaled), view.corners), view.K)
        assert hm.rim_plane is not None
        # the same plane to a micrometre (the depth is float32: scaling it rounds)
        assert np.allclose(hm.rim_plane.n, refit.n, atol=1e-6) and hm.rim_plane.d == pytest.approx(refit.d, abs=1e-6)
        assert rim_overfill(scaled, view.K, view.corners, 0.01, plane=hm.rim_plane) is expect
        assert rim_overfill(scaled, view.K, view.corners, 0.01) is expect
        assert metric_fill(depth, view.K, view.corners, (L, W, H), scale="rim_size").overfill is expect
    near = render(L, W, H, 0.15, 25, 40)
    shrink = 0.3 / float(np.median(near.depth[near.depth > 0]))  # the same scene as if 30 cm away: the floor applies
    assert height_map(near.depth * shrink, near.K, near.corners, (L, W, H), scale="rim_size").rim_plane is None
