"""Grad-CAM (Selvaraju et al. 2017): where in the image the backbone's last feature map drove a class score."""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from classifier.model import BACKBONE


def gradcam(model: keras.Model, images: np.ndarray, class_index: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Class-activation maps for a batch.

    Args:
      images: (B, H, W, 3) float in [0, 255] at the model's input size.
      class_index: (B,) class per image to explain; default the predicted one.
    Returns:
      (maps (B, H, W) in [0, 1], each scaled to its own maximum, probabilities (B, classes)).
    """
    base = model.get_layer(BACKBONE)
    head = model.layers[model.layers.index(base) + 1 :]
    x = tf.convert_to_tensor(images, tf.float32)
    with tf.GradientTape() as tape:
        features = base(x, training=False)
        tape.watch(features)
        out = features
        for layer in head:
            out = layer(out, training=False)
        chosen = tf.argmax(out, axis=-1) if class_index is None else tf.convert_to_tensor(class_index, tf.int64)
        score = tf.gather(out, chosen, axis=1, batch_dims=1)
    grads = tape.gradient(score, features)
    weights = tf.reduce_mean(grads, axis=[1, 2], keepdims=True)  # one weight per feature channel
    cam = tf.nn.relu(tf.reduce_sum(weights * features, axis=-1))[..., None]
    cam = tf.image.resize(cam, x.shape[1:3], method="bilinear")[..., 0]
    peak = tf.reduce_max(cam, axis=[1, 2], keepdims=True)
    cam = tf.math.divide_no_nan(cam, peak)
    return cam.numpy(), out.numpy()


def overlay(image: np.ndarray, cam: np.ndarray, alpha: float = 0.45) -> np.ndarray:
    """The map in the JET colours over a uint8 RGB image of the same size."""
    import cv2

    heat = cv2.applyColorMap(np.uint8(np.clip(cam, 0, 1) * 255), cv2.COLORMAP_JET)[..., ::-1]
    return np.uint8(np.clip((1 - alpha) * image.astype(np.float32) + alpha * heat, 0, 255))
