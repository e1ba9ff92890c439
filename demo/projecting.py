"""Projection of a user's own picture (drawn or uploaded) to a latent: the
picture -> the generator's input (checked, shrunk, converted as its images
are) -> its latent z, found by the encoder and refined by the projector.

It needs the encoder.onnx and projector.onnx that `keras-gan encoder`
writes beside a generator; models without them are still served for
sampling (`demo.service`). Split out of `demo.service`, which holds the
caps (`Limits`), the generic validators and the `Service` whose `project`
and `interpolate_images` call `projection` and `image_interpolation`. Like
the rest of the demo, it never imports TensorFlow: the models run in ONNX
Runtime.
"""

from __future__ import annotations

import math

import numpy as np

from demo import render
from demo.models import DemoError, Model
from demo.service import Limits, _blank, _show, image_path, whole_number
from export.projection import (
    ENCODER_ONNX,
    PROJECTOR_FEATURES_ONNX,
    PROJECTOR_ONNX,
    latent_path,
    to_model_input,
)
from export.runtime import GeneratorError, to_uint8

DEFAULT_PROJECTION_STEPS = 50
MAX_IMAGE_SIDE = 4096  # pictures beyond 4096x4096 are refused, not decoded further
# Larger pictures are box-averaged down to this side first: to_model_input's
# resize costs (side x side) per output pixel, seconds at 800 px, and a 28 or
# 32 px model needs no more (a drawing a tenth of the side still keeps 50 px).
WORKING_SIDE = 512
FLAT = 4 / 255  # a picture whose every channel spans no more is blank
# Grey models are MNIST-like digits: a drawing is cropped to its bounding box
# and centred, 20 of 28 pixels, as MNIST's are (a sketch is big and off-centre);
# a picture already at the model's size (a real digit) is left as it is framed.
# Colour models (emoji) get the whole picture: an upload is already framed,
# and a photo's border is no single colour to crop against.
GREY_FRAME = 0.71
NEIGHBOURS = 8  # around the projection in the "nearby" grid (3x3 with it in the middle)
NEARBY_SEED = 0  # the neighbours' directions: the same request, the same picture
DEFAULT_RADIUS, MAX_RADIUS = 0.5, 2.0
DEFAULT_FRAMES = 10
BACKGROUND = (255, 255, 255)  # under transparent pixels: the sketch pad's white


def check_projectable(model: Model) -> None:
    """DemoError unless `model` makes images and has an encoder and projector
    beside its generator (checked on each request: `keras-gan encoder` may
    write them while the demo runs)."""
    if model.points:
        raise DemoError(f"{model.name} makes 2D points: a 2D points model has no images "
                        "to project")
    if not all((model.folder / f).is_file() for f in (ENCODER_ONNX, PROJECTOR_ONNX)):
        # The folder as `--models DIR/NAME` names it, never the server's full path.
        raise DemoError(f"{model.name} has no encoder: make one with `keras-gan encoder "
                        f"{model.folder.parent.name}/{model.folder.name}`")


def check_radius(value) -> float:
    """The nearby samples' distance from the projection: a number in [0, 2]."""
    if _blank(value):
        return DEFAULT_RADIUS
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise DemoError(f"radius must be a number, got {_show(value)}")
    if not 0 <= value <= MAX_RADIUS:  # also refuses NaN
        raise DemoError(f"radius must be between 0 and {MAX_RADIUS:g}, got {_show(value)}")
    return float(value)


def check_image(value, what: str = "image A") -> np.ndarray:
    """The picture in `value` (an array, or the image editor's dict, whose
    "composite" is what the user sees), at most WORKING_SIDE on a side;
    DemoError when there is none, it is blank, or it is no picture."""
    value = _picture(value)
    if _blank(value):
        raise DemoError(f"{what} is empty: draw on it or upload a picture")
    if not isinstance(value, np.ndarray):
        raise DemoError(f"{what} must be a picture, got {_show(value)}")
    if value.dtype.kind not in "fiu":
        raise DemoError(f"{what} must hold pixel values, got dtype {value.dtype}")
    if value.ndim not in (2, 3) or (value.ndim == 3 and value.shape[-1] not in (1, 2, 3, 4)):
        raise DemoError(f"{what} must be a picture (height, width) or (height, width, 1 to 4 "
                        f"channels), got shape {value.shape}")
    if min(value.shape[:2]) < 1:
        raise DemoError(f"{what} is empty: draw on it or upload a picture")
    if max(value.shape[:2]) > MAX_IMAGE_SIDE:
        raise DemoError(f"{what} is {value.shape[0]} pixels high and {value.shape[1]} wide: "
                        f"at most {MAX_IMAGE_SIDE} on a side, shrink it first")
    if value.dtype.kind == "f" and not np.isfinite(value).all():
        raise DemoError(f"{what} must hold finite pixel values")
    x = shrink(value if value.ndim == 3 else value[..., None], WORKING_SIDE)
    with np.errstate(over="ignore"):  # float64 beyond float32: inf, refused by the range
        channels = x.astype(np.float32)
    scale = 255.0 if value.dtype == np.uint8 or channels.max() > 1 else 1.0
    if x.shape[-1] in (2, 4) and channels[..., -1].max() == 0:  # all transparent
        raise DemoError(f"{what} is blank: draw on it or upload a picture")
    if np.ptp(channels.reshape(-1, x.shape[-1]), axis=0).max() <= FLAT * scale:
        raise DemoError(f"{what} is blank (one flat colour): draw on it or upload a picture")
    return x


def _picture(value):
    """The picture in the image editor's dict (background, layers, composite):
    the composite, what the user sees; anything else as it is."""
    if isinstance(value, dict):
        return value.get("composite") if value.get("composite") is not None else (
            value.get("background"))
    return value


def shrink(x: np.ndarray, most: int) -> np.ndarray:
    """(H, W, C) box-averaged by the integer factor that brings its longer side
    to at most `most` (colour weighted by alpha when there is one: transparent
    pixels' colour is arbitrary); uint8 stays uint8. The last rows and columns
    that do not fill a box are dropped; a side shorter than the factor
    becomes one pixel."""
    h, w, c = x.shape
    k = math.ceil(max(h, w) / most)
    if k <= 1:
        return x
    ky, kx = min(k, h), min(k, w)
    out = np.empty((h // ky, w // kx, c), np.float64)
    for i in range(h // ky):  # a band of ky rows at a time: no float copy of it all
        band = x[i * ky:(i + 1) * ky, :w - w % kx].astype(np.float64).reshape(
            ky, w // kx, kx, c)
        if c in (2, 4):
            alpha = band[..., -1:]
            weight = np.maximum(alpha.sum(axis=(0, 2)), 1e-12)
            out[i, :, :-1] = (band[..., :-1] * alpha).sum(axis=(0, 2)) / weight
            out[i, :, -1] = alpha.mean(axis=(0, 2))[:, 0]
        else:
            out[i] = band.mean(axis=(0, 2))
    return np.rint(out).astype(np.uint8) if x.dtype == np.uint8 else out.astype(np.float32)


def model_input(model: Model, value, what: str = "image A") -> tuple[np.ndarray, list[str]]:
    """A user's picture as the generator's images are: float32 (H, W, C) in
    [-1, 1], and the conversions made (`export.projection.to_model_input`)."""
    x = check_image(value, what)
    shape = model.generator.output_shape
    frame = GREY_FRAME if shape[-1] == 1 and x.shape[:2] != shape[:2] else None
    try:
        with np.errstate(over="ignore"):  # as in check_image
            converted, notes = to_model_input(x, shape, background=BACKGROUND, frame=frame)
    except GeneratorError as e:  # ProjectionError: the picture, not the model
        raise DemoError(f"{what}: {e}") from None
    h, w = _picture(value).shape[:2]
    if x.shape[:2] != (h, w):
        notes.insert(0, f"shrunk {h}x{w} -> {x.shape[0]}x{x.shape[1]} (box average)")
    return converted, notes


def check_projection_steps(value, limits: Limits) -> int:
    return whole_number(value, "refinement steps", 0, limits.max_projection_steps)


def project_inputs(model: Model, inputs: list[np.ndarray], steps: int):
    """The `Projection` of model inputs (from `model_input`), one batch."""
    try:
        return model.generator.project(np.stack(inputs), steps=steps)
    except GeneratorError as e:
        raise DemoError(str(e)) from None


def projection(model: Model, image, steps=DEFAULT_PROJECTION_STEPS, radius=DEFAULT_RADIUS,
               limits: Limits | None = None):
    """The latent of a user's picture.

    Returns (pair, nearby, text, found): uint8 RGB pictures of the input as
    the model sees it beside its reconstruction G(z), and of a 3x3 grid with
    G(z) in the middle and NEIGHBOURS samples G(z + radius * e), e ~ N(0, I)
    from NEARBY_SEED, around it (conditional models keep the projected
    class, clustered ones its cluster, z[0]); a Markdown line with the pixel
    error and the conversions; and the `export.projection.Projection`.
    """
    limits = limits or Limits()
    check_projectable(model)
    steps, radius = check_projection_steps(steps, limits), check_radius(radius)
    x, notes = model_input(model, image)
    found = project_inputs(model, [x], steps)
    g, z = model.generator, found.z[0]
    label = None if found.labels is None else int(found.labels[0])
    steps_z = radius * np.random.default_rng(NEARBY_SEED).standard_normal((NEIGHBOURS, z.size))
    if model.clustered:  # z[0] picks the cluster (a digit): kept, as a class is
        steps_z[:, 0] = 0
    latents = np.insert(z + steps_z.astype(np.float32), NEIGHBOURS // 2, z, axis=0)
    try:
        near = g.run(latents, label)
    except GeneratorError as e:
        raise DemoError(str(e)) from None
    pair = render.grid(to_uint8(np.stack([x, found.images[0]])), cols=2,
                       min_tile=render.GIF_TILE)
    nearby = render.grid(to_uint8(near), cols=3)
    return pair, nearby, describe(model, found, notes), found


def describe(model: Model, found, notes: list[str], i: int = 0) -> str:
    """One Markdown line on projection i: its pixel error, how it was found,
    its class, what was done to the picture."""
    how = (f"after {found.steps} refinement steps" if found.steps else
           "from the encoder alone (0 refinement steps)")
    if found.steps and (model.folder / PROJECTOR_FEATURES_ONNX).is_file():
        how += " on pixels and features"
    text = (f"**pixel error {float(found.error[i]):.4f}** (mean squared, on [-1, 1]) "
            f"{how}")
    if found.labels is not None:
        text += f"; class **{model.class_names[int(found.labels[i])]}** (the encoder's pick)"
    return text + "; the picture was " + (", ".join(notes) if notes else "used as it is") + "."


def image_interpolation(model: Model, image_a, image_b, steps=DEFAULT_PROJECTION_STEPS,
                        frames=DEFAULT_FRAMES, limits: Limits | None = None):
    """Projects both pictures (one batch) and walks the slerp path between
    their latents in `frames` frames; conditional models switch from A's
    class to B's halfway, clustered ones A's cluster (z[0]) to B's
    (`export.projection.latent_path`). Returns (strip, GIF frames) like `interpolation`."""
    limits = limits or Limits()
    check_projectable(model)
    steps = check_projection_steps(steps, limits)
    frames = whole_number(frames, "frames", 2, limits.max_steps)
    a, _ = model_input(model, image_a, "image A")
    b, _ = model_input(model, image_b, "image B")
    found = project_inputs(model, [a, b], steps)
    t = np.linspace(0.0, 1.0, frames)
    labels = None if found.labels is None else np.where(t < 0.5, found.labels[0],
                                                        found.labels[1])
    try:
        path = model.generator.run(latent_path(found.z[0], found.z[1], frames,
                                               model.clustered), labels)
    except GeneratorError as e:
        raise DemoError(str(e)) from None
    return image_path(to_uint8(path))
