"""An encoder E: image -> z for a trained generator (its frozen G).

A GAN maps latents to images but not back. E is trained afterwards, with G
frozen, on two signals (the IcGAN recipe, Perarnau et al. 2016, plus the
image term of ALI / BiGAN-style encoders):

- latent: z -> G(z) -> E -> z', loss |z' - z|^2 on the generator's own
  samples, where the true latent is known;
- image: x -> E -> G(E(x)), loss |G(E(x)) - x|^2 on real images, so E also
  lands near the real pictures G cannot make exactly.

For a conditional generator E has a class head trained on G's samples
(cross-entropy on the label they were drawn with); its `labels` output is
the arg-max, and the image term uses it. The clustered model's sampler (one
input z whose first coordinate picks a k-means cluster by the interval it
falls in, `keras_gan.models.clusters`) is trained the same way against the
conditional generator inside it: regressing z[0] directly was tried first
and failed (on the shipped mnist-dcgan the latent loss hardly fell and
most reconstructions of real digits were another digit), because the
clusters' order along z[0] is arbitrary, so the map image -> z[0] has 100
unrelated steps.
The exported encoder turns the predicted cluster into the median of its
interval of z[0] (`cluster_codes`) and puts it first in z.

The encoder that is saved and exported takes `images` (N, H, W, C) in
[-1, 1] and returns `z` (N, latent_dim) [and int64 `labels` (N,)]; it is
built from Keras's own layers and operations, so it loads in safe mode
without keras_gan and converts to ONNX as it is.
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf
from keras import layers, ops

ENCODER_FILE = "encoder.keras"
LOGITS = "class_logits"


def build_encoder(image_shape, latent_dim: int, num_classes: int | None = None,
                  width: int = 32) -> keras.Model:
    """E's network: strided 4x4 convolutions (width, 2w, 4w, ... up to 8w),
    batch norm and LeakyReLU down to 4x4 or less, then Dense(latent_dim)
    named "z", and for conditional generators Dense(num_classes) logits.

    Args:
        image_shape: (H, W, C) of the generator's images.
        latent_dim: Size of z.
        num_classes: The conditional generator's classes, or None.
        width: Channels of the first convolution (doubled per stage).

    Returns:
        The training model: outputs [z] or [z, logits]. `export_encoder`
        turns it into the contract's [z, labels].
    """
    images = keras.Input(tuple(image_shape), name="images")
    x, side, filters = images, int(image_shape[0]), width
    while side > 4:
        x = layers.Conv2D(filters, 4, strides=2, padding="same", use_bias=side == image_shape[0])(x)
        if side != image_shape[0]:  # no norm on the first layer, as in DCGAN's D
            x = layers.BatchNormalization()(x)
        x = layers.LeakyReLU(0.2)(x)
        side, filters = (side + 1) // 2, min(filters * 2, 8 * width)
    x = layers.Flatten()(x)
    z = layers.Dense(latent_dim, dtype="float32", name="z")(x)
    outputs = [z]
    if num_classes:
        outputs.append(layers.Dense(num_classes, dtype="float32", name=LOGITS)(x))
    return keras.Model(images, outputs, name="encoder")


def export_encoder(encoder: keras.Model, codes=None) -> keras.Model:
    """The contract's model: `images` -> `z` [, int64 `labels` = argmax logits].

    With `codes` (a clustered sampler's `cluster_codes`), the class head
    picks the cluster and z = [codes[cluster], the encoder's z]."""
    if len(encoder.outputs) == 1:
        return keras.Model(encoder.inputs, encoder.outputs[0], name="encoder")
    z, logits = encoder.outputs
    # top_k, not argmax: Keras's TF argmax guards -0.0 with Bitcast and
    # BitwiseAnd, which tf2onnx cannot convert.
    labels = ops.cast(ops.top_k(logits, k=1)[1][:, 0], "int64")
    if codes is None:
        return keras.Model(encoder.inputs, [z, labels], name="encoder")
    # A frozen table lookup, as one-hot times a fixed Dense kernel: the codes
    # are a saved weight, and the ops convert to ONNX (an Embedding's lookup
    # exports Bitcast / BitwiseAnd, which tf2onnx cannot convert).
    table = layers.Dense(1, use_bias=False, trainable=False, name="cluster_code")
    code = table(ops.one_hot(labels, len(codes)))
    table.set_weights([np.asarray(codes, np.float32).reshape(-1, 1)])
    return keras.Model(encoder.inputs, ops.concatenate([code, z], axis=-1), name="encoder")


def clustered_parts(generator: keras.Model):
    """For a clustered sampler (z -> the conditional generator inside it, fed
    z[:, 1:] and the cluster z[:, 0] draws): (that generator, the cluster
    each z draws as a model). Otherwise None."""
    inner = [layer for layer in generator.layers if isinstance(layer, keras.Model)]
    if len(generator.inputs) != 1 or len(inner) != 1 or len(inner[0].inputs) != 2:
        return None
    draws = [op.output for op in generator.operations
             if not isinstance(op, keras.Model) and not isinstance(op, layers.InputLayer)
             and getattr(op.output, "dtype", None) == "int64" and len(op.output.shape) == 1]
    if not draws:
        return None
    return inner[0], keras.Model(generator.inputs, draws[-1])


def cluster_codes(draw: keras.Model, num_clusters: int, iters: int = 48) -> np.ndarray:
    """The median of each cluster's interval of z[0], (K,) float32.

    The boundaries are found by bisection on the sampler's own draw (the
    cluster is non-decreasing in z[0]), not read from its constants, so
    this holds for any sampler with that rule."""
    from statistics import NormalDist

    latent_dim = int(draw.inputs[0].shape[-1])
    lo, hi = np.full(num_clusters - 1, -12.0), np.full(num_clusters - 1, 12.0)
    wanted = np.arange(1, num_clusters)
    for _ in range(iters):  # smallest u whose cluster is >= k, for every k at once
        mid = (lo + hi) / 2
        z = np.zeros((len(mid), latent_dim), np.float32)
        z[:, 0] = mid
        reached = np.asarray(draw(z)) >= wanted
        hi, lo = np.where(reached, mid, hi), np.where(reached, lo, mid)
    normal = NormalDist()
    cdf = np.concatenate([[0.0], [normal.cdf(float(b)) for b in hi], [1.0]])
    middle = np.clip((cdf[:-1] + cdf[1:]) / 2, 1e-12, 1 - 1e-12)
    return np.array([normal.inv_cdf(float(p)) for p in middle], np.float32)


class EncoderTrainer(keras.Model):
    """Trains `encoder` against a frozen `generator` with `fit(real_images)`.

    Each step draws a batch of latents (and labels) from the model's
    `SeedGenerator`, makes G's images, and takes one optimizer step on
    latent_loss [+ class_loss] + image_weight * image_loss (module doc).

    Args:
        generator: The trained generator, inputs z [and labels]; frozen.
        encoder: `build_encoder`'s training model for it.
        image_weight: Weight of the real-image reconstruction term.
        seed: Seed of the latents drawn in steps.
    """

    def __init__(self, generator, encoder, image_weight: float = 1.0, seed: int = 0,
                 **kwargs):
        super().__init__(**kwargs)
        self.generator = generator
        self.generator.trainable = False
        self.encoder = encoder
        self.image_weight = float(image_weight)
        self.latent_dim = int(generator.inputs[0].shape[-1])
        self.num_classes = (int(encoder.outputs[1].shape[-1])
                            if len(encoder.outputs) == 2 else None)
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.trackers = {name: keras.metrics.Mean(name=name) for name in (
            "latent_loss", "image_loss", "class_accuracy")}

    @property
    def metrics(self):
        return list(self.trackers.values())

    def _generate(self, z, labels):
        return self.generator(z if labels is None else [z, labels], training=False)

    def _encode(self, images):
        out = self.encoder(images, training=True)
        return (out[0], out[1]) if self.num_classes else (out[0] if isinstance(
            out, (list, tuple)) else out, None)

    def train_step(self, data):
        real = data[0] if isinstance(data, (list, tuple)) else data
        batch = ops.shape(real)[0]
        z = keras.random.normal((batch, self.latent_dim), seed=self.seed_generator)
        labels = (keras.random.randint((batch,), 0, self.num_classes,
                                       seed=self.seed_generator)
                  if self.num_classes else None)
        fake = ops.stop_gradient(self._generate(z, labels))
        with tf.GradientTape() as tape:
            z_fake, logits = self._encode(fake)
            latent_loss = ops.mean(ops.square(z_fake - z))
            loss = latent_loss
            if self.num_classes:
                loss += ops.mean(keras.losses.sparse_categorical_crossentropy(
                    labels, logits, from_logits=True))
            z_real, logits_real = self._encode(real)
            real_labels = (None if logits_real is None else
                           ops.stop_gradient(ops.argmax(logits_real, axis=-1)))
            image_loss = ops.mean(ops.square(self._generate(z_real, real_labels) - real))
            loss += self.image_weight * image_loss
        weights = self.encoder.trainable_weights
        self.optimizer.apply_gradients(zip(tape.gradient(loss, weights), weights, strict=False))
        self.trackers["latent_loss"].update_state(latent_loss)
        self.trackers["image_loss"].update_state(image_loss)
        if self.num_classes:
            hits = ops.cast(ops.argmax(logits, axis=-1) == labels, "float32")
            self.trackers["class_accuracy"].update_state(ops.mean(hits))
        return {name: t.result() for name, t in self.trackers.items()
                if name != "class_accuracy" or self.num_classes}


def train_encoder(generator, images: np.ndarray, *, steps: int, batch_size: int = 64,
                  learning_rate: float = 1e-3, image_weight: float = 1.0, width: int = 32,
                  seed: int = 0, verbose: int = 0):
    """Trains an encoder for `generator` on `images`; returns (encoder, history).

    Args:
        generator: A keras-gan generator (inputs z [and labels]), frozen.
        images: float32 (N, H, W, C) real images in [-1, 1], G's shape.
        steps: Optimizer steps.
        batch_size: Latents and real images per step.
        learning_rate: Adam's step size.
        image_weight: Weight of the real-image term.
        width: The encoder's first convolution width.
        seed: Seeds the network's initialisation, the latents and the order of
            the real images.
        verbose: `fit`'s verbosity.

    Returns:
        The exported-contract encoder (`export_encoder`) and the `fit`
        history's dict (latent_loss, image_loss [, class_accuracy] per epoch).
    """
    from export.writer import _num_classes  # the exporter's lookup of a G's classes

    images = np.asarray(images, np.float32)
    shape = tuple(int(s) for s in generator.outputs[0].shape[1:])
    if images.ndim != 4 or images.shape[1:] != shape:
        raise ValueError(f"the encoder's real images must have the generator's shape "
                         f"(N, {', '.join(map(str, shape))}), got {images.shape}")
    if steps < 1 or batch_size < 1 or len(images) < batch_size:
        raise ValueError(f"need steps >= 1 and at least batch_size ({batch_size}) "
                         f"images, got steps={steps}, {len(images)} images")
    codes, target = None, generator
    if (parts := clustered_parts(generator)) is not None:
        target = parts[0]
        codes = cluster_codes(parts[1], _num_classes(target))
    conditional = len(target.inputs) == 2
    num_classes = _num_classes(target) if conditional else None
    keras.utils.set_random_seed(seed)
    encoder = build_encoder(shape, int(target.inputs[0].shape[-1]), num_classes, width)
    trainer = EncoderTrainer(target, encoder, image_weight=image_weight, seed=seed)
    trainer.compile(optimizer=keras.optimizers.Adam(learning_rate, beta_1=0.5))
    # Up to 10 epochs of equal length, exactly `steps` in all, so that the
    # history shows the losses fall and the card's step count is true.
    epochs = max(e for e in range(1, 11) if steps % e == 0)
    ds = (tf.data.Dataset.from_tensor_slices(images)
          .shuffle(min(len(images), 10_000), seed=seed).repeat()
          .batch(batch_size, drop_remainder=True).prefetch(2))
    history = trainer.fit(ds, steps_per_epoch=steps // epochs, epochs=epochs,
                          verbose=verbose)
    return export_encoder(encoder, codes), history.history


def encoder_for(source, out=None, *, dataset: str | None = None, steps: int = 2000,
                batch_size: int = 64, learning_rate: float = 1e-3,
                image_weight: float = 1.0, width: int = 32, seed: int = 0,
                evaluator: str = "auto", feature_weight: float = 0.1,
                prior_weight: float = 0.01, command: str | None = None,
                reuse: bool = False) -> dict:
    """`keras-gan encoder`: trains an encoder for the generator in `source`
    and writes encoder.keras, encoder.onnx and projector.onnx beside it.

    `source` is an export folder (written into, unless `out`), or a run
    folder / .keras file (exported to `out` first, which is then required).
    The real images are `dataset` (default: the generator's training data at
    its size). For the embedded `mnist-sample` digits the digit evaluator's
    held-out rows are left out, so that projections can be measured on
    digits the encoder never saw. With `reuse`, nothing is trained: the
    folder's encoder.keras is written again with new projectors (after a
    change of their settings or format), its card entry kept. Returns the
    card's "encoder" entry.
    """
    import time
    from pathlib import Path

    from export.encoder import write_encoder
    from keras_gan.data.pipeline import first_examples, load_dataset
    from keras_gan.errors import UserError
    from keras_gan.evaluation.classifiers import HELD_OUT
    from keras_gan.training.run_folder import export_run, load_generator

    source = Path(source).expanduser()
    is_export = source.is_dir() and (source / "model.json").is_file()
    if out is None and not is_export:
        raise UserError(f"{source} is not an exported model folder: give --out DIR to "
                        "export its generator there with the encoder")
    if out is not None and Path(out).resolve() != source.resolve():
        export_run(source, out)
        target = Path(out)
    else:
        target = source
    generator, info = load_generator(target)
    config = info.get("config") or {}
    shape = tuple(int(s) for s in generator.outputs[0].shape[1:])
    if len(shape) != 3:
        raise UserError(f"an encoder is for image generators; {target} makes {shape} points")
    dataset = dataset or config.get("dataset")
    if not dataset:
        raise UserError(f"the card of {target} names no training data: pass --dataset")
    ds, data_info = load_dataset(dataset, image_size=shape[0],
                                 background=config.get("background") or "white")
    if reuse:
        return _rewrite(target, generator, dataset, shape, data_info.class_names, evaluator,
                        feature_weight, prior_weight)
    images = first_examples(ds, 10**7)
    held_out = dataset == "mnist-sample"
    if held_out:
        images = images[:-HELD_OUT]
    if images.shape[1:] != shape:
        raise UserError(f"{dataset} holds {images.shape[1:]} images, the generator makes "
                        f"{shape}: pass --dataset with images of its size")
    features = name = None
    if evaluator != "none" and feature_weight:
        features, name = _features(evaluator, dataset, shape, data_info.class_names)
    start = time.perf_counter()
    encoder, history = train_encoder(generator, images, steps=steps, batch_size=batch_size,
                                     learning_rate=learning_rate, image_weight=image_weight,
                                     width=width, seed=seed)
    seconds = time.perf_counter() - start
    fields = {
        "steps": steps, "batch_size": batch_size, "learning_rate": learning_rate,
        "image_weight": image_weight, "width": width, "seed": seed,
        "real_images": f"{len(images)} images of {dataset}" + (
            f" (the digit evaluator's {HELD_OUT} held-out rows left out)" if held_out else ""),
        "train_seconds": round(seconds, 1),
        "final": {k: round(float(v[-1]), 4) for k, v in history.items()},
        **({"command": command} if command else {}),
    }
    return write_encoder(encoder, generator, target, features=features, features_name=name,
                         feature_weight=feature_weight, prior_weight=prior_weight,
                         fields=fields)



def _features(evaluator, dataset, shape, class_names):
    """The evaluator's feature model and name for the projector, or (None, None)."""
    from keras_gan.evaluation.evaluator import choose_evaluator

    ev = choose_evaluator(evaluator, dataset, shape, class_names)
    if ev is None or not hasattr(ev, "model"):
        return None, None
    return keras.Model(ev.model.inputs, ev.model.outputs[0]), ev.name


def _rewrite(target, generator, dataset, shape, class_names, evaluator, feature_weight,
             prior_weight):
    import json

    from export.encoder import write_encoder
    from keras_gan.errors import UserError

    path = target / ENCODER_FILE
    card = json.loads((target / "model.json").read_text())
    if not path.is_file() or "encoder" not in card:
        raise UserError(f"{target} has no {ENCODER_FILE} to reuse: train one (drop --reuse)")
    encoder = keras.saving.load_model(path, safe_mode=True, compile=False)
    fields = {k: v for k, v in card["encoder"].items()
              if k not in ("files", "contract", "projector")}
    features = name = None
    if evaluator != "none" and feature_weight:
        features, name = _features(evaluator, dataset, shape, class_names)
    return write_encoder(encoder, generator, target, features=features, features_name=name,
                         feature_weight=feature_weight, prior_weight=prior_weight,
                         fields=fields)
