"""The image-to-image networks: pix2pix's U-Net generator and PatchGAN
discriminator (Isola et al. 2017), also CycleGAN's (Zhu et al. 2017).

Contracts, as for the other keras-gan networks (keras_gan/models/networks.py):
static spatial sizes, images float in [-1, 1], the generator's output and the
discriminator's logits float32 even under mixed precision.

Normalization: instance norm (`GroupNormalization(groups=-1)`: one group per
channel). The pix2pix paper uses batch norm with batch size 1 and keeps the
test batch's statistics at test time, which is instance norm in both phases;
instance norm gives that at any batch size, with no moving statistics to go
stale and no mixing of the images of a batch, and is CycleGAN's choice too.
A convolution followed by a norm has no bias: the norm's mean subtraction
cancels it (its gradient would be exactly zero) and its beta replaces it.
"""

from __future__ import annotations

import math

import keras
from keras import layers

# Weights drawn from N(0, 0.02), both papers' initialization.
_INIT = keras.initializers.RandomNormal(0.0, 0.02)
# Widths double per level up to 8x the first (the papers' 64 -> 512).
_MAX_MULT = 8
# The paper's PatchGAN: 70x70 patches of a 256 px side.
PAPER_PATCH_FRACTION = 70 / 256
NORMS = ("instance", "none")


def _check_norm(norm: str) -> None:
    if norm not in NORMS:
        raise ValueError(f"unknown norm {norm!r}; choose {' or '.join(NORMS)}")


def _norm(x, norm: str, name: str):
    if norm == "none":
        return x
    return layers.GroupNormalization(groups=-1, epsilon=1e-5, name=name)(x)


def _levels(size: int) -> int:
    """log2(size), for a power-of-two side of at least 4."""
    if size < 4 or size & (size - 1):
        raise ValueError(f"translation networks need a power-of-two side >= 4, got {size}")
    return int(math.log2(size))


def unet_depth(size: int) -> int:
    """The default number of stride-2 levels: down to a 2x2 bottleneck.

    Not to 1x1 as the paper's 256 px U-Net: instance norm over one pixel
    outputs its beta alone whatever the input, and at 32-64 px a 2x2
    bottleneck already sees the whole image (each of its cells has a
    receptive field larger than the side).
    """
    return _levels(size) - 1


def build_unet(size: int, in_channels: int, out_channels: int, width: int, depth=None,
               dropout: float = 0.5, norm: str = "instance", name: str = "unet",
               seed: int | None = None) -> keras.Model:
    """pix2pix's U-Net: (size, size, in_channels) -> (size, size, out_channels).

    Encoder level i (1..depth): 4x4 stride-2 conv of width * 2^(i-1) filters
    (at most 8 * width), instance norm (not on the first level, as the
    paper's C64, nor the innermost, whose map may be 2x2), LeakyReLU(0.2).
    Decoder: per level, 4x4 stride-2 transposed conv, instance norm, ReLU,
    dropout on the innermost `min(3, depth // 2)` blocks (the paper's three
    of seven), then the mirrored encoder level concatenated (layer
    "skip{i}", i counting from the bottleneck), so fine detail can bypass
    the bottleneck. A last transposed conv and tanh give [-1, 1].

    Dropout is the paper's noise source (it has no z). The paper keeps it
    on at test time too; here it is on in training only, so a trained
    translator is a deterministic function (export, save/load checks).

    Args:
        size: the square side, a power of two >= 4 (8 and 16 for tests).
        width: filters of the first encoder level (the paper's 64).
        depth: stride-2 levels; default `unet_depth(size)`.
        dropout: rate of the innermost decoder blocks (0 for none).
        seed: seeds the dropout masks. With a seed each Dropout layer owns its
            `SeedGenerator`, whose state is a variable saved with the weights,
            so a resumed run draws the masks an uninterrupted one would; without
            one the masks come from Keras's global RNG, which no checkpoint holds.
    """
    _check_norm(norm)
    levels = _levels(size)
    depth = unet_depth(size) if depth is None else int(depth)
    if not 1 <= depth <= levels:
        raise ValueError(f"depth must be in 1..{levels} for side {size}, got {depth}")
    x = inputs = keras.Input((size, size, in_channels), name="source")
    skips = []
    for i in range(depth):
        normed = 0 < i < depth - 1 and norm != "none"
        x = layers.Conv2D(width * min(2**i, _MAX_MULT), 4, strides=2, padding="same",
                          use_bias=not normed, kernel_initializer=_INIT,
                          name=f"down{i + 1}")(x)
        if normed:
            x = _norm(x, norm, f"down{i + 1}_norm")
        x = layers.LeakyReLU(0.2)(x)
        skips.append(x)
    drops = min(3, depth // 2)
    for j, skip in enumerate(reversed(skips[:-1]), start=1):
        level = depth - j  # the encoder level whose map this block mirrors
        x = layers.Conv2DTranspose(width * min(2 ** (level - 1), _MAX_MULT), 4, strides=2,
                                   padding="same", use_bias=norm == "none",
                                   kernel_initializer=_INIT, name=f"up{j}")(x)
        x = _norm(x, norm, f"up{j}_norm")
        x = layers.ReLU()(x)
        if dropout and j <= drops:
            x = layers.Dropout(dropout, seed=None if seed is None else seed + j,
                               name=f"up{j}_dropout")(x)
        x = layers.Concatenate(name=f"skip{j}")([x, skip])
    x = layers.Conv2DTranspose(out_channels, 4, strides=2, padding="same",
                               kernel_initializer=_INIT, name="to_image")(x)
    outputs = layers.Activation("tanh", dtype="float32", name="tanh")(x)
    return keras.Model(inputs, outputs, name=name)


# -- PatchGAN ---------------------------------------------------------------------


def _patchgan_layers(n_layers: int, kernel_size: int = 4):
    """(kernel, stride) of each conv of an n_layers PatchGAN, input to logit:
    n_layers stride-2 convs, one stride-1 conv, the stride-1 logit conv."""
    return [(kernel_size, 2)] * n_layers + [(kernel_size, 1)] * 2


def receptive_field(n_layers: int, kernel_size: int = 4) -> int:
    """The side, in input pixels, of the patch one PatchGAN logit sees.

    Walks back from one output cell: a conv of kernel k and stride s turns a
    field of r cells into (r - 1) * s + k. n_layers=3, 4x4 kernels: 70, the
    paper's 70x70 PatchGAN (1 -> 4 -> 7 -> 16 -> 34 -> 70).
    """
    field = 1
    for kernel, stride in reversed(_patchgan_layers(int(n_layers), kernel_size)):
        field = (field - 1) * stride + kernel
    return field


def patchgan_layers(size: int) -> int:
    """The default n_layers for a side: the one whose patch is nearest the
    paper's fraction of the side (70 / 256 = 0.27), fewer on a tie.

    32 -> 1 (16 px patches, half the side: the smallest PatchGAN),
    64 -> 1 (16, a quarter), 128 -> 2 (34), 256 -> 3 (70, the paper's).
    The paper found 16x16 patches at 256 px sharp but tiled with artifacts
    and larger ones no better than 70x70: what matters is how much of the
    image a patch covers, so the fraction, not the pixel count, is kept.
    """
    target = PAPER_PATCH_FRACTION * size
    return min(range(1, _levels(size)), key=lambda n: abs(receptive_field(n) - target))


def build_patchgan(size: int, in_channels: int, width: int, n_layers=None,
                   condition_channels: int = 0, norm: str = "instance",
                   name: str = "patchgan") -> keras.Model:
    """The PatchGAN discriminator: images -> (N, h, w, 1) float32 logits,
    one per overlapping patch of side `receptive_field(n_layers)`.

    Convs of 4x4: the first stride 2 without norm, then n_layers - 1 more of
    stride 2 and one of stride 1, each with instance norm, widths doubling
    up to 8 * width; LeakyReLU(0.2) after each; a stride-1 conv to 1 channel.

    Args:
        in_channels: channels of the judged images (input "images").
        n_layers: stride-2 convs; default `patchgan_layers(size)`.
        condition_channels: 0 for one image (CycleGAN); else pix2pix's
            conditional D, which takes [source, images] (source with this
            many channels) and judges their concatenation, the pair.
        norm: "instance", or "none" (every logit then depends on its patch
            alone: instance norm's statistics see the whole image).
    """
    _check_norm(norm)
    n_layers = patchgan_layers(size) if n_layers is None else int(n_layers)
    if n_layers < 1:
        raise ValueError(f"n_layers must be >= 1, got {n_layers}")
    images = keras.Input((size, size, in_channels), name="images")
    inputs = images
    x = images
    if condition_channels:
        source = keras.Input((size, size, condition_channels), name="source")
        inputs = [source, images]
        x = layers.Concatenate(name="pair")([source, images])
    for i, (kernel, stride) in enumerate(_patchgan_layers(n_layers)[:-1]):
        normed = i > 0 and norm != "none"
        x = layers.Conv2D(width * min(2**i, _MAX_MULT), kernel, strides=stride, padding="same",
                          use_bias=not normed, kernel_initializer=_INIT,
                          name=f"conv{i + 1}")(x)
        if normed:
            x = _norm(x, norm, f"conv{i + 1}_norm")
        x = layers.LeakyReLU(0.2)(x)
    logits = layers.Conv2D(1, 4, padding="same", kernel_initializer=_INIT, dtype="float32",
                           name="logits")(x)
    return keras.Model(inputs, logits, name=name)
