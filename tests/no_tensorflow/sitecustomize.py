"""Put this folder first on PYTHONPATH to run NIE as on a machine without TensorFlow: `import tensorflow` (and the
packages that need it) then fails with ImportError, as it would there."""

import importlib.abc
import sys

HIDDEN = ("tensorflow", "tf2onnx", "tf_keras", "tensorboard")


class _HideTensorFlow(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in HIDDEN:
            raise ImportError(f"No module named {name!r} (hidden by tests/no_tensorflow)")
        return None


sys.meta_path.insert(0, _HideTensorFlow())
