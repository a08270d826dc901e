"""Finding and loading trained models: a .keras file, or a run directory (its best.keras, else last.keras).

The task packages register their custom layers, losses and metrics when imported; import the task's
module before loading its model.
"""

from __future__ import annotations

import os
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
    except (ValueError, OSError, TypeError, KeyError) as err:
        raise ValueError(f"{file}: cannot load as a Keras model ({str(err).splitlines()[0] if str(err) else type(err).__name__})") from None


def init_from(model, init: str):
    """`model` with the weights of the trained model file `init` ("" = unchanged): fine-tuning a shipped model.

    The architectures must match weight for weight; the input size may differ (the models are convolutional
    up to a global pooling), so a model shipped at one resolution can be fine-tuned at another.
    """
    if not init:
        return model
    source = load_model(init)
    theirs, ours = source.get_weights(), model.get_weights()
    if len(theirs) != len(ours) or any(a.shape != b.shape for a, b in zip(theirs, ours, strict=True)):
        raise ValueError(f"init={init}: its architecture differs from this config's (compare `nie config` with the config "
                         "it was trained with: model.* keys)")
    model.set_weights(theirs)
    return model


def strip_optimizer(source: str | os.PathLike, out: str | os.PathLike) -> Path:
    """Writes the model of `source` (a .keras file or a run directory) without its optimizer state (a third of
    the size), atomically. Import the task's package first, so its custom objects are registered."""
    from training.checkpoints import save_model_atomic

    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    save_model_atomic(load_model(source), out)
    return out
