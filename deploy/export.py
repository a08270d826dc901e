"""`nie export`: a trained .keras model as a SavedModel, an ONNX file or a LiteRT flatbuffer, always in float32.

Augmentation never is in the exported graph (it lives in the tf.data pipelines). A model trained with mixed
precision is rebuilt in float32 first. After exporting, the file is run on a random batch beside the Keras model
and the largest difference is returned (parity; relative for outputs above 1). A heat-map corner model exports its
heat maps (keypoints/model.py: export_graph), which the corner decoding reads as it reads the Keras model's.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np

FORMATS = ("saved_model", "onnx", "litert")


def register_task_objects() -> None:
    """Registers every task's custom Keras objects (through the task registry), so a model of any task loads."""
    from tasks import registry

    registry.register_all()


def load_any(path: str | os.PathLike):
    """A .keras model of any NIE task."""
    from tasks.model_files import load_model

    register_task_objects()
    return load_model(path)


def as_float32(model):
    """The model itself, or a float32 copy of one whose layers compute in float16 (mixed precision)."""

    if all(getattr(layer, "dtype_policy", None) is None or layer.dtype_policy.name == "float32" for layer in model._flatten_layers()):
        return model

    def strip(node):
        if isinstance(node, dict):
            if node.get("class_name") == "DTypePolicy" and node.get("config", {}).get("name", "").startswith("mixed"):
                return {**node, "config": {**node["config"], "name": "float32"}}
            return {k: strip(v) for k, v in node.items()}
        if isinstance(node, list):
            return [strip(v) for v in node]
        return node

    copy = model.__class__.from_config(strip(model.get_config()))
    copy.set_weights(model.get_weights())
    return copy


def _export_graph(model):
    """The graph the model's task exports (a heat-map corner model: its heat maps), else the model."""
    from tasks import registry
    from tasks.model_files import task_of

    task = task_of(model)
    record = registry.get(task) if task else None
    return record.export_graph(model) if record is not None and record.export_graph is not None else model


def sample_input(model, n: int = 2, seed: int = 0) -> np.ndarray:
    """A random batch in the model's input range ([0, 1] for the depth model, [0, 255] for the others)."""
    shape = (n, *model.input_shape[1:])
    top = 1.0 if model.name.startswith("nie_depth") else 255.0
    return np.random.default_rng(seed).uniform(0, top, shape).astype(np.float32)


def _drop_dangling_inputs(path: Path) -> None:
    """tf2onnx leaves the constants of an un-adapted Keras Normalization (EfficientNet without ImageNet weights) as
    graph inputs that no node reads; onnxruntime would then demand them. Such inputs are removed."""
    import onnx

    graph_model = onnx.load(str(path))
    used = {name for node in graph_model.graph.node for name in node.input}
    dangling = [i for i in graph_model.graph.input if i.name not in used]
    for i in dangling:
        graph_model.graph.input.remove(i)
    if dangling:
        onnx.save(graph_model, str(path))


SUFFIXES = {"onnx": ".onnx", "litert": ".tflite"}


def check_target(out: Path, fmt: str, force: bool) -> None:
    """Nothing a user owns is replaced: an existing --out is refused, and with --force replaced only when it is an
    export of this format itself (a .onnx / .tflite file, or a SavedModel folder)."""
    suffix = SUFFIXES.get(fmt)
    if suffix and out.suffix.lower() != suffix:
        raise ValueError(f"--out {out}: a {fmt} export is a {suffix} file")
    if not out.exists() and not out.is_symlink():
        return
    if not force:
        raise FileExistsError(f"--out {out} exists; choose another path, or --force to replace that export")
    own = (out.is_dir() and (out / "saved_model.pb").is_file()) if fmt == "saved_model" else (out.is_file() and out.suffix.lower() == suffix)
    if not own:
        kind = "folder" if out.is_dir() else "file"
        raise FileExistsError(f"--out {out} is a {kind} that is not a {fmt} export: not replacing it, even with --force")


def export_model(model_path: str | os.PathLike, fmt: str, out: str | os.PathLike, force: bool = False) -> tuple[Path, float]:
    """Writes the export (a folder for saved_model, a file otherwise) under a temporary name and moves it into place
    only when complete, where nothing is (or, with force, over an earlier export of the same format only).
    Returns (path, largest difference from the Keras model on a random batch, relative above 1)."""
    if fmt not in FORMATS:
        raise ValueError(f"--format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    out = Path(out)
    check_target(out, fmt, force)
    model = _export_graph(as_float32(load_any(model_path)))
    x = sample_input(model)
    model(x[:1])  # a loaded model must have been called before Keras exports it
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.stem}.{os.getpid()}.tmp{out.suffix}")  # the exporters check the suffix
    try:
        if fmt == "saved_model":
            model.export(str(tmp), format="tf_saved_model", verbose=False)
        elif fmt == "onnx":
            model.export(str(tmp), format="onnx", verbose=False)
            _drop_dangling_inputs(tmp)
        else:
            model.export(str(tmp), format="litert", verbose=False)
        check_target(out, fmt, force)  # again: something may have appeared there while exporting
        if out.is_dir():  # an earlier SavedModel (checked above): moved aside, then removed once the new one is in place
            old = out.with_name(f".{out.name}.{os.getpid()}.old")
            os.replace(out, old)
            os.replace(tmp, out)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, out)
    finally:
        if tmp.is_dir():
            shutil.rmtree(tmp, ignore_errors=True)
        elif tmp.exists():
            tmp.unlink()
    return out, parity(model, out, fmt, x)


def run_exported(path: Path, fmt: str, x: np.ndarray) -> np.ndarray:
    """Runs an exported model on a batch."""
    if fmt == "onnx":
        from deploy.onnx_model import OnnxModel

        return OnnxModel(path).predict(x)
    if fmt == "saved_model":
        import tensorflow as tf

        loaded = tf.saved_model.load(str(path))  # keep it referenced while it runs: it owns the variables
        return np.asarray(loaded.serve(x))
    import tensorflow as tf

    interpreter = tf.lite.Interpreter(model_path=str(path))
    inp, outp = interpreter.get_input_details()[0], interpreter.get_output_details()[0]
    interpreter.resize_tensor_input(inp["index"], x.shape)
    interpreter.allocate_tensors()
    interpreter.set_tensor(inp["index"], x)
    interpreter.invoke()
    return interpreter.get_tensor(outp["index"])


def parity(model, path: Path, fmt: str, x: np.ndarray) -> float:
    """The largest difference between the export's and the Keras model's outputs, relative to outputs above 1 in size
    (logits of 20 agree to 1e-5 of themselves, not to 1e-4 absolute, in float32)."""
    ref = model.predict(x, verbose=0)
    return float((np.abs(run_exported(path, fmt, x) - ref) / np.maximum(1.0, np.abs(ref))).max())
