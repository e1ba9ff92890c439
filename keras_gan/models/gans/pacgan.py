"""PacGAN: the discriminator judges packs of samples, not single samples."""

from __future__ import annotations

import keras
import tensorflow as tf
from keras import ops

from keras_gan.models.gan import GAN


def pacgan_discriminator_shape(sample_shape, pack):
    """The packed discriminator's input shape: `pack` samples concatenated
    along the last axis, (H, W, C) -> (H, W, pack * C), (D,) -> (pack * D,)."""
    sample_shape = tuple(int(s) for s in sample_shape)
    return (*sample_shape[:-1], int(pack) * sample_shape[-1])


@keras.saving.register_keras_serializable(package="keras_gan")
class PacGAN(GAN):
    """Lin et al. 2018, "PacGAN: The power of two samples in generative
    adversarial networks".

    The discriminator sees `pack` samples, all real or all fake, concatenated
    along channels (features for vectors), and returns one logit per pack. A
    generator that drops modes produces packs that are visibly less diverse
    than real ones, which penalises mode collapse. Build the discriminator
    for `PacGAN.discriminator_input_shape(sample_shape, pack)`; minibatches
    must hold a multiple of `pack` samples.

    Args:
        pack: m, samples per discriminator input (the paper uses 2 to 4).
        **kwargs: `GAN` arguments; conditional models are not supported.
    """

    def __init__(self, generator, discriminator, pack=2, **kwargs):
        if kwargs.get("num_classes"):
            raise ValueError("PacGAN does not support conditional models: a pack would "
                             "mix labels")
        if int(pack) < 1:
            raise ValueError(f"pack must be >= 1, got {pack}")
        super().__init__(generator, discriminator, **kwargs)
        self.pack = int(pack)
        expected = self.discriminator_input_shape(generator.outputs[0].shape[1:], self.pack)
        got = tuple(discriminator.inputs[0].shape[1:])
        if got != expected:
            raise ValueError(f"PacGAN(pack={self.pack}) needs a discriminator built for "
                             f"packed inputs {expected}, got one for {got}")

    @classmethod
    def discriminator_input_shape(cls, sample_shape, pack=2):
        return pacgan_discriminator_shape(sample_shape, pack)

    def pack_samples(self, samples):
        """(B, ..., C) -> (B / pack, ..., pack * C): consecutive samples form a pack."""
        m = self.pack
        batch = samples.shape[0]
        if batch is not None and batch % m:
            raise ValueError(f"PacGAN needs minibatches divisible by pack={m}, got {batch}")
        if batch is None:  # only known when the step runs
            check = tf.debugging.assert_equal(
                ops.shape(samples)[0] % m, 0,
                message=f"PacGAN needs minibatches divisible by pack={m}")
            with tf.control_dependencies([check]):
                samples = tf.identity(samples)
        sample_shape = tuple(samples.shape[1:])
        rank = len(sample_shape)
        x = ops.reshape(samples, (-1, m, *sample_shape))
        # (B/m, m, ..., C) -> (B/m, ..., m, C): the pack axis next to the channels.
        x = ops.transpose(x, (0, *range(2, rank + 1), 1, rank + 1))
        return ops.reshape(x, (-1, *sample_shape[:-1], m * sample_shape[-1]))

    def discriminate(self, samples, labels=None, training=True):
        return self.discriminator(self.pack_samples(samples), training=training)

    def get_config(self):
        return {**super().get_config(), "pack": self.pack}
