"""Training tricks any GAN variant can switch on: pure functions of tensors.

- Instance noise (Arjovsky & Bottou 2017; Sonderby et al. 2017): Gaussian
  noise on everything the discriminator sees, real and fake. Two
  distributions with disjoint supports have a perfect discriminator and a
  useless generator gradient; convolving both with the same noise makes the
  supports overlap, and the noise is annealed to 0 so the target is exact in
  the end.
- One-sided label smoothing and noisy labels (Salimans et al. 2016): real
  targets 1 - s (minus a per-example uniform jitter) instead of 1, so D is
  penalised for over-confidence on real data; fakes keep target 0.
- DiffAugment (Zhao et al. 2020): the same kind of random, differentiable
  augmentation on real and fake images, in the discriminator AND generator
  updates, so D cannot memorise a small data set and G is not pushed to
  produce augmented images.
- ADA (Karras et al. 2020, "Training generative adversarial networks with
  limited data"): the same augmentations, each applied to an image with
  probability p, and p driven by an overfitting heuristic: r_t = E[sign(D(x))]
  over real images rises toward 1 as D memorises them; p goes up while r_t is
  above a target (0.6) and down while below (`ada_adjust`). Augmenting with
  p < 0.8 or so does not leak into what G makes (their Figure 3).

`GAN` applies them (its `perturb` hook and `discriminator_loss`); the
schedule is `anneal`. Spectral normalization is a network option
(`keras_gan.models.networks`, `spectral_norm=True`).
"""

from __future__ import annotations

import keras
from keras import ops

from keras_gan.config import parse_augment


def anneal(step, anneal_steps: int):
    """Scale of the annealed tricks at generator step `step`: 1 falling
    linearly to 0 at `anneal_steps` (constant 1 when `anneal_steps` is 0)."""
    if not anneal_steps:
        return ops.convert_to_tensor(1.0, "float32")
    frac = ops.cast(step, "float32") / float(anneal_steps)
    return ops.maximum(1.0 - frac, 0.0)


def instance_noise(x, stddev, seed):
    """x + N(0, stddev^2), noise drawn in float32 and cast to x's dtype."""
    noise = keras.random.normal(ops.shape(x), stddev=1.0, seed=seed)
    return x + ops.cast(stddev * noise, x.dtype)


def _uniform(batch, seed, low=0.0, high=1.0):
    return keras.random.uniform((batch, 1, 1, 1), low, high, seed=seed)


def augment_color(x, seed):
    """Random brightness, saturation and contrast per image (x in [-1, 1])."""
    b = ops.shape(x)[0]
    x = x + ops.cast(_uniform(b, seed, -0.5, 0.5), x.dtype)  # brightness
    mean_c = ops.mean(x, axis=-1, keepdims=True)
    x = (x - mean_c) * ops.cast(_uniform(b, seed, 0.0, 2.0), x.dtype) + mean_c  # saturation
    mean = ops.mean(x, axis=(1, 2, 3), keepdims=True)
    return (x - mean) * ops.cast(_uniform(b, seed, 0.5, 1.5), x.dtype) + mean  # contrast


def _shifted_index(size, shift):
    """(B, size) source indices of a shift; -1 where the pixel comes from outside."""
    pos = ops.arange(size)[None, :] - shift[:, None]
    return ops.where((pos >= 0) & (pos < size), pos, -1)


def augment_translation(x, seed, ratio: float = 0.125):
    """Shift each image by up to `ratio` of its size, filling with 0 (mid-grey)."""
    b, h, w = ops.shape(x)[0], x.shape[1], x.shape[2]
    sy, sx = (int(h * ratio + 0.5), int(w * ratio + 0.5))
    dy = keras.random.randint((b,), -sy, sy + 1, seed=seed)
    dx = keras.random.randint((b,), -sx, sx + 1, seed=seed)
    iy, ix = _shifted_index(h, dy), _shifted_index(w, dx)  # (B, H), (B, W)
    # Gather rows then columns; indices of -1 read a clamped pixel and are
    # masked to 0 afterwards. Gathers are differentiable in x.
    rows = ops.take_along_axis(x, ops.maximum(iy, 0)[:, :, None, None], axis=1)
    out = ops.take_along_axis(rows, ops.maximum(ix, 0)[:, None, :, None], axis=2)
    mask = (iy >= 0)[:, :, None, None] & (ix >= 0)[:, None, :, None]
    return out * ops.cast(mask, x.dtype)


def augment_cutout(x, seed, ratio: float = 0.5):
    """Zero one square of side `ratio` * size at a random centre per image."""
    b, h, w = ops.shape(x)[0], x.shape[1], x.shape[2]
    ch, cw = int(h * ratio + 0.5), int(w * ratio + 0.5)
    cy = keras.random.randint((b,), 0, h + (1 - ch % 2), seed=seed)
    cx = keras.random.randint((b,), 0, w + (1 - cw % 2), seed=seed)
    ys = ops.arange(h)[None, :] - (cy[:, None] - ch // 2)
    xs = ops.arange(w)[None, :] - (cx[:, None] - cw // 2)
    in_y = (ys >= 0) & (ys < ch)
    in_x = (xs >= 0) & (xs < cw)
    inside = in_y[:, :, None, None] & in_x[:, None, :, None]
    return x * ops.cast(ops.logical_not(inside), x.dtype)


def diff_augment(x, policy, seed):
    """DiffAugment: each augmentation of `policy` (names in AUGMENTATIONS), in
    order, with its own random draw per image. Images only (B, H, W, C)."""
    names = parse_augment(policy)
    if names and len(x.shape) != 4:
        raise ValueError(f"DiffAugment needs images (B, H, W, C), got shape {tuple(x.shape)}")
    fns = {"color": augment_color, "translation": augment_translation,
           "cutout": augment_cutout}
    for name in names:
        x = fns[name](x, seed)
    return x


def ada_augment(x, policy, p, seed):
    """Each augmentation of `policy`, in order, applied to each image with
    probability `p` (a scalar tensor): ADA's stochastic pipeline on the
    DiffAugment operations. Differentiable in x, like them."""
    names = parse_augment(policy)
    if names and len(x.shape) != 4:
        raise ValueError(f"ADA needs images (B, H, W, C), got shape {tuple(x.shape)}")
    fns = {"color": augment_color, "translation": augment_translation,
           "cutout": augment_cutout}
    p = ops.cast(p, "float32")

    def pipeline():
        y = x
        for name in names:
            chosen = keras.random.uniform((ops.shape(y)[0], 1, 1, 1), seed=seed) < p
            y = ops.where(chosen, fns[name](y, seed), y)
        return y

    # p starts at 0 and stays there while D does not overfit (the usual case
    # on a few thousand images and short runs); the pipeline then changes
    # nothing, so do not pay for it: a run with ADA on and p at 0 trains as
    # fast as one without.
    return ops.cond(p > 0, pipeline, lambda: x)


def ada_adjust(p, r_t, target: float, images: int, kimg: float):
    """ADA's update of the augmentation probability: p + sign(r_t - target)
    * images / (kimg * 1000), clipped to [0, 1]. `images` real images were
    seen since the last adjustment; `kimg` thousand images move p by 1
    (StyleGAN2-ADA: 500; smaller suits short CPU runs)."""
    step = ops.sign(ops.cast(r_t, "float32") - target) * (
        ops.cast(images, "float32") / (kimg * 1000.0))
    return ops.clip(ops.cast(p, "float32") + step, 0.0, 1.0)


def smoothing_amounts(batch, label_smoothing, label_noise, seed):
    """How much to take off each real target 1: s + label_noise * U(0, 1).

    Returns a (batch, 1) float32 tensor, or the scalar s when no noise.
    """
    if not label_noise:
        return ops.convert_to_tensor(label_smoothing, "float32")
    u = keras.random.uniform((batch, 1), seed=seed)
    return label_smoothing + label_noise * u
