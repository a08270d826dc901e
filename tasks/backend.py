"""Which Keras backend runs, and whether TensorFlow can be imported at all (it is missing on many GPU boxes).

Keras reads KERAS_BACKEND when it is first imported; these checks do not import Keras or TensorFlow unless asked.
"""

from __future__ import annotations

import functools
import os


class BackendError(ValueError):
    """A step that the running Keras backend cannot do; the message says which backend it needs."""


def backend() -> str:
    """The Keras backend in use ("tensorflow", "jax", "torch"), without importing Keras when it is not loaded yet."""
    import sys

    if "keras" in sys.modules:
        import keras

        return keras.backend.backend()
    return os.environ.get("KERAS_BACKEND", "tensorflow")


@functools.cache
def tensorflow_available() -> bool:
    """True when `import tensorflow` works (with any Keras backend)."""
    try:
        import tensorflow  # noqa: F401
    except ImportError:
        return False
    return True


def require_tensorflow(what: str) -> None:
    """Raises BackendError unless Keras runs on TensorFlow: for the steps that have no sensible other backend."""
    if backend() != "tensorflow":
        raise BackendError(f"{what} needs the TensorFlow backend (KERAS_BACKEND=tensorflow); this run uses {backend()}")
