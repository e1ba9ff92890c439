"""Wasserstein GANs: weight clipping (WGAN) and gradient penalty (WGAN-GP).

Both train a critic f on the Wasserstein loss E[f(G(z))] - E[f(x)]; they
differ in how they keep f (roughly) 1-Lipschitz, which the Kantorovich-
Rubinstein duality behind that loss requires.
"""

from __future__ import annotations

import keras
from keras import ops

from keras_gan.models.gan import GAN
from keras_gan.models.penalties import gradient_penalty

__all__ = ["WGAN", "WGANGP", "gradient_penalty"]


@keras.saving.register_keras_serializable(package="keras_gan")
class WGAN(GAN):
    """Arjovsky et al. 2017, "Wasserstein GAN": clip the critic's weights.

    After every critic update each critic weight is clipped to
    [-clip_value, clip_value], which bounds the critic's Lipschitz constant
    (crudely: the paper calls it "a clearly terrible way" to do so).

    Args:
        clip_value: c of the paper (0.01). The paper also uses RMSprop with
            learning rate 5e-5 and n_critic = 5 (`d_steps=5`).
        **kwargs: `GAN` arguments.
    """

    def __init__(self, generator, discriminator, clip_value=0.01, **kwargs):
        super().__init__(generator, discriminator, **kwargs)
        if not float(clip_value) > 0:
            raise ValueError(f"clip_value must be > 0, got {clip_value}")
        self.clip_value = float(clip_value)

    def d_step(self, real, labels=None):
        metrics = super().d_step(real, labels)
        # Ordered after the optimizer's update: tf.function serialises the
        # stateful ops on each variable in program order.
        c = self.clip_value
        for v in self.discriminator.trainable_variables:
            v.assign(ops.clip(v, -c, c))
        return metrics

    def get_config(self):
        return {**super().get_config(), "clip_value": self.clip_value}


@keras.saving.register_keras_serializable(package="keras_gan")
class WGANGP(GAN):
    """Gulrajani et al. 2017, "Improved Training of Wasserstein GANs".

    Adds gp_weight * E[(||grad_xhat D(xhat)||_2 - 1)^2] to the critic's loss,
    xhat uniform on lines between real and fake samples (eps ~ U[0, 1] per
    sample). Logs that term (weight included) as "gp", so d_loss - gp is the
    critic's Wasserstein loss. The paper uses Adam 1e-4, betas (0, 0.9),
    n_critic = 5, and a critic without batch norm.

    Args:
        gp_weight: lambda of the paper (10).
        **kwargs: `GAN` arguments.
    """

    metric_names = (*GAN.metric_names, "gp")

    def __init__(self, generator, discriminator, gp_weight=10.0, **kwargs):
        super().__init__(generator, discriminator, **kwargs)
        if not float(gp_weight) >= 0:
            raise ValueError(f"gp_weight must be >= 0, got {gp_weight}")
        self.gp_weight = float(gp_weight)

    def d_regularizers(self, real, fake, labels=None):
        shape = (ops.shape(real)[0],) + (1,) * (len(real.shape) - 1)
        eps = keras.random.uniform(shape, seed=self.seed_generator)
        gp = self.gp_weight * gradient_penalty(
            lambda x: self.discriminate(x, labels, training=True), real, fake, eps)
        return {**super().d_regularizers(real, fake, labels), "gp": gp}

    def get_config(self):
        return {**super().get_config(), "gp_weight": self.gp_weight}
