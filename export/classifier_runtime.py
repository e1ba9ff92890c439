"""Run an exported image classifier with onnxruntime and numpy only.

A semi-supervised GAN (`keras-gan train --gan ssgan`) trains, besides its
generator, a K-class classifier of the same images; `keras-gan export`
writes it as classifier.onnx beside generator.onnx (`export/classifier.py`).
Like `export/runtime.py` this never imports TensorFlow or Keras (a test runs
it with TensorFlow made unimportable): an app can copy it with the export/
helpers it imports (runtime.py, latents.py, projection.py and
translator_runtime.py, whose picture conversions it shares) and depend on
`onnxruntime` and `numpy` alone.

The contract a classifier file keeps:
- input `images`: float32 [N, H, W, C] in [-1, 1], N dynamic: what the
  generator beside it makes (its output `images`), so a generated batch
  goes in as it comes out;
- output `probabilities`: float32 [N, K], each row summing to 1;
- metadata_props: kind = "classifier", num_classes, class_names,
  image_shape, value_range (JSON), and where known test_accuracy,
  held_out, held_out_examples, labels_per_class, labelled_examples, seed;
  keras_gan_contract.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from export.runtime import (
    DEFAULT_MAX_IMAGES,
    GeneratorError,
    _brief,
    open_session,
)
from export.translator_runtime import check_float_images, uint8_inputs

KIND = "classifier"
INPUT, OUTPUT = "images", "probabilities"
# The classifiers' own contract version: it changes apart from the generators'.
CONTRACT_VERSION = "1"
JSON_METADATA = frozenset({"num_classes", "class_names", "image_shape", "value_range",
                           "test_accuracy", "held_out_examples", "labels_per_class",
                           "labelled_examples", "seed"})
DEFAULT_TOP = 3


class ClassifierError(GeneratorError):
    """A bad classifier file or request; the message says which and why."""


class OnnxClassifier:
    """An exported image classifier, run by onnxruntime.

    Args:
        path: a `classifier.onnx` keeping the contract above.
        providers: "auto" (CUDA when onnxruntime-gpu sees a GPU, else CPU) or
            a list of onnxruntime execution providers.
        max_images: the most images one call may classify.
    """

    def __init__(self, path, providers="auto", max_images: int = DEFAULT_MAX_IMAGES):
        self.path = Path(path)
        self.session, inputs, outputs, self.metadata = open_session(
            path, providers, ClassifierError, "classifier", JSON_METADATA)
        self.max_images = int(max_images)
        x, y = inputs.get(INPUT), outputs.get(OUTPUT)
        if (len(inputs) != 1 or x is None or x.type != "tensor(float)" or y is None
                or len(x.shape) != 4 or len(y.shape) != 2
                or not all(isinstance(s, int) for s in [*x.shape[1:], y.shape[1]])
                or self.metadata.get("kind") != KIND):
            raise ClassifierError(
                f"{self.path} is not a keras-gan classifier: it needs input 'images' float32 "
                f"[N, H, W, C], output 'probabilities' [N, K] and metadata kind=classifier; "
                f"it has inputs {[(i.name, i.type, i.shape) for i in inputs.values()]}, "
                f"outputs {list(outputs)} and kind {_brief(self.metadata.get('kind'))}")
        self.image_shape = tuple(x.shape[1:])
        self.num_classes = int(y.shape[1])
        names = self.metadata.get("class_names")
        self.class_names = ([str(c) for c in names] if isinstance(names, list)
                            and len(names) == self.num_classes else
                            [str(i) for i in range(self.num_classes)])
        self.test_accuracy = self.metadata.get("test_accuracy")
        self.provider = self.session.get_providers()[0]

    def check_images(self, images) -> np.ndarray:
        """float32 (N, H, W, C) in [-1, 1] of this model's shape, or a
        ClassifierError naming the shape expected and the one given."""
        return check_float_images(images, self.image_shape, self.max_images, ClassifierError,
                                  "predict_uint8")

    def predict(self, images) -> np.ndarray:
        """Class probabilities of float (N, H, W, C) images in [-1, 1] (a
        generator's output as it is): float32 (N, K), rows summing to 1."""
        out = self.session.run([OUTPUT], {INPUT: self.check_images(images)})[0]
        if not np.isfinite(out).all():
            raise ClassifierError("the classifier's output is not finite for these images")
        return out

    def predict_uint8(self, pictures, invert: bool | None = None,
                      frame: float | None = None) -> np.ndarray:
        """Class probabilities of uint8 pictures as people have them.

        `pictures`: one picture (H, W) or (H, W, C), a batch (N, H, W, C),
        or a list of pictures (of any sizes), each converted as the
        translators' `translate_uint8` converts (`export.projection.
        to_model_input`): grey <-> colour, RGBA composited on white,
        resized to the model's side. Unlike a translator's, a classifier's
        pictures are inverted by default (`invert=None`) when the model is
        grey and the picture's border light: a dark digit drawn on white
        becomes MNIST's light on dark. `frame` (0.71 for MNIST-like digits)
        crops to the drawing and centres it at that share of the side.
        Returns (K,) for one picture, (N, K) for a batch.
        """
        x, single = uint8_inputs(pictures, self.image_shape, self.max_images,
                                 ClassifierError, "predict", invert=invert, frame=frame)
        out = self.predict(x)
        return out[0] if single else out

    def top(self, images, k: int = DEFAULT_TOP):
        """The `k` likeliest classes of float images in [-1, 1]: for one
        image (H, W, C) a list of (class name, probability), most likely
        first; for a batch (N, H, W, C) one such list per image. A `k`
        beyond the number of classes gives them all."""
        x = np.asarray(images) if isinstance(images, (list, tuple)) else images
        single = isinstance(x, np.ndarray) and x.ndim == 3
        ranked = self.ranked(self.predict(x[None] if single else x), k)
        return ranked[0] if single else ranked

    def ranked(self, probabilities, k: int = DEFAULT_TOP) -> list[list[tuple[str, float]]]:
        """The `k` likeliest (class name, probability) of each row of
        `probabilities` (N, K), as `predict` and `predict_uint8` return them."""
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
            raise ClassifierError(f"k must be a positive integer, got {_brief(k)}")
        p = np.atleast_2d(np.asarray(probabilities, np.float64))
        if p.ndim != 2 or p.shape[1] != self.num_classes:
            raise ClassifierError(f"probabilities must have shape (N, {self.num_classes}), "
                                  f"got {np.shape(probabilities)}")
        order = np.argsort(-p, axis=1, kind="stable")[:, :min(int(k), self.num_classes)]
        return [[(self.class_names[j], float(row[j])) for j in idx]
                for row, idx in zip(p, order, strict=True)]
