"""Unrolled GAN: the generator plays against a discriminator K steps ahead."""

from __future__ import annotations

import keras
import tensorflow as tf
from keras import ops

from keras_gan.models.gan import GAN
from keras_gan.training.distribute import mean_over_replicas


@keras.saving.register_keras_serializable(package="keras_gan")
class UnrolledGAN(GAN):
    """Metz et al. 2016, "Unrolled Generative Adversarial Networks".

    The generator's loss is f(theta_G, theta_D^K), where theta_D^K comes from
    K discriminator updates starting at the current theta_D, and its gradient
    is taken THROUGH those updates (the paper's surrogate objective): the
    generator sees how the discriminator would react to it, which damps mode
    hopping. The unrolled updates are plain gradient descent (not the d
    optimizer's Adam) so that they stay a simple differentiable function of
    theta_G; they run on copies via `stateless_call`, so `g_step` leaves the
    discriminator's variables untouched.

    They use the real minibatch `g_step` receives (the step's last) and the
    same fakes as the generator's loss, so G runs once per step. A conditional model gives its
    fakes that minibatch's labels. The unrolled discriminator is called
    through `stateless_call`, bypassing a `discriminate` override.

    Args:
        unroll_steps: K (the paper compares 0 to 10); 0 is the plain GAN.
        unroll_learning_rate: step size of the unrolled updates; None uses
            the d optimizer's current learning rate. SGD moves weights by
            lr * grad where Adam moves them by about lr, so values well above
            an Adam rate may be needed for the unrolling to matter.
        **kwargs: `GAN` arguments.
    """

    def __init__(self, generator, discriminator, unroll_steps=5, unroll_learning_rate=None,
                 **kwargs):
        super().__init__(generator, discriminator, **kwargs)
        if int(unroll_steps) < 0:
            raise ValueError(f"unroll_steps must be >= 0, got {unroll_steps}")
        self.unroll_steps = int(unroll_steps)
        self.unroll_learning_rate = (None if unroll_learning_rate is None
                                     else float(unroll_learning_rate))

    def _critic(self, trainable, non_trainable, samples, labels):
        inputs = [samples, labels] if self.num_classes else samples
        return self.discriminator.stateless_call(trainable, non_trainable, inputs,
                                                 training=True)

    def g_step(self, real, labels=None):
        if not self.unroll_steps:
            return super().g_step(real, labels)
        batch_size = ops.shape(real)[0]
        lr = self.unroll_learning_rate
        if lr is None:
            lr = ops.cast(self.d_optimizer.learning_rate, "float32")
        z = self.sample_latents(batch_size)
        variables = self.generator.trainable_variables
        # Tensors, not variables: the unrolled weights are values in the graph.
        d_vars = [tf.convert_to_tensor(v) for v in self.discriminator.trainable_variables]
        state = [tf.convert_to_tensor(v) for v in self.discriminator.non_trainable_variables]
        with tf.GradientTape() as tape:
            fake = self.generate(z, labels, training=True)
            # Tricks (noise, DiffAugment) drawn once and shared by the unrolled
            # steps and the final critic call, as D's own step would see them.
            seen_real, seen_fake = self.perturb(real), self.perturb(fake)
            for _ in range(self.unroll_steps):
                # Recorded by the outer tape: theta_D^{k+1} depends on theta_G
                # through `fake`, and that is the path the gradient takes.
                with tf.GradientTape() as inner:
                    inner.watch(d_vars)
                    real_logits, state = self._critic(d_vars, state, seen_real, labels)
                    fake_logits, state = self._critic(d_vars, state, seen_fake, labels)
                    d_loss = self.discriminator_loss(real_logits, fake_logits, real=seen_real,
                                                     fake=seen_fake, labels=labels)
                # The d optimizer all-reduces its gradients, these plain steps
                # must too: each replica holds only its share of the batch.
                grads = mean_over_replicas(inner.gradient(d_loss, d_vars))
                d_vars = [v if g is None else v - ops.cast(lr, v.dtype) * g
                          for v, g in zip(d_vars, grads, strict=True)]
            fake_logits, _ = self._critic(d_vars, state, seen_fake, labels)
            real_logits = None
            if self.loss_family.g_uses_real:
                real_logits, _ = self._critic(d_vars, state, seen_real, labels)
            loss = self.generator_loss(fake_logits, fake, real_logits=real_logits, real=real,
                                       labels=labels)
            scaled = self.g_optimizer.scale_loss(loss * self._replica_scale())
        norm = self._apply(self.g_optimizer, tape, scaled, variables, norm=self.grad_norms)
        return {"g_loss": loss, **self.grad_norm_logs("g", norm)}

    def get_config(self):
        return {**super().get_config(), "unroll_steps": self.unroll_steps,
                "unroll_learning_rate": self.unroll_learning_rate}
