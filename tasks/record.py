"""What every task package tells the rest of NIE about itself: one `TaskRecord`, in `<package>/task.py`.

The record holds plain functions. Each imports its heavy modules (Keras, TensorFlow, the task's trainer) only
when called, so listing the tasks (`nie --help`) costs nothing. `scripts/nie.py` dispatches from these records,
`deploy/` registers custom objects through them, and the fill chain loads and runs models through them.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


def lazy(module: str, name: str) -> Callable[..., Any]:
    """`module.name`, imported when first called: a record lists its functions without importing Keras."""

    def call(*args, **kwargs):
        return getattr(importlib.import_module(module), name)(*args, **kwargs)

    call.__name__ = call.__qualname__ = f"{module}.{name}"
    return call


def imports(*modules: str) -> Callable[[], None]:
    """A `register` function: importing these modules registers their custom Keras objects."""

    def register() -> None:
        for module in modules:
            importlib.import_module(module)

    return register


@dataclass(frozen=True)
class TaskRecord:
    """One task: its config type and how to build, train, load, predict, evaluate and preview it.

    Functions that a task lacks are None (the command line then says the task does not support that step).
    """

    name: str  # the task's name on the command line (`nie train NAME`)
    config: str  # configs.default_config / preset key of the task's config (usually the name)
    summary: str  # one line for --help
    model_file: str = ""  # file name in a models folder (models/<model_file>); "" = the task has no model
    build: Callable[[Any], Any] | None = None  # cfg -> uncompiled keras.Model
    train: Callable[..., dict[str, Any]] | None = None  # (cfg, data, run_path, log) -> summary dict (run, epochs, resumed_from, metrics)
    register: Callable[[], None] | None = None  # imports the modules that register the task's custom Keras objects
    infer: Callable[[Any, list], list] | None = None  # (model, list of uint8 RGB images) -> per-image outputs (the fill chain's use)
    predict: Callable[..., tuple[Any, str]] | None = None  # (model_path, input, out, cfg) -> (ItemReport, where the files went)
    evaluate: Callable[..., str] | None = None  # (data, out, cfg, models, preds, log) -> the one-line summary (metrics.json in out)
    preview: Callable[[Any, str, str], Any] | None = None  # (cfg, data, out) -> the written picture's path
    layer_table: Callable[[Any], str] | None = None  # cfg -> the backbone's layer table (models with a pretrained backbone)
    export_graph: Callable[[Any], Any] | None = None  # keras.Model -> the graph `nie export` writes (default: the model itself)

    def load(self, path):
        """A trained .keras file (or a run directory's best.keras) of this task, custom objects registered."""
        from tasks.model_files import load_model

        if self.register is not None:
            self.register()
        return load_model(path, task=self.name if self.model_file else None)


@dataclass(frozen=True)
class ModelRunner:
    """How the fill chain opens a task's model file: Keras (`keras_runner`) or onnxruntime (deploy/onnx_model.py).

    The chain is handed one and imports neither deploy/ nor training/. An opened model needs only the attributes
    the task's `infer` uses: input_shape, output_shape and predict(x, verbose=0).
    """

    name: str  # "keras", "onnx"
    suffix: str  # the model files' suffix: ".keras", ".onnx"
    open: Callable[[TaskRecord, Any], Any]  # (task record, file path) -> model
    hint: str = ""  # how to make missing files (said in the error)


def keras_runner() -> ModelRunner:
    """Opens .keras files through their task records (custom objects registered)."""
    return ModelRunner("keras", ".keras", lambda record, path: record.load(path), "see models/README.md for how to make them")
