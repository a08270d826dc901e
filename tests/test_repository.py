"""The repository's own promises: pinned requirements, the Makefile targets, CI calling make test."""

from __future__ import annotations

import re

from tests.conftest import ROOT


def _requirements(name: str) -> list[str]:
    return [ln.strip() for ln in (ROOT / name).read_text().splitlines() if ln.strip() and not ln.startswith("#")]


def test_every_requirement_is_pinned():
    for name in ("requirements.txt", "requirements-gpu.txt"):
        for line in _requirements(name):
            assert re.fullmatch(r"[A-Za-z0-9_.\-\[\]]+==[0-9][0-9A-Za-z.]*", line), f"{name}: {line!r} is not pinned"


def test_cpu_and_gpu_requirements_pin_the_same_versions():
    cpu = dict(line.split("==") for line in _requirements("requirements.txt"))
    gpu = dict(line.split("==") for line in _requirements("requirements-gpu.txt"))
    assert cpu.pop("tensorflow-cpu") == gpu.pop("tensorflow[and-cuda]") == "2.21.0"
    for name, version in gpu.items():
        assert cpu.get(name) == version, name


def test_makefile_targets_and_ci():
    makefile = (ROOT / "Makefile").read_text()
    for target in ("setup", "test", "demo", "lint", "bench"):
        assert re.search(rf"^{target}:", makefile, re.M), target
    assert "make test" in (ROOT / ".ci" / "run").read_text()
    ignored = (ROOT / ".gitignore").read_text().split()
    assert {".venv/", "datasets/", "runs/"} <= set(ignored)


def test_torch_requirements_pin_what_the_cpu_ones_pin_and_no_tensorflow():
    torch_reqs = dict(line.split("==") for line in _requirements("requirements-torch.txt"))
    cpu = dict(line.split("==") for line in _requirements("requirements.txt"))
    assert not [name for name in torch_reqs if "tensorflow" in name or name in ("tf2onnx", "tensorboard")]
    for name, version in torch_reqs.items():
        if name in cpu:
            assert cpu[name] == version, name
    assert {"keras", "albumentations", "numpy", "opencv-python-headless"} <= set(torch_reqs)


def test_gpu_recipe_scripts_parse_and_name_existing_presets():
    import subprocess

    import configs

    for script in ("gpu_train.sh", "gpu_wheels.sh"):
        assert subprocess.run(["bash", "-n", str(ROOT / "scripts" / script)]).returncode == 0, script
    for task in ("keypoints", "depth", "fillnet"):
        assert configs.get_preset(f"{task}_gpu")[0] == task
        assert configs.get_preset(f"{task}_smoke")[0] == task  # the recipe's dry run
    wheels = (ROOT / "scripts" / "gpu_wheels.sh").read_text()
    missing = re.search(r'MISSING="([^"]+)"', wheels).group(1).split()
    pinned = {line.split("==")[0] for line in _requirements("requirements-torch.txt")}
    assert set(missing) <= pinned
