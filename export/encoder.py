"""Write an encoder and a projector beside an exported generator.

`write_encoder(encoder, generator, out_dir, ...)` adds to an export folder
(`export.writer.write_generator`'s):

    encoder.keras    the encoder, images -> z [, labels] (safe-mode loadable)
    encoder.onnx     the same by `Model.export(format="onnx")`: input `images`
                     float32 [N, H, W, C] in [-1, 1], output `z` float32
                     [N, latent_dim] (conditional generators add int64
                     `labels` [N])
    projector.onnx   one refinement step's numbers: inputs `z` [B, latent_dim],
                     `target` [B, H, W, C] [, `labels` [B]], outputs `loss`
                     [B], `grad` [B, latent_dim] (d loss / d z), `images`
                     [B, H, W, C] (G(z)) and `pixel_error` [B]; B fixed;
                     loss: pixels and the prior
    projector_features.onnx  the same with the evaluator's features in the
                     loss, when an evaluator fits G's images
    model.json       the card gains an "encoder" entry

The projector is why the runtime can refine latents without TensorFlow:
its loss is

    mean (G(z) - target)^2
      + feature_weight * |F(G(z)) - F(target)|^2 / (|F(target)|^2 + eps)
      + prior_weight * (mean z^2 - 1)^2

(pixels, the evaluator's features F in projector_features.onnx, and a
pull toward the norm of typical N(0, I) latents, where interpolation and
neighbours behave). Two files because the feature term costs several
times the pixels' step time on a CPU (benchmarks/results/projection.md),
and pixels alone already lift the digit agreement; the features lift it
further, but they are the judge's own features, so the table reports both.
The gradient comes from TensorFlow's autodiff, converted to ONNX with the
handlers of `export.gradient_ops`. Converting a gradient needs static
shapes, so the batch B is fixed (metadata `batch`); the runtime pads the
last batch.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from export.writer import CARD_FILE, ExportError, export_onnx, float32_generator

ENCODER_KERAS = "encoder.keras"
ENCODER_ONNX = "encoder.onnx"
PROJECTOR_ONNX = "projector.onnx"
PROJECTOR_FEATURES_ONNX = "projector_features.onnx"
PROJECTOR_CONTRACT = "1"
# A demo request projects one picture or two (an interpolation's ends): with
# a fixed batch of 8 one picture cost nearly what 8 do, while batch 1 runs a
# large batch markedly slower per image than 2 or 8 (tried on mnist-dcgan).
PROJECTOR_BATCH = 2
OPSET = 17


def projector_function(generator, batch: int, features=None, feature_weight: float = 1.0,
                       prior_weight: float = 0.0):
    """The tf.function of one refinement step (see the module doc) and its
    input signature. `features`: a Keras model from images in [-1, 1] to
    feature vectors whose input side is a whole multiple of G's (images are
    repeated up to it), or None."""
    import tensorflow as tf

    latent_dim = int(generator.inputs[0].shape[-1])
    shape = tuple(int(s) for s in generator.outputs[0].shape[1:])
    conditional = len(generator.inputs) == 2
    specs = [tf.TensorSpec([batch, latent_dim], tf.float32, name="z"),
             tf.TensorSpec([batch, *shape], tf.float32, name="target")]
    if conditional:
        specs.append(tf.TensorSpec([batch], tf.int64, name="labels"))
    factor = int(features.inputs[0].shape[1]) // shape[0] if features is not None else 1

    def featurise(images):
        if factor > 1:  # nearest up-sampling as a broadcast: its gradient is a sum
            # (tf.image.resize converts with an attribute onnxruntime warns about)
            h, w, c = shape
            images = tf.reshape(tf.broadcast_to(images[:, :, None, :, None, :],
                                                [batch, h, factor, w, factor, c]),
                                [batch, h * factor, w * factor, c])
        return tf.reshape(features(images, training=False), [batch, -1])

    def step(z, target, labels=None):
        with tf.GradientTape() as tape:
            tape.watch(z)
            images = generator([z, labels] if conditional else z, training=False)
            pixel = tf.reduce_mean(tf.square(images - target), axis=[1, 2, 3])
            loss = pixel
            if features is not None and feature_weight:
                want = featurise(target)
                got = featurise(images)
                loss += feature_weight * (tf.reduce_sum(tf.square(got - want), -1)
                                          / (tf.reduce_sum(tf.square(want), -1) + 1e-3))
            if prior_weight:
                loss += prior_weight * tf.square(tf.reduce_mean(tf.square(z), -1) - 1.0)
        # Images are independent (inference batch norm), so the gradient of
        # the sum is each image's own gradient.
        grad = tape.gradient(loss, z)
        return {"loss": tf.identity(loss), "grad": tf.identity(grad),
                "images": tf.identity(images), "pixel_error": tf.identity(pixel)}

    if conditional:
        fn = tf.function(lambda z, target, labels: step(z, target, labels),
                         input_signature=specs)
    else:
        fn = tf.function(lambda z, target: step(z, target), input_signature=specs)
    return fn, specs


def fits_features(features, image_shape) -> str | None:
    """Why `features` (a Keras model) cannot score G's images, or None."""
    if features is None:
        return "no feature model"
    side, channels = int(features.inputs[0].shape[1]), int(features.inputs[0].shape[-1])
    if channels != image_shape[-1] or side % image_shape[0] or image_shape[0] != image_shape[1]:
        return (f"its features take {side}x{side}x{channels} images, the generator makes "
                f"{'x'.join(map(str, image_shape))}")
    return None


def write_projector(generator, path, *, batch: int = PROJECTOR_BATCH, features=None,
                    feature_weight: float = 1.0, prior_weight: float = 0.0,
                    metadata: dict | None = None) -> float:
    """Writes projector.onnx; returns the largest difference of its outputs
    from TensorFlow's on random inputs, relative to each output's largest
    value (a parity check done every time)."""
    import onnx
    import onnxruntime as ort
    import tf2onnx

    import export.gradient_ops  # noqa: F401  (registers the gradient handlers)

    generator = float32_generator(generator)
    fn, specs = projector_function(generator, batch, features, feature_weight, prior_weight)
    try:
        proto, _ = tf2onnx.convert.from_function(fn, input_signature=specs, opset=OPSET)
    except Exception as e:
        raise ExportError(f"cannot convert the projector's gradient graph to ONNX: "
                          f"{type(e).__name__}: {str(e)[:300]}") from None
    # tf2onnx names outputs after TF tensors; the contract names them.
    want = ["grad", "images", "loss", "pixel_error"]  # a dict's outputs, in key order
    old = [o.name for o in proto.graph.output]
    renamed = dict(zip(old, want, strict=True))
    for node in proto.graph.node:
        node.output[:] = [renamed.get(n, n) for n in node.output]
    for out, name in zip(proto.graph.output, want, strict=False):
        out.name = name
    for inp, spec in zip(proto.graph.input, specs, strict=False):
        _rename_input(proto, inp.name, spec.name)
    meta = {**(metadata or {}), "keras_gan_projector": PROJECTOR_CONTRACT, "batch": batch,
            "feature_weight": feature_weight if features is not None else 0.0,
            "prior_weight": prior_weight}
    del proto.metadata_props[:]
    for key, value in meta.items():
        prop = proto.metadata_props.add()
        prop.key, prop.value = key, value if isinstance(value, str) else json.dumps(value)
    onnx.checker.check_model(proto)
    path = Path(path)
    onnx.save(proto, str(path))
    # Parity: ONNX Runtime against TensorFlow on random inputs.
    rng = np.random.default_rng(0)
    feed = {"z": rng.standard_normal(specs[0].shape, dtype=np.float32),
            "target": rng.uniform(-1, 1, specs[1].shape).astype(np.float32)}
    if len(specs) == 3:
        feed["labels"] = np.arange(batch, dtype=np.int64) % _classes(generator)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    got = dict(zip([o.name for o in session.get_outputs()], session.run(None, feed),
                   strict=True))
    ref = {k: v.numpy() for k, v in fn(**feed).items()}
    # Every output, relative to its largest value (this also proves the names
    # were given to the right outputs).
    return max(float(np.abs(got[k] - ref[k]).max() / (np.abs(ref[k]).max() or 1.0))
               for k in want)


def _rename_input(proto, old: str, new: str) -> None:
    if old == new:
        return
    for node in proto.graph.node:
        node.input[:] = [new if n == old else n for n in node.input]
    for inp in proto.graph.input:
        if inp.name == old:
            inp.name = new


def write_encoder(encoder, generator, out_dir, *, features=None, features_name=None,
                  feature_weight: float = 1.0, prior_weight: float = 0.0,
                  batch: int = PROJECTOR_BATCH, fields: dict | None = None) -> dict:
    """Writes encoder.keras, encoder.onnx and projector.onnx into the export
    folder `out_dir` (which holds G's model.json) and records them on its
    card under "encoder" with `fields` (how E was trained); returns that
    entry. `features`/`features_name`: the evaluator's feature model and its
    name, used in the projector's loss when it fits G's images."""
    out = Path(out_dir)
    card_path = out / CARD_FILE
    if not card_path.is_file():
        raise ExportError(f"{out} holds no {CARD_FILE}: write the generator there first")
    card = json.loads(card_path.read_text())
    shape = tuple(int(s) for s in generator.outputs[0].shape[1:])
    if tuple(encoder.inputs[0].shape[1:]) != shape:
        raise ExportError(f"the encoder takes {tuple(encoder.inputs[0].shape[1:])} images, "
                          f"the generator makes {shape}")
    names = ("z", "labels") if len(encoder.outputs) == 2 else ("z",)
    encoder.save(out / ENCODER_KERAS)
    meta = {"latent_dim": card["latent_dim"], "image_shape": card["image_shape"],
            "value_range": [-1, 1], "num_classes": card.get("num_classes"),
            "keras_gan_encoder": PROJECTOR_CONTRACT}
    export_onnx(encoder, out / ENCODER_ONNX, meta, outputs=names,
                example=np.zeros((2, *shape), np.float32))
    error = write_projector(generator, out / PROJECTOR_ONNX, batch=batch,
                            prior_weight=prior_weight, metadata={**meta, "features": ""})
    files = {"keras": ENCODER_KERAS, "onnx": ENCODER_ONNX, "projector": PROJECTOR_ONNX}
    problem = fits_features(features, shape) if feature_weight else "feature weight 0"
    (out / PROJECTOR_FEATURES_ONNX).unlink(missing_ok=True)  # a stale one from before
    if problem is None:
        error = max(error, write_projector(
            generator, out / PROJECTOR_FEATURES_ONNX, batch=batch, features=features,
            feature_weight=feature_weight, prior_weight=prior_weight,
            metadata={**meta, "features": features_name or "features"}))
        files["projector_features"] = PROJECTOR_FEATURES_ONNX
    entry = {
        **(fields or {}),
        "files": files,
        "contract": "encoder.onnx: images float32 [N, H, W, C] in [-1, 1] -> z float32 "
                    "[N, latent_dim]" + (" and labels int64 [N]" if len(names) == 2 else ""),
        "projector": {"batch": batch, "prior_weight": prior_weight,
                      "features": features_name if problem is None else None,
                      "feature_weight": feature_weight if problem is None else 0.0,
                      **({"no_features_because": problem} if problem else {}),
                      "parity_max_rel_error": error},
    }
    card["encoder"] = entry
    card_path.write_text(json.dumps(card, indent=2) + "\n")
    return entry


def _classes(generator) -> int:
    from export.writer import _num_classes

    return _num_classes(generator)
