"""Write an image-to-image translator as translator.keras, SavedModel, ONNX
and a card, and check at export time that the three compute the same.

`export_translator(model_or_generator, out_dir, direction=..., domains=...)`
takes a Pix2Pix or CycleGAN (found by their `generator` / `generator_ba`
attributes: nothing under export/ imports `keras_gan`) or a bare generator,
and writes to `out_dir`:

    translator.keras   the float32 generator, input `source`
    saved_model/       signature `serve` (= `serving_default`):
                       source -> {"images": ...}
    translator.onnx    the contract of `export/translator_runtime.py`
    model.json         the card, with the parity errors measured

One folder is one direction. A CycleGAN with `direction="both"` writes two
complete folders, `out_dir/ab` and `out_dir/ba`, not two ONNX files side by
side: a folder stays one model with one model.json, as a generator's
export is, so nothing reading a model folder needs a second file-name
convention, and either direction can be shipped alone.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from export.runtime import _brief
from export.translator_runtime import CONTRACT_VERSION, INPUT, KIND, OnnxTranslator
from export.writer import (
    CARD_FILE,
    CARD_VERSION,
    SAVED_MODEL_DIR,
    ExportError,
    check_target,
    export_onnx,
    float32_generator,
)

if TYPE_CHECKING:
    import keras

KERAS_FILE = "translator.keras"
ONNX_FILE = "translator.onnx"
CARD_FIELDS = ("name", "translator", "dataset", "steps", "train_seconds", "training_config",
               "metrics", "attribution")
DIRECTIONS = ("ab", "ba")
# Keras, SavedModel and ONNX run the same float32 graph; the gap is rounding
# in a different order (measured ~1e-6 on the tiny U-Nets). 1e-4 of a [-1, 1]
# pixel is far below a grey level (2/255) and far above rounding.
PARITY_TOLERANCE = 1e-4
PARITY_BATCH = 3  # not the export's example batch (2): N must really be dynamic


def pick_generator(model, direction: str):
    """The Keras generator of `direction` in a Pix2Pix, a CycleGAN or a bare
    generator, and the model's kind ("pix2pix", "cyclegan" or None)."""
    if direction not in DIRECTIONS:
        raise ExportError(f"direction must be 'ab' or 'ba' (or 'both' for a CycleGAN), "
                          f"got {_brief(direction)}")
    if hasattr(model, "generator_ba"):
        return (model.generator if direction == "ab" else model.generator_ba), "cyclegan"
    if direction == "ba":
        raise ExportError(f"{type(model).__name__} translates one way only: "
                          "direction 'ba' needs a CycleGAN")
    if hasattr(model, "generator"):
        return model.generator, type(model).__name__.lower()
    return model, None


def _check_generator(generator) -> None:
    import keras

    if not isinstance(generator, keras.Model) or len(generator.inputs) != 1 or len(
            generator.outputs) != 1:
        raise ExportError(f"not an image-to-image generator: {_brief(generator)}")
    shape_in = tuple(generator.inputs[0].shape[1:])
    shape_out = tuple(generator.outputs[0].shape[1:])
    if (len(shape_in) != 3 or len(shape_out) != 3 or None in shape_in + shape_out
            or shape_in[:2] != shape_out[:2]):
        raise ExportError(f"{generator.name} is not an image-to-image generator: it maps "
                          f"{shape_in} -> {shape_out}, expected (H, W, C) -> (H, W, C')")


def contract_model(generator, name: str = INPUT) -> keras.Model:
    """A float32 copy of `generator` whose one input is named `name` (a
    translator's `source`; `export.classifier` asks for `images`).

    The registry's U-Nets are already; a generator built elsewhere is
    rebuilt on a renamed input rather than patched in the ONNX file alone,
    so the .keras file and the SavedModel keep the same names as the ONNX."""
    import keras

    generator = float32_generator(generator)
    if generator.inputs[0].name == name:
        return generator
    shape = tuple(generator.inputs[0].shape[1:])
    copy = keras.models.clone_model(
        generator, input_tensors=keras.Input(shape, name=name, dtype="float32"))
    copy.set_weights(generator.get_weights())
    return copy


def export_saved_model(model: keras.Model, path) -> Path:
    """SavedModel with signature `serve` (= `serving_default`):
    source [N, H, W, C] -> {"images": ...}."""
    import keras
    import tensorflow as tf

    spec = tf.TensorSpec((None, *model.inputs[0].shape[1:]), tf.float32, name=INPUT)
    archive = keras.export.ExportArchive()
    archive.track(model)
    archive.add_endpoint("serve", lambda source: {"images": model(source, training=False)},
                         input_signature=[spec])
    archive.write_out(str(path), verbose=False)
    return Path(path)


def parity_errors(model: keras.Model, out: Path) -> dict:
    """Max abs difference of each written file's output from `model`'s on
    random images in [-1, 1]; an ExportError past `PARITY_TOLERANCE`."""
    import keras
    import tensorflow as tf

    shape = tuple(int(s) for s in model.inputs[0].shape[1:])
    x = np.random.default_rng(0).uniform(-1, 1, (PARITY_BATCH, *shape)).astype(np.float32)
    want = np.asarray(model(x, training=False))
    loaded = keras.saving.load_model(out / KERAS_FILE, safe_mode=True)
    serve = tf.saved_model.load(str(out / SAVED_MODEL_DIR)).signatures["serve"]
    outputs = {
        "keras": np.asarray(loaded(x, training=False)),
        "saved_model": serve(source=tf.constant(x))["images"].numpy(),
        "onnx": OnnxTranslator(out / ONNX_FILE, providers=["CPUExecutionProvider"]).translate(x),
    }
    errors = {k: float(np.abs(v - want).max()) for k, v in outputs.items()}
    for name, error in errors.items():
        if not error <= PARITY_TOLERANCE:  # also NaN
            raise ExportError(f"the {name} export differs from the Keras model by {error:.3g} "
                              f"(more than {PARITY_TOLERANCE:g}) on random images")
    return errors


def _domains(domains) -> tuple[str, str]:
    if (not isinstance(domains, (tuple, list)) or len(domains) != 2
            or not all(isinstance(d, str) and d.strip() for d in domains)
            or domains[0] == domains[1]):
        raise ExportError(f"domains must be two different names (a, b), got {_brief(domains)}")
    return domains[0], domains[1]


def _model_config(model) -> dict | None:
    """The scalar hyperparameters of a whole translator (l1_weight,
    cycle_weight, ...), not its serialized networks."""
    if not hasattr(model, "generator"):
        return None
    return {k: v for k, v in model.get_config().items()
            if isinstance(v, (bool, int, float, str)) and k != "name"}


def export_translator(model_or_generator, out_dir, *, direction: str = "ab",
                      domains=("sketch", "emoji"), card: dict | None = None,
                      overwrite: bool = False) -> dict:
    """Writes one direction of a translator to `out_dir`; returns its card.

    `domains`: the names of A and B; direction "ab" translates A -> B.
    `direction="both"` (a CycleGAN) writes `out_dir/ab` and `out_dir/ba` and
    returns {"ab": card, "ba": card}. `card`: what is known of the
    training, any of `CARD_FIELDS`.
    """
    fields = dict(card or {})
    unknown = sorted(set(fields) - set(CARD_FIELDS))
    if unknown:
        raise ExportError(f"unknown card field(s) {unknown}; known: {list(CARD_FIELDS)}")
    a, b = _domains(domains)
    if direction == "both":
        if not hasattr(model_or_generator, "generator_ba"):
            raise ExportError(f"direction 'both' needs a CycleGAN, got "
                              f"{type(model_or_generator).__name__}")
        out = check_target(out_dir, overwrite)
        name = fields.get("name") or out.name
        return {d: export_translator(model_or_generator, out / d, direction=d, domains=domains,
                                     card={**fields, "name": f"{name}-{d}"}, overwrite=overwrite)
                for d in DIRECTIONS}
    generator, kind = pick_generator(model_or_generator, direction)
    out = check_target(out_dir, overwrite)
    _check_generator(generator)
    model = contract_model(generator)
    source, target = (a, b) if direction == "ab" else (b, a)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise ExportError(f"cannot create {out}: {e.strerror}") from None
    info = {
        "card_version": CARD_VERSION,
        "name": fields.get("name") or out.name,
        "kind": KIND,
        "translator": fields.get("translator") or kind,
        "direction": direction,
        "source_domain": source,
        "target_domain": target,
        "image_shape": [int(s) for s in model.inputs[0].shape[1:]],
        "output_shape": [int(s) for s in model.outputs[0].shape[1:]],
        "value_range": [-1, 1],
        "dataset": fields.get("dataset"),
        "steps": fields.get("steps"),
        "train_seconds": fields.get("train_seconds"),
        "training_config": fields.get("training_config") or None,
        "model_config": _model_config(model_or_generator),
        "metrics": dict(fields.get("metrics") or {}),
        **({"attribution": fields["attribution"]} if fields.get("attribution") else {}),
        "files": {"keras": KERAS_FILE, "saved_model": SAVED_MODEL_DIR, "onnx": ONNX_FILE},
    }
    model.save(out / KERAS_FILE)
    if (out / SAVED_MODEL_DIR).exists():
        shutil.rmtree(out / SAVED_MODEL_DIR)
    export_saved_model(model, out / SAVED_MODEL_DIR)
    # Unknown fields are left out, not written as the string "null".
    meta = {k: info[k] for k in ("name", "kind", "translator", "direction", "source_domain",
                                 "target_domain", "image_shape", "output_shape", "value_range",
                                 "dataset", "training_config") if info[k] is not None}
    meta["keras_gan_contract"] = CONTRACT_VERSION
    example = np.zeros((2, *info["image_shape"]), np.float32)
    export_onnx(model, out / ONNX_FILE, meta, outputs=("images",), example=example)
    info["parity_max_abs_error"] = parity_errors(model, out)
    (out / CARD_FILE).write_text(json.dumps(info, indent=2) + "\n")
    return info
