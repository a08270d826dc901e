"""An exported ONNX model behind the few Keras model attributes the predict functions use (input_shape,
output_shape, predict), so `nie fill --backend onnx` runs the same code on onnxruntime."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np


class OnnxModel:
    def __init__(self, path: str | os.PathLike, threads: int = 0):
        import onnxruntime as ort

        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"{path}: ONNX model not found (make it with `nie export --format onnx`)")
        options = ort.SessionOptions()
        if threads:
            options.intra_op_num_threads = threads
        self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        inp, out = self.session.get_inputs()[0], self.session.get_outputs()[0]
        self.input_name = inp.name
        self.input_shape = tuple(d if isinstance(d, int) and d > 0 else None for d in inp.shape)
        self.output_shape = tuple(d if isinstance(d, int) and d > 0 else None for d in out.shape)
        self.name = path.stem

    def predict(self, x: np.ndarray, verbose: int = 0, batch_size: int | None = None) -> np.ndarray:
        return self.session.run(None, {self.input_name: np.asarray(x, np.float32)})[0]


def onnx_runner(threads: int = 0):
    """The fill chain's ModelRunner for the .onnx files of `nie export` (`nie fill --backend onnx`)."""
    from tasks.record import ModelRunner

    return ModelRunner("onnx", ".onnx", lambda record, path: OnnxModel(path, threads), "make them with nie export --format onnx")
