"""fillnet/: the rectified opening and pose numbers against an analytic camera, the loader, training, evaluation,
and the learned method in `nie fill`."""

from __future__ import annotations

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
    assert x.shape == (4, 32, 32, 8) and y.shape == (4, 2)
    assert set(y[:, 1].tolist()) <= {0.0, 1.0} and np.all((y[:, 0] >= 0) & (y[:, 0] <= 1))


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
    models = tmp_path / "models"
    models.mkdir()
    for name in ("keypoints.keras", "depth.keras"):
        shutil.copy(ROOT / "models" / name, models / name)
    photos = tmp_path / "photos"
    photos.mkdir()
    for name in sorted(p.name for p in (synth_dataset / "images").iterdir())[:3]:
        shutil.copy(synth_dataset / "images" / name, photos / name)
    shutil.copy(synth_dataset / "meta.jsonl", tmp_path / "meta.jsonl")  # K and box beside the photos' folder
    assert main(["fill", "--input", str(photos), "--out", str(tmp_path / "f1"), "--models", str(models), "method=learned",
                 "use_classifier=false"]) == 0
    first = json.loads(next((tmp_path / "f1").glob("0*.json")).read_text())
    assert first["method"] in ("metric", "normalised") and first["details"]["fallback_from"] == "learned"  # no fillnet.keras
    shutil.copy(run / "best.keras", models / "fillnet.keras")
    assert main(["fill", "--input", str(photos), "--out", str(tmp_path / "f2"), "--models", str(models), "method=learned",
                 "use_classifier=false"]) == 0
    first = json.loads(next((tmp_path / "f2").glob("0*.json")).read_text())
    assert first["method"] == "learned" and 0 <= first["fill"] <= 1
