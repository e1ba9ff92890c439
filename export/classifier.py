"""Write an image classifier as classifier.keras and ONNX into a model folder,
and check at export time that the ONNX file computes what Keras does.

`export_classifier(classifier, out_dir, fields)` takes a Keras model from
images to class probabilities (a semi-supervised GAN's discriminator, read
as a K-class classifier: `keras-gan train --gan ssgan` leaves one in its
run folder) and writes, beside the generator of the same run:

    classifier.keras   the float32 model, input `images` (safe-mode loadable)
    classifier.onnx    the contract of `export/classifier_runtime.py`: input
                       `images` float32 [N, H, W, C] in [-1, 1] (what the
                       generator's `images` output is), output
                       `probabilities` float32 [N, K]; the card's fields
                       in metadata_props

It returns the entry for the folder's card (`model.json`, key
"classifier"); writing the card is the caller's (`keras_gan.training.
run_folder.export_run`), who wrote the generator's. No SavedModel: the
classifier is served by ONNX Runtime (the demo) or loaded by Keras, and a
second TensorFlow format would be one more file to keep in step.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from export.classifier_runtime import (
    CONTRACT_VERSION,
    INPUT,
    KIND,
    OUTPUT,
    OnnxClassifier,
)
from export.runtime import _brief
from export.translators import PARITY_BATCH, PARITY_TOLERANCE, contract_model
from export.writer import ExportError, export_onnx

if TYPE_CHECKING:
    import keras

KERAS_FILE = "classifier.keras"
ONNX_FILE = "classifier.onnx"
# What the caller knows of the classifier's training, for the card.
CARD_FIELDS = ("class_names", "test_accuracy", "held_out", "held_out_examples",
               "labels_per_class", "labelled_examples", "seed")
# Softmax rows sum to 1 up to float32 rounding; logits (or sigmoid outputs)
# miss it by far more: the contract's name `probabilities` must be true.
SUM_TOLERANCE = 1e-4


def _check_classifier(classifier) -> None:
    import keras

    if not isinstance(classifier, keras.Model) or len(classifier.inputs) != 1 or len(
            classifier.outputs) != 1:
        raise ExportError(f"not an image classifier (one input, one output): "
                          f"{_brief(classifier)}")
    shape_in = tuple(classifier.inputs[0].shape[1:])
    shape_out = tuple(classifier.outputs[0].shape[1:])
    if len(shape_in) != 3 or None in shape_in or len(shape_out) != 1 or shape_out[0] is None \
            or shape_out[0] < 2:
        raise ExportError(f"{classifier.name} is not an image classifier: it maps "
                          f"{shape_in} -> {shape_out}, expected (H, W, C) -> (K,), K >= 2")


def _card_entry(model, fields: dict) -> dict:
    num_classes = int(model.outputs[0].shape[-1])
    names = fields.get("class_names")
    if names is not None and len(names) != num_classes:
        raise ExportError(f"{len(names)} class names for a classifier of {num_classes} "
                          "classes")
    return {
        "file": ONNX_FILE,
        "keras_file": KERAS_FILE,
        "contract": f"{ONNX_FILE}: {INPUT} float32 [N, H, W, C] in [-1, 1] -> {OUTPUT} "
                    "float32 [N, K]",
        "num_classes": num_classes,
        "class_names": [str(c) for c in names] if names is not None else [
            str(i) for i in range(num_classes)],
        "image_shape": [int(s) for s in model.inputs[0].shape[1:]],
        **{k: fields.get(k) for k in ("test_accuracy", "held_out", "held_out_examples",
                                      "labels_per_class", "labelled_examples", "seed")},
    }


def parity_errors(model: keras.Model, out: Path) -> dict:
    """Max abs difference of the written files' probabilities from `model`'s
    on `PARITY_BATCH` random images in [-1, 1]; an ExportError past
    `PARITY_TOLERANCE`, or when the rows do not sum to 1 (not a softmax)."""
    import keras

    shape = tuple(int(s) for s in model.inputs[0].shape[1:])
    x = np.random.default_rng(0).uniform(-1, 1, (PARITY_BATCH, *shape)).astype(np.float32)
    want = np.asarray(model(x, training=False))
    sums = want.sum(axis=1)
    if not np.all(np.abs(sums - 1) <= SUM_TOLERANCE):  # also NaN
        raise ExportError(f"{model.name}'s outputs are not probabilities: rows sum to "
                          f"{_brief([round(float(s), 4) for s in sums])}, not 1 (end it "
                          "with a softmax)")
    loaded = keras.saving.load_model(out / KERAS_FILE, safe_mode=True, compile=False)
    outputs = {
        "keras": np.asarray(loaded(x, training=False)),
        "onnx": OnnxClassifier(out / ONNX_FILE, providers=["CPUExecutionProvider"]).predict(x),
    }
    errors = {k: float(np.abs(v - want).max()) for k, v in outputs.items()}
    for name, error in errors.items():
        if not error <= PARITY_TOLERANCE:  # also NaN
            raise ExportError(f"the {name} export of the classifier differs from the Keras "
                              f"model by {error:.3g} (more than {PARITY_TOLERANCE:g}) on "
                              "random images")
    return errors


def export_classifier(classifier, out_dir, fields: dict | None = None) -> dict:
    """Writes classifier.keras and classifier.onnx into the model folder
    `out_dir` (made if missing; files of an earlier export are replaced,
    and both removed again when the check fails); returns the card's
    "classifier" entry.

    `fields`: what is known of its training, any of `CARD_FIELDS`:
    class_names (as many as the classifier's classes), test_accuracy (on
    `held_out_examples` held-out images, described by `held_out`),
    labels_per_class, labelled_examples, seed. The shapes, the number of
    classes, the files and the parity errors come from the model itself.
    """
    fields = dict(fields or {})
    unknown = sorted(set(fields) - set(CARD_FIELDS))
    if unknown:
        raise ExportError(f"unknown classifier card field(s) {unknown}; known: "
                          f"{list(CARD_FIELDS)}")
    out = Path(out_dir).expanduser()
    if out.exists() and not out.is_dir():
        raise ExportError(f"{out} is a file, not a folder: give a model folder to write")
    _check_classifier(classifier)
    model = contract_model(classifier, INPUT)
    entry = _card_entry(model, fields)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise ExportError(f"cannot create {out}: {e.strerror}") from None
    model.save(out / KERAS_FILE)
    # Unknown fields are left out, not written as the string "null".
    meta = {k: entry[k] for k in ("num_classes", "class_names", "image_shape",
                                  "test_accuracy", "held_out", "held_out_examples",
                                  "labels_per_class", "labelled_examples", "seed")
            if entry[k] is not None}
    meta.update(kind=KIND, value_range=[-1, 1], keras_gan_contract=CONTRACT_VERSION)
    example = np.zeros((2, *entry["image_shape"]), np.float32)
    export_onnx(model, out / ONNX_FILE, meta, outputs=(OUTPUT,), example=example)
    try:
        entry["parity_max_abs_error"] = parity_errors(model, out)
    except ExportError:  # no classifier.onnx that disagrees with its model stays behind
        for name in (KERAS_FILE, ONNX_FILE):
            (out / name).unlink(missing_ok=True)
        raise
    return entry
