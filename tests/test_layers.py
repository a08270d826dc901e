"""The import layers of shared/conventions.md section 7 and the task registry, checked on the source itself."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tasks import registry
from tests.conftest import ROOT

TASK_PACKAGES = ("classifier", "keypoints", "depth", "fillnet")


def imported_packages(path: Path) -> set[str]:
    """Top-level packages a module imports, at module level or inside functions."""
    tree = ast.parse(path.read_text())
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


def test_volume_imports_neither_training_nor_deploy_nor_a_task_package():
    for path in sorted((ROOT / "volume").glob("*.py")):
        bad = imported_packages(path) & {"training", "deploy", *TASK_PACKAGES}
        assert not bad, f"{path.name} imports {sorted(bad)}"


def test_task_packages_never_import_each_other_nor_the_layers_above():
    for package in TASK_PACKAGES:
        for path in sorted((ROOT / package).glob("*.py")):
            others = {p for p in TASK_PACKAGES if p != package}
            bad = imported_packages(path) & (others | {"volume", "deploy", "scripts"})
            assert not bad, f"{package}/{path.name} imports {sorted(bad)}"


def test_lower_layers_know_no_task():
    for folder in ("data", "training", "tasks"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            bad = imported_packages(path) & {*TASK_PACKAGES, "volume", "deploy", "scripts"}
            if folder == "tasks" and path.name == "registry.py":
                continue  # the registry names the task modules (imported by name, when asked)
            assert not bad, f"{path.relative_to(ROOT)} imports {sorted(bad)}"


def test_nie_has_no_branch_on_a_task_name():
    """Dispatch comes from the registry: no `x == "depth"`-style comparison with a task name in scripts/nie.py."""
    tree = ast.parse((ROOT / "scripts" / "nie.py").read_text())
    names = set(registry.names()) | {"volume", "synth"}
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare):
            for side in (node.left, *node.comparators):
                if isinstance(side, ast.Constant) and side.value in names:
                    pytest.fail(f"scripts/nie.py line {node.lineno} compares with the task name {side.value!r}")


def test_every_task_record_is_complete_for_what_it_offers():
    for name in registry.names():
        record = registry.get(name)
        assert record.name == name
        if record.model_file:  # a task with a model can be built, trained, loaded and run
            for step in ("build", "train", "register", "infer", "predict", "evaluate"):
                assert getattr(record, step) is not None, f"{name} lacks {step}"
    assert registry.names("train") == ["classifier", "keypoints", "depth", "fillnet"]
    assert "fill" in registry.names("evaluate")
    with pytest.raises(ValueError, match="unknown task"):
        registry.get("nope")


def test_the_command_line_offers_what_the_registry_lists():
    from scripts.nie import build_parser

    sub = next(a for a in build_parser()._actions if a.dest == "command")
    for command, step in (("train", "train"), ("predict", "predict"), ("evaluate", "evaluate"), ("augment-preview", "preview")):
        task = next(a for a in sub.choices[command]._actions if a.dest == "task")
        assert list(task.choices) == registry.names(step), command
