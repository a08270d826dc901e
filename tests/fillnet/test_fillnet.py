"""fillnet/: the rectified opening and pose numbers against an analytic camera, the loader, training, evaluation,
and the learned method in `nie fill`."""

from __future__ import annotations

import csv
import json
import math
import shutil

import cv2
import numpy as np
import pytest

import configs
from data.layout import read_meta
from fillnet.data import flip, jitter_corners, list_scenes, make_dataset
from fillnet.rectify import model_input, rectify, square_corners
from scripts.nie import main
from tests.conftest import ROOT
from tests.volume.analytic import render


def _camera(L, W, H, tilt, yaw, fov=55.0):
    """The analytic renderer's camera (tests/volume/analytic.py): rotation camera -> box frame, and centre."""
    t, y = math.radians(tilt), math.radians(yaw)
    x_cam, y_cam, z_cam = np.array([1.0, 0, 0]), np.array([0, -1.0, 0]), np.array([0, 0, -1.0])
    y_cam, z_cam = math.cos(t) * y_cam + math.sin(t) * z_cam, -math.sin(t) * y_cam + math.cos(t) * z_cam
    Rz = np.array([[math.cos(y), -math.sin(y), 0], [math.sin(y), math.cos(y), 0], [0, 0, 1.0]])
    R = Rz @ np.stack([x_cam, y_cam, z_cam], axis=1)
    distance = 1.6 * max(L, W, H) / math.tan(math.radians(fov) / 2)
    return R, np.array([L / 2, W / 2, H / 2]) - distance * R[:, 2]


@pytest.mark.parametrize("tilt, yaw", [(0.0, 0.0), (25.0, 30.0), (35.0, 200.0)])
def test_pose_numbers_match_the_analytic_camera(tilt, yaw):
    L, W, H = 0.5, 0.3, 0.25
    view = render(L, W, H, 0.1, tilt_deg=tilt, yaw_deg=yaw)
    _, pose = rectify(np.zeros((192, 256, 3), np.uint8), view.corners, view.K, (L, W, H))
    _, C = _camera(L, W, H, tilt, yaw)
    size = math.sqrt(L * W)
    # which rim corner is the origin depends on the canonical start: the offsets are known up to their sign
    assert abs(pose[0]) == pytest.approx(abs((C[0] - L / 2) / L), abs=2e-3)
    assert abs(pose[1]) == pytest.approx(abs((C[1] - W / 2) / W), abs=2e-3)
    assert pose[2] == pytest.approx((C[2] - H) / size, rel=2e-3)
    assert pose[3] == pytest.approx(H / size) and pose[4] == pytest.approx(L / W)


def test_the_rim_lands_on_the_square_and_its_centre_in_the_middle():
    L, W, H = 0.6, 0.35, 0.3
    view = render(L, W, H, 0.0, tilt_deg=30.0, yaw_deg=70.0)
    R, C = _camera(L, W, H, 30.0, 70.0)
    p = (np.array([L / 2, W / 2, H]) - C) @ R  # the rim centre in the camera frame
    u, v = p[:2] / p[2] * [view.K[0, 0], view.K[1, 1]] + view.K[:2, 2]
    img = np.zeros((192, 256, 3), np.uint8)
    cv2.circle(img, (int(round(u)), int(round(v))), 2, (255, 255, 255), -1)
    opening, _ = rectify(img, view.corners, view.K, (L, W, H), size=96, margin=8)
    ys, xs = np.nonzero(opening[..., 0] > 60)
    assert abs(xs.mean() - 47.5) < 1.5 and abs(ys.mean() - 47.5) < 1.5
    assert square_corners(96, 8, True)[0].tolist() == [7.5, 7.5]


def test_flip_mirrors_the_picture_and_the_camera():
    opening = np.arange(4 * 4 * 3, dtype=np.float32).reshape(4, 4, 3)
    pose = np.array([0.2, -0.1, 3.0, 0.8, 1.5], np.float32)
    o, p = flip(opening, pose, horizontal=True, vertical=False)
    assert np.array_equal(o, opening[:, ::-1]) and p.tolist() == pytest.approx([-0.2, -0.1, 3.0, 0.8, 1.5])
    o, p = flip(opening, pose, horizontal=False, vertical=True)
    assert np.array_equal(o, opening[::-1]) and p.tolist() == pytest.approx([0.2, 0.1, 3.0, 0.8, 1.5])
    x = model_input(opening, pose)
    assert x.shape == (4, 4, 8) and np.all(x[..., 3] == pytest.approx(0.2))


def test_jitter_is_sized_to_the_image_and_keeps_the_order():
    corners = np.array([[50.0, 40.0], [200.0, 45.0], [210.0, 150.0], [40.0, 140.0]])
    rng = np.random.default_rng(0)
    small = [np.abs(jitter_corners(corners, 256, 192, 2.0, rng) - corners).mean() for _ in range(300)]
    big = [np.abs(jitter_corners(corners * 4, 1024, 768, 2.0, rng) - corners * 4).mean() for _ in range(300)]
    assert 0.5 < np.mean(small) < 2.5 and np.mean(big) == pytest.approx(4 * np.mean(small), rel=0.25)


def test_scenes_without_a_fill_are_skipped_by_name(synth_dataset, tmp_path):
    root = tmp_path / "ds"
    shutil.copytree(synth_dataset, root)
    rows = read_meta(root / "meta.jsonl")
    del rows[0]["fill"]
    (root / "meta.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    scenes = list_scenes(root)
    assert len(scenes.ids) == len(rows) - 1 and scenes.skipped == [("000000.png", "meta.jsonl lacks fill")]


def test_loader_gives_inputs_and_targets(synth_dataset):
    _, cfg = configs.get_preset("fillnet_smoke")
    cfg.data.augment = True
    scenes = list_scenes(synth_dataset)
    x, y = make_dataset(cfg, scenes, training=True)[0]
    assert x.shape == (4, 32, 32, 8) and y.shape == (4, 3)
    assert x.dtype == np.float16  # half the bytes through the loader processes' pipes; the model's input casts them
    assert set(y[:, 1].tolist()) <= {0.0, 1.0} and np.all((y[:, 0] >= 0) & (y[:, 0] <= 1))
    assert np.all(y[:, 2] == 1.0)  # every default scene is an open box


def _chain_folders(dataset, tmp_path, n: int):
    """A models folder with the shipped corner and depth models (no fill model yet) and a folder of the dataset's
    first n photos, its meta.jsonl beside that folder (K and the box size)."""
    models = tmp_path / "models"
    models.mkdir()
    for name in ("keypoints.keras", "depth.keras"):
        shutil.copy(ROOT / "models" / name, models / name)
    photos = tmp_path / "photos"
    photos.mkdir()
    for name in sorted(p.name for p in (dataset / "images").iterdir())[:n]:
        shutil.copy(dataset / "images" / name, photos / name)
    shutil.copy(dataset / "meta.jsonl", tmp_path / "meta.jsonl")
    return models, photos


@pytest.mark.slow
def test_train_evaluate_predict_and_the_learned_method_in_nie_fill(synth_dataset, tmp_path):
    run = tmp_path / "run"
    assert main(["train", "fillnet", "--data", str(synth_dataset), "--run", str(run), "--preset", "fillnet_smoke"]) == 0
    assert (run / "best.keras").is_file()
    assert main(["evaluate", "fillnet", "--model", str(run), "--data", str(synth_dataset), "--out", str(tmp_path / "ev"),
                 "data.size=32"]) == 0
    m = json.loads((tmp_path / "ev" / "metrics.json").read_text())
    assert {"mae_pp", "max_err_pp", "n", "overfill_accuracy", "class_accuracy"} <= set(m) and m["n"] == 16
    assert main(["predict", "fillnet", "--model", str(run), "--input", str(synth_dataset), "--out", str(tmp_path / "pr")]) == 0
    assert len((tmp_path / "pr" / "predictions.csv").read_text().splitlines()) == 17
    models, photos = _chain_folders(synth_dataset, tmp_path, 3)
    assert main(["fill", "--input", str(photos), "--out", str(tmp_path / "f1"), "--models", str(models), "method=learned",
                 "use_classifier=false"]) == 0
    first = json.loads(next((tmp_path / "f1").glob("0*.json")).read_text())
    assert first["method"] in ("metric", "normalised") and first["details"]["fallback_from"] == "learned"  # no fillnet.keras
    shutil.copy(run / "best.keras", models / "fillnet.keras")
    assert main(["fill", "--input", str(photos), "--out", str(tmp_path / "f2"), "--models", str(models), "method=learned",
                 "use_classifier=false", "min_open_probability=0"]) == 0  # an untrained open head may say anything
    first = json.loads(next((tmp_path / "f2").glob("0*.json")).read_text())
    assert first["method"] == "learned" and 0 <= first["fill"] <= 1


def test_prediction_averages_the_four_mirrored_views(synth_dataset):
    from fillnet.model import build_model
    from fillnet.results import predict_fill

    _, cfg = configs.get_preset("fillnet_smoke")
    model = build_model(cfg)
    scenes = list_scenes(synth_dataset)
    rgb = cv2.cvtColor(cv2.imread(scenes.images[0]), cv2.COLOR_BGR2RGB)
    item = (rgb, scenes.corners[0], scenes.K[0], scenes.lwh[0])
    size = model.input_shape[1]
    opening, pose = rectify(rgb, scenes.corners[0], scenes.K[0], scenes.lwh[0], size, round(size / 12))
    views = [model_input(*flip(opening.astype(np.float32), pose, h, v)) for h in (False, True) for v in (False, True)]
    raw = model.predict(np.stack(views), verbose=0)
    fill, overfill, is_open = predict_fill(model, [item])[0]
    assert fill == pytest.approx(float(np.clip(raw[:, 0].mean(), 0, 1)), abs=1e-5)
    assert overfill == pytest.approx(float(np.mean(1 / (1 + np.exp(-raw[:, 1])))), abs=1e-5)
    assert is_open == pytest.approx(float(np.mean(1 / (1 + np.exp(-raw[:, 2])))), abs=1e-5)
    single = predict_fill(model, [item], flips=False)[0]
    assert single[0] == pytest.approx(float(np.clip(raw[0, 0], 0, 1)), abs=1e-5)
    assert predict_fill(model, [(rgb, np.zeros((4, 2)), scenes.K[0], scenes.lwh[0])]) == [None]  # no pose fits


@pytest.fixture(scope="module")
def negatives(tmp_path_factory):
    """8 tiny scenes, about half of them closed boxes or box-free."""
    root = tmp_path_factory.mktemp("neg") / "ds"
    assert main(["synth", "--out", str(root), "--n", "8", "--seed", "11", "--preset", "synth_smoke", "closed_prob=0.3",
                 "no_box_prob=0.3", "--quiet"]) == 0
    return root


def test_closed_boxes_and_box_free_scenes_teach_the_open_head(negatives):
    scenes = list_scenes(negatives)
    kinds = [row.get("open", True) for row in read_meta(negatives / "meta.jsonl")]
    assert scenes.open == kinds and 0 < sum(kinds) < len(kinds)
    assert all(scenes.fill[i] == 0.0 and not scenes.overfill[i] for i in range(len(kinds)) if not kinds[i])
    only_open = list_scenes(negatives, with_closed=False)
    assert len(only_open.ids) == sum(kinds) and all("no open box" in r for _, r in only_open.skipped)
    _, cfg = configs.get_preset("fillnet_smoke")
    _, y = make_dataset(cfg, scenes, training=False)[0]
    np.testing.assert_array_equal(y[:, 2], [float(k) for k in kinds[: len(y)]])


def test_the_loss_leaves_fill_out_where_there_is_no_open_box():
    from fillnet.losses import FillLoss, fill_mae_pp, open_accuracy

    y_true = np.array([[0.5, 0.0, 1.0], [0.0, 0.0, 0.0]], np.float32)
    right = np.array([[0.5, -20.0, 20.0], [0.9, 20.0, -20.0]], np.float32)  # the closed box's fill and overfill: ignored
    wrong_open = np.array([[0.5, -20.0, 20.0], [0.9, 20.0, 20.0]], np.float32)
    loss = FillLoss(overfill_weight=0.1, open_weight=0.2)
    per = np.asarray(loss.call(y_true, right))
    assert per.max() < 1e-6
    assert np.asarray(loss.call(y_true, wrong_open))[1] == pytest.approx(0.2 * 20.0, rel=1e-4)
    assert float(fill_mae_pp(y_true, right)) == pytest.approx(0.0, abs=1e-4)  # only the open box counts
    assert float(open_accuracy(y_true, wrong_open)) == pytest.approx(0.5)
    # a model without the open head: the box-free row adds nothing
    assert np.asarray(FillLoss().call(y_true, right[:, :2])).max() < 1e-6


def test_a_model_without_the_open_head_starts_one_with_it(tmp_path):
    from fillnet.model import build_model
    from training.model_files import init_from

    _, cfg = configs.get_preset("fillnet_smoke")
    cfg.model.open_head = False
    old = build_model(cfg)
    assert old.output_shape == (None, 2)
    old.save(tmp_path / "old.keras")
    cfg.model.open_head = True
    new = init_from(build_model(cfg), str(tmp_path / "old.keras"))
    assert new.output_shape == (None, 3)
    for a, b in zip(old.get_weights(), new.get_weights(), strict=False):
        np.testing.assert_array_equal(a, b)
    x = np.random.default_rng(0).uniform(0, 255, (2, 32, 32, 8)).astype(np.float32)
    np.testing.assert_allclose(new.predict(x, verbose=0)[:, :2], old.predict(x, verbose=0), atol=1e-5)


def test_a_model_grows_residual_blocks_and_answers_as_before(tmp_path):
    from fillnet.model import build_model
    from training.model_files import init_from

    _, cfg = configs.get_preset("fillnet_smoke")
    rng = np.random.default_rng(1)
    old = build_model(cfg)
    old.set_weights([w + rng.normal(0, 0.3, w.shape).astype(w.dtype) if w.ndim > 1 else w for w in old.get_weights()])
    old.save(tmp_path / "old.keras")
    cfg.model.res_blocks = (1, 2)
    grown = init_from(build_model(cfg), str(tmp_path / "old.keras"))
    assert grown.count_params() > old.count_params()
    x = rng.uniform(0, 255, (4, 32, 32, 8)).astype(np.float32)
    before = old.predict(x, verbose=0)
    np.testing.assert_allclose(grown.predict(x, verbose=0), before, atol=1e-5)
    for layer in grown.layers:  # the blocks are in the path: with their last BN's scale at 1 the answer moves
        if layer.name.endswith("_bn2"):
            layer.gamma.assign(np.ones(layer.gamma.shape, np.float32))
    assert np.abs(grown.predict(x, verbose=0) - before).max() > 1e-3
    cfg.model.res_blocks = (1, 1, 1)
    with pytest.raises(configs.ConfigError, match="res_blocks"):
        configs.validate(cfg)


def test_an_init_of_another_architecture_is_refused_and_leaves_no_run(synth_dataset, tmp_path):
    from fillnet.model import build_model

    _, cfg = configs.get_preset("fillnet_smoke")
    cfg.model.res_blocks = (0, 1)
    build_model(cfg).save(tmp_path / "deeper.keras")
    run = tmp_path / "run"
    args = ["train", "fillnet", "--data", str(synth_dataset), "--run", str(run), "--preset", "fillnet_smoke",
            f"init={tmp_path / 'deeper.keras'}"]
    assert main(args) == 2
    assert not run.exists()  # else the corrected command below would be refused as another config
    assert main([*args, "model.res_blocks=[0,1]"]) == 0
    assert (run / "last.keras").is_file()
    run2 = tmp_path / "kept"
    assert main([*args[:4], "--run", str(run2), "--preset", "fillnet_smoke"]) == 0
    assert main([*args[:4], "--run", str(run2), "--preset", "fillnet_smoke", "train.learning_rate=0.5"]) == 2
    assert (run2 / "last.keras").is_file()  # a run that has epochs is never removed


@pytest.mark.slow
def test_nie_fill_says_no_box_when_the_fill_model_sees_no_open_box(synth_dataset, tmp_path):
    from fillnet.model import build_model

    _, cfg = configs.get_preset("fillnet_smoke")
    models, photos = _chain_folders(synth_dataset, tmp_path, 2)
    for bias, expect in ((-12.0, "no_box"), (12.0, "measured")):
        model = build_model(cfg)
        head = model.get_layer("open_logit")
        head.set_weights([np.zeros_like(head.get_weights()[0]), np.array([bias], np.float32)])
        model.save(models / "fillnet.keras")
        out = tmp_path / f"f{bias:+.0f}"
        rc = main(["fill", "--input", str(photos), "--out", str(out), "--models", str(models), "use_classifier=false",
                   "min_corner_confidence=0", "max_reprojection_pct=100"])
        assert rc == (2 if expect == "no_box" else 0)  # nothing measured at all: exit 2, the report still written
        rows = list(csv.DictReader((out / "summary.csv").open()))
        statuses = {r["status"] for r in rows}
        assert statuses <= {expect, "uncertain"} if expect == "measured" else statuses == {"no_box"}, rows
        if expect == "no_box":
            assert all("fill model sees a closed box or none" in r["reason"] for r in rows)


def test_nonsense_draws_teach_that_there_is_no_open_box(synth_dataset):
    from fillnet.data import FillSamples, nonsense_picture

    rng = np.random.default_rng(0)
    pictures = [nonsense_picture((48, 64, 3), rng) for _ in range(30)]
    assert all(p.shape == (48, 64, 3) and p.dtype == np.uint8 for p in pictures)
    stds = np.array([p.reshape(-1, 3).std(0).mean() for p in pictures])  # spread within each channel
    assert stds.min() < 8 and stds.max() > 40  # flat colours and noise among them
    _, cfg = configs.get_preset("fillnet_smoke")
    cfg.data.augment, cfg.data.nonsense_prob = True, 1.0
    draw = FillSamples(cfg, list_scenes(synth_dataset), training=True, cache=False)
    x, y = draw(0, np.random.default_rng(1))
    assert x.shape == (32, 32, 8) and y.tolist() == [0.0, 0.0, 0.0]
    cfg.data.nonsense_prob = 0.0
    _, y = FillSamples(cfg, list_scenes(synth_dataset), training=True, cache=False)(0, np.random.default_rng(1))
    assert y[2] == 1.0


def test_training_draws_can_use_the_corner_models_own_corners(synth_dataset, tmp_path):
    from data.images import read_image
    from data.via import ViaImage, polyline_region, write_via
    from fillnet.data import FillSamples, predicted_corners

    scenes = list_scenes(synth_dataset)
    moved = scenes.corners[0] + np.array([6.0, -3.0])
    via = tmp_path / "predictions_via.json"
    write_via(via, [ViaImage(f"{scenes.ids[0]}.png", 1, [polyline_region(moved[[2, 3, 0, 1]])], {})])  # any start
    _, cfg = configs.get_preset("fillnet_smoke")
    cfg.data.augment, cfg.data.nonsense_prob, cfg.data.corners_from, cfg.data.corners_from_prob = False, 0.0, str(via), 1.0
    predicted = predicted_corners(cfg, scenes)
    assert np.allclose(predicted[0], moved, atol=0.01) and all(p is None for p in predicted[1:])

    def expected(i, corners):  # as float16 rounds it on its way from a loader process
        opening, pose = rectify(read_image(scenes.images[i]), corners, scenes.K[i], scenes.lwh[i], 32, 2)
        return model_input(opening, pose).astype(np.float16)

    draw = FillSamples(cfg, scenes, training=True, cache=False, predicted=predicted)
    x0, y0 = draw(0, np.random.default_rng(0))
    assert np.allclose(x0, expected(0, predicted[0]), atol=1e-3) and not np.allclose(x0, expected(0, scenes.corners[0]), atol=1.0)
    assert y0[0] == pytest.approx(scenes.fill[0])  # the target stays the scene's
    assert np.allclose(draw(1, np.random.default_rng(0))[0], expected(1, scenes.corners[1]), atol=1e-3)  # none: true corners
    cfg.data.corners_from_prob = 0.0
    assert np.allclose(FillSamples(cfg, scenes, True, False, predicted)(0, np.random.default_rng(0))[0],
                       expected(0, scenes.corners[0]), atol=1e-3)
    validation = FillSamples(cfg, scenes, training=False, cache=False, predicted=predicted)  # always, whatever the share
    assert np.allclose(validation(0, np.random.default_rng(0))[0], expected(0, predicted[0]), atol=1e-3)
    cfg.data.corners_from = str(tmp_path / "missing.json")
    with pytest.raises(FileNotFoundError, match="corners_from"):
        predicted_corners(cfg, scenes)


def test_degraded_draws_are_blurred_and_jpeg_compressed_photos(synth_dataset):
    from fillnet.data import FillSamples, degrade

    rgb = cv2.cvtColor(cv2.imread(str(synth_dataset / "images" / "000000.png")), cv2.COLOR_BGR2RGB)
    outs = [degrade(rgb, np.random.default_rng(s)) for s in range(12)]
    assert all(o.shape == rgb.shape and o.dtype == np.uint8 for o in outs)
    diffs = np.array([np.abs(o.astype(int) - rgb).mean() for o in outs])
    assert diffs.min() > 0.2 and diffs.max() < 12  # changed, yet the same photo
    sharp = lambda img: cv2.Laplacian(cv2.cvtColor(img, cv2.COLOR_RGB2GRAY), cv2.CV_64F).var()  # noqa: E731
    assert min(sharp(o) for o in outs) < 0.5 * sharp(rgb)  # some are visibly out of focus
    assert np.array_equal(degrade(rgb, np.random.default_rng(3)), outs[3])  # seeded
    _, cfg = configs.get_preset("fillnet_smoke")
    cfg.data.augment, cfg.data.nonsense_prob, cfg.data.corner_jitter_px = False, 0.0, 0.0
    scenes = list_scenes(synth_dataset)
    clean = FillSamples(cfg, scenes, training=True, cache=False)(0, np.random.default_rng(1))
    cfg.data.degrade_prob = 1.0
    worse = FillSamples(cfg, scenes, training=True, cache=False)(0, np.random.default_rng(1))
    assert not np.allclose(worse[0], clean[0]) and np.array_equal(worse[1], clean[1])  # the input changes, never the target
    with pytest.raises(configs.ConfigError, match="degrade_prob"):
        configs.apply_overrides(cfg, ["data.degrade_prob=1.5"])
