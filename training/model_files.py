"""Trained models in training: starting from one (init_from) and shipping one without its optimizer state.

Finding and loading a model file lives in tasks/model_files.py (inference needs no trainer); it is re-exported
here for the trainers.
"""

from __future__ import annotations

import os
from pathlib import Path

from tasks.model_files import load_model, resolve_model_path

__all__ = ["average_weights", "init_from", "load_model", "matching_layers", "resolve_model_path", "strip_optimizer"]


def init_from(model, init: str):
    """`model` with the weights of the trained model file `init` ("" = unchanged): fine-tuning a shipped model.

    The architectures must match weight for weight, or the file's weights must be the first ones of this model's (a
    head added since, built last: the fill model's open head), or every layer of the file must be in this model by
    name with the same weight shapes (a head that branches off inside: the fill model's grid head); what the file
    lacks starts fresh. The input size may differ (the models are convolutional up to a global pooling), so a model
    shipped at one resolution can be fine-tuned at another.
    """
    if not init:
        return model
    pairs = matching_layers(model, load_model(init))
    if pairs is None:
        raise ValueError(f"init={init}: its architecture differs from this config's (compare `nie config` with the config "
                         "it was trained with: model.* keys)")
    for mine, theirs in pairs:
        mine.set_weights(theirs.get_weights())
    return model


def matching_layers(model, source) -> list[tuple] | None:
    """Each layer of `source` that has weights, paired with its counterpart in `model`: in order where the source's
    layers are the model's first ones, shape for shape (the same config, or a head built last since), else by name
    (a head that branches off inside); None where a layer of the source has no counterpart of the same shapes."""
    ours = [layer for layer in model.layers if layer.weights]
    theirs = [layer for layer in source.layers if layer.weights]

    def shapes(layer) -> list[tuple]:
        return [tuple(w.shape) for w in layer.weights]

    if len(theirs) <= len(ours) and all(shapes(a) == shapes(b) for a, b in zip(ours, theirs, strict=False)):
        return list(zip(ours, theirs, strict=False))
    by_name = {layer.name: layer for layer in ours}
    pairs = [(by_name.get(layer.name), layer) for layer in theirs]
    if any(mine is None or shapes(mine) != shapes(layer) for mine, layer in pairs):
        return None
    return pairs


def strip_optimizer(source: str | os.PathLike, out: str | os.PathLike) -> Path:
    """Writes the model of `source` (a .keras file or a run directory) without its optimizer state (a third of
    the size), atomically. Import the task's package first, so its custom objects are registered."""
    from training.checkpoints import save_model_atomic

    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    save_model_atomic(load_model(source), out)
    return out


def average_weights(sources: list[str | os.PathLike], out: str | os.PathLike, weights: list[float] | None = None) -> Path:
    """Writes one model whose every weight is the (weighted) mean of the same weight in `sources` (a model soup):
    models fine-tuned from one start, or epochs of one run, sometimes answer better averaged than any one of them, at
    the cost of one model, and often not (measure it: scripts/average_models.py; the shipped fill model is one such
    mean). BatchNorm's moving statistics are averaged like the rest.

    The sources must share the architecture, or each must be the first one less a head (matching_layers: a fill model
    without the grid head beside one with it); a layer only some sources have is the mean over those. `out` is
    written atomically and must not exist (nothing is overwritten). Import the task's package first, so its custom
    objects are registered.
    """
    from training.checkpoints import save_model_atomic

    out = Path(out)
    if len(sources) < 2:
        raise ValueError(f"averaging needs at least two models, got {len(sources)}")
    if out.exists():
        raise FileExistsError(f"{out} exists; give a new file (nothing is overwritten)")
    if weights is None:
        weights = [1.0] * len(sources)
    if len(weights) != len(sources) or min(weights) < 0 or sum(weights) <= 0:
        raise ValueError(f"need one weight >= 0 per model ({len(sources)}), not all zero; got {weights}")
    first = load_model(sources[0])
    layers = [layer for layer in first.layers if layer.weights]
    total = {id(layer): [w.astype("float64") * weights[0] for w in layer.get_weights()] for layer in layers}
    norm = {id(layer): weights[0] for layer in layers}
    for source, weight in zip(sources[1:], weights[1:], strict=True):
        pairs = matching_layers(first, load_model(source))
        if pairs is None:
            raise ValueError(f"{source}: its architecture differs from {sources[0]}'s; only models of one config average, "
                             "or the first with a head the others lack")
        for mine, theirs in pairs:
            total[id(mine)] = [t + weight * w for t, w in zip(total[id(mine)], theirs.get_weights(), strict=True)]
            norm[id(mine)] += weight
    for layer in layers:
        if norm[id(layer)] > 0:
            layer.set_weights([(t / norm[id(layer)]).astype(w.dtype) for t, w in zip(total[id(layer)], layer.get_weights(), strict=True)])
    out.parent.mkdir(parents=True, exist_ok=True)
    save_model_atomic(first, out)
    return out
