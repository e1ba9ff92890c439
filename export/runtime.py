"""Run exported generators with onnxruntime and numpy only.

This file never imports TensorFlow or Keras (a test runs it with TensorFlow
made unimportable), so an app can copy it, with `latents.py` beside it (and
`projection.py` for image -> z), and depend on `onnxruntime` and `numpy`
alone. Latents come from numpy seeds (`sample_latents`), the same function
training uses for its sample grids, so Keras, SavedModel and ONNX
make the same picture for the same seed.

The contract a generator file must keep (also docs/export.md):
- input `z`: float32 [N, latent_dim], N dynamic, z ~ N(0, I);
- conditional models add input `labels`: int64 [N];
- output `images`: float32 [N, H, W, C] in [-1, 1] (toy 2D models: [N, 2]);
- metadata_props: latent_dim, image_shape, value_range, kind, num_classes,
  class_names (JSON), training_config (JSON), keras_gan_contract.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

# The numpy-only pieces the projection and the demo share, defined in
# export/latents.py (so that export.projection need not import this file,
# which imports it lazily: no import circle), re-exported here, their public home.
from export.latents import (  # noqa: F401
    MIN_TRUNCATION,
    GeneratorError,
    _brief,
    sample_latents,
    slerp,
    to_uint8,
)

CONTRACT_VERSION = "1"
DEFAULT_MAX_IMAGES = 1024
# metadata_props values are strings; these keys hold JSON (the rest plain text).
JSON_METADATA = frozenset({"latent_dim", "image_shape", "value_range", "num_classes",
                           "class_names", "training_config"})


def _providers(providers):
    import onnxruntime as ort

    if providers != "auto":
        return list(providers)
    if "CUDAExecutionProvider" in ort.get_available_providers():
        return ["CUDAExecutionProvider", "CPUExecutionProvider"]
    return ["CPUExecutionProvider"]


def open_session(path, providers, error, what: str, json_keys=frozenset()):
    """(session, {input name: arg}, {output name: arg}, metadata) for the ONNX
    file at `path`, or `error` naming the file when it is missing or not a
    loadable model. Metadata values named in `json_keys` are parsed as JSON.
    Shared by the generator, translator and classifier runtimes."""
    import onnxruntime as ort

    path = Path(path)
    if not path.is_file():
        raise error(f"no {what} file at {path}")
    try:
        session = ort.InferenceSession(str(path), providers=_providers(providers))
    except Exception as e:  # onnxruntime raises its own Fail/InvalidGraph types
        raise error(f"{path} is not a loadable ONNX model: {e}") from None
    inputs = {i.name: i for i in session.get_inputs()}
    outputs = {o.name: o for o in session.get_outputs()}
    meta = session.get_modelmeta().custom_metadata_map
    metadata = {k: _maybe_json(v) if k in json_keys else v for k, v in meta.items()}
    return session, inputs, outputs, metadata


class OnnxGenerator:
    """An exported generator, run by onnxruntime.

    Args:
        path: a `generator.onnx` keeping the contract above.
        providers: "auto" (CUDA when onnxruntime-gpu sees a GPU, else CPU) or
            a list of onnxruntime execution providers.
        max_images: the most images one call may ask for.
    """

    def __init__(self, path, providers="auto", max_images: int = DEFAULT_MAX_IMAGES):
        self.path = Path(path)
        self.session, inputs, outputs, self.metadata = open_session(
            path, providers, GeneratorError, "generator", JSON_METADATA)
        self.max_images = int(max_images)
        z = inputs.get("z")
        if (z is None or z.type != "tensor(float)" or len(z.shape) != 2
                or not isinstance(z.shape[1], int) or "images" not in outputs):
            raise GeneratorError(
                f"{self.path} is not a keras-gan generator: it needs input 'z' float32 "
                f"[N, latent_dim] and output 'images'; it has inputs "
                f"{[(i.name, i.type, i.shape) for i in inputs.values()]} and outputs "
                f"{list(outputs)}")
        labels = inputs.get("labels")
        if labels is not None and labels.type != "tensor(int64)":
            raise GeneratorError(f"{self.path}: input 'labels' must be int64, "
                                 f"got {labels.type}")
        self.latent_dim = int(z.shape[1])
        self.conditional = labels is not None
        self.num_classes = int(self.metadata.get("num_classes") or 0) or None
        if self.conditional and not self.num_classes:
            raise GeneratorError(f"{self.path} takes labels but its metadata has no "
                                 "num_classes")
        self.class_names = self.metadata.get("class_names") or None
        self.output_shape = tuple(outputs["images"].shape[1:])
        self.kind = self.metadata.get("kind") or (
            "points" if len(self.output_shape) == 1 else "image")
        self.provider = self.session.get_providers()[0]
        self._projector = None

    # -- requests ------------------------------------------------------------

    def _check_count(self, n, what="n"):
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
            raise GeneratorError(f"{what} must be an integer, got {_brief(n)}")
        if not 1 <= n <= self.max_images:
            raise GeneratorError(f"{what} must be between 1 and {self.max_images}, got {n}")

    def _labels(self, labels, n: int):
        """None -> cycle through the classes; int -> all one class; else (n,)."""
        if not self.conditional:
            if labels is not None:
                raise GeneratorError("this generator is unconditional: labels must be None")
            return None
        if labels is None:
            return np.arange(n, dtype=np.int64) % self.num_classes
        out = _as_array(labels, "labels")
        # Whole floats (3.0) are fine; the range is checked before the cast to
        # int64, which would wrap huge values and NaN into some class.
        if out.dtype.kind not in "iu" and not (
                out.dtype.kind == "f" and np.isfinite(out).all()
                and np.all(out == np.round(out))):
            raise GeneratorError(f"labels must be integers, got {_brief(labels)}")
        if out.shape not in ((), (n,)):
            raise GeneratorError(f"labels must be one int or {n} ints, got shape "
                                 f"{out.shape}")
        bad = out[(out < 0) | (out >= self.num_classes)]
        if bad.size:
            shown = sorted(set(bad.tolist()))
            raise GeneratorError(f"labels must be in [0, {self.num_classes - 1}], got "
                                 f"{_brief(shown[:5] + (['...'] if len(shown) > 5 else []))}")
        return np.ascontiguousarray(np.broadcast_to(out.astype(np.int64), (n,)))

    def run(self, z: np.ndarray, labels=None) -> np.ndarray:
        """The generator on given latents: float32 (N, *output_shape) in [-1, 1]."""
        z = _as_array(z, "z")
        if z.dtype.kind not in "fiu":  # not bool, complex, text or objects
            raise GeneratorError(f"z must hold real numbers, got dtype {z.dtype}")
        if z.ndim != 2 or z.shape[1] != self.latent_dim:
            raise GeneratorError(f"z must have shape (N, {self.latent_dim}), got {z.shape}")
        self._check_count(z.shape[0], "the batch size")
        with np.errstate(over="ignore"):  # float64 beyond float32's range becomes inf
            z = z.astype(np.float32, copy=False)
        if not np.isfinite(z).all():
            raise GeneratorError("z must be finite in float32")
        feed = {"z": z}
        label_array = self._labels(labels, z.shape[0])
        if label_array is not None:
            feed["labels"] = label_array
        images = self.session.run(["images"], feed)[0]
        # Finite latents far outside N(0, I) (1e38) overflow inside the
        # network; NaN pictures are no answer.
        if not np.isfinite(images).all():
            raise GeneratorError("the generator's output is not finite for these latents; "
                                 "z should look like N(0, I) draws")
        return images

    def _out(self, images, as_uint8: bool):
        return to_uint8(images) if as_uint8 and self.kind == "image" else images

    def sample(self, n: int, seed: int = 0, truncation: float | None = None,
               labels=None, as_uint8: bool = True) -> np.ndarray:
        """n samples from the latents of `seed`: uint8 (N, H, W, C) images
        (float in [-1, 1] with as_uint8=False; points are always float)."""
        self._check_count(n)
        z = sample_latents(n, self.latent_dim, _seed(seed), truncation)
        return self._out(self.run(z, self._labels(labels, n)), as_uint8)

    def interpolate(self, seed_a: int, seed_b: int, steps: int, method: str = "slerp",
                    labels=None, truncation: float | None = None,
                    as_uint8: bool = True) -> np.ndarray:
        """`steps` samples on the path from the latent of seed_a to that of seed_b.

        For conditional models `labels` is one class, or a pair (class_a,
        class_b): labels are discrete, so the first half of the path uses
        class_a and the second class_b.
        """
        self._check_count(steps, "steps")
        if steps < 2:
            raise GeneratorError("steps must be at least 2")
        if not isinstance(method, str) or method not in ("slerp", "lerp"):
            raise GeneratorError(f"method must be 'slerp' or 'lerp', got {_brief(method)}")
        a = sample_latents(1, self.latent_dim, _seed(seed_a), truncation)[0]
        b = sample_latents(1, self.latent_dim, _seed(seed_b), truncation)[0]
        t = np.linspace(0.0, 1.0, steps)
        z = slerp(a, b, t) if method == "slerp" else (
            (1 - t)[:, None] * a + t[:, None] * b).astype(np.float32)
        if self.conditional and isinstance(labels, (tuple, list)) and len(labels) == 2:
            pair = _as_array(labels, "labels")
            labels = np.where(t < 0.5, pair[0], pair[1]) if pair.ndim == 1 else pair
        elif self.conditional and labels is None:
            labels = 0
        return self._out(self.run(z, self._labels(labels, steps)), as_uint8)

    def project(self, images, steps: int = 50, learning_rate: float = 0.1, labels=None,
                features: bool | None = None):
        """The latents of real images: the encoder beside this file, then
        `steps` of refinement (`export.projection.Projector.project`).

        `images`: float (N, H, W, C) in [-1, 1] of this generator's shape
        (`export.projection.to_model_input` converts what users have).
        `features`: the evaluator's features in the loss too (default: when
        the folder has projector_features.onnx). Returns a `Projection`: z,
        labels, the reconstruction `images`, its mean squared pixel `error`
        and the `loss`.
        """
        from export.projection import Projector

        if self._projector is None:
            self._projector = Projector(self, providers=self.session.get_providers())
        return self._projector.project(images, steps=steps, learning_rate=learning_rate,
                                       labels=labels, features=features)


def _seed(seed) -> int:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise GeneratorError(f"seed must be a non-negative integer, got {_brief(seed)}")
    return int(seed)


def _as_array(value, what: str) -> np.ndarray:
    """np.asarray, refusing what numpy cannot make one array of (ragged lists,
    ints beyond int64) with a GeneratorError instead of its own."""
    try:
        return np.asarray(value)
    except (ValueError, TypeError, OverflowError):
        raise GeneratorError(f"{what} must be an array of numbers, got "
                             f"{_brief(value)}") from None


def _maybe_json(text: str):
    try:
        return json.loads(text)
    except ValueError:
        return text
