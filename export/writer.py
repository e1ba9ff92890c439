"""Write a trained generator as generator.keras, SavedModel, ONNX and a card.

`export_generator(source, out_dir)` takes a run folder (`keras-gan train`'s
output), a `.keras` file (a generator or a whole GAN) or an earlier export,
and writes to `out_dir`:

    generator.keras    float32 Keras model (loads in safe mode)
    saved_model/       TensorFlow SavedModel, signature `serve` (and
                       `serving_default`): z [, labels] -> {"images": ...}
    generator.onnx     the ONNX contract of `export/runtime.py`, card in its
                       metadata_props
    generator_fp16.onnx  optional (fp16=True), for GPUs; its error vs fp32
                       is measured and written to the card
    model.json         the card: shapes, classes, training config, metrics
"""

from __future__ import annotations

import json
import shutil
import tempfile
import warnings
import zipfile
from pathlib import Path

import keras
import numpy as np

from export.runtime import CONTRACT_VERSION, OnnxGenerator, sample_latents
from keras_gan.errors import UserError

CARD_VERSION = 1
# Model files come from outside (downloads, other people's runs): Keras's safe
# mode refuses those that would run Python code when loaded.
UNSAFE_MODEL = ("{path} holds Python code (a Lambda layer), which keras-gan does not run: "
                "model files are loaded in Keras safe mode")


class ExportError(UserError, ValueError):
    """The export source or target is wrong; the message says how."""


def load_generator(source) -> tuple[keras.Model, dict]:
    """The generator in `source` and what is known of its training.

    Returns (generator, info) where info may hold "config" (the training
    config dict), "data" (the run's DataInfo), "metrics", "steps" and
    "train_seconds".
    """
    # Registers GAN, its variants and their layers (LatentCluster) for load_model.
    import keras_gan.gans  # noqa: F401
    import keras_gan.vae  # noqa: F401

    source = Path(source).expanduser()
    info: dict = {}
    if source.is_dir():
        if (source / "model.json").exists():  # an earlier export
            card = json.loads((source / "model.json").read_text())
            info = {"config": card.get("training_config"), "metrics": card.get("metrics"),
                    "steps": card.get("steps"), "train_seconds": card.get("train_seconds"),
                    "data": {"class_names": card.get("class_names")}}
        elif (source / "config.json").exists():  # a run folder
            info["config"] = json.loads((source / "config.json").read_text())
            if (source / "data.json").exists():
                info["data"] = json.loads((source / "data.json").read_text())
            info.update(_run_summary(source))
        candidates = [source / "generator_ema.keras", source / "generator.keras"]
        path = next((p for p in candidates if p.exists()), None)
        if path is None:
            raise ExportError(f"{source} holds no generator.keras: is it a finished "
                              "keras-gan run or export?")
    elif source.is_file():
        path = source
    else:
        raise ExportError(f"no model at {source}: give a run folder, a "
                          ".keras file or an exported model folder")
    if path.suffix != ".keras":
        raise ExportError(f"{path} is not a .keras file")
    if not zipfile.is_zipfile(path):  # Keras would say "File not found"
        raise ExportError(f"cannot load {path}: it is not a zip archive, so not a .keras "
                          "file (corrupt, or another format renamed)")
    try:
        # safe_mode: a .keras file can hold Lambda layers with arbitrary code.
        model = keras.saving.load_model(path, safe_mode=True, compile=False)
    except Exception as e:
        if "safe_mode" in str(e):  # Keras's advice (pass safe_mode=False) is not ours
            raise ExportError(UNSAFE_MODEL.format(path=path)) from None
        detail = (str(e).strip().splitlines() or [""])[0][:300]
        raise ExportError(f"cannot load {path}: {type(e).__name__}: {detail}") from None
    # A whole GAN -> the generator it samples from (the EMA one when kept),
    # the same one a run folder exports.
    generator = getattr(model, "sampling_generator", None) or getattr(model, "generator", model)
    names = [i.name for i in generator.inputs]
    if names not in (["z"], ["z", "labels"]):
        raise ExportError(f"{path} is not a keras-gan generator: inputs {names}, "
                          "expected z (and labels)")
    return generator, info


def _run_summary(run_dir: Path) -> dict:
    """Steps and training time from a run's metrics.csv (last row)."""
    csv = run_dir / "metrics.csv"
    if not csv.exists():
        return {}
    rows = [line.split(",") for line in csv.read_text().splitlines()]
    if len(rows) < 2:
        return {}
    last = dict(zip(rows[0], rows[-1], strict=False))
    return {"steps": int(last["step"]), "train_seconds": float(last["seconds"])}


def float32_generator(generator: keras.Model) -> keras.Model:
    """A float32 copy of a (possibly mixed-precision) generator.

    `Model.export(format="onnx")` and the contract need float32 throughout;
    mixed-precision layers compute in float16, so the graph is rebuilt with
    every layer's dtype policy set to float32 and the weights copied (their
    variables are float32 under mixed precision already).
    """
    if all(layer.dtype_policy.name == "float32" for layer in _all_layers(generator)):
        return generator

    def clone(layer):
        if isinstance(layer, keras.Model):  # nested: the clustered sampler's network
            return float32_generator(layer)
        config = layer.get_config()
        config["dtype"] = "float32"
        return layer.__class__.from_config(config)

    copy = keras.models.clone_model(generator, clone_function=clone)
    copy.set_weights(generator.get_weights())
    return copy


def _all_layers(model: keras.Model):
    """The layers of `model`, and of the models nested in it."""
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


def export_onnx(generator: keras.Model, path, metadata: dict) -> Path:
    """ONNX file per the contract: inputs z [, labels], output `images`, and
    `metadata` in metadata_props: strings as they are, everything else as
    JSON (the runtime's `JSON_METADATA` keys)."""
    import onnx

    path = Path(path)
    generator(_example_inputs(generator))  # Model.export needs a called model
    with tempfile.TemporaryDirectory() as tmp:
        raw = Path(tmp) / "raw.onnx"
        generator.export(str(raw), format="onnx", verbose=False)
        model = onnx.load(str(raw))
    # Keras names the output after the TF graph ("Identity:0"); the contract
    # says "images". Rename it in the producing node and the graph output.
    (old,) = [o.name for o in model.graph.output]
    for node in model.graph.node:
        node.output[:] = ["images" if name == old else name for name in node.output]
    model.graph.output[0].name = "images"
    del model.metadata_props[:]
    for key, value in metadata.items():
        prop = model.metadata_props.add()
        prop.key, prop.value = key, value if isinstance(value, str) else json.dumps(value)
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return path


def export_fp16(onnx_path, fp16_path, probe: int = 64) -> float:
    """A float16 copy (float32 inputs and outputs kept) for GPUs; returns its
    max abs error against the fp32 model on `probe` random latents (CPU)."""
    import onnx
    from onnxconverter_common import float16

    model = onnx.load(str(onnx_path))
    # The converter retypes a Cast from an integer (the int64 labels, or the
    # cluster a clustered GAN's sampler draws) to float as float16 but keeps
    # its `to` attribute, leaving an invalid graph: keep every Cast in fp32
    # (a handful of cheap nodes; the converter adds the casts around them).
    keep = [n.name for n in model.graph.node if n.op_type == "Cast"]
    # A clustered sampler's cluster draw (the `latent_cluster` layer) compares
    # z[:, 0] with the cluster boundaries: in fp16 a z near a boundary flips
    # to another cluster, a different digit. Those nodes stay fp32 and read z
    # and the boundaries unrounded (the converter would feed them casts back
    # from fp16).
    exact = [n for n in model.graph.node if "latent_cluster" in n.name]
    keep += [n.name for n in exact]
    graph_inputs = {i.name for i in model.graph.input}
    fp32_inits = {i.name: i for i in model.graph.initializer
                  if i.data_type == onnx.TensorProto.FLOAT}
    unrounded = {n.name: {k: x for k, x in enumerate(n.input)
                          if x in graph_inputs or x in fp32_inits} for n in exact}
    with warnings.catch_warnings():  # it warns for every weight below fp16's range
        warnings.simplefilter("ignore", UserWarning)
        model = float16.convert_float_to_float16(model, keep_io_types=True,
                                                 node_block_list=keep)
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


def export_generator(source, out_dir, *, name: str | None = None, fp16: bool = False,
                     metrics: dict | None = None, overwrite: bool = False) -> dict:
    """Writes every form of the generator in `source` to `out_dir`; returns the card."""
    out = Path(out_dir).expanduser()
    # The target first: a wrong --out should not wait for a model to load.
    if out.exists() and not out.is_dir():  # iterdir would raise NotADirectoryError
        raise ExportError(f"{out} is a file, not a folder: give --out a folder to write")
    if out.exists() and any(out.iterdir()) and not overwrite:
        raise ExportError(f"{out} is not empty; pass --overwrite to replace it")
    generator, info = load_generator(source)
    generator = float32_generator(generator)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise ExportError(f"cannot create {out}: {e.strerror}") from None
    config = info.get("config") or {}
    shape = [int(s) for s in generator.outputs[0].shape[1:]]
    conditional = len(generator.inputs) == 2
    num_classes = _num_classes(generator) if conditional else None
    card = {
        "card_version": CARD_VERSION,
        "name": name or out.name,
        "kind": "points" if len(shape) == 1 else "image",
        "latent_dim": int(generator.inputs[0].shape[-1]),
        "image_shape": shape,
        "value_range": [-1, 1] if len(shape) == 3 else None,
        "num_classes": num_classes,
        "class_names": _class_names(info.get("data"), num_classes),
        "gan": config.get("gan"),
        "dataset": config.get("dataset"),
        "steps": info.get("steps"),
        "train_seconds": info.get("train_seconds"),
        "training_config": config or None,
        "metrics": {**(info.get("metrics") or {}), **(metrics or {})},
        "files": {"keras": "generator.keras", "saved_model": "saved_model",
                  "onnx": "generator.onnx"},
    }
    generator.save(out / "generator.keras")
    if (out / "saved_model").exists():
        shutil.rmtree(out / "saved_model")
    export_saved_model(generator, out / "saved_model")
    meta = {k: card[k] for k in ("name", "kind", "latent_dim", "image_shape", "value_range",
                                 "num_classes", "class_names", "gan", "dataset")}
    meta["training_config"] = card["training_config"]
    meta["keras_gan_contract"] = CONTRACT_VERSION
    export_onnx(generator, out / "generator.onnx", meta)
    if fp16:
        error = export_fp16(out / "generator.onnx", out / "generator_fp16.onnx")
        card["files"]["onnx_fp16"] = "generator_fp16.onnx"
        card["fp16_max_abs_error"] = error
    (out / "model.json").write_text(json.dumps(card, indent=2) + "\n")
    return card


def _num_classes(generator: keras.Model) -> int:
    for layer in generator.layers:
        if isinstance(layer, keras.layers.Embedding):
            return int(layer.input_dim)
    raise ExportError("conditional generator without a label Embedding layer")


def _class_names(data: dict | None, num_classes: int | None):
    if not num_classes:
        return None
    names = (data or {}).get("class_names")
    return list(names) if names and len(names) == num_classes else [
        str(i) for i in range(num_classes)]
