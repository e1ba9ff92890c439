"""The semi-supervised discriminator: Salimans et al.'s MNIST network.

An MLP of widths w, w/2, w/4, w/4, w/4 (1000-500-250-250-250 at w = 1000,
the paper's), ReLU, Gaussian noise on the input (stddev 0.3) and after
every hidden layer (0.5), K class logits out. The noise is what makes it a
good classifier from 100 labels (the paper's code has it on every layer);
it is active only in training, so the exported classifier is deterministic.
The paper also weight-normalises each layer; plain Dense layers with Adam
trained as well here, so that is left out.

It has two outputs: the K logits and the features of its last hidden layer
(after ReLU, before that layer's noise), which feature matching compares.
Flattened images of any shape go in, so it takes colour images too; a
convolutional version (the paper's CIFAR-10 one) is not written yet.
"""

from __future__ import annotations

import keras
from keras import layers

INPUT_NOISE = 0.3
HIDDEN_NOISE = 0.5


def build_ssgan_discriminator(image_shape, num_classes: int, width: int = 1000,
                              input_noise: float = INPUT_NOISE,
                              hidden_noise: float = HIDDEN_NOISE,
                              name: str = "discriminator") -> keras.Model:
    """images (H, W, C) -> [class logits (K,), features (w/4,)]."""
    if num_classes < 2:
        raise ValueError(f"a classifier needs at least 2 classes, got {num_classes}")
    if width < 4:
        raise ValueError(f"width must be >= 4, got {width}")
    inputs = keras.Input(tuple(int(s) for s in image_shape), name="images")
    x = layers.Flatten()(inputs)
    x = layers.GaussianNoise(input_noise)(x)
    widths = (width, width // 2, width // 4, width // 4, width // 4)
    features = None
    for i, units in enumerate(widths):
        x = layers.Dense(units, activation="relu", name=f"dense_{i}")(x)
        features = x
        x = layers.GaussianNoise(hidden_noise)(x)
    logits = layers.Dense(num_classes, dtype="float32", name="logits")(x)
    features = layers.Activation("linear", dtype="float32", name="features")(features)
    return keras.Model(inputs, [logits, features], name=name)
