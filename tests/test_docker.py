"""What can be tested of the Docker image here (no Docker on this machine): the files parse, every path the
Dockerfile copies exists, and every command the compose file runs exists in the project."""

from __future__ import annotations

import re
import shlex
import sys
from pathlib import Path

import yaml

from scripts.nie import build_parser
from tests.conftest import ROOT

DOCKER = ROOT / "docker"


def _instructions() -> list[tuple[str, str]]:
    out = []
    for line in (DOCKER / "Dockerfile").read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            out.append((word.upper(), rest))
    return out


def test_dockerfile_copies_what_exists_and_installs_the_gpu_pins():
    steps = _instructions()
    assert steps[0][0] == "FROM" and "python:3.11" in steps[0][1]
    copies = [shlex.split(rest)[:-1] for word, rest in steps if word == "COPY"]
    for sources in copies:
        for src in sources:
            assert (ROOT / src).exists(), f"Dockerfile copies {src}, which is not in the repository"
    copied = {src for word, rest in steps if word == "COPY" for src in rest.split()[:-1]}
    packages = re.search(r"include = \[([^\]]+)\]", (ROOT / "pyproject.toml").read_text()).group(1)
    for package in re.findall(r'"(\w+)\*"', packages):
        assert package in copied, f"the Dockerfile does not copy the package {package}/"
    runs = " ".join(rest for word, rest in steps if word == "RUN")
    assert "pip install -r requirements-gpu.txt" in runs and "pip install --no-deps --no-build-isolation -e ." in runs
    gpu = (ROOT / "requirements-gpu.txt").read_text()
    cpu = (ROOT / "requirements.txt").read_text()
    assert "tensorflow[and-cuda]==2.21.0" in gpu
    # test-only pins stay out of the image: pytest, and jax (the tests' second Keras backend; the image runs TensorFlow)
    pins = {line.split("==")[0] for line in cpu.splitlines() if "==" in line and not line.startswith(("tensorflow", "pytest", "jax"))}
    assert all(f"{p}==" in gpu for p in pins), "requirements-gpu.txt must pin what requirements.txt pins"


def test_compose_services_and_their_commands():
    compose = yaml.safe_load((DOCKER / "compose.yaml").read_text())
    train, board = compose["services"]["train"], compose["services"]["tensorboard"]
    devices = train["deploy"]["resources"]["reservations"]["devices"][0]
    assert devices["driver"] == "nvidia" and devices["capabilities"] == ["gpu"]
    assert "../datasets:/app/datasets:ro" in train["volumes"] and "../runs:/app/runs" in train["volumes"]
    assert any(v.startswith("keras-cache:") for v in train["volumes"]) and "keras-cache" in compose["volumes"]
    assert (DOCKER / ".." / train["build"]["dockerfile"]).resolve() == (DOCKER / "Dockerfile").resolve()
    assert board["ports"] == ["6006:6006"] and "--logdir" in board["command"]
    # the train command is a valid `nie` command line; tensorboard is installed by the requirements
    assert train["command"][0] == "nie"
    args = build_parser().parse_args(train["command"][1:])
    assert args.command == "train" and (ROOT / args.data).parent.name == "datasets"
    assert board["command"][0] == "tensorboard" and (Path(sys.executable).parent / "tensorboard").exists()
    for line in (DOCKER / "compose.yaml").read_text().splitlines():  # the usage lines at the top run real commands too
        if "run --rm train nie " in line:
            build_parser().parse_args(shlex.split(line.split("run --rm train nie ", 1)[1]))
