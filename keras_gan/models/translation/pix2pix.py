"""`Pix2Pix`: paired image-to-image translation (Isola et al. 2017).

A generator G (a U-Net) maps a source image x to a target y; a conditional
PatchGAN D judges pairs (x, y) patch by patch. G minimises
`adv_weight * L_GAN + l1_weight * |y - G(x)|_1` (the paper's eq. 4, lambda
= 100): the L1 term gets the low frequencies right, D the sharp detail.

The two ablations of the paper's Table 1 are the same class:
`adv_weight=0` is the L1-only U-Net regression (no D at all) and
`l1_weight=0` the adversarial loss alone.
"""

from __future__ import annotations

import keras
import tensorflow as tf
from keras import ops

from keras_gan.models.base import GenerativeModel, check_networks
from keras_gan.models.losses import get_loss
from keras_gan.models.translation.losses import l1_loss, patch_d_loss, patch_g_loss
from keras_gan.training.distribute import step_logs


def translation_pair(data):
    """The (source, target) of a fit batch, or (a, b) of an unpaired one."""
    source, target, _ = keras.utils.unpack_x_y_sample_weight(data)
    if target is None:
        raise ValueError("translation models train on (source, target) batches: "
                         "a dataset of pairs of image batches")
    return source, target


@keras.saving.register_keras_serializable(package="keras_gan")
class Pix2Pix(GenerativeModel):
    """A U-Net generator and a conditional PatchGAN trained on pairs.

    Args:
        generator: functional model source -> target, in [-1, 1].
        discriminator: functional model [source, images] -> patch logits;
            None when `adv_weight` is 0 (the L1 baseline needs none).
        l1_weight: lambda of the L1 term (the paper's 100).
        adv_weight: weight of the adversarial term (0: L1 regression).
        loss: GAN loss family (`keras_gan.models.losses.LOSSES`); the paper's
            is the non-saturating cross-entropy.
        seed: seed of the model's `SeedGenerator` (its state is saved with
            the weights; the steps draw nothing from it today).
    """

    optimizer_names = ("d_optimizer", "g_optimizer")

    def __init__(self, generator, discriminator=None, l1_weight=100.0, adv_weight=1.0,
                 loss="non_saturating", seed=None, **kwargs):
        super().__init__(seed=seed, seed_name="pix2pix_seed", **kwargs)
        if not (float(l1_weight) >= 0 and float(adv_weight) >= 0):
            raise ValueError(f"l1_weight and adv_weight must be >= 0, got {l1_weight} "
                             f"and {adv_weight}")
        if not (l1_weight or adv_weight):
            raise ValueError("l1_weight and adv_weight are both 0: nothing to train")
        if bool(adv_weight) != (discriminator is not None):
            raise ValueError("a discriminator is needed exactly when adv_weight > 0, got "
                             f"adv_weight={adv_weight} and discriminator={discriminator!r}")
        check_networks(generator=generator, **({"discriminator": discriminator}
                                               if discriminator is not None else {}))
        self.generator = generator
        self.discriminator = discriminator
        self.l1_weight = float(l1_weight)
        self.adv_weight = float(adv_weight)
        self.loss_name = loss
        get_loss(loss)  # an unknown family fails here, named
        # Per instance: the L1 baseline has no D, so no D optimizer and no d_loss.
        if discriminator is None:
            self.optimizer_names = ("g_optimizer",)
        self.metric_names = (*(("d_loss",) if discriminator is not None else ()),
                             "g_loss", "l1")
        self._make_trackers(self.metric_names)

    def compile(self, d_optimizer="adam", g_optimizer="adam", jit_compile=False,
                steps_per_execution=1, run_eagerly=False):
        """Sets both optimizers (the GAN's convention), each wrapped for loss
        scaling under `mixed_float16`. `model.optimizer` is G's, so its
        `iterations` counts steps. Without a discriminator `d_optimizer` is
        not used (the same call compiles every translator)."""
        optimizers = {"g_optimizer": self._loss_scaled(g_optimizer)}
        variables = {"g_optimizer": self.generator.trainable_variables}
        if self.discriminator is not None:
            optimizers = {"d_optimizer": self._loss_scaled(d_optimizer), **optimizers}
            variables["d_optimizer"] = self.discriminator.trainable_variables
        self._compile(optimizers, variables, jit_compile, steps_per_execution, run_eagerly)

    def get_config(self):
        return {
            "name": self.name,
            "generator": keras.saving.serialize_keras_object(self.generator),
            "discriminator": (None if self.discriminator is None
                              else keras.saving.serialize_keras_object(self.discriminator)),
            "l1_weight": self.l1_weight,
            "adv_weight": self.adv_weight,
            "loss": self.loss_name,
            "seed": self.seed,
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        for key in ("generator", "discriminator"):
            if config[key] is not None:
                config[key] = keras.saving.deserialize_keras_object(config[key])
        return cls(**config)

    # -- the loop ------------------------------------------------------------

    def d_step(self, source, target):
        """One D update: real pairs (x, y) against fake pairs (x, G(x))."""
        fake = ops.stop_gradient(self.generator(source, training=True))
        variables = self.discriminator.trainable_variables
        with tf.GradientTape() as tape:
            real_logits = self.discriminator([source, target], training=True)
            fake_logits = self.discriminator([source, fake], training=True)
            # Halved, as in the paper (Section 3.3): D learns slower than G.
            loss = 0.5 * patch_d_loss(self.loss_name, real_logits, fake_logits)
            scaled = self.d_optimizer.scale_loss(loss * self._replica_scale())
        self._apply(self.d_optimizer, tape, scaled, variables)
        return {"d_loss": loss}

    def g_step(self, source, target):
        """One G update on fresh fakes: adversarial plus weighted L1."""
        variables = self.generator.trainable_variables
        with tf.GradientTape() as tape:
            fake = self.generator(source, training=True)
            l1 = l1_loss(target, fake)
            loss = self.l1_weight * l1
            if self.discriminator is not None:
                fake_logits = self.discriminator([source, fake], training=True)
                loss = loss + self.adv_weight * patch_g_loss(self.loss_name, fake_logits)
            scaled = self.g_optimizer.scale_loss(loss * self._replica_scale())
        self._apply(self.g_optimizer, tape, scaled, variables)
        return {"g_loss": loss, "l1": l1}

    def train_step(self, data):
        """One D update (when there is a D), then one G update, on a batch of
        (source, target) pairs in [-1, 1]."""
        source, target = translation_pair(data)
        values = self.d_step(source, target) if self.discriminator is not None else {}
        values.update(self.g_step(source, target))
        return self._logs(values)

    def test_step(self, data):
        """The L1 distance of G's translation (inference mode) to the target."""
        source, target = translation_pair(data)
        tracker = self.trackers["l1"]
        tracker.update_state(l1_loss(target, self.generator(source, training=False)))
        return step_logs({"l1": tracker.result()})
