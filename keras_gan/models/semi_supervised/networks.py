"""The semi-supervised discriminator: Salimans et al.'s MNIST network.

An MLP of widths w, w/2, w/4, w/4, w/4 (1000-500-250-250-250 at w = 1000,
the paper's), ReLU, Gaussian noise on the input (stddev 0.3) and after
every hidden layer (0.5), K class logits out. The noise is what makes it a
good classifier from 100 labels (the paper's code has it on every layer);
it is active only in training, so the exported classifier is deterministic.
Each layer is weight-normalised as in the paper's code (`WeightNormDense`):
W = g v / ||v|| per unit with g fixed after a data-dependent initialisation
(`init_from_data`), so D cannot win by growing its weights; without it D's
features saturate early and the unlabelled images stop shaping them (held-out
error 0.19-0.22 vs ... on the tuning rows, benchmarks/semi_supervised.py).

It has two outputs: the K logits and the features of its last hidden layer
(after ReLU, before that layer's noise), which feature matching compares.
Flattened images of any shape go in, so it takes colour images too; a
convolutional version (the paper's CIFAR-10 one) is not written yet.
"""

from __future__ import annotations

import keras
from keras import layers, ops

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
        x = WeightNormDense(units, activation="relu", name=f"dense_{i}")(x)
        features = x
        x = layers.GaussianNoise(hidden_noise)(x)
    # The paper trains the output layer's scale (train_scale=True) only.
    logits = WeightNormDense(num_classes, train_scale=True, dtype="float32",
                             name="logits")(x)
    features = layers.Activation("linear", dtype="float32", name="features")(features)
    return keras.Model(inputs, [logits, features], name=name)


@keras.saving.register_keras_serializable(package="keras_gan")
class WeightNormDense(layers.Layer):
    """Dense with weight normalisation (Salimans and Kingma 2016): the weight
    column of unit j is g_j v_j / ||v_j||. `g` is trained only with
    `train_scale`; else it is set once by `init_from_data` and then fixed, as
    in the improved-GAN code, which bounds every unit's gain."""

    def __init__(self, units: int, activation=None, train_scale: bool = False, **kwargs):
        super().__init__(**kwargs)
        self.units = int(units)
        self.activation = keras.activations.get(activation)
        self.train_scale = bool(train_scale)

    def build(self, input_shape):
        fan_in = int(input_shape[-1])
        self.v = self.add_weight(name="v", shape=(fan_in, self.units),
                                 initializer=keras.initializers.RandomNormal(stddev=0.05))
        self.g = self.add_weight(name="g", shape=(self.units,), initializer="ones",
                                 trainable=self.train_scale)
        self.b = self.add_weight(name="b", shape=(self.units,), initializer="zeros")

    def kernel(self):
        v = ops.cast(self.v, "float32")
        w = v * (ops.cast(self.g, "float32") / ops.sqrt(ops.sum(ops.square(v), axis=0) + 1e-12))
        return ops.cast(w, self.compute_dtype)

    def call(self, x):
        return self.activation(ops.matmul(x, self.kernel()) + ops.cast(self.b, self.compute_dtype))

    def get_config(self):
        return {**super().get_config(), "units": self.units, "train_scale": self.train_scale,
                "activation": keras.activations.serialize(self.activation)}


def init_from_data(model: keras.Model, images) -> None:
    """Data-dependent initialisation of every `WeightNormDense` of `model`,
    input side first: each unit's pre-activation on `images` gets mean 0 and
    standard deviation 1 (g = 1 / std, b = -mean / std). Once, before training
    (a resumed run restores its own g and b)."""
    images = ops.convert_to_tensor(images)
    for layer in model.layers:
        if not isinstance(layer, WeightNormDense):
            continue
        upstream = keras.Model(model.inputs, layer.input)
        x = ops.cast(upstream(images, training=False), "float32")
        v = ops.cast(layer.v, "float32")
        t = ops.matmul(x, v / ops.sqrt(ops.sum(ops.square(v), axis=0) + 1e-12))
        mean = ops.mean(t, axis=0)
        std = ops.sqrt(ops.mean(ops.square(t - mean), axis=0)) + 1e-6
        layer.g.assign(ops.cast(1.0 / std, layer.g.dtype))
        layer.b.assign(ops.cast(-mean / std, layer.b.dtype))


def plain_classifier(discriminator: keras.Model) -> keras.Model:
    """images -> class probabilities as plain Keras layers: D at inference
    (no noise), each `WeightNormDense` folded into a `Dense` holding its
    current g v / ||v||, and a softmax. A copy, not a view: what the run
    saves as classifier.keras, so that the file loads with
    `keras.saving.load_model` in a process that never imports keras_gan, and
    exports to ONNX from standard layers."""
    inputs = keras.Input(discriminator.inputs[0].shape[1:], name="images")
    x = layers.Flatten()(inputs)
    folded = []
    for layer in discriminator.layers:
        if not isinstance(layer, WeightNormDense):
            continue
        dense = layers.Dense(layer.units, activation=layer.activation,
                             dtype="float32" if layer.name == "logits" else None,
                             name=layer.name)
        x = dense(x)
        folded.append((dense, layer))
    probabilities = layers.Softmax(dtype="float32", name="probabilities")(x)
    model = keras.Model(inputs, probabilities, name="classifier")
    for dense, layer in folded:
        dense.set_weights([ops.convert_to_numpy(layer.kernel()),
                           ops.convert_to_numpy(layer.b)])
    return model
