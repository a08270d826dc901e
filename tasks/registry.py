"""The task registry: every task's record by name. Task packages are imported only when their record is asked for.

Adding a task: write `<package>/task.py` with `TASK = TaskRecord(...)` and list it here.
"""

from __future__ import annotations

import importlib

from tasks.record import TaskRecord

_MODULES = {
    "classifier": "classifier.task",
    "keypoints": "keypoints.task",
    "depth": "depth.task",
    "fillnet": "fillnet.task",
    "fill": "volume.task",
}


def names(step: str | None = None) -> list[str]:
    """Task names in registry order; with `step` (e.g. "train"), only the tasks that have that function.

    Asking for a step imports the task records (light modules, no Keras)."""
    if step is None:
        return list(_MODULES)
    return [name for name in _MODULES if getattr(get(name), step) is not None]


def get(name: str) -> TaskRecord:
    if name not in _MODULES:
        raise ValueError(f"unknown task {name!r}; tasks: {', '.join(_MODULES)}")
    return importlib.import_module(_MODULES[name]).TASK


def model_tasks() -> list[TaskRecord]:
    """The records of the tasks that have a model file."""
    return [get(name) for name in _MODULES if get(name).model_file]


def register_all() -> None:
    """Registers every task's custom Keras objects, so a model of any task loads."""
    for record in model_tasks():
        if record.register is not None:
            record.register()
