"""Write a Keras generator as generator.keras, SavedModel, ONNX and a card.

`write_generator(generator, out_dir, fields)` takes a Keras generator (inputs
`z` [and `labels`]) and what is known of its training (`CARD_FIELDS`), and
writes to `out_dir`:

    generator.keras    float32 Keras model (loads in safe mode)
    saved_model/       TensorFlow SavedModel, signature `serve` (and
                       `serving_default`): z [, labels] -> {"images": ...}
    generator.onnx     the ONNX contract of `export/runtime.py`, card in its
                       metadata_props
    generator_fp16.onnx  optional (fp16=True), for GPUs; its error vs fp32
                       is measured and written to the card
    model.json         the card: shapes, classes, training config, metrics

This is the lower layer: file formats and the ONNX runtime, nothing of
keras-gan's training (nothing under export/ imports `keras_gan`; a test
checks). Reading a run folder or a .keras file is `keras_gan.training.run_folder`
(`export_run`, behind `keras-gan export`). Keras and TensorFlow are imported
by the functions that need them, so `ExportError` is light to import.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from export.runtime import CONTRACT_VERSION, OnnxGenerator, sample_latents

if TYPE_CHECKING:
    import keras

CARD_VERSION = 1
CARD_FILE = "model.json"
KERAS_FILE = "generator.keras"
SAVED_MODEL_DIR = "saved_model"
ONNX_FILE = "generator.onnx"
ONNX_FP16_FILE = "generator_fp16.onnx"
# What the caller knows of the generator's training, for the card (`write_generator`).
CARD_FIELDS = ("name", "class_names", "gan", "dataset", "steps", "train_seconds",
               "training_config", "metrics", "attribution")
GENERATOR_INPUTS = (["z"], ["z", "labels"])


class ExportError(ValueError):
    """The export source or target is wrong; the message says how."""


def float32_generator(generator: keras.Model) -> keras.Model:
    """A float32 copy of a (possibly mixed-precision) generator.

    `Model.export(format="onnx")` and the contract need float32 throughout;
    mixed-precision layers compute in float16, so the graph is rebuilt with
    every layer's dtype policy set to float32 and the weights copied (their
    variables are float32 under mixed precision already).
    """
    import keras

    if all(layer.dtype_policy.name == "float32" for layer in _all_layers(generator)):
        return generator

    def clone(layer):
        if isinstance(layer, keras.Model):  # nested: the clustered sampler's network
            return float32_generator(layer)
        if not isinstance(layer, keras.layers.Layer):
            return layer  # a stateless operation (keras.ops on KerasTensors): no policy
        config = layer.get_config()
        config["dtype"] = "float32"
        return layer.__class__.from_config(config)

    copy = keras.models.clone_model(generator, clone_function=clone)
    copy.set_weights(generator.get_weights())
    return copy


def _all_layers(model: keras.Model):
    """The layers of `model`, and of the models nested in it."""
    import keras

    for layer in model.layers:
        if isinstance(layer, keras.Model):
            yield from _all_layers(layer)
        else:
            yield layer


def _example_inputs(generator: keras.Model, n: int = 2):
    z = np.zeros((n, generator.inputs[0].shape[-1]), np.float32)
    return [z, np.zeros((n,), np.int64)] if len(generator.inputs) == 2 else z


def export_saved_model(generator: keras.Model, path) -> Path:
    """SavedModel with signature `serve` (= `serving_default`) -> {"images"}."""
    import keras
    import tensorflow as tf

    specs = [tf.TensorSpec((None, generator.inputs[0].shape[-1]), tf.float32, name="z")]
    if len(generator.inputs) == 2:
        specs.append(tf.TensorSpec((None,), tf.int64, name="labels"))

        def serve(z, labels):
            return {"images": generator([z, labels], training=False)}
    else:
        def serve(z):
            return {"images": generator(z, training=False)}

    archive = keras.export.ExportArchive()
    archive.track(generator)
    archive.add_endpoint("serve", serve, input_signature=specs)
    path = Path(path)
    archive.write_out(str(path), verbose=False)
    return path


def export_onnx(model: keras.Model, path, metadata: dict, outputs=("images",),
                example=None) -> Path:
    """ONNX file per the contract: for a generator inputs z [, labels] and
    output `images` (an encoder: `outputs=("z",)`, and its example input),
    and `metadata` in metadata_props: strings as they are, everything else
    as JSON (the runtime's `JSON_METADATA` keys)."""
    import onnx

    path = Path(path)
    model(_example_inputs(model) if example is None else example)  # export needs a call
    with tempfile.TemporaryDirectory() as tmp:
        raw = Path(tmp) / "raw.onnx"
        model.export(str(raw), format="onnx", verbose=False)
        proto = onnx.load(str(raw))
    # Keras names the outputs after the TF graph ("Identity:0"); the contract
    # names them. Rename each in its producing node and the graph outputs.
    old = [o.name for o in proto.graph.output]
    if len(old) != len(outputs):
        raise ExportError(f"{model.name} has {len(old)} outputs, expected {list(outputs)}")
    renamed = dict(zip(old, outputs, strict=False))
    for node in proto.graph.node:
        node.output[:] = [renamed.get(name, name) for name in node.output]
    for out, name in zip(proto.graph.output, outputs, strict=False):
        out.name = name
    del proto.metadata_props[:]
    for key, value in metadata.items():
        prop = proto.metadata_props.add()
        prop.key, prop.value = key, value if isinstance(value, str) else json.dumps(value)
    onnx.checker.check_model(proto)
    onnx.save(proto, str(path))
    return path


# Their outputs depend on their input's shape, not on its values: a walk for
# what a discrete value is computed from stops there.
SHAPE_ONLY_OPS = frozenset({"Shape", "Size"})
# Ops whose output is integer or bool whatever their input: discrete even
# where shape inference leaves the type of a tensor unknown.
DISCRETE_OPS = frozenset({"Greater", "GreaterOrEqual", "Less", "LessOrEqual", "Equal",
                          "Not", "And", "Or", "Xor", "IsNaN", "IsInf", "ArgMax", "ArgMin"})


def discrete_decisions(model) -> list:
    """The nodes of an ONNX `model` that compute a discrete value from floats:
    every node with an integer or bool output, and every node upstream of
    one, walking back through node inputs but not into the inputs of Shape
    and Size (their outputs do not depend on values). Rounding anything
    these nodes read could change the discrete result (a comparison or a
    floor near its threshold), so in a float16 copy they stay float32.

    For a conditional generator this is its label plumbing (integers from
    integers: nothing to keep exact); for a clustered sampler, the cluster
    draw from z[:, 0] and the boundaries (slice, comparison, cast, sum). The
    generator's own layers produce floats from floats and are not reached.
    """
    import onnx

    inferred = onnx.shape_inference.infer_shapes(model)
    types = {v.name: v.type.tensor_type.elem_type for v in (
        *inferred.graph.value_info, *inferred.graph.input, *inferred.graph.output)}
    types.update({i.name: i.data_type for i in model.graph.initializer})
    floats = {onnx.TensorProto.FLOAT, onnx.TensorProto.FLOAT16, onnx.TensorProto.DOUBLE,
              onnx.TensorProto.BFLOAT16}
    nodes = list(model.graph.node)
    producer = {out: i for i, node in enumerate(nodes) for out in node.output}

    def discrete(node):
        if node.op_type in DISCRETE_OPS:
            return True
        if node.op_type == "Cast":  # typed by its attribute, inferred or not
            to = next(a.i for a in node.attribute if a.name == "to")
            return to not in floats
        return any(types.get(out, onnx.TensorProto.UNDEFINED) not in
                   (*floats, onnx.TensorProto.UNDEFINED) for out in node.output)

    found: set[int] = set()
    stack = [i for i, node in enumerate(nodes) if discrete(node)]
    while stack:
        i = stack.pop()
        if i in found:
            continue
        found.add(i)
        if nodes[i].op_type not in SHAPE_ONLY_OPS:
            stack.extend(producer[x] for x in nodes[i].input if x in producer)
    return [nodes[i] for i in sorted(found)]


def export_fp16(onnx_path, fp16_path, probe: int = 64) -> float:
    """A float16 copy (float32 inputs and outputs kept) for GPUs; returns its
    max abs error against the fp32 model on `probe` random latents (CPU).

    The nodes that compute a discrete value from floats (`discrete_decisions`)
    stay float32 and read the graph's inputs and initializers unrounded: a
    float16 z near a clustered sampler's cluster boundary would otherwise
    fall in the neighbouring cluster (another digit).
    """
    import onnx
    from onnxconverter_common import float16

    model = onnx.load(str(onnx_path))
    exact = discrete_decisions(model)
    # The converter retypes a Cast from an integer (the int64 labels, or the
    # cluster a clustered GAN's sampler draws) to float as float16 but keeps
    # its `to` attribute, leaving an invalid graph: keep every Cast in fp32
    # (a handful of cheap nodes; the converter adds the casts around them).
    keep = {n.name for n in model.graph.node if n.op_type == "Cast"}
    keep |= {n.name for n in exact}
    graph_inputs = {i.name for i in model.graph.input}
    fp32_inits = {i.name: i for i in model.graph.initializer
                  if i.data_type == onnx.TensorProto.FLOAT}
    # The converter would feed the kept nodes casts back from fp16: re-point
    # them at the float32 graph inputs and (copies of) the initializers.
    unrounded = {n.name: {k: x for k, x in enumerate(n.input)
                          if x in graph_inputs or x in fp32_inits} for n in exact}
    with warnings.catch_warnings():  # it warns for every weight below fp16's range
        warnings.simplefilter("ignore", UserWarning)
        model = float16.convert_float_to_float16(model, keep_io_types=True,
                                                 node_block_list=sorted(keep))
    added = {}
    for node in model.graph.node:
        for k, name in unrounded.get(node.name, {}).items():
            if name in fp32_inits and name not in added:
                added[name] = onnx.numpy_helper.from_array(
                    onnx.numpy_helper.to_array(fp32_inits[name]), f"{name}_fp32")
            node.input[k] = added[name].name if name in added else name
    model.graph.initializer.extend(added.values())
    used = {x for n in model.graph.node for x in n.input}
    for init in [i for i in model.graph.initializer if i.name not in used]:
        model.graph.initializer.remove(init)
    onnx.save(model, str(fp16_path))
    fp32 = OnnxGenerator(onnx_path, providers=["CPUExecutionProvider"])
    fp16 = OnnxGenerator(fp16_path, providers=["CPUExecutionProvider"])
    z = sample_latents(probe, fp32.latent_dim, seed=0)
    labels = np.arange(probe) % fp32.num_classes if fp32.conditional else None
    return float(np.abs(fp32.run(z, labels) - fp16.run(z, labels)).max())


def check_target(out_dir, overwrite: bool = False) -> Path:
    """`out_dir` as a Path, if it may be written: absent, an empty folder, or
    (with `overwrite`) a folder. Call it before loading a model: a wrong
    target should not wait for that."""
    out = Path(out_dir).expanduser()
    if out.exists() and not out.is_dir():  # iterdir would raise NotADirectoryError
        raise ExportError(f"{out} is a file, not a folder: give --out a folder to write")
    if out.exists() and any(out.iterdir()) and not overwrite:
        raise ExportError(f"{out} is not empty; pass --overwrite to replace it")
    return out


def write_generator(generator: keras.Model, out_dir, fields: dict | None = None, *,
                    fp16: bool = False, overwrite: bool = False) -> dict:
    """Writes every form of `generator` (inputs z [, labels]) to `out_dir`;
    returns the card (also written as model.json).

    `fields` holds what is known of its training, any of `CARD_FIELDS`:
    name (default: the folder's name), class_names (used when there are as
    many as the generator's classes), gan, dataset, steps, train_seconds,
    training_config (a dict), metrics (a dict) and attribution (the
    training data's credit and licences, which a model trained on
    CC-BY images must carry). The shapes, classes and
    files on the card come from the generator itself.
    """
    fields = dict(fields or {})
    unknown = sorted(set(fields) - set(CARD_FIELDS))
    if unknown:
        raise ValueError(f"unknown card field(s) {unknown}; known: {list(CARD_FIELDS)}")
    out = check_target(out_dir, overwrite)
    names = [i.name for i in generator.inputs]
    if names not in GENERATOR_INPUTS:
        raise ExportError(f"{generator.name} is not a keras-gan generator: inputs {names}, "
                          "expected z (and labels)")
    generator = float32_generator(generator)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise ExportError(f"cannot create {out}: {e.strerror}") from None
    shape = [int(s) for s in generator.outputs[0].shape[1:]]
    conditional = len(generator.inputs) == 2
    num_classes = _num_classes(generator) if conditional else None
    card = {
        "card_version": CARD_VERSION,
        "name": fields.get("name") or out.name,
        "kind": "points" if len(shape) == 1 else "image",
        "latent_dim": int(generator.inputs[0].shape[-1]),
        "image_shape": shape,
        "value_range": [-1, 1] if len(shape) == 3 else None,
        "num_classes": num_classes,
        "class_names": _class_names(fields.get("class_names"), num_classes),
        "gan": fields.get("gan"),
        "dataset": fields.get("dataset"),
        "steps": fields.get("steps"),
        "train_seconds": fields.get("train_seconds"),
        "training_config": fields.get("training_config") or None,
        "metrics": dict(fields.get("metrics") or {}),
        **({"attribution": fields["attribution"]} if fields.get("attribution") else {}),
        "files": {"keras": KERAS_FILE, "saved_model": SAVED_MODEL_DIR, "onnx": ONNX_FILE},
    }
    generator.save(out / KERAS_FILE)
    if (out / SAVED_MODEL_DIR).exists():
        shutil.rmtree(out / SAVED_MODEL_DIR)
    export_saved_model(generator, out / SAVED_MODEL_DIR)
    meta = {k: card[k] for k in ("name", "kind", "latent_dim", "image_shape", "value_range",
                                 "num_classes", "class_names", "gan", "dataset")}
    meta["training_config"] = card["training_config"]
    meta["keras_gan_contract"] = CONTRACT_VERSION
    export_onnx(generator, out / ONNX_FILE, meta)
    if fp16:
        error = export_fp16(out / ONNX_FILE, out / ONNX_FP16_FILE)
        card["files"]["onnx_fp16"] = ONNX_FP16_FILE
        card["fp16_max_abs_error"] = error
    (out / CARD_FILE).write_text(json.dumps(card, indent=2) + "\n")
    return card


def _num_classes(generator: keras.Model) -> int:
    import keras

    for layer in _all_layers(generator):
        if isinstance(layer, keras.layers.Embedding):
            return int(layer.input_dim)
    raise ExportError("conditional generator without a label Embedding layer")


def _class_names(names, num_classes: int | None):
    if not num_classes:
        return None
    return list(names) if names and len(names) == num_classes else [
        str(i) for i in range(num_classes)]
