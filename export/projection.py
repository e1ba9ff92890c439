"""From images to latents with onnxruntime and numpy: encode, then refine.

`Projector(folder)` reads the encoder.onnx and projector.onnx that
`keras-gan encoder` writes beside a generator (`export/encoder.py` has
their contracts) and `project(images, steps)` returns, for each image, the
latent whose picture is closest to it:

1. z0 = E(x): one forward pass of the encoder (with `labels` for
   conditional models, chosen by its class head unless given);
2. `steps` of Adam on z, each one run of projector.onnx, which returns the
   loss (pixels + a norm prior; with `features=True`, projector_features.onnx
   adds the evaluator's features) and its gradient;
   the lowest-loss z seen is kept, so refinement never returns a worse
   latent than the encoder's.

Like `export/runtime.py` this never imports TensorFlow. Images must be what
the generator makes: float (N, H, W, C) in [-1, 1]. `to_model_input`
converts the rest (uint8, other sizes, colour <-> grey, alpha, a dark
drawing on a light page) and says what it did; `project` refuses anything
else with a message naming the problem, because a silent conversion of
the wrong thing is a wrong latent.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from export.latents import GeneratorError, slerp

ENCODER_ONNX = "encoder.onnx"
PROJECTOR_ONNX = "projector.onnx"
PROJECTOR_FEATURES_ONNX = "projector_features.onnx"
DEFAULT_STEPS = 50
# Chosen on 200 training-split digits (mnist-dcgan, 0.005 to 0.4). A model
# whose encoder is already close can need less: on emoji-32's own samples
# 0.1 found no better latent in 20 steps where 0.01 did (the best latent is
# kept either way, so a too-large rate costs time, never quality).
DEFAULT_LEARNING_RATE = 0.1
MAX_STEPS = 2000
RANGE_SLACK = 1e-3  # float error in someone's own [-1, 1] scaling


class ProjectionError(GeneratorError):
    """A bad image or request for projection; the message says which."""


@dataclass
class Projection:
    """What `Projector.project` found for N images."""

    z: np.ndarray  # (N, latent_dim) float32
    labels: np.ndarray | None  # (N,) int64 for conditional models
    images: np.ndarray  # (N, H, W, C) float32 in [-1, 1]: G(z)
    error: np.ndarray  # (N,) float32 mean squared pixel error against the input
    loss: np.ndarray  # (N,) float32 the projector's loss at z
    steps: int


class Projector:
    """The encoder and projector beside an exported generator.

    Args:
        generator: an `export.runtime.OnnxGenerator` whose folder holds
            encoder.onnx and projector.onnx (`keras-gan encoder`).
        providers: onnxruntime execution providers (default CPU).
    """

    def __init__(self, generator, providers=("CPUExecutionProvider",)):
        import onnxruntime as ort

        self.generator = generator
        folder = Path(generator.path).parent
        paths = [folder / ENCODER_ONNX, folder / PROJECTOR_ONNX]
        missing = [p.name for p in paths if not p.is_file()]
        if missing:
            raise ProjectionError(
                f"{folder} has no {' or '.join(missing)}: make them with "
                f"`keras-gan encoder {folder}`")
        self._open = lambda path: ort.InferenceSession(str(path), providers=list(providers))
        try:
            self.encoder, self.projector = (self._open(p) for p in paths)
        except Exception as e:  # onnxruntime's own Fail / InvalidGraph types
            raise ProjectionError(f"cannot load the encoder or projector in {folder}: "
                                  f"{e}") from None
        self._features_path = folder / PROJECTOR_FEATURES_ONNX
        self._features = None
        meta = self.projector.get_modelmeta().custom_metadata_map
        self.batch = int(json.loads(meta.get("batch", "1")))
        self.metadata = {k: _json(v) for k, v in meta.items()}
        self.has_features = self._features_path.is_file()
        self.image_shape = tuple(generator.output_shape)
        self.conditional = generator.conditional

    # -- checks ---------------------------------------------------------------

    def check_images(self, images) -> np.ndarray:
        """float32 (N, H, W, C) in [-1, 1] of the generator's shape, or a
        ProjectionError naming what is wrong and the conversion to use."""
        try:
            x = np.asarray(images)
        except (ValueError, TypeError):
            raise ProjectionError("images must be an array of numbers") from None
        want = "x".join(map(str, self.image_shape))
        hint = "; export.projection.to_model_input converts uint8, other sizes and channels"
        if x.dtype.kind not in "fiu":
            raise ProjectionError(f"images must hold numbers, got dtype {x.dtype}")
        if x.ndim != 4:
            raise ProjectionError(f"images must be (N, H, W, C) = (N, {want.replace('x', ', ')})"
                                  f", got shape {x.shape}{hint}")
        if x.shape[1:3] != self.image_shape[:2]:
            raise ProjectionError(f"images must be {self.image_shape[0]}x{self.image_shape[1]}"
                                  f" pixels, got {x.shape[1]}x{x.shape[2]}{hint}")
        if x.shape[3] != self.image_shape[2]:
            raise ProjectionError(f"images must have {self.image_shape[2]} channel(s), got "
                                  f"{x.shape[3]}{hint}")
        if not 1 <= len(x) <= self.generator.max_images:
            raise ProjectionError(f"between 1 and {self.generator.max_images} images, got "
                                  f"{len(x)}")
        if x.dtype == np.uint8:
            raise ProjectionError(f"images must be float in [-1, 1], got uint8{hint}")
        x = x.astype(np.float32)
        if not np.isfinite(x).all():
            raise ProjectionError("images must be finite")
        low, high = float(x.min()), float(x.max())
        if low < -1 - RANGE_SLACK or high > 1 + RANGE_SLACK:
            raise ProjectionError(f"images must be in [-1, 1], got values in [{low:.4g}, "
                                  f"{high:.4g}]{hint}")
        return np.clip(x, -1.0, 1.0)

    def _labels(self, labels, n):
        if not self.conditional:
            if labels is not None:
                raise ProjectionError("this generator is unconditional: labels must be None")
            return None
        return None if labels is None else self.generator._labels(labels, n)

    # -- the two stages -------------------------------------------------------

    def encode(self, images, labels=None):
        """E(x): (z (N, latent_dim), labels (N,) or None). Given `labels`
        (conditional models) replace the encoder's guess."""
        x = self.check_images(images)
        out = self.encoder.run(None, {"images": x})
        z = out[0].astype(np.float32)
        given = self._labels(labels, len(x))
        guessed = out[1].astype(np.int64) if self.conditional else None
        return z, (given if given is not None else guessed)

    def _session(self, features: bool):
        if not features:
            return self.projector
        if not self.has_features:
            raise ProjectionError(f"no {PROJECTOR_FEATURES_ONNX} beside "
                                  f"{self.generator.path.name}: no evaluator fits this "
                                  "model; project with features=False")
        if self._features is None:
            self._features = self._open(self._features_path)
        return self._features

    def _step(self, z, target, labels, session):
        """A projector on any number of rows, padded to its fixed batch."""
        n, b = len(z), self.batch
        pad = -n % b
        if pad:
            z = np.concatenate([z, np.zeros((pad, z.shape[1]), np.float32)])
            target = np.concatenate([target, np.zeros((pad, *target.shape[1:]), np.float32)])
            if labels is not None:
                labels = np.concatenate([labels, np.zeros(pad, np.int64)])
        outs = {k: [] for k in ("loss", "grad", "images", "pixel_error")}
        names = [o.name for o in session.get_outputs()]
        for i in range(0, len(z), b):
            feed = {"z": z[i:i + b], "target": target[i:i + b]}
            if labels is not None:
                feed["labels"] = labels[i:i + b]
            for name, value in zip(names, session.run(None, feed), strict=True):
                outs[name].append(value)
        return {k: np.concatenate(v)[:n] for k, v in outs.items()}

    def project(self, images, steps: int = DEFAULT_STEPS,
                learning_rate: float = DEFAULT_LEARNING_RATE, labels=None,
                features: bool | None = None) -> Projection:
        """The latents of `images` (float (N, H, W, C) in [-1, 1]): the
        encoder's, then `steps` of Adam on the projector's loss (0: the
        encoder alone). `features`: put the evaluator's features in the loss
        (default: when the model has projector_features.onnx). Returns a
        `Projection`."""
        (result,) = self.iterate(images, steps, learning_rate, labels, features)
        return result

    def iterate(self, images, steps: int = DEFAULT_STEPS,
                learning_rate: float = DEFAULT_LEARNING_RATE, labels=None,
                features: bool | None = None, at=()):
        """`project`, yielding the best `Projection` so far after each step
        count in `at` (0: the encoder's) and after the last step, in order:
        one run measures several step counts (benchmarks/projection.py)."""
        at = {int(t) for t in at if 0 <= t < steps}
        if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or not (
                0 <= steps <= MAX_STEPS):
            raise ProjectionError(f"steps must be an integer in [0, {MAX_STEPS}], got "
                                  f"{steps!r}")
        if not (isinstance(learning_rate, (int, float)) and 0 < learning_rate <= 10):
            raise ProjectionError(f"learning_rate must be in (0, 10], got {learning_rate!r}")
        session = self._session(self.has_features if features is None else bool(features))
        target = self.check_images(images)
        z, labels = self.encode(target, labels)
        out = self._step(z, target, labels, session)
        best = {"z": z.copy(), **{k: out[k].copy() for k in ("loss", "images", "pixel_error")}}

        def snapshot(t):
            return Projection(z=best["z"].copy(), labels=labels, images=best["images"].copy(),
                              error=best["pixel_error"].copy(), loss=best["loss"].copy(),
                              steps=t)

        if 0 in at or steps == 0:
            yield snapshot(0)
        m, v = np.zeros_like(z), np.zeros_like(z)
        beta1, beta2 = 0.9, 0.999
        for t in range(1, steps + 1):
            g = out["grad"]
            m = beta1 * m + (1 - beta1) * g
            v = beta2 * v + (1 - beta2) * g * g
            z = z - learning_rate * (m / (1 - beta1 ** t)) / (np.sqrt(v / (1 - beta2 ** t))
                                                             + 1e-8)
            z = z.astype(np.float32)
            out = self._step(z, target, labels, session)
            better = out["loss"] < best["loss"]
            best["z"][better] = z[better]
            for k in ("loss", "images", "pixel_error"):
                best[k][better] = out[k][better]
            if t in at or t == steps:
                yield snapshot(t)

def latent_path(z_a, z_b, frames: int, discrete_first: bool = False) -> np.ndarray:
    """(frames, D) latents from z_a to z_b by slerp.

    With `discrete_first` (a generator whose z[0] picks a k-means cluster by
    the interval it falls in: the card's gan "clustered") z[0] is not
    slerped but switched halfway, as a conditional
    model's class is: a slerp of z[0] crosses every cluster between the two
    ends' intervals, unrelated digits in an arbitrary order, while the rest
    of z morphs the style. Measured in benchmarks/results/projection.md."""
    t = np.linspace(0.0, 1.0, frames)
    if not discrete_first:
        return slerp(np.asarray(z_a), np.asarray(z_b), t)
    path = np.empty((frames, len(z_a)), np.float32)
    path[:, 0] = np.where(t < 0.5, z_a[0], z_b[0])
    path[:, 1:] = slerp(np.asarray(z_a[1:]), np.asarray(z_b[1:]), t)
    return path


def _json(text):
    try:
        return json.loads(text)
    except ValueError:
        return text


# -- conversions: what a user brings -> what the generator makes ---------------

LUMA = np.array([0.299, 0.587, 0.114], np.float32)  # ITU-R 601, as PIL's "L"


def _resize_matrix(n_in: int, n_out: int) -> np.ndarray:
    """(n_out, n_in) weights: box (area) averaging when shrinking, linear
    interpolation (pixel centres aligned) when growing."""
    w = np.zeros((n_out, n_in), np.float64)
    if n_out <= n_in:
        scale = n_in / n_out
        for i in range(n_out):
            lo, hi = i * scale, (i + 1) * scale
            for j in range(int(np.floor(lo)), min(int(np.ceil(hi)), n_in)):
                w[i, j] = min(hi, j + 1) - max(lo, j)
    else:
        pos = np.clip((np.arange(n_out) + 0.5) * n_in / n_out - 0.5, 0, n_in - 1)
        left = np.floor(pos).astype(int)
        right = np.minimum(left + 1, n_in - 1)
        frac = pos - left
        w[np.arange(n_out), left] += 1 - frac
        w[np.arange(n_out), right] += frac
    return (w / w.sum(axis=1, keepdims=True)).astype(np.float32)


def resize(image: np.ndarray, height: int, width: int) -> np.ndarray:
    """(H, W, C) float -> (height, width, C): area average down, linear up."""
    rows = _resize_matrix(image.shape[0], height)
    cols = _resize_matrix(image.shape[1], width)
    # Two separable passes (matrix products), not one einsum over all four
    # axes: the cost stays linear in the picture's pixels.
    out = np.tensordot(rows, image.astype(np.float32), axes=(1, 0))  # (height, W, C)
    return np.tensordot(cols, out, axes=(1, 1)).transpose(1, 0, 2)  # (height, width, C)


def to_model_input(image, shape, background=(255, 255, 255), invert: bool | None = None,
                   frame: float | None = None) -> tuple[np.ndarray, list[str]]:
    """One picture as a user has it -> float32 (H, W, C) in [-1, 1] of `shape`,
    and the list of conversions made (for display).

    - dtype: uint8 (or float in [0, 255]) is scaled; float in [0, 1] or
      [-1, 1] is taken as it is;
    - alpha: RGBA / LA composited onto `background`;
    - channels: colour -> grey by luma (0.299 R + 0.587 G + 0.114 B),
      grey -> colour by repeating;
    - invert: True turns dark-on-light into light-on-dark (MNIST digits are
      white on black; a drawing is black on white); None inverts when the
      picture's border is lighter than mid-grey and the model is grey;
    - frame: if given, crop to the bounding box of what differs from the
      border colour, pad it square and scale it to `frame` of the side
      (MNIST digits fill 20 of 28 pixels: 0.71), centred;
    - size: area averaging down, linear interpolation up.
    """
    notes = []
    x = np.asarray(image)
    if x.ndim == 2:
        x = x[..., None]
    if x.ndim != 3 or x.shape[-1] not in (1, 2, 3, 4) or min(x.shape[:2]) < 1:
        raise ProjectionError(f"an image must be (H, W) or (H, W, 1-4 channels), got shape "
                              f"{x.shape}")
    if x.dtype.kind not in "fiu" or not np.isfinite(x).all():
        raise ProjectionError("an image must hold finite numbers")
    x = x.astype(np.float32)
    low, high = float(x.min()), float(x.max())
    if np.asarray(image).dtype == np.uint8 or high > 1.0:
        if low < 0 or high > 255:
            raise ProjectionError(f"pixel values must be in [0, 255], [0, 1] or [-1, 1], got "
                                  f"[{low:.4g}, {high:.4g}]")
        x = x / 255.0
        notes.append("scaled 0-255 to 0-1")
    elif low < 0:
        if low < -1 - RANGE_SLACK:
            raise ProjectionError(f"pixel values must be in [0, 255], [0, 1] or [-1, 1], "
                                  f"got [{low:.4g}, {high:.4g}]")
        x = (x + 1) / 2
    if x.shape[-1] in (2, 4):  # alpha last
        alpha = x[..., -1:]
        bg = np.asarray(background, np.float32)[: x.shape[-1] - 1] / 255.0
        x = x[..., :-1] * alpha + bg * (1 - alpha)
        notes.append("composited alpha onto the background")
    want_c = int(shape[-1])
    if x.shape[-1] == 3 and want_c == 1:
        x = (x @ LUMA)[..., None]
        notes.append("colour to grey (luma)")
    elif x.shape[-1] == 1 and want_c == 3:
        x = np.repeat(x, 3, axis=-1)
        notes.append("grey to colour")
    border = np.concatenate([x[0], x[-1], x[:, 0], x[:, -1]])
    if invert is None:
        invert = want_c == 1 and float(border.mean()) > 0.5
    if invert:
        x = 1.0 - x
        border = 1.0 - border
        notes.append("inverted (dark on light -> light on dark)")
    if frame is not None:
        x = _frame(x, np.median(border, axis=0), frame)
        notes.append(f"cropped to the drawing, scaled to {frame:.0%} of the side, centred")
    if x.shape[:2] != tuple(shape[:2]):
        notes.append(f"resized {x.shape[0]}x{x.shape[1]} -> {shape[0]}x{shape[1]}")
        x = resize(x, int(shape[0]), int(shape[1]))
    return np.clip(x * 2 - 1, -1, 1).astype(np.float32), notes


def _frame(x: np.ndarray, background: np.ndarray, fill: float) -> np.ndarray:
    ink = np.abs(x - background).max(axis=-1) > 0.1
    if not ink.any():
        return x
    rows, cols = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    crop = x[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]
    side = int(np.ceil(max(crop.shape[:2]) / fill))
    out = np.empty((side, side, x.shape[-1]), np.float32)
    out[:] = background
    top, left = (side - crop.shape[0]) // 2, (side - crop.shape[1]) // 2
    out[top:top + crop.shape[0], left:left + crop.shape[1]] = crop
    return out
