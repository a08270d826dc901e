"""The fill grid (data/synth/fill_grid.py, scripts/fill_grids.py) and the fill model's grid head: the grid's mean is
the scene's fill, its cells land where the rectified square shows that part of the floor (checked through the
scene's own camera and the rectifying homography), the loader mirrors it with the picture, and the head starts
from a model without it."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

import configs
from data.box_pose import box_frame
from data.fill_grids import read_fill_grids
from data.layout import read_meta
from data.synth.fill_grid import fill_grid, rim_corners_in_photo_order
from data.synth.scene import sample_scene
from data.synth.textures import make_bank
from fillnet.data import FillSamples, flip, flip_grid, list_scenes, make_dataset
from fillnet.rectify import grid_cells, grid_in_square, square_corners
from fillnet.results import load_model as load_fill_model
from scripts.fill_grids import main as fill_grids_main


def _grid_config() -> configs.FillnetConfig:
    """fillnet_smoke with a grid head: 96 px openings with the 8 px margin prediction uses, three levels -> 10 x 10."""
    _, cfg = configs.get_preset("fillnet_smoke")
    cfg.data.size, cfg.data.margin, cfg.model.widths, cfg.model.grid_head = 96, 8, (4, 8, 8), True
    return cfg


@pytest.fixture(scope="module")
def scenes():
    cfg = configs.SynthConfig()
    bank = make_bank(3)
    out = [sample_scene(cfg, np.random.default_rng(seed), bank) for seed in range(40)]
    return [s for s in out if s.open and s.fill > 0.05][:12]


def test_the_grid_mean_is_the_scene_fill(scenes):
    assert len(scenes) >= 8
    for scene in scenes:
        grid = fill_grid(scene, 10)
        assert grid.shape == (10, 10) and grid.min() >= 0 and grid.max() <= 1
        assert abs(float(grid.mean()) - scene.fill) < 0.01  # cells hold unequal numbers of 3 mm samples
        assert grid.std() > 0 or scene.fill in (0.0, 1.0)


def test_cells_land_where_the_rectified_square_shows_them(scenes):
    size, margin, g = 96, 8, grid_cells(96, 8)
    index = np.arange(g * g).reshape(g, g)  # cell (i, j) of the corners' frame holds i * g + j
    for scene in scenes:
        photo = scene.corners_image()
        w = rim_corners_in_photo_order(scene)
        uv, _ = scene.project(np.c_[w, np.full(4, scene.H)])
        np.testing.assert_allclose(uv, photo, atol=1e-6)  # the frame's corners are the photo's, in its order
        frame = box_frame(photo, scene.K, (scene.L, scene.W, scene.H))
        homography = cv2.getPerspectiveTransform(photo.astype(np.float32), square_corners(size, margin, frame.l_first))
        shown = grid_in_square(index, frame.l_first)
        for i in range(g):
            for j in range(g):
                p = w[0] + (j + 0.5) / g * (w[1] - w[0]) + (i + 0.5) / g * (w[3] - w[0])
                pix, _ = scene.project(np.array([[p[0], p[1], scene.H]]))
                x, y = cv2.perspectiveTransform(pix.reshape(1, 1, 2).astype(np.float64), homography)[0, 0]
                row, col = int((y + 0.5 - margin) // 8), int((x + 0.5 - margin) // 8)
                assert shown[row, col] == i * g + j


def test_the_grid_mirrors_with_the_picture():
    grid = np.arange(12.0).reshape(3, 4)
    picture = np.repeat(np.repeat(grid, 8, axis=0), 8, axis=1)[..., None]
    for h in (False, True):
        for v in (False, True):
            mirrored, _ = flip(picture, np.zeros(5, np.float32), h, v)
            np.testing.assert_array_equal(mirrored[::8, ::8, 0], flip_grid(grid, h, v))


def test_the_grid_head_learns_from_the_written_grids(tmp_path):
    from tests.conftest import make_dataset as make_synth

    written = make_synth(tmp_path / "written", 12, 5, overrides=["closed_prob=0.2", "fill_grid=10"])
    by_synth = read_fill_grids(written / "fill_grids.npz")  # nie synth writes them for its open scenes
    assert sorted(by_synth) == sorted(r["id"] for r in read_meta(written / "meta.jsonl") if r.get("open", True))
    data = make_synth(tmp_path / "ds", 12, 5, overrides=["closed_prob=0.2", "fill_grid=0"])  # a dataset made before
    assert not (data / "fill_grids.npz").exists()
    assert fill_grids_main(["--data", str(data), "--workers", "1"]) == 2  # not the settings it was made with: refused
    assert not (data / "fill_grids.npz").exists()
    cfg = _grid_config()
    cells = grid_cells(cfg.data.size, cfg.data.margin)
    with pytest.raises(ValueError, match="no fill grids"):
        make_dataset(cfg, list_scenes(data), training=True)
    assert fill_grids_main(["--data", str(data), "--workers", "1", "--grid", "3", "closed_prob=0.2"]) == 0
    with pytest.raises(ValueError, match="needs 10 x 10"):
        make_dataset(cfg, list_scenes(data), training=True)
    (data / "fill_grids.npz").unlink()
    assert fill_grids_main(["--data", str(data), "--workers", "1", "--grid", str(cells), "closed_prob=0.2"]) == 0
    assert fill_grids_main(["--data", str(data), "--workers", "1", "--grid", str(cells), "closed_prob=0.2"]) == 2  # kept
    scenes = list_scenes(data)
    for i, grid in zip(scenes.ids, scenes.grids, strict=True):  # the script draws the scenes nie synth drew
        np.testing.assert_array_equal(grid, by_synth.get(i))
    assert all((g is not None) == o for g, o in zip(scenes.grids, scenes.open, strict=True))
    x, y = make_dataset(cfg, scenes, training=True)[0]
    assert y.shape == (len(x), 4 + cells * cells)
    known = y[:, 3] == 1
    assert known.any()
    np.testing.assert_allclose(y[known, 4:].mean(axis=1), y[known, 0], atol=0.02)  # the grid's mean is the fill
    cfg.data.corners_from_prob = 1.0  # draws rectified by predicted corners: the grid where they are the true ones
    first = scenes.open.index(True)
    near = FillSamples(cfg, scenes, True, False, predicted=[c + 0.5 for c in scenes.corners])
    assert near(first, np.random.default_rng(0))[1][3] == 1.0
    shifted = FillSamples(cfg, scenes, True, False, predicted=[np.roll(c, 1, axis=0) for c in scenes.corners])
    assert shifted(first, np.random.default_rng(0))[1][3] == 0.0  # another first corner: the grid's frame is not known


def test_a_model_starts_its_grid_head_from_one_without_it(tmp_path):
    from fillnet.losses import FillLoss
    from fillnet.model import build_model
    from training.model_files import init_from

    cfg = _grid_config()
    cfg.model.grid_head = False
    old = build_model(cfg)
    old.save(tmp_path / "old.keras")
    cfg.model.grid_head = True
    new = init_from(build_model(cfg), str(tmp_path / "old.keras"))
    cells = grid_cells(cfg.data.size, cfg.data.margin)
    assert new.output_shape == (None, 3 + cells * cells)
    x = np.random.default_rng(0).uniform(0, 255, (2, 96, 96, 8)).astype(np.float32)
    np.testing.assert_allclose(new.predict(x, verbose=0)[:, :3], old.predict(x, verbose=0), atol=1e-5)
    # the loss: the cells' mean absolute error, weighted, only where the grid is known
    y_pred = np.zeros((2, 3 + cells * cells), np.float32)
    y_pred[:, 2] = 20.0  # open, surely
    y_true = np.concatenate([np.array([[0.0, 0.0, 1.0, 1.0], [0.0, 0.0, 1.0, 0.0]], np.float32),
                             np.full((2, cells * cells), 0.5, np.float32)], axis=1)
    per = np.asarray(FillLoss(overfill_weight=0.0, open_weight=0.0, grid_weight=2.0).call(y_true, y_pred))
    np.testing.assert_allclose(per, [2.0 * 0.5, 0.0], atol=1e-5)
    with pytest.raises(ValueError, match="multiples of 8"):
        grid_cells(96, 12)
    with pytest.raises(configs.ConfigError, match="open_head"):
        configs.apply_overrides(configs.FillnetConfig(), ["model.open_head=false", "model.grid_head=true"])


def test_predictions_carry_the_grid_mirrored_back_and_the_report_draws_it(synth_dataset):
    from fillnet.model import build_model
    from fillnet.rectify import model_input, rectify
    from fillnet.results import predict_fill
    from volume.fill import learned_fill

    cfg = _grid_config()
    model = build_model(cfg)
    scenes = list_scenes(synth_dataset)
    item = (cv2.imread(scenes.images[0])[..., ::-1].copy(), scenes.corners[0], scenes.K[0], scenes.lwh[0])
    fill, overfill, is_open, grid = predict_fill(model, [item], grids=True)[0]
    assert predict_fill(model, [item])[0] == (fill, overfill, is_open)  # three numbers unless asked for the grid
    opening, pose = rectify(*item, size=96, margin=8)  # what prediction uses at 96 px
    views = [(h, v) for h in (False, True) for v in (False, True)]
    raw = model.predict(np.stack([model_input(*flip(opening.astype(np.float32), pose, h, v)) for h, v in views]), verbose=0)
    expected = np.mean([flip_grid(r[3:].reshape(10, 10), h, v) for r, (h, v) in zip(raw, views, strict=True)], axis=0)
    np.testing.assert_allclose(grid, np.clip(expected, 0, None), atol=1e-5)
    shown = learned_fill(fill, overfill, item[3], grid)
    np.testing.assert_allclose(shown.heights, np.clip(expected, 0, 1), atol=1e-5)  # the report's map: the grid
    assert learned_fill(fill, overfill, item[3]).heights.std() == 0  # a model without the head: the flat level
    cfg.model.grid_head = False
    assert predict_fill(build_model(cfg), [item], grids=True)[0][3] is None


def test_a_model_with_the_grid_head_averages_with_one_without_it(tmp_path):
    from fillnet.model import build_model
    from training.model_files import average_weights

    cfg = _grid_config()
    with_grid = build_model(cfg)
    cfg.model.grid_head = False
    plain = build_model(cfg)
    plain.set_weights([w + 0.1 for w in plain.get_weights()])
    with_grid.save(tmp_path / "grid.keras")
    plain.save(tmp_path / "plain.keras")
    soup = load_fill_model(average_weights([tmp_path / "grid.keras", tmp_path / "plain.keras"], tmp_path / "soup.keras"))
    for layer in soup.layers:
        if not layer.get_weights():
            continue
        mine = with_grid.get_layer(layer.name).get_weights()
        if layer.name.startswith("grid_"):  # only the first has the head: kept as it was
            expected = mine
        else:
            expected = [(a + b) / 2 for a, b in zip(mine, plain.get_layer(layer.name).get_weights(), strict=True)]
        for got, want in zip(layer.get_weights(), expected, strict=True):
            np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="architecture differs"):  # the head must come with the first model
        average_weights([tmp_path / "plain.keras", tmp_path / "grid.keras"], tmp_path / "bad.keras")
    assert not (tmp_path / "bad.keras").exists()
