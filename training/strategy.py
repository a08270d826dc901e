"""Distribution strategies for training (`train.strategy`): auto (one device), mirrored (all local GPUs; on a
machine without GPUs, all logical CPU devices), multiworker (TF_CONFIG; only the chief writes checkpoints and logs).

The global batch is the configured per-replica batch times the number of replicas in sync. Strategies are
tf.distribute: on the JAX and PyTorch backends only `auto` exists (one device: Keras puts the model on the
GPU by itself), and the others say that they need the TensorFlow backend.
"""

from __future__ import annotations

import contextlib
import json
import os

from tasks.backend import backend, require_tensorflow


class SingleDevice:
    """The `auto` strategy on a backend without tf.distribute: one replica, a scope that does nothing."""

    num_replicas_in_sync = 1

    def scope(self):
        return contextlib.nullcontext()


def make_strategy(name: str):
    """A tf.distribute strategy (TensorFlow backend), or SingleDevice for `auto` on the other backends."""
    if name not in ("auto", "mirrored", "multiworker"):
        raise ValueError(f"train.strategy must be auto, mirrored or multiworker, got {name!r}")
    if name == "auto" and backend() != "tensorflow":
        return SingleDevice()
    require_tensorflow(f"train.strategy={name}")
    import tensorflow as tf

    if name == "auto":
        return tf.distribute.get_strategy()
    if name == "mirrored":
        gpus = tf.config.list_logical_devices("GPU")
        devices = [d.name for d in gpus] or [d.name for d in tf.config.list_logical_devices("CPU")]
        return tf.distribute.MirroredStrategy(devices)
    if name == "multiworker":
        if "TF_CONFIG" not in os.environ:
            raise ValueError("train.strategy=multiworker needs TF_CONFIG (the cluster and this worker's task) in the environment")
        _fix_keras_multiworker_logs()
        return tf.distribute.MultiWorkerMirroredStrategy()
    raise AssertionError(name)


def is_chief() -> bool:
    """True unless TF_CONFIG names this process a worker other than the first (or a chief exists elsewhere)."""
    config = json.loads(os.environ.get("TF_CONFIG", "{}") or "{}")
    task = config.get("task", {})
    if not task:
        return True
    if task.get("type") == "chief":
        return True
    return task.get("type") == "worker" and int(task.get("index", 0)) == 0 and "chief" not in config.get("cluster", {})


def _fix_keras_multiworker_logs() -> None:
    """Keras 3.15 averages each step's logs over the workers with `strategy.reduce("MEAN", v, axis=0)`, which fails on
    the scalar logs (keras-team/keras#20585). Average them with axis=None instead; everything else goes through Keras.
    (training/fit.build_from_local_batch handles the other multi-replica failure, in the metric build.)"""
    import keras.src.backend.tensorflow.trainer as trainer
    import tensorflow as tf
    from keras import tree

    if getattr(trainer.reduce_per_replica, "nie_fixed", False):
        return
    original = trainer.reduce_per_replica

    def reduce_per_replica(values, strategy, reduction):
        if reduction in ("mean", "auto") and trainer._collective_all_reduce_multi_worker(strategy):
            return tree.map_structure(lambda v: strategy.reduce("MEAN", v, axis=None) if isinstance(v, tf.Tensor | tf.distribute.DistributedValues)
                                      else v, values)
        return original(values, strategy, reduction)

    reduce_per_replica.nie_fixed = True
    trainer.reduce_per_replica = reduce_per_replica
