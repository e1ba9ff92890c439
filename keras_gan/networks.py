"""Generator and discriminator builders: functional `keras.Model`s.

- MLP pair (Goodfellow et al. 2014 used MLPs): for 2D points and small data.
- DCGAN pair (Radford et al. 2016): transposed convolutions, batch norm and
  ReLU in G; strided convolutions and LeakyReLU in D; sized by image shape.
- The TensorFlow DCGAN tutorial's pair ("tutorial"): the reference recipe of
  the speed and time-to-quality benchmarks.

Contracts every builder keeps, because training, export and the ONNX
runtime rely on them:
- the generator's input is named "z", shape (latent_dim,), plus "labels"
  (int64 class indices, shape ()) when conditional; its output is
  float32 even under mixed precision (tanh in [-1, 1] for images, linear for
  points);
- the discriminator returns float32 logits of shape (batch, 1);
- spatial sizes are static (converters break on dynamic ConvTranspose).
"""

from __future__ import annotations

import math

import keras
from keras import layers


def _check_image_shape(image_shape) -> tuple[int, int, int]:
    if len(image_shape) != 3:
        raise ValueError(f"image_shape must be (H, W, C), got {tuple(image_shape)}")
    h, w, c = (int(s) for s in image_shape)
    if h != w:
        raise ValueError(f"DCGAN networks need square images, got {h}x{w}")
    return h, w, c


def dcgan_upsamplings(size: int) -> int:
    """How many stride-2 stages take a small seed (3..7 pixels) to `size`.

    28 -> 7x7 seed and 2 stages, 32 -> 4x4 and 3, 64 -> 4x4 and 4.
    """
    n, side = 0, size
    while side > 7 and side % 2 == 0:
        side //= 2
        n += 1
    if n == 0 or not 3 <= side <= 7:
        raise ValueError(
            f"DCGAN networks need a side that halves down to 3..7 pixels "
            f"(e.g. 28, 32, 48, 64, 128), got {size}"
        )
    return n


def _generator_inputs(latent_dim: int, num_classes: int | None):
    """The inputs (z, and labels if conditional) and the vector fed onwards.

    Conditional generators concatenate z with a learned class embedding
    (Mirza & Osindero 2014). Labels are int64 class indices, the ONNX contract.
    """
    z = keras.Input((latent_dim,), name="z")
    if not num_classes:
        return [z], z
    labels = keras.Input((), dtype="int64", name="labels")
    embedded = layers.Embedding(num_classes, latent_dim, name="label_embedding")(labels)
    return [z, labels], layers.Concatenate()([z, embedded])


def _sn(layer, spectral_norm: bool):
    """`layer`, wrapped in spectral normalization (Miyato et al. 2018) if asked:
    W / sigma(W) with sigma from one power iteration per training call, which
    bounds each layer's Lipschitz constant and steadies the discriminator."""
    return layers.SpectralNormalization(layer) if spectral_norm else layer


def _discriminator_head(features, labels, num_classes: int | None,
                        spectral_norm: bool = False):
    """float32 logits from features; with labels, a projection discriminator
    (Miyato & Koyama 2018): logit = w.f + <embed(y), f>."""
    dense = layers.Dense(1, dtype="float32", name="logits")
    logits = (layers.SpectralNormalization(dense, dtype="float32") if spectral_norm
              else dense)(features)
    if not num_classes:
        return logits
    embedded = layers.Embedding(num_classes, features.shape[-1], dtype="float32",
                                name="label_projection")(labels)
    projection = layers.Dot(axes=1, dtype="float32")([features, embedded])
    return layers.Add(dtype="float32", name="conditional_logits")([logits, projection])


def _discriminator_inputs(sample_shape, num_classes: int | None):
    x = keras.Input(tuple(int(s) for s in sample_shape), name="images")
    if not num_classes:
        return [x], x, None
    labels = keras.Input((), dtype="int64", name="labels")
    return [x, labels], x, labels


def _model(inputs, outputs, name):
    return keras.Model(inputs[0] if len(inputs) == 1 else inputs, outputs, name=name)


def build_dcgan_generator(latent_dim: int, image_shape, width: int = 64,
                          num_classes: int | None = None,
                          name: str = "generator") -> keras.Model:
    """z (latent_dim,) [and labels ()] -> image (H, W, C) in [-1, 1].

    Args:
        latent_dim: size of z.
        image_shape: (H, W, C), square, H halving down to 3..7 pixels.
        width: filters of the last hidden stage; each earlier stage doubles.
        num_classes: makes the generator conditional on an int64 label.
    """
    h, _, c = _check_image_shape(image_shape)
    n = dcgan_upsamplings(h)
    seed = h // 2**n
    inputs, x = _generator_inputs(latent_dim, num_classes)
    filters = width * 2 ** (n - 1)
    # No bias before batch norm: BN's beta makes it redundant.
    x = layers.Dense(seed * seed * filters, use_bias=False)(x)
    x = layers.Reshape((seed, seed, filters))(x)
    x = layers.BatchNormalization()(x)
    x = layers.ReLU()(x)
    for _ in range(n - 1):
        filters //= 2
        x = layers.Conv2DTranspose(filters, 4, strides=2, padding="same",
                                   use_bias=False)(x)
        x = layers.BatchNormalization()(x)
        x = layers.ReLU()(x)
    x = layers.Conv2DTranspose(c, 4, strides=2, padding="same")(x)
    # float32 output: tanh in float16 loses precision near +-1 and the ONNX
    # export contract is float32.
    images = layers.Activation("tanh", dtype="float32", name="images")(x)
    return _model(inputs, images, name)


def build_dcgan_discriminator(image_shape, width: int = 64, dropout: float = 0.0,
                              num_classes: int | None = None, spectral_norm: bool = False,
                              name: str = "discriminator") -> keras.Model:
    """image (H, W, C) [and labels ()] -> logit (1,).

    No batch norm: per-sample penalties (WGAN-GP) and separate real / fake
    batches interact badly with batch statistics, and the DCGAN conventions
    work without it at these sizes.
    """
    h, w, c = _check_image_shape(image_shape)
    n = dcgan_upsamplings(h)
    inputs, x, labels = _discriminator_inputs((h, w, c), num_classes)
    filters = width
    for _ in range(n):
        x = _sn(layers.Conv2D(filters, 4, strides=2, padding="same"), spectral_norm)(x)
        x = layers.LeakyReLU(0.2)(x)
        if dropout:
            x = layers.Dropout(dropout)(x)
        filters *= 2
    x = layers.Flatten()(x)
    return _model(inputs, _discriminator_head(x, labels, num_classes, spectral_norm), name)


def build_tutorial_generator(latent_dim: int, image_shape, width: int = 64,
                             num_classes: int | None = None,
                             name: str = "generator") -> keras.Model:
    """The TensorFlow DCGAN tutorial's generator (tensorflow.org/tutorials/
    generative/dcgan), the reference recipe of the speed benchmarks: Dense
    (H/4)^2 x 4w -> ConvTranspose 2w (stride 1) -> w (stride 2) -> C (stride 2),
    5x5 kernels, batch norm and LeakyReLU; w = 64 is the tutorial's size."""
    h, _, c = _check_image_shape(image_shape)
    if h % 4:
        raise ValueError(f"the tutorial networks need a side divisible by 4, got {h}")
    seed = h // 4
    inputs, x = _generator_inputs(latent_dim, num_classes)
    x = layers.Dense(seed * seed * 4 * width, use_bias=False)(x)
    x = layers.BatchNormalization()(x)
    x = layers.LeakyReLU(0.3)(x)  # the tutorial's LeakyReLU() default slope
    x = layers.Reshape((seed, seed, 4 * width))(x)
    for filters, stride in ((2 * width, 1), (width, 2)):
        x = layers.Conv2DTranspose(filters, 5, strides=stride, padding="same",
                                   use_bias=False)(x)
        x = layers.BatchNormalization()(x)
        x = layers.LeakyReLU(0.3)(x)
    x = layers.Conv2DTranspose(c, 5, strides=2, padding="same", use_bias=False)(x)
    images = layers.Activation("tanh", dtype="float32", name="images")(x)
    return _model(inputs, images, name)


def build_tutorial_discriminator(image_shape, width: int = 64,
                                 num_classes: int | None = None, spectral_norm: bool = False,
                                 name: str = "discriminator") -> keras.Model:
    """The tutorial's discriminator: Conv w -> Conv 2w, 5x5 stride 2,
    LeakyReLU and dropout 0.3, then a linear logit."""
    h, w, c = _check_image_shape(image_shape)
    inputs, x, labels = _discriminator_inputs((h, w, c), num_classes)
    for filters in (width, 2 * width):
        x = _sn(layers.Conv2D(filters, 5, strides=2, padding="same"), spectral_norm)(x)
        x = layers.LeakyReLU(0.3)(x)
        x = layers.Dropout(0.3)(x)
    x = layers.Flatten()(x)
    return _model(inputs, _discriminator_head(x, labels, num_classes, spectral_norm), name)


def build_mlp_generator(latent_dim: int, output_shape, width: int = 128,
                        depth: int = 2, num_classes: int | None = None,
                        name: str = "generator") -> keras.Model:
    """z -> sample of `output_shape`: linear output for points (any range),
    tanh for images (rank-3 shapes, in [-1, 1])."""
    output_shape = tuple(int(s) for s in output_shape)
    inputs, x = _generator_inputs(latent_dim, num_classes)
    for _ in range(depth):
        x = layers.Dense(width, activation="relu")(x)
    x = layers.Dense(math.prod(output_shape))(x)
    activation = "tanh" if len(output_shape) == 3 else "linear"
    x = layers.Activation(activation, dtype="float32")(x)
    out = layers.Reshape(output_shape, dtype="float32", name="images")(x)
    return _model(inputs, out, name)


def build_mlp_discriminator(input_shape, width: int = 128, depth: int = 2,
                            num_classes: int | None = None, spectral_norm: bool = False,
                            name: str = "discriminator") -> keras.Model:
    """sample [and labels ()] -> logit (1,), LeakyReLU hidden layers."""
    inputs, x, labels = _discriminator_inputs(input_shape, num_classes)
    x = layers.Flatten()(x)
    for _ in range(depth):
        x = _sn(layers.Dense(width), spectral_norm)(x)
        x = layers.LeakyReLU(0.2)(x)
    return _model(inputs, _discriminator_head(x, labels, num_classes, spectral_norm), name)


def build_networks(arch: str, latent_dim: int, sample_shape, width: int,
                   depth: int = 2,
                   num_classes: int | None = None,
                   spectral_norm: bool = False) -> tuple[keras.Model, keras.Model]:
    """The (generator, discriminator) pair of `arch` for samples of `sample_shape`.

    `arch="auto"` picks the MLP for vectors (2D points) and DCGAN for images.
    With `num_classes`, both networks also take int64 labels (conditional);
    `spectral_norm` wraps the discriminator's weight layers.
    """
    sample_shape = tuple(int(s) for s in sample_shape)
    if arch == "auto":
        arch = "dcgan" if len(sample_shape) == 3 else "mlp"
    if arch == "dcgan":
        if len(sample_shape) != 3:
            raise ValueError(f"arch 'dcgan' needs images (H, W, C), got {sample_shape}; "
                             "use arch 'mlp' for vectors")
        return (build_dcgan_generator(latent_dim, sample_shape, width, num_classes),
                build_dcgan_discriminator(sample_shape, width, num_classes=num_classes,
                                          spectral_norm=spectral_norm))
    if arch == "tutorial":
        if len(sample_shape) != 3:
            raise ValueError(f"arch 'tutorial' needs images (H, W, C), got {sample_shape}")
        return (build_tutorial_generator(latent_dim, sample_shape, width, num_classes),
                build_tutorial_discriminator(sample_shape, width, num_classes,
                                             spectral_norm=spectral_norm))
    if arch == "mlp":
        return (build_mlp_generator(latent_dim, sample_shape, width, depth, num_classes),
                build_mlp_discriminator(sample_shape, width, depth, num_classes,
                                        spectral_norm=spectral_norm))
    raise ValueError(f"unknown arch {arch!r}; choose auto, dcgan, tutorial or mlp")
