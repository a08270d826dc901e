"""Classifier augmentation: colour jitter as a Keras layer with a train switch, plus flips, rotation and zoom.

It runs in the tf.data pipeline, not inside the model, so exported models carry none of it.
"""

from __future__ import annotations

import keras

from configs import ClassifierAugmentConfig
from training.colour_jitter import colour_jitter


@keras.saving.register_keras_serializable(package="nie")
class ColourAugment(keras.layers.Layer):
    """Brightness, contrast, saturation and hue jitter of images in [0, 255], drawn per image.

    The `train` switch: with train=True each call draws new factors (seeded by the global seed, so a run is
    repeatable); with train=False the factors come from the fixed `preview_seed`, so the same input always
    gives the same output (previews, tests). Called with training=False (inside a model at inference) it
    passes the images through unchanged.
    """

    def __init__(self, brightness: float = 0.15, contrast: float = 0.25, saturation: float = 0.3, hue: float = 0.04,
                 train: bool = True, preview_seed: int = 0, **kwargs):
        super().__init__(**kwargs)
        self.brightness, self.contrast, self.saturation, self.hue = brightness, contrast, saturation, hue
        self.train = train
        self.preview_seed = preview_seed

    def call(self, images, training=None):
        if training is False:
            return images
        import tensorflow as tf  # the training pipeline is tf.data (the classifier trains on TensorFlow only)

        if self.train:
            seed = tf.random.uniform([2], maxval=2**31 - 1, dtype=tf.int64)
        else:
            seed = tf.constant([self.preview_seed, 0], tf.int64)
        images = tf.convert_to_tensor(images, tf.float32)
        return colour_jitter(images, seed, self.brightness, self.contrast, self.saturation, self.hue, value_range=255.0)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "brightness": self.brightness, "contrast": self.contrast, "saturation": self.saturation,
                "hue": self.hue, "train": self.train, "preview_seed": self.preview_seed}


def build_augmenter(cfg: ClassifierAugmentConfig, seed: int = 0, train: bool = True) -> keras.Sequential:
    """Flip, rotation and zoom (edges reflected), then colour: a box's fill does not change under any of them."""
    layers: list[keras.Layer] = []
    if cfg.flip != "none":
        layers.append(keras.layers.RandomFlip(cfg.flip, seed=seed))
    if cfg.rotate_deg:
        layers.append(keras.layers.RandomRotation(cfg.rotate_deg / 360.0, fill_mode="reflect", seed=seed + 1))
    if cfg.zoom:
        layers.append(keras.layers.RandomZoom((-cfg.zoom, cfg.zoom), fill_mode="reflect", seed=seed + 2))
    layers.append(ColourAugment(cfg.brightness, cfg.contrast, cfg.saturation, cfg.hue, train=train, preview_seed=seed))
    return keras.Sequential(layers, name="augment")
