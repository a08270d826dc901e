"""EfficientNetB0 OK / NOK classifier: backbone (weights imagenet / none / a local file) and a softmax head.

The model takes images in [0, 255]: Keras' EfficientNet rescales and normalises inside, so no
preprocess_input is applied (doing so would scale twice).
"""

from __future__ import annotations

import keras
from keras import layers

from configs import ClassifierConfig
from training import backbone as backbones

BACKBONE = "efficientnetb0"


def build_model(cfg: ClassifierConfig) -> keras.Model:
    """Image (H, W, 3) in [0, 255] -> class probabilities (len(class_names),) in class_names order."""
    h, w = cfg.data.image_height, cfg.data.image_width
    inputs = keras.Input((h, w, 3), name="image")
    base = backbones.build_backbone(keras.applications.EfficientNetB0, cfg.model.weights, f"EfficientNetB0 ({w}x{h})",
                                    bn_momentum=cfg.model.bn_momentum, input_shape=(h, w, 3), include_top=False, name=BACKBONE)
    x = base(inputs)
    x = layers.GlobalAveragePooling2D(name="pool")(x)
    x = layers.Dropout(cfg.model.dropout, name="head_dropout")(x)
    outputs = layers.Dense(len(cfg.class_names), activation="softmax", name="probabilities", dtype="float32")(x)  # see depth.model
    return keras.Model(inputs, outputs, name="nie_classifier")


def layer_table(model: keras.Model) -> str:
    return backbones.layer_table(model, BACKBONE)
