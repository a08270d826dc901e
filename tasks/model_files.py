"""Finding and loading trained models: a .keras file, or a run directory (its best.keras, else last.keras).

Loading needs no trainer: the fill chain and the exporters use this module, never training/. A task's
custom layers, losses and metrics are registered by its record (`TaskRecord.load` does that first).
"""

from __future__ import annotations

import os
import zipfile
from pathlib import Path


def resolve_model_path(path: str | os.PathLike) -> Path:
    path = Path(path)
    if path.is_dir():
        for name in ("best.keras", "last.keras"):
            if (path / name).is_file():
                return path / name
        raise FileNotFoundError(f"{path}: a run directory without best.keras or last.keras")
    if not path.is_file():
        raise FileNotFoundError(f"{path}: model not found")
    return path


MODEL_NAMES = {"nie_keypoints": "keypoints", "nie_depth": "depth", "nie_classifier": "classifier", "nie_fillnet": "fillnet"}


def task_of(model) -> str | None:
    """The NIE task a Keras model belongs to, from its name (MODEL_NAMES), or None."""
    return next((t for prefix, t in MODEL_NAMES.items() if model.name.startswith(prefix)), None)


def load_model(path: str | os.PathLike, compile: bool = False, task: str | None = None):
    """Loads a Keras model; a file that is not one, or (with `task`) a model of another task, raises ValueError
    naming it, before any prediction can fail on the wrong shapes."""
    import keras

    file = resolve_model_path(path)
    try:
        model = keras.models.load_model(file, compile=compile)
    except (ValueError, OSError, TypeError, KeyError, zipfile.BadZipFile) as err:
        raise ValueError(f"{file}: cannot load as a Keras model ({str(err).splitlines()[0] if str(err) else type(err).__name__})") from None
    if task is not None:
        kind = task_of(model)
        if kind != task:
            raise ValueError(f"{file} is {'a ' + kind + ' model' if kind else 'not a model of NIE'} ({model.name}), not a {task} model")
    return model
