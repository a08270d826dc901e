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


def load_model(path: str | os.PathLike, compile: bool = False):
    """Loads a Keras model; a file that is not one raises ValueError naming it."""
    import keras

    file = resolve_model_path(path)
    try:
        return keras.models.load_model(file, compile=compile)
    except (ValueError, OSError, TypeError, KeyError, zipfile.BadZipFile) as err:
        raise ValueError(f"{file}: cannot load as a Keras model ({str(err).splitlines()[0] if str(err) else type(err).__name__})") from None
