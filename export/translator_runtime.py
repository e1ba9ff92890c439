"""Run exported image-to-image translators with onnxruntime and numpy only.

Like `export/runtime.py` this never imports TensorFlow or Keras (a test runs
it with TensorFlow made unimportable): an app can copy it with the export/
helpers it imports (runtime.py, latents.py, projection.py) and depend on
`onnxruntime` and `numpy` alone. Its checks of float images and
conversion of uint8 pictures (`check_float_images`, `uint8_inputs`) are
shared with `export/classifier_runtime.py`.

The contract a translator file keeps (written by `export/translators.py`):
- input `source`: float32 [N, H, W, C_in] in [-1, 1], N dynamic;
- output `images`: float32 [N, H, W, C_out] in [-1, 1], the same H and W;
  (ONNX graphs are in SSA form: an input and an output cannot share the
  name `images`. `source` is the U-Net's own input name, pix2pix's word;
  `images` is the generators' output name, so a viewer of either reads
  the same output);
- metadata_props: kind = "translator", image_shape (the input's [H, W,
  C_in]), output_shape, value_range (JSON), source_domain, target_domain,
  direction ("ab" or "ba"), name, translator, dataset and training_config
  (JSON) where known, keras_gan_contract.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from export.projection import RANGE_SLACK, ProjectionError, to_model_input
from export.runtime import (
    DEFAULT_MAX_IMAGES,
    GeneratorError,
    _as_array,
    _brief,
    open_session,
    to_uint8,
)

KIND = "translator"
INPUT = "source"
# The translators' own contract version: it changes apart from the generators'.
CONTRACT_VERSION = "1"
JSON_METADATA = frozenset({"image_shape", "output_shape", "value_range", "training_config"})


class TranslatorError(GeneratorError):
    """A bad translator file or request; the message says which and why."""


def _array(value, what: str, error=TranslatorError) -> np.ndarray:
    """`export.runtime._as_array`, its error raised as `error`."""
    try:
        return _as_array(value, what)
    except GeneratorError as e:
        raise error(str(e)) from None


def _check_count(n: int, max_images: int, error) -> None:
    if not 1 <= n <= max_images:
        raise error(f"between 1 and {max_images} images, got {n}")


def check_float_images(images, shape, max_images: int, error=TranslatorError,
                       uint8_method: str = "translate_uint8") -> np.ndarray:
    """`images` as float32 (N, *shape) in [-1, 1], or `error` naming what is
    wrong (the expected shape beside the one given) and, for pictures that
    are not yet model inputs, the `uint8_method` that converts them. Shared
    by the runtimes whose input is images (translators, classifiers)."""
    x = _array(images, "images", error)
    h, w, c = shape
    if x.dtype == np.uint8:
        raise error(f"images must be float in [-1, 1], got uint8; "
                    f"{uint8_method} takes uint8 pictures")
    if x.dtype.kind not in "fiu":  # not bool, complex, text or objects
        raise error(f"images must hold real numbers, got dtype {x.dtype}")
    if x.ndim != 4:
        raise error(f"images must have shape (N, {h}, {w}, {c}), got {x.shape}")
    if x.shape[1:3] != (h, w):
        raise error(f"images must be {h}x{w} pixels, got {x.shape[1]}x"
                    f"{x.shape[2]}; {uint8_method} resizes pictures")
    if x.shape[3] != c:
        raise error(f"images must have {c} channel(s), got {x.shape[3]}; "
                    f"{uint8_method} converts grey and colour")
    _check_count(len(x), max_images, error)
    with np.errstate(over="ignore"):  # float64 beyond float32's range becomes inf
        x = x.astype(np.float32)
    if not np.isfinite(x).all():
        raise error("images must be finite")
    low, high = float(x.min()), float(x.max())
    if low < -1 - RANGE_SLACK or high > 1 + RANGE_SLACK:
        raise error(f"images must be in [-1, 1], got values in [{low:.4g}, {high:.4g}]")
    return np.clip(x, -1.0, 1.0)


def uint8_inputs(pictures, shape, max_images: int, error=TranslatorError,
                 float_method: str = "translate", invert: bool | None = False,
                 frame: float | None = None) -> tuple[np.ndarray, bool]:
    """uint8 pictures as a model's float32 inputs (N, *shape) in [-1, 1], and
    whether one picture was given (not a batch).

    `pictures`: one picture (H, W) or (H, W, C), a batch (N, H, W, C), or a
    list of pictures (of any sizes). Each is converted by
    `export.projection.to_model_input` with `invert` and `frame`: grey <->
    colour, RGBA composited on white, resized to `shape`. A `ProjectionError`
    and every other bad request is raised as `error`; `float_method` is
    the method that takes floats instead.
    """
    single = isinstance(pictures, np.ndarray) and pictures.ndim in (2, 3)
    batch = [pictures] if single else (
        list(pictures) if isinstance(pictures, (list, tuple)) else None)
    if batch is None:
        x = _array(pictures, "pictures", error)
        if x.ndim != 4:
            raise error(f"pictures must be (H, W), (H, W, C), (N, H, W, C) or a "
                        f"list of pictures, got shape {x.shape}")
        batch = list(x)
    _check_count(len(batch), max_images, error)
    arrays = [_array(p, "pictures", error) for p in batch]
    for p in arrays:
        if p.dtype != np.uint8:
            raise error(f"pictures must be uint8, got dtype {p.dtype}; "
                        f"{float_method} takes floats in [-1, 1]")
    try:
        x = np.stack([to_model_input(p, shape, invert=invert, frame=frame)[0]
                      for p in arrays])
    except ProjectionError as e:  # one error class for every bad request here
        raise error(str(e)) from None
    return x, single


class OnnxTranslator:
    """An exported translator (one direction), run by onnxruntime.

    Args:
        path: a `translator.onnx` keeping the contract above.
        providers: "auto" (CUDA when onnxruntime-gpu sees a GPU, else CPU) or
            a list of onnxruntime execution providers.
        max_images: the most images one call may translate.
    """

    def __init__(self, path, providers="auto", max_images: int = DEFAULT_MAX_IMAGES):
        self.path = Path(path)
        self.session, inputs, outputs, self.metadata = open_session(
            path, providers, TranslatorError, "translator", JSON_METADATA)
        self.max_images = int(max_images)
        x, y = inputs.get(INPUT), outputs.get("images")
        if (len(inputs) != 1 or x is None or x.type != "tensor(float)" or y is None
                or len(x.shape) != 4 or len(y.shape) != 4
                or not all(isinstance(s, int) for s in x.shape[1:] + y.shape[1:])
                or self.metadata.get("kind") != KIND):
            raise TranslatorError(
                f"{self.path} is not a keras-gan translator: it needs input 'source' float32 "
                f"[N, H, W, C], output 'images' and metadata kind=translator; it has inputs "
                f"{[(i.name, i.type, i.shape) for i in inputs.values()]}, outputs "
                f"{list(outputs)} and kind {_brief(self.metadata.get('kind'))}")
        self.image_shape = tuple(x.shape[1:])
        self.output_shape = tuple(y.shape[1:])
        self.source_domain = self.metadata.get("source_domain")
        self.target_domain = self.metadata.get("target_domain")
        self.direction = self.metadata.get("direction")
        self.provider = self.session.get_providers()[0]

    def check_images(self, images) -> np.ndarray:
        """float32 (N, H, W, C_in) in [-1, 1] of this model's shape, or a
        TranslatorError naming what is wrong."""
        return check_float_images(images, self.image_shape, self.max_images, TranslatorError,
                                  "translate_uint8")

    def translate(self, images) -> np.ndarray:
        """The translation of float (N, H, W, C_in) images in [-1, 1]:
        float32 (N, H, W, C_out) in [-1, 1]."""
        out = self.session.run(["images"], {INPUT: self.check_images(images)})[0]
        if not np.isfinite(out).all():
            raise TranslatorError("the translator's output is not finite for these images")
        return out

    def translate_uint8(self, pictures) -> np.ndarray:
        """uint8 pictures in, uint8 translations out.

        `pictures`: one picture (H, W) or (H, W, C), a batch (N, H, W, C),
        or a list of pictures (of any sizes). Each is converted as
        `export.projection.to_model_input` does: grey <-> colour, RGBA
        composited on white, resized to the model's side. Never inverted:
        translators take pictures as drawn (a sketch is dark on white).
        Returns (H, W, C_out) for one picture, (N, H, W, C_out) for a batch.
        """
        x, single = uint8_inputs(pictures, self.image_shape, self.max_images,
                                 TranslatorError, "translate", invert=False)
        out = to_uint8(self.translate(x))
        return out[0] if single else out
