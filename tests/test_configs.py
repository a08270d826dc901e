"""configs.py: typed key=value overrides, nesting, closest-key errors, YAML round trip, presets."""

from __future__ import annotations

import pytest

import configs
from configs import ConfigError, DepthConfig, SynthConfig, apply_overrides


def test_overrides_parse_and_type_check():
    cfg = apply_overrides(SynthConfig(), ["image_width=320", "tilt_deg=[0, 10]", "flaps_prob=1", "label_rule.usecase=line3"])
    assert cfg.image_width == 320
    assert cfg.tilt_deg == (0.0, 10.0) and isinstance(cfg.tilt_deg[0], float)
    assert cfg.flaps_prob == 1.0 and isinstance(cfg.flaps_prob, float)
    assert cfg.label_rule.usecase == "line3"


def test_nested_override_of_task_config():
    cfg = apply_overrides(DepthConfig(), ["data.batch_size=8", "model.widths=[8,16,32]", "train.verbose=2"])
    assert cfg.data.batch_size == 8
    assert cfg.model.widths == (8, 16, 32)
    assert cfg.train.verbose == "2"


def test_numbers_in_e_notation_are_numbers():
    # YAML 1.1 reads 3e-4 (no dot) as a string; a user writes it so
    cfg = apply_overrides(DepthConfig(), ["train.learning_rate=3e-4", "loss.weight_l1=1E-1"])
    assert cfg.train.learning_rate == pytest.approx(3e-4) and cfg.loss.weight_l1 == pytest.approx(0.1)
    with pytest.raises(ConfigError, match="finite"):
        apply_overrides(DepthConfig(), ["train.learning_rate=nan"])


@pytest.mark.parametrize(
    "override, fragment",
    [
        ("image_width=1.5", "expected an integer"),
        ("image_width=abc", "expected an integer"),
        ("tilt_deg=[1,2,3]", "expected 2 values"),
        ("flaps_prob=yes please", "expected a number"),
        ("label_rule.nok_if_overfill=3", "expected true or false"),
        ("label_rule=1", "is a section"),
        ("no_equals_sign", "not key=value"),
    ],
)
def test_bad_values_are_refused_with_a_reason(override, fragment):
    with pytest.raises(ConfigError, match=fragment):
        apply_overrides(SynthConfig(), [override])


def test_unknown_key_names_the_closest():
    with pytest.raises(ConfigError, match=r"unknown key 'tilt_dg' \(did you mean 'tilt_deg'\?\)"):
        apply_overrides(SynthConfig(), ["tilt_dg=3"])
    with pytest.raises(ConfigError, match="data.batch_size"):
        apply_overrides(DepthConfig(), ["data.batch_sise=3"])


def test_literal_choices_are_enforced():
    with pytest.raises(ConfigError, match="not one of"):
        apply_overrides(DepthConfig(), ["train.strategy=magic"])


def test_yaml_round_trip(tmp_path):
    cfg = apply_overrides(DepthConfig(), ["data.batch_size=3", "loss.weight_l1=0.5", "model.widths=[4,8]"])
    path = tmp_path / "config.yaml"
    configs.save_yaml(cfg, path, task="depth")
    back = configs.load_yaml(path)
    assert back == cfg
    assert not list(tmp_path.glob("*.tmp"))


def test_every_preset_builds_and_documents_itself():
    assert {"synth", "synth_smoke", "classifier_smoke", "keypoints_smoke", "depth_smoke"} <= set(configs.PRESETS)
    for name, (task, fn) in configs.PRESETS.items():
        cfg = fn()
        assert isinstance(cfg, configs.CONFIG_TYPES[task]), name
        assert "Command:" in (fn.__doc__ or ""), f"preset {name} must give its command in the docstring"


def test_unknown_preset_names_the_closest():
    with pytest.raises(ConfigError, match="synth_smoke"):
        configs.get_preset("synth_smok")


def test_every_field_has_a_comment():
    """Every leaf field carries a one-line comment with unit and range (conventions, section 8)."""
    import dataclasses
    import inspect

    seen, todo = set(), list(configs.CONFIG_TYPES.values())
    while todo:
        cls = todo.pop()
        if cls in seen:
            continue
        seen.add(cls)
        source = inspect.getsource(cls).splitlines()
        for f in dataclasses.fields(cls):
            value = getattr(cls(), f.name)
            if dataclasses.is_dataclass(value):
                todo.append(type(value))  # a section: its own fields are checked
                continue
            lines = [ln for ln in source if ln.strip().startswith(f"{f.name}:")]
            assert lines and "#" in lines[0], f"{cls.__name__}.{f.name} lacks a comment"
    assert len(seen) >= 10


def test_the_gpu_fill_preset_fine_tunes_the_shipped_model_as_its_cpu_runs_did():
    """INIT_FROM=models starts fillnet_gpu from the shipped fill model: same blocks, and the loss weights and degraded
    draws of the runs that made it (the third lease trained with overfill weight 0.1 and lost overfill labels)."""
    _, gpu = configs.get_preset("fillnet_gpu")
    _, shipped = configs.get_preset("fillnet_deeper48k_l1")
    assert gpu.model == shipped.model
    assert (gpu.overfill_weight, gpu.open_weight, gpu.data.degrade_prob) == (shipped.overfill_weight, shipped.open_weight,
                                                                              shipped.data.degrade_prob)
    assert (gpu.data.size, gpu.data.margin, gpu.data.corners_from_prob) == (shipped.data.size, shipped.data.margin,
                                                                            shipped.data.corners_from_prob)
