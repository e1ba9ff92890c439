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
Flattened images of any shape go in, so it takes colour images too.

`build_ssgan_conv_discriminator` is the paper's CIFAR-10 network scaled down
for a CPU: weight-normalised 3x3 convolutions with leaky ReLU, two stride-2
stages, dropout 0.5 after each, a 3x3 valid and a 1x1 ("network in network")
layer, global average pooling (the features G matches), then the K logits.
"""

from __future__ import annotations

import keras
from keras import layers, ops

INPUT_NOISE = 0.3
HIDDEN_NOISE = 0.5
CONV_DROPOUT = 0.5  # the paper's CIFAR-10 D, after each stride-2 stage


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


def build_discriminator(image_shape, num_classes: int, options: dict) -> keras.Model:
    """The D the variant's options (`d_arch`, ...) describe."""
    if options["d_arch"] == "conv":
        return build_ssgan_conv_discriminator(image_shape, num_classes, options["d_channels"],
                                              options["input_noise"])
    return build_ssgan_discriminator(image_shape, num_classes, options["d_width"],
                                     options["input_noise"], options["hidden_noise"])


def build_ssgan_conv_discriminator(image_shape, num_classes: int, channels: int = 32,
                                   input_noise: float = INPUT_NOISE,
                                   dropout: float = CONV_DROPOUT,
                                   name: str = "discriminator") -> keras.Model:
    """images (H, W, C) -> [class logits (K,), features (2 channels,)].

    The paper's CIFAR-10 D (96-96-96 / 192-192-192 / 192 valid, two NIN,
    pool) with one convolution per resolution fewer and `channels`, 2
    `channels` in place of 96, 192: about 8M multiply-adds per 28x28 digit
    at 32, so a CPU trains it in minutes. Input noise as the MLP's."""
    if num_classes < 2:
        raise ValueError(f"a classifier needs at least 2 classes, got {num_classes}")
    if channels < 1:
        raise ValueError(f"channels must be >= 1, got {channels}")
    if min(image_shape[:2]) < 9:  # two stride-2 stages leave 3x3 for the valid conv
        raise ValueError(f"the conv discriminator needs images of at least 9x9, got "
                         f"{image_shape[0]}x{image_shape[1]}: use d_arch=mlp")
    inputs = keras.Input(tuple(int(s) for s in image_shape), name="images")
    x = layers.GaussianNoise(input_noise)(inputs)
    plan = ((channels, 1, "same"), (channels, 2, "same"), "dropout",
            (2 * channels, 1, "same"), (2 * channels, 2, "same"), "dropout",
            (2 * channels, 1, "valid"))
    for i, step in enumerate(plan):
        if step == "dropout":
            x = layers.Dropout(dropout)(x)
            continue
        filters, stride, padding = step
        x = WeightNormConv2D(filters, 3, stride, padding, activation="leaky_relu",
                             name=f"conv_{i}")(x)
    x = WeightNormConv2D(2 * channels, 1, activation="leaky_relu", name="nin")(x)
    features = layers.GlobalAveragePooling2D(dtype="float32", name="features")(x)
    logits = WeightNormDense(num_classes, train_scale=True, dtype="float32",
                             name="logits")(features)
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

    def kernel(self, scale=None):
        """g v / ||v|| per unit (`scale` in place of g: init_from_data's 1)."""
        v = ops.cast(self.v, "float32")
        g = ops.cast(self.g if scale is None else scale, "float32")
        norm = ops.sqrt(ops.sum(ops.square(v), axis=tuple(range(len(v.shape) - 1))) + 1e-12)
        return ops.cast(v * (g / norm), self.compute_dtype)

    def linear(self, x, kernel):
        return ops.matmul(x, kernel)

    def call(self, x):
        return self.activation(self.linear(x, self.kernel())
                               + ops.cast(self.b, self.compute_dtype))

    def get_config(self):
        return {**super().get_config(), "units": self.units, "train_scale": self.train_scale,
                "activation": keras.activations.serialize(self.activation)}


@keras.saving.register_keras_serializable(package="keras_gan")
class WeightNormConv2D(WeightNormDense):
    """A 2D convolution with weight normalisation: `WeightNormDense`'s g, v
    and b, the kernel (k, k, C_in, units), each output channel a unit."""

    def __init__(self, units: int, kernel_size: int = 3, strides: int = 1,
                 padding: str = "same", **kwargs):
        super().__init__(units, **kwargs)
        self.kernel_size, self.strides, self.padding = int(kernel_size), int(strides), padding

    def build(self, input_shape):
        k = self.kernel_size
        self.v = self.add_weight(name="v", shape=(k, k, int(input_shape[-1]), self.units),
                                 initializer=keras.initializers.RandomNormal(stddev=0.05))
        self.g = self.add_weight(name="g", shape=(self.units,), initializer="ones",
                                 trainable=self.train_scale)
        self.b = self.add_weight(name="b", shape=(self.units,), initializer="zeros")

    def linear(self, x, kernel):
        return ops.conv(x, kernel, strides=self.strides, padding=self.padding)

    def get_config(self):
        return {**super().get_config(), "kernel_size": self.kernel_size,
                "strides": self.strides, "padding": self.padding}


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
        t = ops.cast(layer.linear(x, ops.cast(layer.kernel(scale=1.0), x.dtype)), "float32")
        axes = tuple(range(len(t.shape) - 1))  # all but the unit's: batch (and pixels)
        mean = ops.mean(t, axis=axes)
        std = ops.sqrt(ops.mean(ops.square(t - mean), axis=axes)) + 1e-6
        layer.g.assign(ops.cast(1.0 / std, layer.g.dtype))
        layer.b.assign(ops.cast(-mean / std, layer.b.dtype))


def plain_classifier(discriminator: keras.Model) -> keras.Model:
    """images -> class probabilities as plain Keras layers: D at inference
    (noise and dropout dropped), each weight-normalised layer folded into a
    `Dense` / `Conv2D` holding its current g v / ||v||, and a softmax. A
    copy, not a view: what the run saves as classifier.keras, so that the
    file loads with `keras.saving.load_model` in a process that never
    imports keras_gan, and exports to ONNX from standard layers. D's layers
    form one chain (the features output is a layer of it, or an identity
    beside it), so they are replayed in order."""
    inputs = keras.Input(discriminator.inputs[0].shape[1:], name="images")
    x, folded = inputs, []
    for layer in discriminator.layers:
        if isinstance(layer, (keras.layers.InputLayer, layers.GaussianNoise, layers.Dropout,
                              layers.Activation)):
            continue  # identities at inference (Activation: the linear "features")
        if isinstance(layer, WeightNormConv2D):
            plain = layers.Conv2D(layer.units, layer.kernel_size, layer.strides, layer.padding,
                                  activation=layer.activation, name=layer.name)
        elif isinstance(layer, WeightNormDense):
            plain = layers.Dense(layer.units, activation=layer.activation,
                                 dtype="float32" if layer.name == "logits" else None,
                                 name=layer.name)
        elif isinstance(layer, (layers.Flatten, layers.GlobalAveragePooling2D)):
            plain = layer.__class__.from_config(layer.get_config())
        else:
            raise ValueError(f"plain_classifier cannot fold layer {layer.name} "
                             f"({type(layer).__name__})")
        x = plain(x)
        if isinstance(layer, WeightNormDense):
            folded.append((plain, layer))
    probabilities = layers.Softmax(dtype="float32", name="probabilities")(x)
    model = keras.Model(inputs, probabilities, name="classifier")
    for plain, layer in folded:
        plain.set_weights([ops.convert_to_numpy(layer.kernel()),
                           ops.convert_to_numpy(layer.b)])
    return model
