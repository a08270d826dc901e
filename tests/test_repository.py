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
