"""Shared fixtures: paths to ../shared/fixtures and small synthetic datasets made once per test session."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def load_bench(name: str):
    """The module of bench/<name>.py (the bench folder is no package), loaded for a test."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(name, ROOT / "bench" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
SHARED_FIXTURES = ROOT.parent / "shared" / "fixtures"


@pytest.fixture(scope="session")
def fixtures_dir() -> Path:
    if not SHARED_FIXTURES.is_dir():
        message = f"{SHARED_FIXTURES} not found (the shared fixtures live beside the repository)"
        if os.environ.get("CI"):  # CI has them beside its clone: missing there is a fault, not a reason to skip
            pytest.fail(message)
        pytest.skip(message)
    return SHARED_FIXTURES


def make_dataset(root: Path, n: int, seed: int, preset: str = "synth", overrides: list[str] | None = None) -> Path:
    import configs
    from data.synth.generate import generate

    _, cfg = configs.get_preset(preset)
    configs.apply_overrides(cfg, ["workers=1", *(overrides or [])])
    generate(root, n, seed, cfg, progress=False)
    return root


@pytest.fixture(scope="session")
def synth_dataset(tmp_path_factory) -> Path:
    """16 default scenes (256 x 192, tilts 0-35 deg, flaps, overfill) with seed 11."""
    return make_dataset(tmp_path_factory.mktemp("synth") / "ds", 16, 11)
