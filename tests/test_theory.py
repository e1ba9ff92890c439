"""The theory of Goodfellow et al. 2014 as tests, on 1D Gaussians.

- Proposition 1: for a fixed G the optimal discriminator is
  D*(x) = p(x) / (p(x) + pg(x)), and a trained network approaches it;
- Theorem 1: V(D*, G) = 2 JSD(p || pg) - log 4, minimal (-log 4) at pg = p;
- Section 3: when D confidently rejects fakes, log(1 - D(G(z))) saturates and
  -log D(G(z)) does not.
"""

import keras
import numpy as np
import pytest
import tensorflow as tf
from scipy import integrate, stats

from keras_gan.models.losses import minimax_d_loss, minimax_g_loss, non_saturating_g_loss
from keras_gan.models.networks import build_mlp_discriminator, build_mlp_generator

P_MEAN, PG_MEAN = -1.0, 1.0  # data p = N(-1, 1), fixed generator pg = N(1, 1)


def optimal_d(x, pg_mean=PG_MEAN):
    p, pg = stats.norm.pdf(x, P_MEAN), stats.norm.pdf(x, pg_mean)
    return p / (p + pg)


def jsd(pg_mean=PG_MEAN):
    """JSD(p || pg) by quadrature: (KL(p || m) + KL(pg || m)) / 2, m the mixture."""
    def integrand(x):
        p, pg = stats.norm.pdf(x, P_MEAN), stats.norm.pdf(x, pg_mean)
        m = (p + pg) / 2
        return 0.5 * (p * np.log(p / m) + pg * np.log(pg / m))

    return integrate.quad(integrand, -20, 20, points=[P_MEAN, pg_mean])[0]


@pytest.mark.parametrize("pg_mean", [PG_MEAN, P_MEAN, 3.0])
def test_value_at_optimal_discriminator_is_2jsd_minus_log4(pg_mean):
    """Theorem 1's C(G) = V(D*, G), by integration on a fine grid."""
    x = np.linspace(-20, 20, 400_001)
    # log D* and log(1 - D*) from log densities: D* rounds to 0 or 1 in the tails.
    log_p, log_pg = stats.norm.logpdf(x, P_MEAN), stats.norm.logpdf(x, pg_mean)
    log_mix = np.logaddexp(log_p, log_pg)
    value = np.trapezoid(np.exp(log_p) * (log_p - log_mix)
                         + np.exp(log_pg) * (log_pg - log_mix), x)
    assert value == pytest.approx(2 * jsd(pg_mean) - np.log(4), abs=1e-3)
    if pg_mean == P_MEAN:  # the global minimum: D* = 1/2, C(G) = -log 4
        np.testing.assert_allclose(optimal_d(x, pg_mean), 0.5)
        assert value == pytest.approx(-np.log(4), abs=1e-6)


def test_trained_discriminator_approaches_optimum():
    keras.utils.set_random_seed(0)
    d = build_mlp_discriminator((1,), width=16, depth=1)
    optimizer = keras.optimizers.Adam(keras.optimizers.schedules.ExponentialDecay(
        1e-2, decay_steps=500, decay_rate=0.5))
    noise = tf.random.Generator.from_seed(0)

    @tf.function
    def step():
        # Fresh samples every step: D maximises V itself, not a finite sample's.
        real = noise.normal((512, 1), mean=P_MEAN)
        fake = noise.normal((512, 1), mean=PG_MEAN)
        with tf.GradientTape() as tape:
            loss = minimax_d_loss(d(real, training=True), d(fake, training=True))
        grads = tape.gradient(loss, d.trainable_variables)
        optimizer.apply_gradients(zip(grads, d.trainable_variables, strict=True))

    for _ in range(2500):
        step()

    def prob(x):
        logits = d(x.reshape(-1, 1).astype("float32"), training=False).numpy()
        return 1 / (1 + np.exp(-logits[:, 0]))

    grid = np.linspace(-3, 3, 121)  # p + pg >= 0.05 on all of it
    assert np.abs(prob(grid) - optimal_d(grid)).max() < 0.05

    # V(D, G) = E_p log D(x) + E_pg log(1 - D(x)), by Monte Carlo.
    rng = np.random.default_rng(1)
    n = 200_000
    value = (np.mean(np.log(prob(rng.normal(P_MEAN, 1, n))))
             + np.mean(np.log1p(-prob(rng.normal(PG_MEAN, 1, n)))))
    assert value == pytest.approx(2 * jsd() - np.log(4), abs=0.02)


def test_saturating_generator_loss_vanishes_when_d_rejects_fakes():
    keras.utils.set_random_seed(0)
    g = build_mlp_generator(4, (2,), width=16)
    d = build_mlp_discriminator((2,), width=16)
    z = keras.random.normal((256, 4), seed=0)
    # A discriminator that confidently rejects the fakes: shift its logits so
    # that D(G(z)) is about 1e-4 on this batch (as early in training).
    logits_layer = d.get_layer("logits")
    shift = np.log(1e-4) - float(np.median(d(g(z)).numpy()))
    logits_layer.bias.assign(logits_layer.bias.numpy() + shift)
    assert np.median(keras.ops.sigmoid(d(g(z))).numpy()) == pytest.approx(1e-4, rel=0.01)

    def grad_norm(g_loss):
        with tf.GradientTape() as tape:
            loss = g_loss(d(g(z)))
        grads = tape.gradient(loss, g.trainable_variables)
        return float(tf.linalg.global_norm(grads))

    saturating, non_saturating = grad_norm(minimax_g_loss), grad_norm(non_saturating_g_loss)
    assert saturating > 0
    assert non_saturating / saturating > 100
