"""keypoints/data.py and model.py: sample listing with reasons, the pipeline eagerly and in tf.data,
exact mapping back to any image size, weights handling and staged unfreezing."""

from __future__ import annotations

import json

import keras
import numpy as np
import pytest
import tensorflow as tf

import configs
from data.images import write_image
from data.via import read_via, write_via
from keypoints.data import list_samples, load_resized_np, make_dataset, to_normalised, to_pixels
from keypoints.model import WeightsError, build_model, freeze_backbone, layer_table, unfreeze_from
from keypoints.refine import PLAIN
from keypoints.results import predict_corners
from keypoints.tf_data import load_resized
from tests.reference import screen_clockwise


def _cfg(*over):
    _, cfg = configs.get_preset("keypoints_smoke")
    return configs.apply_overrides(cfg, list(over))


def test_samples_skip_with_reasons(synth_dataset, tmp_path):
    import shutil

    ds = tmp_path / "ds"
    shutil.copytree(synth_dataset, ds)
    images = read_via(ds / "annotations.json")
    images[0].regions[0].shape_attributes["all_points_x"] = images[0].regions[0].shape_attributes["all_points_x"][:3]
    images[0].regions[0].shape_attributes["all_points_y"] = images[0].regions[0].shape_attributes["all_points_y"][:3]
    images[1].filename = "../escape.png"
    removed = images.pop(2)
    write_via(ds / "annotations.json", images)
    (ds / "images" / images[3].filename).unlink()
    s = list_samples(ds)
    reasons = dict(s.skipped)
    assert reasons[images[0].filename].startswith("wrong number of points: found 3")
    assert reasons["../escape.png"].startswith("unsafe file name")
    assert reasons[removed.filename] == "no annotation"
    assert reasons[images[3].filename] == "missing file"
    assert len(s.ids) == 16 - 4


def test_normalised_coordinates_round_trip_for_any_size():
    pts = np.array([[0.0, 0.0], [639.0, 0.0], [639.0, 359.0], [-20.5, 400.0]])
    n = to_normalised(pts, 640, 360)
    assert n[0].tolist() == [0.5 / 640, 0.5 / 360] and n[2].tolist() == [1 - 0.5 / 640, 1 - 0.5 / 360]
    assert np.allclose(to_pixels(n, 640, 360), pts)


def test_resize_moves_the_corners_with_the_pixels(tmp_path):
    img = np.zeros((90, 200, 3), np.uint8)
    img[20:25, 150:155] = 255  # a dot centred on (152, 22)
    write_image(tmp_path / "a.png", img)
    small, pts = load_resized(tf.constant(str(tmp_path / "a.png")), tf.constant([[152.0, 22.0]]), tf.constant([200, 90]), 45, 50)
    s = small.numpy().astype(float).sum(-1)
    ys, xs = np.mgrid[0:45, 0:50]
    found = [(xs * s).sum() / s.sum(), (ys * s).sum() / s.sum()]
    assert np.allclose(pts.numpy()[0], found, atol=0.3)


def test_numpy_resize_moves_the_corners_with_the_pixels(tmp_path):
    img = np.zeros((90, 200, 3), np.uint8)
    img[20:25, 150:155] = 255  # a dot centred on (152, 22)
    write_image(tmp_path / "a.png", img)
    small, pts = load_resized_np(str(tmp_path / "a.png"), np.array([[152.0, 22.0]]), (200, 90), 45, 50)
    s = small.astype(float).sum(-1)
    ys, xs = np.mgrid[0:45, 0:50]
    found = [(xs * s).sum() / s.sum(), (ys * s).sum() / s.sum()]
    assert np.allclose(pts[0], found, atol=0.3)


def test_both_loaders_give_the_same_samples_without_augmentation(synth_dataset):
    samples = list_samples(synth_dataset)
    tf_x, tf_y = next(iter(make_dataset(_cfg("data.loader=tfdata"), samples, training=False)))
    np_x, np_y = make_dataset(_cfg("data.loader=pydataset"), samples, training=False)[0]
    assert np_x.shape == tuple(tf_x.shape) == (4, 32, 32, 3) and np_y.shape == tuple(tf_y.shape) == (4, 8)
    assert np_x.dtype == np.uint8 and tf_x.dtype == tf.float32  # uint8 through the loader processes, cast by the model
    assert np.allclose(np_y, tf_y.numpy(), atol=1e-6)  # the same corners in the same order
    assert np.abs(np_x - tf_x.numpy()).mean() < 3.0  # area filter vs antialiased bilinear, [0, 255]


@pytest.mark.parametrize("engine", ["albumentations", "opencv"])
def test_pydataset_augments_repeatably_and_keeps_the_canonical_order(synth_dataset, engine):
    samples = list_samples(synth_dataset)
    cfg = _cfg("data.loader=pydataset", "data.augment=true", f"augment.engine={engine}")
    a, b = make_dataset(cfg, samples, training=True), make_dataset(cfg, samples, training=True)
    x, y = a[0]
    assert np.array_equal(x, b[0][0]) and np.array_equal(y, b[0][1])
    for corners in y.reshape(-1, 4, 2):
        assert np.allclose(corners, screen_clockwise(corners), atol=1e-6)
    plain = make_dataset(_cfg("data.loader=pydataset"), samples, training=True)
    assert not np.allclose(y, plain[0][1])


def test_pipeline_eager_and_graph_shapes(synth_dataset):
    cfg = _cfg("data.augment=true")
    samples = list_samples(synth_dataset)
    x, y = next(iter(make_dataset(cfg, samples, training=True)))
    assert x.shape == (4, 32, 32, 3) and y.shape == (4, 8)
    assert float(tf.reduce_max(x)) > 1.5  # [0, 255], the model rescales inside
    xv, yv = next(iter(make_dataset(cfg, samples, training=False)))
    expect = to_normalised(samples.corners[0], *samples.sizes[0]).reshape(-1)
    assert np.allclose(yv.numpy()[0], expect, atol=1e-5)  # without augmentation the target is the annotation


def test_predictions_map_back_exactly_on_non_square_images():
    cfg = _cfg("model.head=regress")
    model = build_model(cfg)
    target = np.array([0.1, 0.2, 0.9, 0.25, 0.85, 0.8, 0.05, 0.75], np.float32)
    dense = model.get_layer("corners")
    kernel, _ = dense.get_weights()
    dense.set_weights([np.zeros_like(kernel), target])  # a model that always answers `target`
    for h, w in ((480, 640), (1080, 1920), (300, 200)):
        img = np.random.default_rng(0).integers(0, 255, (h, w, 3), dtype=np.uint8)
        got = predict_corners(model, [img], refine=PLAIN)[0]  # one reading: a second look in a window moves a constant answer
        assert np.allclose(got, to_pixels(target.reshape(4, 2), w, h), atol=1e-3)


def test_local_weights_file_and_staged_unfreezing(tmp_path):
    cfg = _cfg()
    donor = build_model(cfg)
    path = tmp_path / "backbone.weights.h5"
    donor.get_layer("mobilenetv2").save_weights(path)
    model = build_model(_cfg(f"model.weights={path}"))
    a = model.get_layer("mobilenetv2").get_weights()[0]
    assert np.array_equal(a, donor.get_layer("mobilenetv2").get_weights()[0])
    freeze_backbone(model)
    assert not model.get_layer("mobilenetv2").trainable
    n_head = len(model.trainable_weights)
    index = unfreeze_from(model, "block_13_expand")
    layers = model.get_layer("mobilenetv2").layers
    assert layers[index].name == "block_13_expand" and layers[index].trainable and not layers[index - 1].trainable
    assert len(model.trainable_weights) > n_head
    assert unfreeze_from(model, "-5") == len(layers) - 5
    with pytest.raises(ValueError, match="did you mean 'block_13_expand'"):
        unfreeze_from(model, "block_13_expnd")
    assert "block_13_expand" in layer_table(model)


def test_weights_errors_are_clear(monkeypatch, tmp_path):
    with pytest.raises(WeightsError, match="neither 'imagenet', 'none' nor an existing weights file"):
        build_model(_cfg(f"model.weights={tmp_path / 'missing.h5'}"))

    def offline(*args, **kwargs):
        raise Exception("URL fetch failure on https://storage.googleapis.com/...: None -- [Errno -3] Temporary failure")

    monkeypatch.setattr(keras.applications, "MobileNetV2", offline)
    with pytest.raises(WeightsError, match="cannot fetch ImageNet weights .* Offline\\? Use model.weights=none"):
        build_model(_cfg("model.weights=imagenet"))


def test_alpha_must_be_a_published_width():
    with pytest.raises(ValueError, match="model.alpha"):
        build_model(_cfg("model.alpha=0.6"))
    assert json.dumps(configs.to_dict(_cfg()))  # the config stays serialisable


def test_truncated_image_is_skipped_by_name(synth_dataset, tmp_path):
    import shutil

    ds = tmp_path / "ds"
    shutil.copytree(synth_dataset, ds)
    victim = sorted((ds / "images").iterdir())[0]
    victim.unlink()
    victim.write_bytes((synth_dataset / "images" / victim.name).read_bytes()[:-500])
    s = list_samples(ds)
    assert dict(s.skipped)[victim.name].startswith("unreadable image") and len(s.ids) == 15


def test_backbone_batchnorm_momentum_is_set(tmp_path):
    model = build_model(_cfg("model.bn_momentum=0.9"))
    bns = [la for la in model.get_layer("mobilenetv2").layers if isinstance(la, keras.layers.BatchNormalization)]
    assert bns and all(la.momentum == 0.9 for la in bns)
    model.save(tmp_path / "m.keras")
    back = keras.models.load_model(tmp_path / "m.keras")
    assert all(la.momentum == 0.9 for la in back.get_layer("mobilenetv2").layers if isinstance(la, keras.layers.BatchNormalization))


# ----------------------------------------------------------------------------------------------
# The heat-map head
# ----------------------------------------------------------------------------------------------
def test_soft_argmax_against_numpy_and_at_sharp_peaks():
    from keypoints.model import SoftArgmax

    rng = np.random.default_rng(0)
    logits = rng.normal(0, 2, (2, 6, 8, 4)).astype(np.float32)
    got = np.asarray(SoftArgmax()(logits))
    for b in range(2):
        for k in range(4):
            p = np.exp(logits[b, ..., k] - logits[b, ..., k].max())
            p /= p.sum()
            ys, xs = np.mgrid[0:6, 0:8]
            assert got[b, 2 * k] == pytest.approx(((xs + 0.5) / 8 * p).sum(), abs=1e-5)
            assert got[b, 2 * k + 1] == pytest.approx(((ys + 0.5) / 6 * p).sum(), abs=1e-5)
    sharp = np.full((1, 6, 8, 2), -50.0, np.float32)
    sharp[0, 2, 5, 0] = 50.0  # one cell: its centre
    sharp[0, 4, 1, 1] = sharp[0, 4, 2, 1] = 50.0  # two cells: halfway
    got = np.asarray(SoftArgmax()(sharp))[0]
    assert np.allclose(got, [5.5 / 8, 2.5 / 6, 2.0 / 8, 4.5 / 6], atol=1e-6)


def test_heatmap_model_shapes_round_trip_and_confidence(tmp_path):
    from keypoints.model import heatmap_model
    from keypoints.results import corners_with_confidence, peak_mass
    from tasks import registry

    cfg = _cfg("data.image_width=64", "data.image_height=32")
    model = build_model(cfg)
    assert model.output_shape == (None, 8)
    maps = heatmap_model(model)
    _, logits = maps.predict(np.zeros((1, 32, 64, 3), np.float32), verbose=0)
    assert logits.shape == (1, 8, 16, 4)  # stride 4
    model.save(tmp_path / "m.keras")
    again = registry.get("keypoints").load(tmp_path / "m.keras")
    img = np.random.default_rng(1).integers(0, 255, (90, 200, 3), dtype=np.uint8)
    assert np.allclose(predict_corners(again, [img])[0], predict_corners(model, [img])[0], atol=1e-4)
    corners, conf = corners_with_confidence(again, [img])
    assert np.allclose(corners[0], predict_corners(model, [img])[0], atol=1e-4)
    assert conf[0].shape == (4,) and np.all((conf[0] >= 0) & (conf[0] <= 1))
    peak = np.full((6, 8, 1), -30.0)
    peak[3, 4, 0] = 30.0
    assert peak_mass(peak, np.array([[4.5 / 8, 3.5 / 6]]))[0] == pytest.approx(1.0)
    assert peak_mass(np.zeros((6, 8, 1)), np.array([[0.5, 0.5]]))[0] < 0.25  # flat: the mass is spread out
    with pytest.raises(ValueError, match="divisible by 32"):
        build_model(_cfg("data.image_width=40"))


def test_regressor_has_no_heat_maps_and_no_confidence():
    from keypoints.model import heatmap_model
    from keypoints.results import corners_with_confidence

    model = build_model(_cfg("model.head=regress"))
    assert heatmap_model(model) is None
    _, conf = corners_with_confidence(model, [np.zeros((40, 40, 3), np.uint8)])
    assert conf == [None]
