"""Gradient penalties on the discriminator's input gradient.

Each takes the critic as a callable (samples -> logits (B, 1)) and computes
its own forward pass on the points it penalises, inside the caller's
`GradientTape`: the penalty's gradient w.r.t. the critic's weights is then
a double backprop. Values are float32 means over the batch.

- `gradient_penalty`: WGAN-GP's (||grad|| - 1)^2 on lines between real and
  fake samples (Gulrajani et al. 2017).
- `zero_centered_penalty`: E ||grad||^2 at the given points; R1 on real
  samples, R2 on fakes (Mescheder et al. 2018, "Which training methods for
  GANs do actually converge?"), weighted gamma / 2 by the caller.
"""

from __future__ import annotations

import tensorflow as tf
from keras import ops


def input_gradients(critic, x):
    """(B, prod(sample shape)) float32: d critic(x_i) / d x_i per sample.

    Each score depends only on its own sample, so the gradient of the sum is
    the per-sample gradient (true of keras-gan's discriminators, which have
    no batch norm; in a PacGAN pack each sample gets the gradient of the
    pack's score w.r.t. itself).
    """
    x = ops.cast(x, "float32")
    with tf.GradientTape() as tape:
        tape.watch(x)
        total = ops.sum(ops.cast(critic(x), "float32"))
    grads = tape.gradient(total, x)
    return ops.reshape(grads, (ops.shape(grads)[0], -1))


def zero_centered_penalty(critic, x):
    """E_x ||grad_x critic(x)||^2 over the batch `x`."""
    return ops.mean(ops.sum(ops.square(input_gradients(critic, x)), axis=1))


def gradient_penalty(critic, real, fake, eps):
    """E[(||grad_xhat critic(xhat)||_2 - 1)^2] at xhat = eps x + (1 - eps) G(z).

    Args:
        critic: callable xhat -> scores (batch, 1).
        real, fake: (batch, ...) samples.
        eps: (batch, 1, ..., 1) mixing weights in [0, 1].
    """
    real, fake = ops.cast(real, "float32"), ops.cast(fake, "float32")
    grads = input_gradients(critic, eps * real + (1.0 - eps) * fake)
    # The 1e-12 keeps the norm's gradient finite where grads = 0 (sqrt'(0) = inf).
    norms = ops.sqrt(ops.sum(ops.square(grads), axis=1) + 1e-12)
    return ops.mean(ops.square(norms - 1.0))
