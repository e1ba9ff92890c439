"""Translation of a user's picture (drawn or uploaded) by an image-to-image
translator: the picture -> the translator's input -> its translation, and
for a two-way translator (a CycleGAN's pair) back again, a round trip.

The picture is checked, read and shrunk by `demo.pictures`, as a picture to
project is; then converted as `OnnxTranslator.translate_uint8` converts it
(`export.projection.to_model_input`: alpha onto white, grey <-> colour,
resized; never inverted: a sketch stays dark on white). `demo.service`'s
`Service.translate` calls `translation` and writes the pictures. Like the
rest of the demo, it never imports TensorFlow: the translators run in ONNX
Runtime.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from demo import render
from demo.checks import blank, show
from demo.models import DemoError
from demo.pictures import check_image
from demo.translators import DIRECTIONS, Translator
from export.projection import to_model_input
from export.runtime import GeneratorError, to_uint8

WHAT = "the source image"  # the picture, in the messages about it
BACKGROUND = (255, 255, 255)  # under transparent pixels: the sketch pad's white
# 16 to 32 px results are shown at least this large, nearest-neighbour: a
# browser would blur them.
TILE = render.GIF_TILE


@dataclass(frozen=True)
class Translation:
    """One translated picture, uint8 (H, W, C) each, at the translator's size."""

    direction: str
    source: np.ndarray  # the picture as the translator sees it (C_in channels)
    result: np.ndarray  # its translation (C_out channels)
    back: np.ndarray | None  # the translation translated back (two-way translators)
    error: float | None  # the round trip's mean absolute error, on [-1, 1]
    notes: list[str]  # what was done to the picture

    @property
    def picture(self) -> np.ndarray:
        """The translation, enlarged: uint8 RGB."""
        return render.to_rgb(render.upscale(self.result[None], TILE))[0]

    @property
    def steps(self) -> np.ndarray:
        """The source as seen | its translation (| back): one uint8 RGB strip."""
        tiles = [p for p in (self.source, self.result, self.back) if p is not None]
        return render.grid(np.concatenate([render.to_rgb(t[None]) for t in tiles]),
                           cols=len(tiles), min_tile=TILE)


def check_direction(translator: Translator, value) -> str:
    """"ab" or "ba", one the translator serves; empty means its first."""
    if blank(value):
        return translator.directions[0]
    if isinstance(value, str) and value in translator.runtimes:
        return value
    if translator.two_way:
        raise DemoError("direction must be " + " or ".join(
            f"'{d}' ({translator.label(d)})" for d in DIRECTIONS) + f", got {show(value)}")
    d = translator.directions[0]
    raise DemoError(f"{translator.name} translates one way only: direction must be '{d}' "
                    f"({translator.label(d)}), got {show(value)}")


def translation(translator: Translator, image, direction=None) -> Translation:
    """The translation of a user's picture (a uint8 array, an upload or the
    image editor's dict) in `direction` (default: the translator's first),
    and back for a two-way translator. For a uint8 picture at most
    `demo.pictures.WORKING_SIDE` on a side, `result` is exactly what
    `OnnxTranslator.translate_uint8(picture)` returns."""
    direction = check_direction(translator, direction)
    runtime, reverse = translator.runtimes[direction], translator.reverse(direction)
    x, shrunk = check_image(image, WHAT)
    try:
        with np.errstate(over="ignore"):  # as in check_image
            source, notes = to_model_input(x, runtime.image_shape, background=BACKGROUND,
                                           invert=False)
    except GeneratorError as e:  # ProjectionError: the picture, not the translator
        raise DemoError(f"{WHAT}: {e}") from None
    try:
        out = runtime.translate(source[None])
        back = None if reverse is None else reverse.translate(out)
    except GeneratorError as e:  # TranslatorError
        raise DemoError(str(e)) from None
    error = None if back is None else float(np.abs(back[0] - source).mean())
    return Translation(direction, to_uint8(source), to_uint8(out[0]),
                       None if back is None else to_uint8(back[0]), error, shrunk + notes)


def describe(translator: Translator, found: Translation) -> str:
    """One Markdown line on a translation: its direction, the round trip's
    error, what was done to the picture."""
    text = f"**{translator.label(found.direction)}** by {translator.name}"
    if found.error is not None:
        a, b = translator.domains[::1 if found.direction == "ab" else -1]
        text += (f"; round trip {a} → {b} → {a}: mean absolute error "
                 f"**{found.error:.4f}** (on [-1, 1])")
    return text + "; the picture was " + (
        ", ".join(found.notes) if found.notes else "used as it is") + "."
