"""The translators' losses as pure functions, each a float32 scalar.

The reconstruction terms are L1, the papers' choice: pix2pix (Isola et al.
2017, Section 3.1) found L2 blurrier, and CycleGAN (Zhu et al. 2017) uses L1
for its cycle and identity terms. The adversarial terms are the GAN loss
families of `keras_gan.models.losses` applied to PatchGAN logit maps: those
functions take the mean over every element, so over the batch and the
patches alike, which is the papers' per-patch average.
"""

from __future__ import annotations

from keras import ops

from keras_gan.models.losses import get_loss


def l1_loss(target, output):
    """mean |target - output| over every value (pix2pix's L1 term)."""
    return ops.mean(ops.abs(ops.cast(target, "float32") - ops.cast(output, "float32")))


def cycle_loss(real, reconstructed):
    """CycleGAN's cycle-consistency term for one direction:
    mean |x - F(G(x))|, the L1 distance of an image to its round trip."""
    return l1_loss(real, reconstructed)


def identity_loss(real, same):
    """CycleGAN's identity term (Taigman et al. 2017; Zhu et al. 2017, 5.2):
    mean |y - G(y)|, G given an image already of its output domain should
    leave it alone (keeps colours from drifting)."""
    return l1_loss(real, same)


def patch_d_loss(family: str, real_logits, fake_logits):
    """D's loss of GAN loss `family` over PatchGAN maps (N, h, w, 1)."""
    return get_loss(family).d_loss(real_logits, fake_logits)


def patch_g_loss(family: str, fake_logits, real_logits=None):
    """G's loss of GAN loss `family` over PatchGAN maps; `real_logits` only
    for the relativistic families."""
    return get_loss(family).generator_loss(fake_logits, real_logits)


def cyclegan_g_adv_loss(fake_logits):
    """E[(D(G(x)) - 1)^2], the CycleGAN paper's generator term (Section 4):
    twice the least-squares family's g_loss, which is Mao et al.'s
    1/2 E[(D - 1)^2]. With the paper's form, its cycle weight 10 balances
    the adversarial terms as in the paper."""
    return 2.0 * patch_g_loss("least_squares", fake_logits)
