"""Projection of a user's own picture (drawn or uploaded) to a latent: the
picture -> the generator's input (checked, shrunk, converted as its images
are) -> its latent z, found by the encoder and refined by the projector.

It needs the encoder.onnx and projector.onnx that `keras-gan encoder`
writes beside a generator; models without them are still served for
sampling (`demo.service`, whose `Service.project` and
`Service.interpolate_images` call `projection` and `image_interpolation`).
The picture itself is checked, read and shrunk by `demo.pictures`; the caps
and generic checks are `demo.checks`'. Like the rest of the demo, it never
imports TensorFlow: the models run in ONNX Runtime.
"""

from __future__ import annotations

import numpy as np

from demo import render
from demo.checks import Limits, blank, show, whole_number
from demo.models import DemoError, Model
from demo.pictures import check_image
from demo.render import image_path
from export.projection import (
    ENCODER_ONNX,
    PROJECTOR_FEATURES_ONNX,
    PROJECTOR_ONNX,
    latent_path,
    to_model_input,
)
from export.runtime import GeneratorError, to_uint8

DEFAULT_PROJECTION_STEPS = 50
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
    if blank(value):
        return DEFAULT_RADIUS
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise DemoError(f"radius must be a number, got {show(value)}")
    if not 0 <= value <= MAX_RADIUS:  # also refuses NaN
        raise DemoError(f"radius must be between 0 and {MAX_RADIUS:g}, got {show(value)}")
    return float(value)


def model_input(model: Model, value, what: str = "image A") -> tuple[np.ndarray, list[str]]:
    """A user's picture as the generator's images are: float32 (H, W, C) in
    [-1, 1], and the conversions made (`export.projection.to_model_input`)."""
    x, shrunk = check_image(value, what)
    shape = model.generator.output_shape
    frame = GREY_FRAME if shape[-1] == 1 and x.shape[:2] != shape[:2] else None
    try:
        with np.errstate(over="ignore"):  # as in check_image
            converted, notes = to_model_input(x, shape, background=BACKGROUND, frame=frame)
    except GeneratorError as e:  # ProjectionError: the picture, not the model
        raise DemoError(f"{what}: {e}") from None
    return converted, shrunk + notes


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
