"""Pretrained backbones inside task models: where the weights come from, and the switches of staged fine-tuning.

A task model holds its backbone as one nested layer with a known name (`mobilenetv2`, `efficientnetb0`);
these helpers find it by that name, so they work for any task without knowing it.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from pathlib import Path

import keras


class WeightsError(ValueError):
    """Backbone weights that cannot be had; the message says what to do instead."""


def build_backbone(factory: Callable[..., keras.Model], source: str, what: str, bn_momentum: float | None = None,
                   **kwargs) -> keras.Model:
    """`factory(weights=..., **kwargs)` with weights from `source`: "imagenet", "none" or a local weights file.

    Offline, "imagenet" fails with a WeightsError that names the way out (weights none, a local file, or the
    pre-loaded Keras cache) instead of a download traceback. `what` names the backbone in that message.
    `bn_momentum` replaces the momentum of every BatchNorm layer's moving statistics: Keras ships 0.99 to 0.999,
    with which the statistics lag far behind the weights over a few thousand steps, and inference (which uses
    them) is much worse than training (measured: MobileNetV2 5x worse; EfficientNetB0 64 % against 76 % accuracy with batch statistics).
    """
    weights: str | None
    if source == "none":
        weights = None
    elif source == "imagenet":
        weights = "imagenet"
    else:
        if not Path(source).is_file():
            raise WeightsError(f"model.weights: {source} is neither 'imagenet', 'none' nor an existing weights file")
        weights = source
    try:
        backbone = factory(weights=weights, **kwargs)
    except Exception as err:  # the download or the file: say which, in one line
        first = str(err).splitlines()[0] if str(err) else type(err).__name__
        if weights == "imagenet":
            raise WeightsError(f"cannot fetch ImageNet weights for {what}: {first}. "
                               "Offline? Use model.weights=none, or a local weights file (model.weights=PATH), or pre-load "
                               "~/.keras/models (see the README)") from None
        raise WeightsError(f"cannot use backbone weights {source}: {first}") from None
    if bn_momentum is not None:
        for layer in backbone.layers:
            if isinstance(layer, keras.layers.BatchNormalization):
                layer.momentum = bn_momentum
    return backbone


def freeze(model: keras.Model, backbone: str) -> None:
    """Stage 1: only the head learns (BatchNorm layers of a frozen backbone run in inference mode)."""
    model.get_layer(backbone).trainable = False


def unfreeze_from(model: keras.Model, backbone: str, start: str, task: str = "TASK") -> int:
    """Stage 2: the backbone's layers from `start` (a name or an index, "" = all) on learn; returns that index."""
    inner = model.get_layer(backbone)
    inner.trainable = True
    names = [layer.name for layer in inner.layers]
    if start == "":
        index = 0
    elif start.lstrip("-").isdigit():
        index = int(start)
        if not -len(names) <= index < len(names):
            raise ValueError(f"model.unfreeze_from: index {index} is outside the backbone's {len(names)} layers")
        index %= len(names)
    elif start in names:
        index = names.index(start)
    else:
        close = difflib.get_close_matches(start, names, n=1)
        raise ValueError(f"model.unfreeze_from: no backbone layer {start!r}" + (f" (did you mean {close[0]!r}?)" if close else "")
                         + f"; `nie train {task} --list-layers` prints them")
    for i, layer in enumerate(inner.layers):
        layer.trainable = i >= index
    return index


def layer_table(model: keras.Model, backbone: str) -> str:
    """The backbone's layers as a table (index, name, type, parameters), for choosing model.unfreeze_from."""
    rows = [f"{'index':>5}  {'name':<28} {'type':<22} {'params':>9}"]
    for i, layer in enumerate(model.get_layer(backbone).layers):
        rows.append(f"{i:>5}  {layer.name:<28} {type(layer).__name__:<22} {layer.count_params():>9}")
    return "\n".join(rows)
