"""`VAE`: the variational autoencoder of Kingma & Welling 2014, the GANs' baseline.

An encoder q(z|x) = N(z_mean, exp(z_log_var)) and a decoder p(x|z) trained
together by maximising the evidence lower bound (ELBO) with the
reparameterisation trick (their Section 2.4): z = mean + sigma * eps.

The decoder is a keras-gan generator (built by `keras_gan.models.networks`, input
"z", float32 output in [-1, 1] for images), exposed as `vae.generator`, so
sampling from the prior, the sample grids, the exporter and the metrics treat
a VAE exactly like a GAN. `model.optimizer` counts steps as the GAN's does.

Likelihood: a Gaussian with fixed standard deviation `RECON_SIGMA` around the
decoder's output (see `reconstruction_loss`), not the Bernoulli of the paper's
MNIST experiments: the data are [-1, 1] images and unbounded 2D points, and
the decoder ends in tanh (images) or is linear (points); one squared-error
term fits both without changing the generator contract.
"""

from __future__ import annotations

import math

import keras
import tensorflow as tf
from keras import layers, ops

from keras_gan.models.base import GenerativeModel, check_networks
from keras_gan.models.networks import (
    _check_image_shape,
    _down_block,
    _resnet_stages,
    build_dcgan_generator,
    build_mlp_generator,
    build_resnet_generator,
    dcgan_upsamplings,
    resnet_filters,
    resolve_arch,
)
from keras_gan.models.variant import Option, Variant

# sigma of p(x|z) = N(decoder(z), sigma^2 I), in data units, for [-1, 1]
# images (0.5 on [0, 1] pixels): the loss is then half the summed squared
# error. sigma sets how many nats a reconstruction is worth against the KL.
# On the embedded MNIST digits (latent 64, width 32, 1,600-4,000 steps of 64),
# sigma 0.1-0.3 reconstructs almost perfectly but spends 80-170 nats of KL
# and leaves holes in latent space: prior samples are stroke soup. 0.5-0.7
# gives digit-like shapes, and 1.0 (KL ~21 nats, the order of a Bernoulli
# VAE's on MNIST) the most recognisable, if blurred, digits. 2D points need sigma
# near their modes' scale (about 0.03-0.1 for `ring`): pass `sigma`.
RECON_SIGMA = 1.0


def gaussian_kl(z_mean, z_log_var):
    """KL(N(mean, exp(log_var)) || N(0, I)) per example, summed over latent dims.

    The closed form of Kingma & Welling 2014, Appendix B:
    -1/2 * sum(1 + log_var - mean^2 - exp(log_var)).

    Args:
        z_mean: (batch, latent_dim).
        z_log_var: (batch, latent_dim), log of the diagonal variance.

    Returns:
        float32 (batch,).
    """
    z_mean = ops.cast(z_mean, "float32")
    z_log_var = ops.cast(z_log_var, "float32")
    return 0.5 * ops.sum(ops.square(z_mean) + ops.exp(z_log_var) - 1.0 - z_log_var, axis=-1)


def reconstruction_loss(x, x_hat, sigma=RECON_SIGMA):
    """-log p(x|z) per example for p(x|z) = N(x_hat, sigma^2 I), up to a constant.

    sum over all values of (x - x_hat)^2 / (2 sigma^2); the constant
    D * log(sigma * sqrt(2 pi)) is left out (it has no gradient), so the loss
    is the negative ELBO shifted by that constant.

    Args:
        x: data, (batch, ...).
        x_hat: decoder output, same shape.
        sigma: the likelihood's fixed standard deviation, in data units.

    Returns:
        float32 (batch,).
    """
    error = ops.cast(x, "float32") - ops.cast(x_hat, "float32")
    error = ops.reshape(error, (ops.shape(error)[0], -1))
    return ops.sum(ops.square(error), axis=-1) / (2.0 * sigma**2)


def build_encoder(sample_shape, latent_dim: int, width: int, arch: str = "auto",
                  depth: int = 2, name: str = "encoder") -> keras.Model:
    """sample -> (z_mean, z_log_var), each float32 (latent_dim,).

    The body is the matching discriminator's (`keras_gan.models.networks`): strided
    convolutions and LeakyReLU for images ("dcgan"), down-sampling residual
    blocks and global sum pooling ("resnet", without spectral norm), Dense
    and LeakyReLU for "mlp"; two Dense heads replace its logit.

    Args:
        sample_shape: (H, W, C) images or (D,) vectors.
        latent_dim: size of z.
        width: filters of the first stage (each later one doubles; half of
            it for "resnet", as its discriminator), or the units of each
            hidden Dense layer for "mlp".
        arch: "dcgan", "resnet", "mlp" or "auto" (`resolve_arch`'s choice).
        depth: hidden Dense layers of the "mlp" body.
    """
    sample_shape = tuple(int(s) for s in sample_shape)
    arch = resolve_arch(arch, sample_shape)
    x = inputs = keras.Input(sample_shape, name="images")
    if arch == "dcgan":
        h, _, _ = _check_image_shape(sample_shape)
        filters = width
        for _ in range(dcgan_upsamplings(h)):
            x = layers.Conv2D(filters, 4, strides=2, padding="same")(x)
            x = layers.LeakyReLU(0.2)(x)
            filters *= 2
        x = layers.Flatten()(x)
    elif arch == "resnet":
        _, _, n, seed = _resnet_stages(sample_shape)
        for i in range(n):
            x = _down_block(x, resnet_filters(width) * 2**i, False, first=i == 0,
                            name=f"down{i + 1}")
        x = layers.ReLU()(x)
        x = layers.GlobalAveragePooling2D()(x)
        x = layers.Rescaling(float(seed * seed), name="global_sum")(x)
    elif arch == "mlp":
        x = layers.Flatten()(x)
        for _ in range(depth):
            x = layers.Dense(width)(x)
            x = layers.LeakyReLU(0.2)(x)
    else:
        raise ValueError(f"unknown arch {arch!r}; choose auto, dcgan, resnet or mlp")
    # float32 heads: exp(log_var) and the KL overflow or lose precision in float16.
    z_mean = layers.Dense(latent_dim, dtype="float32", name="z_mean")(x)
    z_log_var = layers.Dense(latent_dim, dtype="float32", name="z_log_var")(x)
    return keras.Model(inputs, [z_mean, z_log_var], name=name)


@keras.saving.register_keras_serializable(package="keras_gan")
class VAE(GenerativeModel):
    """An encoder and a decoder (`generator`) trained on the ELBO.

    Args:
        encoder: functional model sample -> (z_mean, z_log_var).
        generator: the decoder, a keras-gan generator z (latent_dim,) -> sample.
        latent_dim: size of z; read from the generator's input if None.
        seed: seed of the model's `SeedGenerator` (the reparameterisation
            noise); its state is saved with the weights, as the GAN's is.
        beta: weight of the KL term; 1 is the ELBO, other values the
            beta-VAE of Higgins et al. 2017.
        sigma: fixed standard deviation of the Gaussian likelihood p(x|z),
            in data units (see `RECON_SIGMA`).
    """

    metric_names = ("loss", "recon", "kl")
    # The VAE is unconditional; the training glue reads this as it does GAN's.
    num_classes = None

    def __init__(self, encoder, generator, latent_dim=None, seed=None, beta=1.0,
                 sigma=RECON_SIGMA, **kwargs):
        super().__init__(seed=seed, seed_name="vae_seed", **kwargs)
        check_networks(encoder=encoder, generator=generator)
        if [i.name for i in generator.inputs] != ["z"]:
            raise ValueError("the VAE's generator must take z alone, got inputs "
                             f"{[i.name for i in generator.inputs]}")
        latent_dim = int(latent_dim or generator.inputs[0].shape[-1])
        heads = [tuple(o.shape[1:]) for o in encoder.outputs]
        if heads != [(latent_dim,), (latent_dim,)]:
            raise ValueError(f"encoder must output (z_mean, z_log_var), each ({latent_dim},), "
                             f"got {heads}")
        if tuple(encoder.inputs[0].shape[1:]) != tuple(generator.outputs[0].shape[1:]):
            raise ValueError(f"encoder input {tuple(encoder.inputs[0].shape[1:])} and "
                             f"generator output {tuple(generator.outputs[0].shape[1:])} differ")
        if not float(beta) >= 0:
            raise ValueError(f"beta must be >= 0, got {beta}")
        if not float(sigma) > 0:
            raise ValueError(f"sigma must be > 0, got {sigma}")
        self.encoder = encoder
        self.generator = generator
        self.latent_dim = latent_dim
        self.beta = float(beta)
        self.sigma = float(sigma)
        self._make_trackers(self.metric_names)

    def _variables(self):
        return self.encoder.trainable_variables + self.generator.trainable_variables

    def compile(self, optimizer="adam", jit_compile=False, steps_per_execution=1,
                run_eagerly=False):
        """Sets the one optimizer of both networks (they minimise one loss).

        Under `mixed_float16` it is wrapped in a `LossScaleOptimizer`, as
        `GAN.compile` does.
        """
        optimizer = self._loss_scaled(optimizer, initial_scale=self._initial_loss_scale())
        # One update per step, so model.optimizer.iterations counts steps.
        self._compile({"optimizer": optimizer}, {"optimizer": self._variables()},
                      jit_compile, steps_per_execution, run_eagerly)

    def _initial_loss_scale(self):
        # Keras's initial scale, 2^15, suits losses of order one, like the
        # GAN's. This loss sums D values weighted 1 / (2 sigma^2), and from
        # 2^15 its float16 gradients overflow for about log2(D / 2 sigma^2)
        # steps, steps the LossScaleOptimizer skips and optimizer.iterations
        # does not count. Start that much lower (a power of two, so scaling
        # stays exact); the scale still grows when the gradients allow.
        d = math.prod(self.generator.outputs[0].shape[1:])
        return 2.0 ** min(15, math.floor(math.log2(2.0**15 * 2 * self.sigma**2 / d)))

    def get_config(self):
        return {
            "name": self.name,
            "encoder": keras.saving.serialize_keras_object(self.encoder),
            "generator": keras.saving.serialize_keras_object(self.generator),
            "latent_dim": self.latent_dim,
            "seed": self.seed,
            "beta": self.beta,
            "sigma": self.sigma,
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        for key in ("encoder", "generator"):
            config[key] = keras.saving.deserialize_keras_object(config[key])
        return cls(**config)

    # -- the loop ------------------------------------------------------------

    def reparameterize(self, z_mean, z_log_var):
        """z = mean + exp(log_var / 2) * eps, eps ~ N(0, I) from the model's RNG:
        a sample of q(z|x) that gradients flow through (Kingma & Welling 2014, 2.4)."""
        eps = keras.random.normal(ops.shape(z_mean), seed=self.seed_generator)
        return z_mean + ops.exp(0.5 * z_log_var) * eps

    def train_step(self, data):
        x, _, _ = keras.utils.unpack_x_y_sample_weight(data)  # labels are not used
        variables = self._variables()
        with tf.GradientTape() as tape:
            z_mean, z_log_var = self.encoder(x, training=True)
            z = self.reparameterize(z_mean, z_log_var)
            x_hat = self.generator(z, training=True)
            recon = ops.mean(reconstruction_loss(x, x_hat, self.sigma))
            kl = ops.mean(gaussian_kl(z_mean, z_log_var))
            loss = recon + self.beta * kl  # the negative ELBO (beta = 1), batch mean
            scaled = self.optimizer.scale_loss(loss * self._replica_scale())
        self._apply(self.optimizer, tape, scaled, variables)
        return self._logs({"loss": loss, "recon": recon, "kl": kl})


def build_vae(arch: str, latent_dim: int, sample_shape, width: int, depth: int = 2,
              seed=None, beta: float = 1.0, sigma: float = RECON_SIGMA) -> VAE:
    """An uncompiled VAE for samples of `sample_shape`.

    The decoder is `keras_gan.models.networks`' generator of `arch` (so it keeps the
    generator contract), the encoder `build_encoder`'s of the same arch.
    `arch="auto"` picks as the GANs do (`keras_gan.models.networks.resolve_arch`).
    """
    sample_shape = tuple(int(s) for s in sample_shape)
    arch = resolve_arch(arch, sample_shape)
    if arch == "dcgan":
        if len(sample_shape) != 3:
            raise ValueError(f"arch 'dcgan' needs images (H, W, C), got {sample_shape}; "
                             "use arch 'mlp' for vectors")
        generator = build_dcgan_generator(latent_dim, sample_shape, width)
    elif arch == "resnet":
        if len(sample_shape) != 3:
            raise ValueError(f"arch 'resnet' needs images (H, W, C), got {sample_shape}")
        generator = build_resnet_generator(latent_dim, sample_shape, width)
    elif arch == "mlp":
        generator = build_mlp_generator(latent_dim, sample_shape, width, depth)
    else:
        raise ValueError(f"unknown arch {arch!r}; choose auto, dcgan, resnet or mlp")
    encoder = build_encoder(sample_shape, latent_dim, width, arch, depth)
    return VAE(encoder, generator, latent_dim=latent_dim, seed=seed, beta=beta, sigma=sigma)


class VaeVariant(Variant):
    """`--gan vae`: the comparison baseline through the same training glue.
    One optimizer (the g_* settings), no discriminator; GAN tricks do not
    apply to it."""

    def __init__(self):
        super().__init__(
            "vae", None, "Kingma & Welling 2014 VAE, the baseline to compare with", VAE,
            options={"beta": Option(1.0, "weight of the KL term (beta-VAE)",
                                     lambda v: v >= 0, ">= 0"),
                     "sigma": Option(None, "std of the Gaussian likelihood p(x|z) in data "
                                      "units (null: 1.0 for images, 0.1 for points)",
                                      lambda v: v > 0, "> 0", type=float)})

    def build(self, *, arch, sample_shape, plan, latent_dim, width, depth, spectral_norm,
              options, seed=None, **unused):
        # Points need a sharper likelihood than [-1, 1] images (sigma study above).
        sigma = options["sigma"] or (0.1 if len(sample_shape) == 1 else RECON_SIGMA)
        return build_vae(arch, latent_dim, sample_shape, width, depth, seed=seed,
                         beta=options["beta"], sigma=sigma)

    def compile(self, model, optimizer, *, d_steps, jit_compile, steps_per_execution):
        model.compile(optimizer("g", 1), jit_compile=jit_compile,
                      steps_per_execution=steps_per_execution)

    def sampler(self, model, ema: bool = True):
        return model.generator
