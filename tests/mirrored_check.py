"""Run by tests/test_distribute.py in a subprocess: MirroredStrategy over two
logical CPUs against one device, for the same global batches.

The logical devices must be configured before TensorFlow initialises, which
pytest's own process has already done; hence a script. It prints one JSON
object: for each variant, the largest difference between the weights (and
optimizer moments, and logged metrics) of the two runs, plus the noise checks.

    python tests/mirrored_check.py
"""

import json
import os
import sys
import tempfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import tensorflow as tf  # noqa: E402

_CPU = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(_CPU, [tf.config.LogicalDeviceConfiguration()] * 2)

import keras  # noqa: E402
import numpy as np  # noqa: E402
from keras import ops  # noqa: E402

from keras_gan.config import TrainConfig  # noqa: E402
from keras_gan.models.gan import GAN  # noqa: E402
from keras_gan.models.gans.unrolled import UnrolledGAN  # noqa: E402
from keras_gan.models.gans.wgan import WGANGP, gradient_penalty  # noqa: E402
from keras_gan.models.networks import build_networks  # noqa: E402
from keras_gan.training.distribute import ReplicaLossScaleOptimizer  # noqa: E402
from keras_gan.training.trainer import train  # noqa: E402

BATCH, STEPS, LATENT = 16, 3, 4
_rng = np.random.default_rng(0)
REAL = _rng.normal(size=(BATCH * STEPS, 2)).astype("float32")
# One fixed global batch of noise. Each replica draws its own stream (that
# is the point of ReplicaSeedGenerator), so a distributed step cannot draw
# the noise one device draws; the variants below take replica r's slice of
# the same global noise instead, which makes the two runs the same
# computation and leaves only the reduction under test.
Z = _rng.normal(size=(BATCH, LATENT)).astype("float32")
EPS = _rng.uniform(size=(BATCH, 1)).astype("float32")


def replica_slice(values, n):
    """Rows [r * n, (r + 1) * n) of `values` on replica r (all rows' first n
    without a strategy, r = 0)."""
    start = tf.cast(tf.distribute.get_replica_context().replica_id_in_sync_group, "int32")
    return tf.slice(tf.constant(values), [start * n, 0], [n, -1])


class FixedNoise:
    def sample_latents(self, batch_size):
        return replica_slice(Z, batch_size)


class FixedGAN(FixedNoise, GAN):
    pass


class FixedUnrolled(FixedNoise, UnrolledGAN):
    pass


class FixedWGANGP(FixedNoise, WGANGP):
    def d_regularizers(self, real, fake, labels=None):
        eps = replica_slice(EPS, ops.shape(real)[0])
        return {"gp": self.gp_weight * gradient_penalty(
            lambda x: self.discriminate(x, training=True), real, fake, eps)}


VARIANTS = {
    # EMA and spectral norm: variables assigned inside the replica step.
    "gan": lambda g, d: FixedGAN(g, d, loss="non_saturating", seed=0, ema_decay=0.9),
    "wgan-gp": lambda g, d: FixedWGANGP(g, d, loss="wasserstein", seed=0),
    "unrolled": lambda g, d: FixedUnrolled(g, d, loss="non_saturating", seed=0,
                                           unroll_steps=2, unroll_learning_rate=0.1),
}


def fit(variant, strategy):
    """(weights and moments before, after, last logs) of STEPS steps."""
    with strategy.scope():
        keras.utils.set_random_seed(0)
        g, d = build_networks("mlp", LATENT, (2,), 8, depth=1,
                              spectral_norm=variant == "gan")
        gan = VARIANTS[variant](g, d)
        gan.compile(keras.optimizers.Adam(1e-2), keras.optimizers.Adam(1e-2))

    def state():
        optimizers = (gan.d_optimizer, gan.g_optimizer)
        return [v.numpy() for v in [*gan.weights, *(v for o in optimizers
                                                    for v in o.variables)]]

    before = state()
    data = tf.data.Dataset.from_tensor_slices(REAL).batch(BATCH)
    history = gan.fit(data, epochs=1, verbose=0).history
    return before, state(), {k: float(v[-1]) for k, v in history.items()}


def _floats(*states):
    return zip(*states, strict=True)


def compare(variant, mirrored):
    before, one, one_logs = fit(variant, tf.distribute.get_strategy())
    _, two, two_logs = fit(variant, mirrored)
    pairs = [(a, b, c) for a, b, c in _floats(before, one, two) if a.dtype.kind == "f"]
    # Relative to each tensor's scale: Adam's second moments are ~1e-6.
    weights = max(float(np.max(np.abs(b - c)) / (np.max(np.abs(b)) + 1e-12))
                  for _, b, c in pairs)
    # That the steps changed something, so that equal means something.
    moved = max(float(np.max(np.abs(a - b))) for a, b, _ in pairs)
    logs = max(abs(one_logs[k] - two_logs[k]) / (abs(one_logs[k]) + 1e-6) for k in one_logs)
    return {"weights_rel": weights, "logs_rel": logs, "moved": moved,
            "logs": {"one": one_logs, "two": two_logs}}


def noise_checks(mirrored):
    """Replicas draw different latents; one device draws a plain generator's."""
    with mirrored.scope():
        g, d = build_networks("mlp", LATENT, (2,), 8, depth=1)
        gan = GAN(g, d, seed=0)
    per_replica = mirrored.run(tf.function(lambda: gan.sample_latents(4)))
    a, b = (t.numpy() for t in mirrored.experimental_local_results(per_replica))
    g, d = build_networks("mlp", LATENT, (2,), 8, depth=1)
    single = GAN(g, d, seed=0).sample_latents(4).numpy()
    plain = keras.random.normal((4, LATENT), seed=keras.random.SeedGenerator(0)).numpy()
    return {"replicas_differ": bool(np.abs(a - b).max() > 0.1),
            "single_is_plain_stream": bool(np.array_equal(single, plain))}


def overflow_checks(mirrored):
    """An overflow on one replica only: every replica must skip the step."""
    skipped = []
    for bad in (0, 1):
        with mirrored.scope():
            v = keras.Variable([1.0, 1.0])
            opt = ReplicaLossScaleOptimizer(keras.optimizers.SGD(0.1))
            opt.build([v])

        def apply(opt=opt, v=v, bad=bad):
            r = tf.distribute.get_replica_context().replica_id_in_sync_group
            g = tf.where(tf.equal(r, bad), float("inf"), 1.0) * tf.ones(2)
            opt.apply_gradients([(g, v)])

        mirrored.run(tf.function(apply))
        skipped.append(bool((v.numpy() == 1.0).all() and opt.iterations.numpy() == 0
                            and opt.dynamic_scale.numpy() == 2.0**14))
    return {"overflow_skipped": skipped}


def train_glue(mirrored):
    """train() with the default strategy inside the caller's scope."""
    with tempfile.TemporaryDirectory() as tmp, mirrored.scope():
        cfg = TrainConfig(dataset="ring", width=8, latent_dim=4, batch_size=16,
                          steps_per_epoch=2, epochs=1, num_samples=8, verbose=0,
                          tensorboard=False, out=os.path.join(tmp, "run"))
        result = train(cfg)
        return {"train_step": result.step,
                "train_replicas": result.model.distribute_strategy.num_replicas_in_sync,
                "train_files": sorted(os.listdir(result.run_dir))}


class FirstWeights(keras.callbacks.Callback):
    """The generator's weights when training begins."""

    def on_train_begin(self, logs=None):
        self.weights = [w.numpy().copy() for w in self.model.generator.weights]


def precision_runs(mirrored):
    """train() under each mixed policy over the two replicas, for a
    conditional image model (cgan on digits) and PacGAN (on the ring): the
    steps that ran, whether the losses stayed finite and the generator's
    weights moved, and the dtypes the networks computed in."""
    report = {}
    for precision in ("mixed_float16", "mixed_bfloat16"):
        for gan, data in (("cgan", dict(dataset="mnist-sample", width=4)),
                          ("pacgan", dict(dataset="ring", width=8))):
            with tempfile.TemporaryDirectory() as tmp, mirrored.scope():
                cfg = TrainConfig(gan=gan, precision=precision, latent_dim=4, batch_size=16,
                                  steps_per_epoch=2, epochs=1, num_samples=8, verbose=0,
                                  tensorboard=False, fd_every=0, out=os.path.join(tmp, "r"),
                                  **data)
                first = FirstWeights()
                result = train(cfg, callbacks=[first])
                model = result.model
                logs = {k: float(v[-1]) for k, v in result.history.items()}
                report[f"{precision}/{gan}"] = {
                    "replicas": model.distribute_strategy.num_replicas_in_sync,
                    "step": result.step,
                    "finite": bool(all(np.isfinite(v) for v in logs.values())),
                    "logs": sorted(logs),
                    "moved": max(float(np.abs(a - w.numpy()).max()) for a, w in
                                 zip(first.weights, model.generator.weights, strict=True)),
                    "compute_dtypes": sorted({layer.compute_dtype
                                              for layer in model.discriminator.layers
                                              if layer.weights}),
                    "loss_scaled": isinstance(model.d_optimizer,
                                              keras.optimizers.LossScaleOptimizer),
                }
    return report


def main():
    mirrored = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
    report = {"replicas": mirrored.num_replicas_in_sync}
    report.update({name: compare(name, mirrored) for name in VARIANTS})
    report.update(noise_checks(mirrored))
    report.update(overflow_checks(mirrored))
    report.update(train_glue(mirrored))
    report["precision"] = precision_runs(mirrored)
    json.dump(report, sys.stdout)


if __name__ == "__main__":
    main()
