"""Trained models in training: starting from one (init_from) and shipping one without its optimizer state.

Finding and loading a model file lives in tasks/model_files.py (inference needs no trainer); it is re-exported
here for the trainers.
"""

from __future__ import annotations

import os
from pathlib import Path

from tasks.model_files import load_model, resolve_model_path

__all__ = ["init_from", "load_model", "resolve_model_path", "strip_optimizer"]


def init_from(model, init: str):
    """`model` with the weights of the trained model file `init` ("" = unchanged): fine-tuning a shipped model.

    The architectures must match weight for weight, or the file's weights must be the first ones of this model's (a
    head added since, built last: the fill model's open head), which then starts fresh. The input size may differ
    (the models are convolutional up to a global pooling), so a model shipped at one resolution can be fine-tuned at
    another.
    """
    if not init:
        return model
    source = load_model(init)
    theirs, ours = source.get_weights(), model.get_weights()
    if len(theirs) > len(ours) or any(a.shape != b.shape for a, b in zip(theirs, ours[: len(theirs)], strict=True)):
        raise ValueError(f"init={init}: its architecture differs from this config's (compare `nie config` with the config "
                         "it was trained with: model.* keys)")
    model.set_weights(theirs + ours[len(theirs) :])
    return model


def strip_optimizer(source: str | os.PathLike, out: str | os.PathLike) -> Path:
    """Writes the model of `source` (a .keras file or a run directory) without its optimizer state (a third of
    the size), atomically. Import the task's package first, so its custom objects are registered."""
    from training.checkpoints import save_model_atomic

    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    save_model_atomic(load_model(source), out)
    return out
