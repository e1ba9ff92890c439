"""`CycleGAN`: unpaired image-to-image translation (Zhu et al. 2017).

Two generators, G: A -> B and F: B -> A, and two PatchGANs, D_A (real a
vs F(b)) and D_B (real b vs G(a)). The generators minimise

    L_GAN(G, D_B) + L_GAN(F, D_A) + cycle_weight * (|F(G(a)) - a|_1 + |G(F(b)) - b|_1)
                                  + identity_weight * (|G(b) - b|_1 + |F(a) - a|_1)

with the least-squares GAN loss (Section 4 of the paper). The batches of
A and B need not be paired: each step takes an a-batch and a b-batch.
"""

from __future__ import annotations

import keras
import tensorflow as tf

from keras_gan.models.base import GenerativeModel, check_networks
from keras_gan.models.translation.history import FakeHistory
from keras_gan.models.translation.losses import (
    cycle_loss,
    cyclegan_g_adv_loss,
    identity_loss,
    patch_d_loss,
)
from keras_gan.models.translation.pix2pix import translation_pair


@keras.saving.register_keras_serializable(package="keras_gan")
class CycleGAN(GenerativeModel):
    """Two generators and two discriminators trained on unpaired batches.

    `model(a)` is G(a); `translate(x, "ba")` is F(x).

    Args:
        generator: G, functional model A -> B (exported and sampled).
        generator_ba: F, functional model B -> A.
        discriminator_a, discriminator_b: PatchGANs on one image of A / B.
        cycle_weight: lambda of the cycle terms (the paper's 10).
        identity_weight: weight of the identity terms; None is the paper's
            0.5 * cycle_weight. Needs A and B with the same channels.
        history_size: fakes kept for each D (the paper's 50; 0: none).
        seed: seed of the model's `SeedGenerator`, the history's draws.
    """

    metric_names = ("g_loss", "d_a_loss", "d_b_loss", "cycle", "identity")
    optimizer_names = ("d_optimizer", "g_optimizer")

    def __init__(self, generator, generator_ba, discriminator_a, discriminator_b,
                 cycle_weight=10.0, identity_weight=None, history_size=50, seed=None,
                 **kwargs):
        super().__init__(seed=seed, seed_name="cyclegan_seed", **kwargs)
        check_networks(generator=generator, generator_ba=generator_ba,
                       discriminator_a=discriminator_a, discriminator_b=discriminator_b)
        shape_a = tuple(generator.inputs[0].shape[1:])
        shape_b = tuple(generator.outputs[0].shape[1:])
        if (tuple(generator_ba.inputs[0].shape[1:]) != shape_b
                or tuple(generator_ba.outputs[0].shape[1:]) != shape_a):
            raise ValueError(f"generator maps {shape_a} -> {shape_b}; generator_ba must map "
                             f"back, got {tuple(generator_ba.inputs[0].shape[1:])} -> "
                             f"{tuple(generator_ba.outputs[0].shape[1:])}")
        identity_weight = 0.5 * cycle_weight if identity_weight is None else identity_weight
        if not (float(cycle_weight) >= 0 and float(identity_weight) >= 0):
            raise ValueError(f"cycle_weight and identity_weight must be >= 0, got "
                             f"{cycle_weight} and {identity_weight}")
        if identity_weight and shape_a[-1] != shape_b[-1]:
            raise ValueError(f"the identity terms feed B images to G: A and B need the same "
                             f"channels, got {shape_a[-1]} and {shape_b[-1]}; "
                             "pass identity_weight=0")
        self.generator = generator
        self.generator_ba = generator_ba
        self.discriminator_a = discriminator_a
        self.discriminator_b = discriminator_b
        self.cycle_weight = float(cycle_weight)
        self.identity_weight = float(identity_weight)
        self.history_size = int(history_size)
        self.history_a = FakeHistory(self.history_size, shape_a, name="history_a")
        self.history_b = FakeHistory(self.history_size, shape_b, name="history_b")
        self._make_trackers(self.metric_names)

    def translate(self, x, direction="ab", training=False):
        """G(x) for direction "ab" (A to B), F(x) for "ba"."""
        if direction == "ab":
            return self.generator(x, training=training)
        if direction == "ba":
            return self.generator_ba(x, training=training)
        raise ValueError(f"direction must be 'ab' or 'ba', got {direction!r}")

    def _generators(self):
        return self.generator.trainable_variables + self.generator_ba.trainable_variables

    def _discriminators(self):
        return (self.discriminator_a.trainable_variables
                + self.discriminator_b.trainable_variables)

    def compile(self, d_optimizer="adam", g_optimizer="adam", jit_compile=False,
                steps_per_execution=1, run_eagerly=False):
        """One optimizer for both discriminators, one for both generators
        (the reference code's), each wrapped for loss scaling under
        `mixed_float16`; `model.optimizer` is the generators', counting steps."""
        self._compile(
            {"d_optimizer": self._loss_scaled(d_optimizer),
             "g_optimizer": self._loss_scaled(g_optimizer)},
            {"d_optimizer": self._discriminators(), "g_optimizer": self._generators()},
            jit_compile, steps_per_execution, run_eagerly)

    def get_config(self):
        networks = ("generator", "generator_ba", "discriminator_a", "discriminator_b")
        return {
            "name": self.name,
            **{key: keras.saving.serialize_keras_object(getattr(self, key))
               for key in networks},
            "cycle_weight": self.cycle_weight,
            "identity_weight": self.identity_weight,
            "history_size": self.history_size,
            "seed": self.seed,
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        for key in ("generator", "generator_ba", "discriminator_a", "discriminator_b"):
            config[key] = keras.saving.deserialize_keras_object(config[key])
        return cls(**config)

    # -- the loop ------------------------------------------------------------

    def g_step(self, a, b):
        """One update of G and F together; returns the metrics and the fakes
        (G(a), F(b)) for D's update."""
        with tf.GradientTape() as tape:
            fake_b = self.generator(a, training=True)
            fake_a = self.generator_ba(b, training=True)
            adv = (cyclegan_g_adv_loss(self.discriminator_b(fake_b, training=True))
                   + cyclegan_g_adv_loss(self.discriminator_a(fake_a, training=True)))
            cycle = (cycle_loss(a, self.generator_ba(fake_b, training=True))
                     + cycle_loss(b, self.generator(fake_a, training=True)))
            loss = adv + self.cycle_weight * cycle
            identity = tf.constant(0.0)
            if self.identity_weight:
                identity = (identity_loss(b, self.generator(b, training=True))
                            + identity_loss(a, self.generator_ba(a, training=True)))
                loss = loss + self.identity_weight * identity
            scaled = self.g_optimizer.scale_loss(loss * self._replica_scale())
        self._apply(self.g_optimizer, tape, scaled, self._generators())
        return {"g_loss": loss, "cycle": cycle, "identity": identity}, fake_a, fake_b

    def d_step(self, a, b, fake_a, fake_b):
        """One update of D_A and D_B together, each on real images against
        fakes drawn through its history (the newest or older ones)."""
        fake_a = self.history_a.query(fake_a, self.seed_generator)
        fake_b = self.history_b.query(fake_b, self.seed_generator)
        with tf.GradientTape() as tape:
            # The least-squares family: 1/2 E[(D(x) - 1)^2] + 1/2 E[D(fake)^2],
            # the paper's D objective divided by 2.
            d_a = patch_d_loss("least_squares", self.discriminator_a(a, training=True),
                               self.discriminator_a(fake_a, training=True))
            d_b = patch_d_loss("least_squares", self.discriminator_b(b, training=True),
                               self.discriminator_b(fake_b, training=True))
            scaled = self.d_optimizer.scale_loss((d_a + d_b) * self._replica_scale())
        self._apply(self.d_optimizer, tape, scaled, self._discriminators())
        return {"d_a_loss": d_a, "d_b_loss": d_b}

    def train_step(self, data):
        """One update of both generators, then one of both discriminators on
        the generators' fakes (the reference code's order), on a batch (a, b)."""
        a, b = translation_pair(data)
        values, fake_a, fake_b = self.g_step(a, b)
        values.update(self.d_step(a, b, fake_a, fake_b))
        return self._logs(values)
