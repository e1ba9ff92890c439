"""GAN losses as pure functions of discriminator logits.

Each family is a pair `<family>_d_loss(real_logits, fake_logits)` and
`<family>_g_loss(fake_logits)` (or `<family>_g_loss(fake_logits, real_logits)`
for the relativistic families, whose `LOSSES` entry says `g_uses_real`),
both returning the mean over the batch as a float32 scalar. "Logits" are the
raw, unbounded discriminator outputs; the probability D(x) of the original
paper is sigmoid(logit). Every formula is
written so that it stays finite for |logit| = 100 (softplus, never
log(sigmoid(x))), which `tests/test_losses.py` checks.

A loss-only GAN variant is these two functions plus a `LOSSES` entry (and a
registry entry in `keras_gan/gans`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from keras import ops

from keras_gan.config import ConfigError


def _f32(x):
    # Under mixed precision the logits may arrive as float16; losses are
    # always taken in float32 so that softplus(100) does not overflow.
    return ops.cast(x, "float32")


# -- minimax (Goodfellow et al. 2014, eq. 1) ---------------------------------


def minimax_d_loss(real_logits, fake_logits, label_smoothing=0.0):
    """-[log D(x) + log(1 - D(G(z)))]: D maximises the value function V.

    log D(x) = -softplus(-l) and log(1 - D(G(z))) = -softplus(l).
    `label_smoothing` s (a scalar, or one per example) makes the real target
    1 - s: cross-entropy (1 - s) softplus(-l) + s softplus(l) (one-sided:
    fakes keep target 0; Salimans et al. 2016).
    """
    real, fake = _f32(real_logits), _f32(fake_logits)
    s = _f32(label_smoothing)
    real_term = (1.0 - s) * ops.softplus(-real) + s * ops.softplus(real)
    return ops.mean(real_term) + ops.mean(ops.softplus(fake))


def minimax_g_loss(fake_logits):
    """log(1 - D(G(z))), the saturating generator loss of the minimax game.

    Its gradient vanishes when D confidently rejects fakes (D(G(z)) -> 0),
    which is the paper's motivation for the non-saturating loss.
    """
    return -ops.mean(ops.softplus(_f32(fake_logits)))


# -- non-saturating (Goodfellow et al. 2014, Section 3) ----------------------

non_saturating_d_loss = minimax_d_loss


def non_saturating_g_loss(fake_logits):
    """-log D(G(z)) = softplus(-l): same fixed point, strong early gradients."""
    return ops.mean(ops.softplus(-_f32(fake_logits)))


# -- Wasserstein (Arjovsky et al. 2017) --------------------------------------


def wasserstein_d_loss(real_logits, fake_logits):
    """E[f(G(z))] - E[f(x)]: the critic maximises E[f(x)] - E[f(G(z))]."""
    return ops.mean(_f32(fake_logits)) - ops.mean(_f32(real_logits))


def wasserstein_g_loss(fake_logits):
    return -ops.mean(_f32(fake_logits))


# -- hinge (Lim & Ye 2017; Miyato et al. 2018) -------------------------------


def hinge_d_loss(real_logits, fake_logits):
    """E[max(0, 1 - D(x))] + E[max(0, 1 + D(G(z)))]."""
    real, fake = _f32(real_logits), _f32(fake_logits)
    return ops.mean(ops.relu(1.0 - real)) + ops.mean(ops.relu(1.0 + fake))


def hinge_g_loss(fake_logits):
    return -ops.mean(_f32(fake_logits))


# -- least squares (Mao et al. 2017, a=0, b=1, c=1) --------------------------


def least_squares_d_loss(real_logits, fake_logits, label_smoothing=0.0):
    """1/2 E[(D(x) - 1)^2] + 1/2 E[D(G(z))^2] on the raw outputs; the real
    target is 1 - `label_smoothing` (one-sided smoothing)."""
    real, fake = _f32(real_logits), _f32(fake_logits)
    target = 1.0 - _f32(label_smoothing)
    return 0.5 * ops.mean(ops.square(real - target)) + 0.5 * ops.mean(ops.square(fake))


def least_squares_g_loss(fake_logits):
    return 0.5 * ops.mean(ops.square(_f32(fake_logits) - 1.0))


# -- relativistic pairing (Jolicoeur-Martineau 2018; Huang et al. 2024) ------


def relativistic_pairing_d_loss(real_logits, fake_logits):
    """E[softplus(-(D(x) - D(G(z))))]: each real sample should look more real
    than the fake it is paired with (the i-th of each minibatch), not than a
    fixed threshold. The RpGAN loss of the R3GAN baseline."""
    return ops.mean(ops.softplus(_f32(fake_logits) - _f32(real_logits)))


def relativistic_pairing_g_loss(fake_logits, real_logits):
    """E[softplus(-(D(G(z)) - D(x)))]: the mirror, so G gets a gradient from
    how its fakes compare with real data, however confident D is."""
    return ops.mean(ops.softplus(_f32(real_logits) - _f32(fake_logits)))


@dataclass(frozen=True)
class LossFamily:
    d_loss: Callable
    g_loss: Callable
    # Whether sigmoid(logit) is a probability D(x). Metrics report D(x) for
    # these families and the raw critic score for the others.
    probabilistic: bool
    # Whether d_loss takes `label_smoothing` (a real target below 1): the
    # families with targets; the critic losses (wasserstein, hinge) have none.
    smoothable: bool = False
    # Whether g_loss takes the real minibatch's logits too (relativistic
    # losses): the generator update then runs D on real data as well.
    g_uses_real: bool = False

    def generator_loss(self, fake_logits, real_logits=None):
        """g_loss on the logits it takes."""
        if not self.g_uses_real:
            return self.g_loss(fake_logits)
        if real_logits is None:
            raise ValueError("this loss family's g_loss needs the real logits")
        return self.g_loss(fake_logits, real_logits)


LOSSES: dict[str, LossFamily] = {
    "minimax": LossFamily(minimax_d_loss, minimax_g_loss, True, smoothable=True),
    "non_saturating": LossFamily(non_saturating_d_loss, non_saturating_g_loss, True,
                                 smoothable=True),
    "wasserstein": LossFamily(wasserstein_d_loss, wasserstein_g_loss, False),
    "hinge": LossFamily(hinge_d_loss, hinge_g_loss, False),
    "least_squares": LossFamily(least_squares_d_loss, least_squares_g_loss, False,
                                smoothable=True),
    "relativistic_pairing": LossFamily(relativistic_pairing_d_loss,
                                       relativistic_pairing_g_loss, False, g_uses_real=True),
}


def get_loss(name: str) -> LossFamily:
    try:
        return LOSSES[name]
    except KeyError:
        raise ConfigError(
            f"unknown loss {name!r}; choose one of: {', '.join(LOSSES)}"
        ) from None
