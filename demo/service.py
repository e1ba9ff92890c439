"""The demo's requests, without gradio: validation, sampling, interpolation,
and the `Service` the page calls.

The functions take plain values (what the page's widgets send: numbers may
come as floats, classes as strings, pictures as uint8 arrays, uploaded
files or the image editor's dict) and either return pictures or raise
`DemoError` with a message for the page. The caps (`Limits`) and the
generic checks are in `demo.checks`; projection of the user's own pictures
is in `demo.projecting`, their translation in `demo.translating`, a
semi-supervised GAN's classifier's guess at them in `demo.guessing`. `Service`
holds the loaded models, the caps and an outputs folder, and writes the
files the page offers for download. `demo.app` only wires these to widgets.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import tempfile
import threading
import time
import weakref
from pathlib import Path

import numpy as np

from demo import render
from demo.checks import CLOUD, Limits, blank, show, whole_number
from demo.guessing import GUESSES, guess
from demo.models import DemoError, Model, load_models
from demo.projecting import (
    DEFAULT_FRAMES,
    DEFAULT_PROJECTION_STEPS,
    DEFAULT_RADIUS,
    check_radius,
    image_interpolation,
    projection,
)
from demo.render import image_path
from demo.translating import describe, translation
from demo.translators import Translator, load_translators, pick_translator
from export.runtime import MIN_TRUNCATION, GeneratorError

MAX_SEED = 2**32 - 1  # what the random-seed button draws from; any seed in it is valid
MAX_TRUNCATION = 4.0  # beyond ~4 almost no N(0, 1) draw is redrawn: no truncation
METHODS = ("slerp", "lerp")
ALL_CLASSES = "all"  # sample one image of each class in turn (conditional models)
OUTPUT_TTL_S = 3600  # gradio copies outputs to its own cache; ours go after an hour


# -- validation --------------------------------------------------------------------


def check_seed(value, what: str = "seed") -> int:
    return whole_number(value, what, 0, MAX_SEED)


def check_truncation(value) -> float | None:
    """0 (or None) means no truncation; else a float in [0.1, 4]."""
    if blank(value):
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise DemoError(f"truncation must be a number, got {show(value)}")
    if value == 0:
        return None
    if not MIN_TRUNCATION <= value <= MAX_TRUNCATION:  # also refuses NaN
        raise DemoError(f"truncation must be 0 (off) or between {MIN_TRUNCATION} and "
                        f"{MAX_TRUNCATION:g}, got {show(value)}")
    return float(value)


def check_method(value) -> str:
    if not isinstance(value, str) or value not in METHODS:
        raise DemoError(f"method must be 'slerp' or 'lerp', got {show(value)}")
    return value


def check_class(model: Model, value, allow_all: bool):
    """The class index for `value` (an index, as int or text, or a class name);
    None for ALL_CLASSES (one image per class in turn) and for unconditional
    models, which ignore it."""
    if not model.conditional:
        return None
    names = model.class_names
    if blank(value) or (isinstance(value, str) and value == ALL_CLASSES):
        if allow_all:
            return None
        if blank(value):
            return 0  # the first class, like an untouched picker
        raise DemoError("interpolation needs one class for each end, not 'all'")
    if isinstance(value, str) and value in names:  # a name ("7", or "cat")
        return names.index(value)
    # An index as text: ASCII digits only ("²".isdigit() is True, int() refuses it),
    # and few of them (int() refuses 4300 digits).
    if isinstance(value, str) and re.fullmatch(r"\s*[0-9]{1,9}\s*", value):
        value = int(value)
    if (isinstance(value, (int, np.integer)) and not isinstance(value, bool)
            and 0 <= value < len(names)):
        return int(value)
    raise DemoError(f"class must be one of {', '.join(names)} (or an index 0 to "
                    f"{len(names) - 1}) for {model.name}, got {show(value)}")


# -- requests ----------------------------------------------------------------------


def sample(model: Model, n, seed, truncation=0, label=ALL_CLASSES,
           limits: Limits | None = None) -> np.ndarray:
    """n samples of `model` from `seed`: a uint8 RGB grid of images, or a
    scatter plot for 2D models."""
    limits = limits or Limits()
    n = whole_number(n, "the number of samples" if model.points else "the number of images",
                     1, limits.max_samples(model))
    seed, truncation = check_seed(seed), check_truncation(truncation)
    label = check_class(model, label, allow_all=True)
    try:
        out = model.generator.sample(n, seed=seed, truncation=truncation, labels=label)
    except GeneratorError as e:
        raise DemoError(str(e)) from None
    return render.scatter(out) if model.points else render.grid(out)


def interpolation(model: Model, seed_a, seed_b, steps, method="slerp", class_a=None,
                  class_b=None, limits: Limits | None = None):
    """The path from seed_a's latent to seed_b's in `steps` steps.

    Returns (strip, frames): one uint8 RGB picture of the whole path (a row
    of images, or the path drawn over the model's 2D distribution) and one
    uint8 RGB frame per step for a GIF. Conditional models switch from
    class_a to class_b halfway (classes are discrete); class_b defaults to
    class_a.
    """
    limits = limits or Limits()
    seed_a, seed_b = check_seed(seed_a, "seed A"), check_seed(seed_b, "seed B")
    steps = whole_number(steps, "steps", 2, limits.max_steps)
    method = check_method(method)
    a = check_class(model, class_a, allow_all=False)
    b = a if blank(class_b) else check_class(model, class_b, allow_all=False)
    labels = None if a is None else (a, b)
    g = model.generator
    try:
        path = g.interpolate(seed_a, seed_b, steps, method=method, labels=labels)
        cloud = g.sample(CLOUD, seed=seed_a, labels=a) if model.points else None
    except GeneratorError as e:
        raise DemoError(str(e)) from None
    ts = np.linspace(0.0, 1.0, steps)
    if model.points:
        bound = render.nice_bound(cloud, path)
        strip = render.scatter(cloud, bound, path=path)
        frames = [render.scatter(cloud, bound, size=360, path=path[:i + 1], current=p)
                  for i, p in enumerate(path)]
    else:
        return image_path(path)
    return strip, [render.with_progress(f, t) for f, t in zip(frames, ts, strict=True)]


# -- the service -------------------------------------------------------------------


class Service:
    """The loaded models, the caps and the folder of files offered for download.

    Args:
        models: name -> Model, e.g. from `load_models`.
        limits: the caps on a request.
        outputs: where PNGs and GIFs are written (default: a new temporary
            folder, removed when the service goes); gradio copies them into
            its cache, so files older than OUTPUT_TTL_S are deleted.
        skipped: notes on the folders that could not be loaded.
        translators: name -> Translator, e.g. from `load_translators` (none:
            the page hides its Translate tab).
    """

    def __init__(self, models: dict[str, Model], limits: Limits | None = None,
                 outputs=None, skipped: list[str] | None = None,
                 translators: dict[str, Translator] | None = None):
        if not models:
            raise DemoError("no models to serve")
        self.models, self.limits, self.skipped = models, limits or Limits(), skipped or []
        self.translators = translators or {}
        if outputs is None:
            outputs = tempfile.mkdtemp(prefix="keras-gan-demo-")
            weakref.finalize(self, shutil.rmtree, outputs, True)
        self.outputs = Path(outputs)
        self.outputs.mkdir(parents=True, exist_ok=True)
        self._pruned = time.monotonic()
        self._lock = threading.Lock()

    @classmethod
    def from_folder(cls, folder, limits: Limits | None = None, outputs=None) -> Service:
        limits = limits or Limits()
        models, skipped = load_models(folder, max_batch=limits.max_batch)
        translators, also = load_translators(folder, max_batch=limits.max_batch)
        return cls(models, limits, outputs, skipped + also, translators)

    @property
    def names(self) -> list[str]:
        return list(self.models)

    def model(self, name) -> Model:
        if not isinstance(name, str) or name not in self.models:
            raise DemoError(f"unknown model {show(name)}; this demo serves "
                            f"{', '.join(self.models)}")
        return self.models[name]

    def sample(self, name, seed, n, truncation=0, label=ALL_CLASSES) -> Path:
        """The sample picture, written as a PNG; returns its path."""
        model = self.model(name)
        picture = sample(model, n, seed, truncation, label, self.limits)
        t = check_truncation(truncation)
        c = check_class(model, label, allow_all=True)
        stem = (f"{model.name}_seed{check_seed(seed)}_n{int(n)}" + (f"_t{t:g}" if t else "")
                + (f"_class{c}" if c is not None else ""))
        return self._write(stem + ".png", lambda p: render.save_png(picture, p))

    def interpolate(self, name, seed_a, seed_b, steps, method="slerp", class_a=None,
                    class_b=None) -> tuple[Path, Path]:
        """The path as a PNG strip and a GIF; returns both paths."""
        model = self.model(name)
        strip, frames = interpolation(model, seed_a, seed_b, steps, method, class_a,
                                      class_b, self.limits)
        a = check_class(model, class_a, allow_all=False)
        b = a if blank(class_b) else check_class(model, class_b, allow_all=False)
        stem = (f"{model.name}_{method}_{int(seed_a)}-{int(seed_b)}_{int(steps)}steps"
                + (f"_class{a}-{b}" if a is not None else ""))
        png = self._write(stem + ".png", lambda p: render.save_png(strip, p))
        gif = self._write(stem + ".gif", lambda p: render.save_gif(frames, p))
        return png, gif

    def project(self, name, image, steps=DEFAULT_PROJECTION_STEPS,
                radius=DEFAULT_RADIUS) -> tuple[Path, str, Path]:
        """The projection of a user's picture: (the PNG of the input beside its
        reconstruction, a Markdown line on it, the PNG of nearby samples)."""
        model = self.model(name)
        pair, nearby, text, found = projection(model, image, steps, radius, self.limits)
        stem = f"{model.name}_projection_{_digest(pair)}_{found.steps}steps"
        png = self._write(stem + ".png", lambda p: render.save_png(pair, p))
        near = self._write(f"{stem}_nearby_r{check_radius(radius):g}.png",
                           lambda p: render.save_png(nearby, p))
        return png, text, near

    def guess(self, name, image, k: int = GUESSES) -> list[tuple[str, float]]:
        """The top `k` (class name, probability) of model `name`'s classifier
        for a user's picture; DemoError when the model has none."""
        return guess(self.model(name), image, k)

    def interpolate_images(self, name, image_a, image_b, steps=DEFAULT_PROJECTION_STEPS,
                           frames=DEFAULT_FRAMES) -> tuple[Path, Path]:
        """The path between the projections of two pictures, as a PNG strip and
        a GIF; returns both paths."""
        model = self.model(name)
        strip, pictures = image_interpolation(model, image_a, image_b, steps, frames,
                                              self.limits)
        # Named by the pictures' path (two users' requests never share a file).
        stem = f"{model.name}_images_{_digest(strip)}_{int(steps)}steps_{int(frames)}frames"
        png = self._write(stem + ".png", lambda p: render.save_png(strip, p))
        gif = self._write(stem + ".gif", lambda p: render.save_gif(pictures, p))
        return png, gif

    def translate(self, name, image, direction=None) -> tuple[Path, Path, str]:
        """The translation of a user's picture: (its PNG, enlarged; the PNG of
        the picture as the translator sees it | the translation | and back,
        for two-way translators; a Markdown line on it)."""
        translator = pick_translator(self.translators, name)
        found = translation(translator, image, direction)
        stem = f"{translator.name}_{found.direction}_{_digest(found.source)}"
        png = self._write(stem + ".png", lambda p: render.save_png(found.picture, p))
        steps = self._write(stem + "_steps.png", lambda p: render.save_png(found.steps, p))
        return png, steps, describe(translator, found)

    def _write(self, name: str, write) -> Path:
        """Writes through a temporary name and renames, so that a request for
        the same picture at the same time never reads a half-written file.
        Names come from the (validated) request: the same request, the same file."""
        path = self.outputs / re.sub(r"[^A-Za-z0-9_.-]", "_", name)
        fd, tmp = tempfile.mkstemp(dir=self.outputs, suffix=path.suffix)
        os.close(fd)
        try:
            write(tmp)
            os.replace(tmp, path)
        finally:
            if os.path.exists(tmp):
                os.remove(tmp)
        self._prune()
        return path

    def _prune(self) -> None:
        with self._lock:  # at most one sweep a minute, whatever the concurrency
            if time.monotonic() - self._pruned < 60:
                return
            self._pruned = time.monotonic()
        cutoff = time.time() - OUTPUT_TTL_S
        for f in self.outputs.iterdir():
            try:
                if f.stat().st_mtime < cutoff:
                    f.unlink()
            except OSError:  # removed by another sweep meanwhile
                pass


def _digest(array: np.ndarray) -> str:
    """A short name for an array's contents: pictures from different users'
    requests get different files, the same request the same file."""
    return hashlib.sha256(np.ascontiguousarray(array).tobytes()).hexdigest()[:12]
