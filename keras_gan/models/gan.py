"""`GAN`: Algorithm 1 of Goodfellow et al. 2014 as a Keras `train_step`.

One call of `train_step` (one "step" of `fit`) takes a batch of k * m real
examples, runs k discriminator updates, each on its own m real examples and m
fresh fakes, then one generator update on m fresh latents. Train with plain
`model.fit(dataset, ...)` and standard Keras callbacks.

Override points, from small to large (subclasses override hooks, never the
loop):
- `discriminator_loss` / `generator_loss`: the loss of each update, given
  real and fake logits (and the samples they came from);
- `d_regularizers`: named terms added to D's loss and logged under their
  names (WGAN-GP's "gp", the R1 / R2 penalties);
- `perturb`: what D sees of any sample in training (instance noise, DiffAugment);
- `discriminate` / `generate`: change what the networks see (packing);
- `sample_labels` / `sampler`: how conditional updates draw labels, and what
  users sample from (the clustered GAN: z alone picks the cluster);
- `d_step` / `g_step`: change a whole update (e.g. unrolling); both get a
  real minibatch (and its labels).
A subclass that logs more adds names to `metric_names`.
"""

from __future__ import annotations

import keras
import tensorflow as tf
from keras import ops

from keras_gan.config import check_ada, check_penalties, check_tricks
from keras_gan.models import tricks
from keras_gan.models.base import GenerativeModel, check_networks
from keras_gan.models.losses import LOSSES, get_loss
from keras_gan.models.penalties import zero_centered_penalty
from keras_gan.training.distribute import mean_over_replicas

ADA_DEFAULT_OPS = "color,translation,cutout"  # ADA's ops when --augment names none


@keras.saving.register_keras_serializable(package="keras_gan")
class GAN(GenerativeModel):
    """A generator and a discriminator trained against each other.

    Args:
        generator: functional model z (latent_dim,) -> sample.
        discriminator: functional model sample -> logits (1,).
        latent_dim: size of z; read from the generator's input if None.
        d_steps: k, discriminator updates per generator update. The fit
            batch must hold k * m examples; each update gets its own m.
        loss: loss family in `keras_gan.models.losses.LOSSES`.
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
            sees in training, real and fake (`keras_gan.models.tricks`).
        label_smoothing: one-sided smoothing s: real targets 1 - s (losses
            with targets only: minimax, non_saturating, least_squares).
        label_noise: plus a per-example uniform jitter in [0, label_noise]
            taken off the real targets ("noisy labels").
        anneal_steps: instance noise, label smoothing and label noise fall
            linearly to 0 over this many generator steps (0: constant).
        augment: DiffAugment policy, e.g. "color,translation,cutout", applied
            to real and fake images in both updates (images only).
        r1, r2: weights gamma of the zero-centred gradient penalties
            gamma / 2 * E||grad D||^2 on real (R1) and fake (R2) samples as D
            sees them (Mescheder et al. 2018), logged as "r1" / "r2".
        reg_every: compute R1 / R2 only every N discriminator updates,
            weighted N, so that they cost 1 / N (lazy regularization,
            Karras et al. 2020, StyleGAN2).
        ada_target: adaptive discriminator augmentation (Karras et al.
            2020): each augmentation of `augment` (default: color,
            translation, cutout) applied with probability p, and p moved
            toward keeping E[sign(D(x_real))] at this target (0: off). p is
            a model variable: logged as "ada_p" (with r_t as "ada_r"),
            checkpointed and resumed.
        ada_interval: D updates between adjustments of p.
        ada_kimg: thousands of real images over which p can move by 1.
        grad_norms: also log "d_grad_norm" and "g_grad_norm", the global L2
            norm of each update's gradient with respect to its network's
            weights (of the unscaled loss). Off by default: the step then
            traces no extra op. Per-step values: `keras_gan.training.callbacks.StepHistory`.
    """

    metric_names = ("d_loss", "g_loss", "d_real", "d_fake")
    optimizer_names = ("d_optimizer", "g_optimizer")

    def __init__(self, generator, discriminator, latent_dim=None, d_steps=1,
                 loss="non_saturating", seed=None, num_classes=None, ema_decay=None,
                 instance_noise=0.0, label_smoothing=0.0, label_noise=0.0, anneal_steps=0,
                 augment=None, r1=0.0, r2=0.0, reg_every=1, ada_target=0.0, ada_interval=4,
                 ada_kimg=100.0, grad_norms=False, **kwargs):
        super().__init__(seed=seed, seed_name="gan_seed", **kwargs)
        check_networks(generator=generator, discriminator=discriminator)
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
        self.num_classes = int(num_classes) if num_classes else None
        self.ema_decay = float(ema_decay) if ema_decay else None
        if self.ema_decay is not None:
            if not 0.0 < self.ema_decay < 1.0:
                raise ValueError(f"ema_decay must be in (0, 1), got {ema_decay}")
            self.ema_generator = keras.models.clone_model(generator)
            self.ema_generator.set_weights(generator.get_weights())
        self._set_tricks(instance_noise, label_smoothing, label_noise, anneal_steps, augment)
        check_penalties(r1, r2, reg_every)
        self.r1, self.r2, self.reg_every = float(r1), float(r2), int(reg_every)
        self._set_ada(ada_target, ada_interval, ada_kimg)
        self.grad_norms = bool(grad_norms)
        # Per instance: the names this model logs (R1 / R2, ADA, gradient
        # norms only when on).
        self.metric_names = (*type(self).metric_names,
                             *(name for name in ("r1", "r2") if getattr(self, name)),
                             *(("ada_p", "ada_r") if self.ada_target else ()),
                             *(("d_grad_norm", "g_grad_norm") if self.grad_norms else ()))
        self._make_trackers(self.metric_names)

    def _set_ada(self, target, interval, kimg):
        check_ada(float(target), int(interval), float(kimg))
        self.ada_target, self.ada_interval, self.ada_kimg = (float(target), int(interval),
                                                             float(kimg))
        if not self.ada_target:
            return
        if len(self.generator.outputs[0].shape) != 4:
            raise ValueError(f"--ada-target needs image data; the generator makes samples "
                             f"of shape {tuple(self.generator.outputs[0].shape[1:])}")
        # Every replica computes the same (all-reduced) values: keep the first's.
        state = dict(trainable=False, dtype="float32", aggregation="only_first_replica")
        self.ada_p = keras.Variable(0.0, name="ada_p", **state)
        self._ada_sum = keras.Variable(0.0, name="ada_sum", **state)  # of sign(D(x)) means
        self._ada_count = keras.Variable(0.0, name="ada_count", **state)

    def _set_tricks(self, instance_noise, label_smoothing, label_noise, anneal_steps, augment):
        augment = check_tricks(instance_noise, label_smoothing, label_noise, anneal_steps,
                               augment)
        if (label_smoothing or label_noise) and not self.loss_family.smoothable:
            smoothable = ", ".join(n for n, f in LOSSES.items() if f.smoothable)
            raise ValueError(f"--label-smoothing / --label-noise need a loss with targets "
                             f"({smoothable}); this model uses {self.loss_name}")
        if augment and len(self.generator.outputs[0].shape) != 4:
            raise ValueError(f"--augment {','.join(augment)} needs image data; the generator "
                             f"makes samples of shape "
                             f"{tuple(self.generator.outputs[0].shape[1:])}")
        self.instance_noise = float(instance_noise)
        self.label_smoothing = float(label_smoothing)
        self.label_noise = float(label_noise)
        self.anneal_steps = int(anneal_steps)
        self.augment = ",".join(augment) or None

    # -- Keras plumbing ------------------------------------------------------

    def compile(self, d_optimizer="adam", g_optimizer="adam", jit_compile=False,
                steps_per_execution=1, run_eagerly=False):
        """Sets both optimizers (TTUR: each network its own), each wrapped for
        loss scaling under `mixed_float16`. `model.optimizer` is the
        generator's, so `optimizer.iterations` (read by Keras callbacks such
        as TensorBoard) counts generator updates: steps."""
        self._compile(
            {"d_optimizer": self._loss_scaled(d_optimizer),
             "g_optimizer": self._loss_scaled(g_optimizer)},
            {"d_optimizer": self.discriminator.trainable_variables,
             "g_optimizer": self.generator.trainable_variables},
            jit_compile, steps_per_execution, run_eagerly)

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
            "r1": self.r1,
            "r2": self.r2,
            "reg_every": self.reg_every,
            "ada_target": self.ada_target,
            "ada_interval": self.ada_interval,
            "ada_kimg": self.ada_kimg,
            "grad_norms": self.grad_norms,
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        for key in ("generator", "discriminator"):
            config[key] = keras.saving.deserialize_keras_object(config[key])
        return cls(**config)

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
        DiffAugment (with ADA: each op with probability p), then annealed
        instance noise. Identity by default."""
        if self.ada_target:
            samples = tricks.ada_augment(samples, self.augment or ADA_DEFAULT_OPS, self.ada_p,
                                         self.seed_generator)
        elif self.augment:
            samples = tricks.diff_augment(samples, self.augment, self.seed_generator)
        if self.instance_noise:
            std = self.instance_noise * self.trick_scale()
            samples = tricks.instance_noise(samples, std, self.seed_generator)
        return samples

    def discriminator_loss(self, real_logits, fake_logits, real, fake, labels=None):
        """D's loss on one update's logits (`real` / `fake`: the samples as D
        saw them). With label smoothing, real targets 1 - s (annealed)."""
        if not (self.label_smoothing or self.label_noise):
            return self.loss_family.d_loss(real_logits, fake_logits)
        amount = tricks.smoothing_amounts(ops.shape(real_logits)[0], self.label_smoothing,
                                          self.label_noise, self.seed_generator)
        return self.loss_family.d_loss(real_logits, fake_logits,
                                       label_smoothing=amount * self.trick_scale())

    def generator_loss(self, fake_logits, fake, *, real_logits=None, real=None, labels=None):
        """G's loss on D's logits of its fakes; `real_logits` (of the real
        minibatch, as D saw it) are computed only for the loss families that
        use them (relativistic ones), else None."""
        return self.loss_family.generator_loss(fake_logits, real_logits)

    def d_regularizers(self, real, fake, labels=None) -> dict:
        """Named terms added to D's loss and logged under their names; `real`
        and `fake` are the samples as D saw them. Here: R1 and R2."""
        def critic(x):
            return self.discriminate(x, labels, training=True)

        terms = {}
        if self.r1:
            terms["r1"] = self._lazy(lambda: 0.5 * self.r1 * zero_centered_penalty(critic, real))
        if self.r2:
            terms["r2"] = self._lazy(lambda: 0.5 * self.r2 * zero_centered_penalty(critic, fake))
        return terms

    def _lazy(self, penalty):
        """`penalty()` on every `reg_every`-th D update, times `reg_every`,
        else 0: the same expected gradient at 1 / reg_every of the cost."""
        if self.reg_every == 1:
            return penalty()
        due = ops.equal(self.d_optimizer.iterations % self.reg_every, 0)
        return ops.cond(due, lambda: float(self.reg_every) * penalty(),
                        lambda: ops.convert_to_tensor(0.0, "float32"))

    def d_output(self, logits):
        """The mean D(x) reported as d_real / d_fake: a probability for the
        sigmoid families, the raw critic score for the others."""
        logits = ops.cast(logits, "float32")
        return ops.mean(ops.sigmoid(logits) if self.loss_family.probabilistic else logits)

    # -- the loop ------------------------------------------------------------

    def d_step(self, real, labels=None):
        """One discriminator update on a real minibatch (and its labels, for
        conditional models: the fakes get the same labels); returns metrics.
        d_loss includes the regularizers, each also logged alone."""
        z = self.sample_latents(ops.shape(real)[0])
        fake = ops.stop_gradient(self.generate(z, labels, training=True))
        # Tricks drawn once per update: the loss and the penalties see the same.
        seen_real, seen_fake = self.perturb(real), self.perturb(fake)
        variables = self.discriminator.trainable_variables
        with tf.GradientTape() as tape:
            real_logits = self.discriminate(seen_real, labels, training=True)
            fake_logits = self.discriminate(seen_fake, labels, training=True)
            loss = self.discriminator_loss(real_logits, fake_logits, real=seen_real,
                                           fake=seen_fake, labels=labels)
            terms = self.d_regularizers(seen_real, seen_fake, labels)
            loss = loss + sum(terms.values())
            scaled = self.d_optimizer.scale_loss(loss * self._replica_scale())
        norm = self._apply(self.d_optimizer, tape, scaled, variables, norm=self.grad_norms)
        ada = self.ada_observe(real_logits) if self.ada_target else {}
        return {"d_loss": loss, "d_real": self.d_output(real_logits),
                "d_fake": self.d_output(fake_logits), **terms, **ada,
                **self.grad_norm_logs("d", norm)}

    def ada_observe(self, real_logits) -> dict:
        """ADA's controller after a D update: accumulates r_t =
        E[sign(D(x_real))] over the global batch and, every `ada_interval`
        updates, moves p by `tricks.ada_adjust`. Returns what it logs."""
        (r,) = mean_over_replicas([ops.mean(ops.sign(ops.cast(real_logits, "float32")))])
        self._ada_sum.assign_add(r)
        self._ada_count.assign_add(1.0)
        due = self._ada_count >= float(self.ada_interval)
        r_t = self._ada_sum / self._ada_count
        replicas = tf.distribute.get_strategy().num_replicas_in_sync
        images = self.ada_interval * replicas * ops.shape(real_logits)[0]
        moved = tricks.ada_adjust(self.ada_p, r_t, self.ada_target, images, self.ada_kimg)
        self.ada_p.assign(ops.where(due, moved, self.ada_p))
        self._ada_sum.assign(ops.where(due, 0.0, self._ada_sum))
        self._ada_count.assign(ops.where(due, 0.0, self._ada_count))
        return {"ada_p": ops.convert_to_tensor(self.ada_p), "ada_r": r_t}

    def g_step(self, real, labels=None):
        """One generator update on fresh latents (and labels drawn by
        `sample_labels`), as many as the real minibatch `real`, which the
        loss sees through D when its family uses real logits."""
        batch_size = ops.shape(real)[0]
        z = self.sample_latents(batch_size)
        fake_labels = self.sample_labels(batch_size) if self.num_classes else None
        real_logits = None
        if self.loss_family.g_uses_real:  # no gradient to G: outside the tape
            real_logits = ops.stop_gradient(
                self.discriminate(self.perturb(real), labels, training=True))
        variables = self.generator.trainable_variables
        with tf.GradientTape() as tape:
            fake = self.generate(z, fake_labels, training=True)
            fake_logits = self.discriminate(self.perturb(fake), fake_labels, training=True)
            loss = self.generator_loss(fake_logits, fake, real_logits=real_logits, real=real,
                                       labels=fake_labels)
            scaled = self.g_optimizer.scale_loss(loss * self._replica_scale())
        norm = self._apply(self.g_optimizer, tape, scaled, variables, norm=self.grad_norms)
        return {"g_loss": loss, **self.grad_norm_logs("g", norm)}

    def grad_norm_logs(self, role: str, norm) -> dict:
        """{"<role>_grad_norm": norm} when `grad_norms` is on, else {}."""
        return {f"{role}_grad_norm": norm} if self.grad_norms else {}

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
        """One step of Goodfellow et al.'s Algorithm 1: `d_steps` discriminator
        updates, each on its own real minibatch (`split_real` cuts the fit
        batch into k), then one generator update; returns the logged means.
        Override `d_step` / `g_step` or the loss hooks, not this loop."""
        parts = self.split_real(data)
        values = {}
        for real, labels in parts:  # unrolled by tf.function: k is a Python int
            for name, value in self.d_step(real, labels).items():
                self.trackers[name].update_state(value)
        # G's update sees the last real minibatch (relativistic losses, unrolling).
        values.update(self.g_step(*parts[-1]))
        if self.ema_decay is not None:
            self.update_ema()
        return self._logs(values)

    def save_own_variables(self, store):
        super().save_own_variables(store)
        if self.ada_target:  # ADA's state resumes with everything else
            for v in (self.ada_p, self._ada_sum, self._ada_count):
                store[v.name] = keras.ops.convert_to_numpy(v)

    def load_own_variables(self, store):
        super().load_own_variables(store)
        if self.ada_target:
            for v in (self.ada_p, self._ada_sum, self._ada_count):
                if v.name in store.keys():
                    v.assign(store[v.name][...])

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
