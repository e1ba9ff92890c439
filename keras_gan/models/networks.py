"""Generator and discriminator builders: functional `keras.Model`s.

- MLP pair (Goodfellow et al. 2014 used MLPs): for 2D points and small data.
- DCGAN pair (Radford et al. 2016): transposed convolutions, batch norm and
  ReLU in G; strided convolutions and LeakyReLU in D; sized by image shape.
- The TensorFlow DCGAN tutorial's pair ("tutorial"): the reference recipe of
  the speed and time-to-quality benchmarks.
- ResNet pair ("resnet"; SNGAN, Miyato et al. 2018, and BigGAN, Brock et al.
  2019): G is Dense to a 4x4 seed (7x7 for 28 px) and up-sampling residual
  blocks (BN, ReLU, nearest 2x up-sampling, 3x3 conv, BN, ReLU, 3x3 conv;
  shortcut: up-sampling and 1x1 conv), then BN, ReLU, 3x3 conv, tanh. D is
  down-sampling residual blocks (ReLU, 3x3 conv, ReLU, 3x3 conv, 2x2 average
  pooling; shortcut: 1x1 conv and pooling; the first block without the
  leading ReLU), ReLU, global sum pooling and a linear logit, spectrally
  normalized when asked. Conditional: G concatenates a label embedding to z
  and uses class-conditional batch norm (BigGAN: per-class gain and bias
  from embeddings, built from stock layers); D is a projection
  discriminator.

  Widths: the last G block and the first D block have `width // 2` filters
  (`resnet_filters`) and every stage nearer the seed doubles (32 px: 4b, 2b,
  b with b = width // 2; 64 px: 8b, 4b, 2b, b). Half, because a residual
  stage has two 3x3 convolutions (and G's run at the up-sampled side) where
  a DCGAN stage has one: at the same `width` the two pairs then have about
  the same parameters, and the shared default (width 32) stays trainable on
  a 2-core CPU. Measured there (GAN.fit, batch 64, spectral norm;
  benchmarks/resnet_widths.py, benchmarks/results/resnet_widths.md):
  two runs on the shared machine gave, for 32x32x3, 0.15-0.28 s per step at
  width 32 (b = 16; the DCGAN pair 0.07-0.10 s), 0.49-0.57 s at 64 and
  1.8-2.0 s at 128; for 64x64x3, 0.78-0.91 s at width 32 (DCGAN 0.27-0.53 s)
  and 2.5-3.4 s at 64. Full widths (b = width) would have made the default
  64 px pair a 2.5-3.4 s step: about an hour per 1,000 steps.

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


def _resnet_stages(image_shape) -> tuple[int, int, int, int]:
    """(side, channels, residual stages, seed side) of a ResNet pair."""
    h, _, c = _check_image_shape(image_shape)
    try:
        n = dcgan_upsamplings(h)
    except ValueError:
        raise ValueError(f"ResNet networks need a side that halves down to 3..7 pixels "
                         f"(e.g. 28, 32, 64), got {h}") from None
    return h, c, n, h // 2**n


def resnet_filters(width: int) -> int:
    """Filters of the ResNet pair's highest-resolution blocks for `width`
    (half of it; see the module docstring for why)."""
    return max(1, int(width) // 2)


def _batch_norm(x, labels, num_classes: int | None, name: str):
    """Batch norm; class-conditional (de Vries et al. 2017, BigGAN) with
    labels: normalise without an affine part, then scale by a per-class gain
    (initialised to 1) and shift by a per-class bias (initialised to 0), both
    plain `Embedding`s, so the model stays stock layers (safe-mode loading)."""
    if not num_classes:
        return layers.BatchNormalization(name=name)(x)
    channels = x.shape[-1]
    x = layers.BatchNormalization(center=False, scale=False, name=name)(x)
    gain = layers.Embedding(num_classes, channels, embeddings_initializer="ones",
                            name=f"{name}_gain")(labels)
    bias = layers.Embedding(num_classes, channels, embeddings_initializer="zeros",
                            name=f"{name}_bias")(labels)
    gain = layers.Reshape((1, 1, channels))(gain)
    bias = layers.Reshape((1, 1, channels))(bias)
    return layers.Add()([layers.Multiply()([x, gain]), bias])


def _up_block(x, filters: int, labels, num_classes: int | None, name: str):
    """G's residual block, doubling the side: BN, ReLU, up, conv3, BN, ReLU,
    conv3; shortcut: up, conv1 (an identity when the filters do not change
    would do too; the 1x1 conv keeps every block alike)."""
    shortcut = layers.UpSampling2D(2, interpolation="nearest")(x)
    shortcut = layers.Conv2D(filters, 1, name=f"{name}_shortcut")(shortcut)
    x = _batch_norm(x, labels, num_classes, f"{name}_bn1")
    x = layers.ReLU()(x)
    x = layers.UpSampling2D(2, interpolation="nearest")(x)
    x = layers.Conv2D(filters, 3, padding="same", use_bias=False, name=f"{name}_conv1")(x)
    x = _batch_norm(x, labels, num_classes, f"{name}_bn2")
    x = layers.ReLU()(x)
    x = layers.Conv2D(filters, 3, padding="same", name=f"{name}_conv2")(x)
    return layers.Add(name=f"{name}_out")([x, shortcut])


def _down_block(x, filters: int, spectral_norm: bool, first: bool, name: str):
    """D's residual block, halving the side: [ReLU,] conv3, ReLU, conv3,
    pool; shortcut: conv1, pool (SNGAN's "optimized" first block pools
    first; the order does not change what a 1x1 conv and an average pool
    compute)."""
    shortcut = _sn(layers.Conv2D(filters, 1, name=f"{name}_shortcut"), spectral_norm)(x)
    shortcut = layers.AveragePooling2D(2)(shortcut)
    if not first:
        x = layers.ReLU()(x)
    x = _sn(layers.Conv2D(filters, 3, padding="same", name=f"{name}_conv1"), spectral_norm)(x)
    x = layers.ReLU()(x)
    x = _sn(layers.Conv2D(filters, 3, padding="same", name=f"{name}_conv2"), spectral_norm)(x)
    x = layers.AveragePooling2D(2)(x)
    return layers.Add(name=f"{name}_out")([x, shortcut])


def build_resnet_generator(latent_dim: int, image_shape, width: int = 32,
                           num_classes: int | None = None,
                           name: str = "generator") -> keras.Model:
    """z (latent_dim,) [and labels ()] -> image (H, W, C) in [-1, 1], the
    SNGAN / BigGAN residual generator.

    Args:
        latent_dim: size of z.
        image_shape: (H, W, C), square; 28 (7x7 seed), 32, 64 (4x4 seed) or
            any side that halves down to 3..7 pixels.
        width: base width; the last block has `resnet_filters(width)` =
            width // 2 filters and each block nearer the seed doubles.
        num_classes: conditional on an int64 label: label embedding
            concatenated to z and class-conditional batch norm.
    """
    _, c, n, seed = _resnet_stages(image_shape)
    inputs, x = _generator_inputs(latent_dim, num_classes)
    labels = inputs[1] if num_classes else None
    base = resnet_filters(width)
    filters = base * 2 ** (n - 1)
    x = layers.Dense(seed * seed * filters, name="seed")(x)
    x = layers.Reshape((seed, seed, filters))(x)
    for i in range(n):
        x = _up_block(x, base * 2 ** (n - 1 - i), labels, num_classes, f"up{i + 1}")
    x = _batch_norm(x, labels, num_classes, "out_bn")
    x = layers.ReLU()(x)
    x = layers.Conv2D(c, 3, padding="same", name="out_conv")(x)
    images = layers.Activation("tanh", dtype="float32", name="images")(x)
    return _model(inputs, images, name)


def build_resnet_discriminator(image_shape, width: int = 32,
                               num_classes: int | None = None, spectral_norm: bool = False,
                               name: str = "discriminator") -> keras.Model:
    """image (H, W, C) [and labels ()] -> logit (1,), the SNGAN / BigGAN
    residual discriminator: `resnet_filters(width)` = width // 2 filters in
    the first block, doubling per
    block down to the seed side, ReLU, global sum pooling, projection head.
    No batch norm (as the DCGAN discriminator)."""
    h, c, n, seed = _resnet_stages(image_shape)
    inputs, x, labels = _discriminator_inputs((h, h, c), num_classes)
    base = resnet_filters(width)
    for i in range(n):
        x = _down_block(x, base * 2**i, spectral_norm, first=i == 0, name=f"down{i + 1}")
    x = layers.ReLU()(x)
    # Global sum pooling (SNGAN) as a mean times the (static) area: stock
    # layers only, so the model loads in safe mode and exports to ONNX.
    x = layers.GlobalAveragePooling2D()(x)
    x = layers.Rescaling(float(seed * seed), name="global_sum")(x)
    return _model(inputs, _discriminator_head(x, labels, num_classes, spectral_norm), name)


def resolve_arch(arch: str, sample_shape) -> str:
    """The concrete arch `arch="auto"` means for samples of `sample_shape`:
    mlp for vectors (2D points), dcgan for grey images and for colour ones
    under 64 px, resnet for colour images (3 or more channels) of 64 px and
    more. Other names pass through.

    Why 64: on 32 px emoji, at equal CPU time, the DCGAN pair made ~3x the
    steps of the ResNet pair and the better FD (emoji FD 6.4 vs 14.9 after 4
    CPU minutes, `benchmarks/results/preset_search_emoji.md`); at 64 px the
    two cost about the same per image (`benchmarks/results/resnet_widths.md`)
    and the residual networks are the ones built for the size."""
    if arch != "auto":
        return arch
    sample_shape = tuple(int(s) for s in sample_shape)
    if len(sample_shape) != 3:
        return "mlp"
    h, _, c = sample_shape
    return "resnet" if c >= 3 and h >= 64 else "dcgan"


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

    `arch="auto"` picks per `resolve_arch`: the MLP for vectors (2D points),
    DCGAN for grey or sub-32 px images, ResNet for colour images of 32 px and
    more. With `num_classes`, both networks also take int64 labels (conditional);
    `spectral_norm` wraps the discriminator's weight layers.
    """
    sample_shape = tuple(int(s) for s in sample_shape)
    arch = resolve_arch(arch, sample_shape)
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
    if arch == "resnet":
        if len(sample_shape) != 3:
            raise ValueError(f"arch 'resnet' needs images (H, W, C), got {sample_shape}; "
                             "use arch 'mlp' for vectors")
        return (build_resnet_generator(latent_dim, sample_shape, width, num_classes),
                build_resnet_discriminator(sample_shape, width, num_classes,
                                           spectral_norm=spectral_norm))
    if arch == "mlp":
        return (build_mlp_generator(latent_dim, sample_shape, width, depth, num_classes),
                build_mlp_discriminator(sample_shape, width, depth, num_classes,
                                        spectral_norm=spectral_norm))
    raise ValueError(f"unknown arch {arch!r}; choose auto, dcgan, resnet, tutorial or mlp")
