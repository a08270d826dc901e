"""Fine-tuning from a trained model file (`init=`), and shipping a run's model without its optimizer."""

from __future__ import annotations

import numpy as np
import pytest

import configs
from keypoints.model import build_model
from keypoints.train import train
from training.model_files import init_from, load_model, strip_optimizer
from training.run_dir import RunDir


def _cfg(*over: str):
    _, cfg = configs.get_preset("keypoints_smoke")
    return configs.apply_overrides(cfg, list(over))


def test_init_copies_weights_across_input_sizes_and_refuses_other_architectures(tmp_path):
    source = build_model(_cfg())
    source.save(tmp_path / "shipped.keras")
    bigger = init_from(build_model(_cfg("data.image_width=96", "data.image_height=64")), str(tmp_path / "shipped.keras"))
    for a, b in zip(source.get_weights(), bigger.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match="architecture differs"):
        init_from(build_model(_cfg("model.alpha=0.5")), str(tmp_path / "shipped.keras"))


@pytest.mark.slow
def test_training_starts_from_init_and_ship_strips_the_optimizer(synth_dataset, tmp_path):
    first = tmp_path / "first"
    train(_cfg("train.epochs=1", "results.panels=0"), str(synth_dataset), first, log=lambda s: None)
    shipped = strip_optimizer(first, tmp_path / "keypoints.keras")
    assert shipped.stat().st_size < (RunDir(first).last).stat().st_size
    model = load_model(shipped)
    assert getattr(model, "optimizer", None) is None  # no optimizer state travels
    x = np.random.default_rng(0).uniform(0, 255, (2, 32, 32, 3)).astype(np.float32)
    np.testing.assert_allclose(model.predict(x, verbose=0), load_model(first).predict(x, verbose=0), atol=1e-5)
    # fine-tune from the shipped model (init_from's weight copy is checked above)
    second = tmp_path / "second"
    result = train(_cfg("train.epochs=1", "results.panels=0", f"init={shipped}"), str(synth_dataset), second, log=lambda s: None)
    assert result["epochs"] == 1 and configs.load_yaml(RunDir(second).config).init == str(shipped)


def test_ship_models_takes_another_run_and_refuses_a_malformed_one(tmp_path, capsys):
    from scripts import ship_models

    model = build_model(_cfg())
    model.compile(optimizer="adam", loss="mse")
    model.save(tmp_path / "trained.keras")
    assert ship_models.main(["--out", str(tmp_path / "out"), "--run", f"keypoints={tmp_path / 'trained.keras'}"]) == 0
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["keypoints.keras"]  # only the task named
    assert getattr(load_model(tmp_path / "out" / "keypoints.keras"), "optimizer", None) is None
    for bad in ("nonsense", "lidar=x.keras", "keypoints="):
        with pytest.raises(SystemExit) as err:
            ship_models.main(["--out", str(tmp_path / "out2"), "--run", bad])
        assert err.value.code == 2 and "expected TASK=PATH" in capsys.readouterr().err
    assert not (tmp_path / "out2").exists()


def test_average_models_is_the_weighted_mean_and_refuses_what_does_not_average(tmp_path, capsys):
    from scripts import average_models
    from training.model_files import average_weights

    a, b = build_model(_cfg()), build_model(_cfg())
    b.set_weights([w + np.random.default_rng(i).normal(0, 0.1, w.shape).astype(w.dtype) for i, w in enumerate(b.get_weights())])
    a.save(tmp_path / "a.keras")
    b.save(tmp_path / "b.keras")
    assert average_models.main(["--out", str(tmp_path / "soup.keras"), str(tmp_path / "a.keras"), str(tmp_path / "b.keras"),
                                "--weights", "3", "1"]) == 0
    soup = load_model(tmp_path / "soup.keras")
    assert len(soup.get_weights()) == len(a.get_weights())
    for s, wa, wb in zip(soup.get_weights(), a.get_weights(), b.get_weights(), strict=True):
        np.testing.assert_allclose(s, 0.75 * wa + 0.25 * wb, rtol=1e-6, atol=1e-7)
    assert any(not np.allclose(wa, wb) for wa, wb in zip(a.get_weights(), b.get_weights(), strict=True))
    before = (tmp_path / "soup.keras").read_bytes()
    with pytest.raises(FileExistsError, match="nothing is overwritten"):
        average_weights([tmp_path / "a.keras", tmp_path / "b.keras"], tmp_path / "soup.keras")
    assert (tmp_path / "soup.keras").read_bytes() == before
    build_model(_cfg("model.alpha=0.5")).save(tmp_path / "other.keras")
    assert average_models.main(["--out", str(tmp_path / "bad.keras"), str(tmp_path / "a.keras"), str(tmp_path / "other.keras")]) == 2
    assert "architecture differs" in capsys.readouterr().err
    assert average_models.main(["--out", str(tmp_path / "bad.keras"), str(tmp_path / "a.keras")]) == 2
    assert "at least two" in capsys.readouterr().err
    assert average_models.main(["--out", str(tmp_path / "bad.keras"), str(tmp_path / "a.keras"), str(tmp_path / "b.keras"),
                                "--weights", "1"]) == 2
    assert not (tmp_path / "bad.keras").exists() and not list(tmp_path.glob(".*tmp*"))
