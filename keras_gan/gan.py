"""`GAN`: Algorithm 1 of Goodfellow et al. 2014 as a Keras `train_step`.

One call of `train_step` (one "step" of `fit`) takes a batch of k * m real
examples, runs k discriminator updates, each on its own m real examples and m
fresh fakes, then one generator update on m fresh latents. Train with plain
`model.fit(dataset, ...)` and standard Keras callbacks.

Override points, from small to large (subclasses override hooks, never the
loop):
- `discriminator_loss` / `generator_loss`: add terms (e.g. a gradient penalty);
- `perturb`: what D sees of any sample in training (instance noise, DiffAugment);
- `discriminate` / `generate`: change what the networks see (packing);
- `sample_labels` / `sampler`: how conditional updates draw labels, and what
  users sample from (the clustered GAN: z alone picks the cluster);
- `d_step` / `g_step`: change a whole update (e.g. unrolling).
A subclass that logs more adds names to `metric_names`.
"""

from __future__ import annotations

import keras
import tensorflow as tf
from keras import ops

from keras_gan import tricks
from keras_gan.distribute import ReplicaLossScaleOptimizer, ReplicaSeedGenerator, step_logs
from keras_gan.losses import get_loss


def _unwrap(optimizer):
    """The user's optimizer inside a `LossScaleOptimizer` (for configs)."""
    return getattr(optimizer, "inner_optimizer", optimizer)


@keras.saving.register_keras_serializable(package="keras_gan")
class GAN(keras.Model):
    """A generator and a discriminator trained against each other.

    Args:
        generator: functional model z (latent_dim,) -> sample.
        discriminator: functional model sample -> logits (1,).
        latent_dim: size of z; read from the generator's input if None.
        d_steps: k, discriminator updates per generator update. The fit
            batch must hold k * m examples; each update gets its own m.
        loss: loss family in `keras_gan.losses.LOSSES`.
        seed: seed of the model's `SeedGenerator` (latents drawn in steps);
            its state is saved with the weights, so a resumed run continues
            the same noise stream.
        num_classes: for conditional networks (inputs z and labels): the fit
            data must then yield (images, labels).
        ema_decay: keep `ema_generator`, an exponential moving average of the
            generator's weights updated after every generator step (Yazici et
            al. 2019); sample and export from it. Part of the model, so it is
            checkpointed and resumed with everything else.
        instance_noise: stddev of Gaussian noise added to every sample D
            sees in training, real and fake (`keras_gan.tricks`).
        label_smoothing: one-sided smoothing s: real targets 1 - s (losses
            with targets only: minimax, non_saturating, least_squares).
        label_noise: plus a per-example uniform jitter in [0, label_noise]
            taken off the real targets ("noisy labels").
        anneal_steps: instance noise, label smoothing and label noise fall
            linearly to 0 over this many generator steps (0: constant).
        augment: DiffAugment policy, e.g. "color,translation,cutout", applied
            to real and fake images in both updates (images only).
    """

    metric_names = ("d_loss", "g_loss", "d_real", "d_fake")

    def __init__(self, generator, discriminator, latent_dim=None, d_steps=1,
                 loss="non_saturating", seed=None, num_classes=None, ema_decay=None,
                 instance_noise=0.0, label_smoothing=0.0, label_noise=0.0, anneal_steps=0,
                 augment=None, **kwargs):
        super().__init__(**kwargs)
        for net, role in ((generator, "generator"), (discriminator, "discriminator")):
            if not isinstance(net, keras.Model) or not net.built:
                raise ValueError(f"{role} must be a built keras.Model (e.g. functional), "
                                 f"got {type(net).__name__}")
        conditional = len(generator.inputs) == 2
        if conditional != bool(num_classes):
            raise ValueError(
                "num_classes must be given exactly when the generator takes labels "
                f"(generator inputs: {[i.name for i in generator.inputs]}, "
                f"num_classes={num_classes})")
        if int(d_steps) < 1:
            raise ValueError(f"d_steps must be >= 1, got {d_steps}")
        self.generator = generator
        self.discriminator = discriminator
        self.latent_dim = int(latent_dim or generator.inputs[0].shape[-1])
        self.d_steps = int(d_steps)
        self.loss_name = loss
        self.loss_family = get_loss(loss)
        self.seed = seed
        self.num_classes = int(num_classes) if num_classes else None
        # Replica-aware: under tf.distribute a plain SeedGenerator hands every
        # replica the same latents (keras_gan/distribute.py).
        self.seed_generator = ReplicaSeedGenerator(seed, name="gan_seed")
        self.trackers = {name: keras.metrics.Mean(name=name) for name in self.metric_names}
        self.ema_decay = float(ema_decay) if ema_decay else None
        if self.ema_decay is not None:
            if not 0.0 < self.ema_decay < 1.0:
                raise ValueError(f"ema_decay must be in (0, 1), got {ema_decay}")
            self.ema_generator = keras.models.clone_model(generator)
            self.ema_generator.set_weights(generator.get_weights())
        self._set_tricks(instance_noise, label_smoothing, label_noise, anneal_steps, augment)
        # The networks are built on construction; the wrapper has no weights of
        # its own. Marking it built lets save_weights / BackupAndRestore work.
        self.built = True

    def _set_tricks(self, instance_noise, label_smoothing, label_noise, anneal_steps, augment):
        values = {"instance_noise": instance_noise, "label_smoothing": label_smoothing,
                  "label_noise": label_noise, "anneal_steps": anneal_steps}
        for name, value in values.items():
            if not float(value) >= 0.0:
                raise ValueError(f"{name} must be >= 0, got {value}")
        if label_smoothing + label_noise >= 1.0:
            raise ValueError("label_smoothing + label_noise must be < 1 (a real target "
                             f"above 0), got {label_smoothing} + {label_noise}")
        if (label_smoothing or label_noise) and not self.loss_family.smoothable:
            raise ValueError(f"loss {self.loss_name!r} has no targets to smooth; label "
                             "smoothing works with minimax, non_saturating, least_squares")
        self.instance_noise = float(instance_noise)
        self.label_smoothing = float(label_smoothing)
        self.label_noise = float(label_noise)
        self.anneal_steps = int(anneal_steps)
        self.augment = ",".join(tricks.parse_augment(augment)) or None
        if self.augment and len(self.generator.outputs[0].shape) != 4:
            raise ValueError(f"augment={self.augment!r} needs image samples (H, W, C), the "
                             f"generator makes {tuple(self.generator.outputs[0].shape[1:])}")

    # -- Keras plumbing ------------------------------------------------------

    def call(self, inputs, training=False):
        """`gan(z)` (or `gan([z, labels])`) is the generator's output, so
        `gan.predict(z)` samples."""
        return self.generator(inputs, training=training)

    def build(self, input_shape=None):
        self.built = True

    def _maybe_symbolic_build(self, iterator=None, data_batch=None):
        # Under a strategy, Keras (3.15, TF backend) builds compiled losses and
        # metrics here, from a MEAN over replicas of the first batch. A GAN
        # compiles neither, and under MultiWorkerMirroredStrategy that MEAN
        # fails on an (images, labels) batch ("Attempt to convert a value
        # (PerReplica...)"): conditional and clustered runs. Nothing to build.
        return

    @property
    def metrics(self):
        # Listed here so that fit resets them at each epoch.
        return list(self.trackers.values())

    def compile(self, d_optimizer="adam", g_optimizer="adam", jit_compile=False,
                steps_per_execution=1, run_eagerly=False):
        """Sets both optimizers (TTUR: each network its own).

        Under the `mixed_float16` policy both are wrapped in a
        `LossScaleOptimizer` (Keras only wraps `model.optimizer`). Under
        `mixed_bfloat16` they are not: bfloat16 has float32's exponent range,
        so gradients do not underflow (Keras makes the same choice).
        """
        d_optimizer = keras.optimizers.get(d_optimizer)
        g_optimizer = keras.optimizers.get(g_optimizer)
        if d_optimizer is g_optimizer:
            raise ValueError("d_optimizer and g_optimizer must be two optimizer "
                             "objects: each holds the moments of its own network")
        if self.dtype_policy.name == "mixed_float16":
            # Replica...: Keras's, with one overflow decision for all replicas
            # under tf.distribute (keras_gan/distribute.py).
            d_optimizer, g_optimizer = (
                o if isinstance(o, keras.optimizers.LossScaleOptimizer)
                else ReplicaLossScaleOptimizer(o)
                for o in (d_optimizer, g_optimizer)
            )
        self.d_optimizer = d_optimizer
        self.g_optimizer = g_optimizer
        # model.optimizer is the generator's, so optimizer.iterations (used by
        # Keras callbacks such as TensorBoard) counts generator updates: steps.
        super().compile(optimizer=g_optimizer, jit_compile=jit_compile,
                        steps_per_execution=steps_per_execution,
                        run_eagerly=run_eagerly)
        # Build both now: load_weights silently drops the moments of an
        # optimizer that has no variables yet, and Keras builds only
        # model.optimizer before restoring.
        self.d_optimizer.build(self.discriminator.trainable_variables)
        self.g_optimizer.build(self.generator.trainable_variables)

    def get_config(self):
        return {
            "name": self.name,
            "generator": keras.saving.serialize_keras_object(self.generator),
            "discriminator": keras.saving.serialize_keras_object(self.discriminator),
            "latent_dim": self.latent_dim,
            "d_steps": self.d_steps,
            "loss": self.loss_name,
            "seed": self.seed,
            "num_classes": self.num_classes,
            "ema_decay": self.ema_decay,
            "instance_noise": self.instance_noise,
            "label_smoothing": self.label_smoothing,
            "label_noise": self.label_noise,
            "anneal_steps": self.anneal_steps,
            "augment": self.augment,
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        for key in ("generator", "discriminator"):
            config[key] = keras.saving.deserialize_keras_object(config[key])
        return cls(**config)

    def get_compile_config(self):
        if not getattr(self, "compiled", False):
            return None
        return {
            "d_optimizer": keras.saving.serialize_keras_object(_unwrap(self.d_optimizer)),
            "g_optimizer": keras.saving.serialize_keras_object(_unwrap(self.g_optimizer)),
            "jit_compile": bool(self.jit_compile),
            "steps_per_execution": self.steps_per_execution,
        }

    def compile_from_config(self, config):
        config = dict(config)
        for key in ("d_optimizer", "g_optimizer"):
            config[key] = keras.saving.deserialize_keras_object(config[key])
        self.compile(**config)

    def save_own_variables(self, store):
        # SeedGenerator is not saveable by Keras; keep its state with the
        # weights so that a resumed run draws the noise an uninterrupted one
        # would have drawn.
        store["seed_state"] = keras.ops.convert_to_numpy(self.seed_generator.state)

    def load_own_variables(self, store):
        if "seed_state" in store.keys():
            self.seed_generator.state.assign(store["seed_state"][...])

    # -- hooks ---------------------------------------------------------------

    @classmethod
    def discriminator_input_shape(cls, sample_shape, **options):
        """The discriminator's input shape for samples of `sample_shape`; a
        variant whose discriminator sees something else (PacGAN) overrides it."""
        return tuple(sample_shape)

    def sample_latents(self, batch_size):
        """z ~ N(0, I), (batch_size, latent_dim), from the model's own RNG."""
        return keras.random.normal((batch_size, self.latent_dim),
                                   seed=self.seed_generator)

    def sample_labels(self, batch_size):
        """Uniform class labels for conditional generator updates."""
        return keras.random.randint((batch_size,), 0, self.num_classes, dtype="int64",
                                    seed=self.seed_generator)

    def generate(self, z, labels=None, training=True):
        return self.generator([z, labels] if self.num_classes else z, training=training)

    def discriminate(self, samples, labels=None, training=True):
        inputs = [samples, labels] if self.num_classes else samples
        return self.discriminator(inputs, training=training)

    def trick_scale(self):
        """1 annealed to 0 over `anneal_steps` generator steps."""
        return tricks.anneal(self.g_optimizer.iterations, self.anneal_steps)

    def perturb(self, samples):
        """What the discriminator sees of a sample in training, real or fake:
        DiffAugment, then annealed instance noise. Identity by default."""
        if self.augment:
            samples = tricks.diff_augment(samples, self.augment, self.seed_generator)
        if self.instance_noise:
            std = self.instance_noise * self.trick_scale()
            samples = tricks.instance_noise(samples, std, self.seed_generator)
        return samples

    def discriminator_loss(self, real_logits, fake_logits, real, fake, labels=None):
        if not (self.label_smoothing or self.label_noise):
            return self.loss_family.d_loss(real_logits, fake_logits)
        amount = tricks.smoothing_amounts(ops.shape(real_logits)[0], self.label_smoothing,
                                          self.label_noise, self.seed_generator)
        return self.loss_family.d_loss(real_logits, fake_logits,
                                       label_smoothing=amount * self.trick_scale())

    def generator_loss(self, fake_logits, fake):
        return self.loss_family.g_loss(fake_logits)

    def d_output(self, logits):
        """The mean D(x) reported as d_real / d_fake: a probability for the
        sigmoid families, the raw critic score for the others."""
        logits = ops.cast(logits, "float32")
        return ops.mean(ops.sigmoid(logits) if self.loss_family.probabilistic else logits)

    # -- the loop ------------------------------------------------------------

    def _replica_scale(self):
        # Gradients are summed across replicas by the optimizer; a per-replica
        # mean loss must be divided by the replica count to give the mean over
        # the global batch (Keras's own losses do this too).
        return 1.0 / tf.distribute.get_strategy().num_replicas_in_sync

    def d_step(self, real, labels=None):
        """One discriminator update on a real minibatch (and its labels, for
        conditional models: the fakes get the same labels); returns metrics."""
        z = self.sample_latents(ops.shape(real)[0])
        fake = ops.stop_gradient(self.generate(z, labels, training=True))
        variables = self.discriminator.trainable_variables
        with tf.GradientTape() as tape:
            real_logits = self.discriminate(self.perturb(real), labels, training=True)
            fake_logits = self.discriminate(self.perturb(fake), labels, training=True)
            loss = self.discriminator_loss(real_logits, fake_logits, real=real, fake=fake,
                                           labels=labels)
            scaled = self.d_optimizer.scale_loss(loss * self._replica_scale())
        grads = tape.gradient(scaled, variables)
        self.d_optimizer.apply_gradients(zip(grads, variables, strict=True))
        return {"d_loss": loss, "d_real": self.d_output(real_logits),
                "d_fake": self.d_output(fake_logits)}

    def g_step(self, batch_size):
        """One generator update on `batch_size` fresh latents (and labels)."""
        z = self.sample_latents(batch_size)
        labels = self.sample_labels(batch_size) if self.num_classes else None
        variables = self.generator.trainable_variables
        with tf.GradientTape() as tape:
            fake = self.generate(z, labels, training=True)
            fake_logits = self.discriminate(self.perturb(fake), labels, training=True)
            loss = self.generator_loss(fake_logits, fake=fake)
            scaled = self.g_optimizer.scale_loss(loss * self._replica_scale())
        grads = tape.gradient(scaled, variables)
        self.g_optimizer.apply_gradients(zip(grads, variables, strict=True))
        return {"g_loss": loss}

    def split_real(self, data):
        """The fit batch (k * m examples) as k (real, labels) minibatches of m."""
        real, labels, _ = keras.utils.unpack_x_y_sample_weight(data)
        if self.num_classes and labels is None:
            raise ValueError("a conditional GAN needs (images, labels) batches")
        if not self.num_classes:
            labels = None
        if self.d_steps == 1:
            return [(real, labels)]
        reals = ops.split(real, self.d_steps, axis=0)
        if labels is None:
            return [(r, None) for r in reals]
        return list(zip(reals, ops.split(labels, self.d_steps, axis=0), strict=True))

    def train_step(self, data):
        parts = self.split_real(data)
        for real, labels in parts:  # unrolled by tf.function: k is a Python int
            for name, value in self.d_step(real, labels).items():
                self.trackers[name].update_state(value)
        for name, value in self.g_step(ops.shape(parts[0][0])[0]).items():
            self.trackers[name].update_state(value)
        if self.ema_decay is not None:
            self.update_ema()
        # step_logs: shaped for Keras's multi-worker reduction (distribute.py).
        return step_logs({name: tracker.result() for name, tracker in self.trackers.items()})

    def update_ema(self):
        """ema <- d * ema + (1 - d) * weights, batch-norm statistics too.

        d = min(decay, (1 + n) / (10 + n)) after n generator updates (the
        warm-up of tf.train.ExponentialMovingAverage's num_updates): a plain
        0.999 average spends its first few thousand steps dominated by the
        random initial weights; the warm-up makes the average usable from the
        start and changes nothing once n passes ~10 / (1 - decay).
        """
        n = ops.cast(self.g_optimizer.iterations, "float32")
        d = ops.minimum(self.ema_decay, (1.0 + n) / (10.0 + n))
        for ema, w in zip(self.ema_generator.weights, self.generator.weights, strict=True):
            ema.assign(d * ema + (1.0 - d) * ops.cast(w, ema.dtype))

    def sampler(self, generator):
        """What users sample and export, given a trained generator network:
        the network itself. A variant whose network takes more than z (the
        clustered GAN: a cluster) wraps it into a z-only model here."""
        return generator

    @property
    def sampling_generator(self):
        """The model to sample and export from: `sampler` of the EMA
        generator when kept, else of the generator."""
        return self.sampler(self.ema_generator if self.ema_decay is not None
                            else self.generator)
