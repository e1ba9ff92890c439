"""The semi-supervised GAN's losses as pure functions (Salimans et al. 2016,
section 5), in the style of `keras_gan.models.losses`.

D outputs K class logits l_1..l_K; the fake class K+1 has its logit fixed
at 0. Then p(real | x) = Z / (Z + 1) with Z = sum_k exp(l_k), which is
sigmoid(LSE(l)): the K logits collapse to one ordinary GAN logit,
`gan_logit`, and the unsupervised part of D's loss is the non-saturating
family's loss on it. Each function returns a float32 scalar (batch mean)
and stays finite for |logit| = 100 (log-sum-exp and softplus, never
log(exp)).
"""

from __future__ import annotations

from keras import ops

from keras_gan.models.losses import non_saturating_d_loss


def _f32(x):
    return ops.cast(x, "float32")


def gan_logit(class_logits):
    """LSE(l) = log Z, shape (B, 1): the logit whose sigmoid is Z / (Z + 1)."""
    return ops.logsumexp(_f32(class_logits), axis=-1, keepdims=True)


def real_probability(class_logits):
    """D(x) = Z / (Z + 1), (B,): the probability that x is real."""
    return ops.sigmoid(gan_logit(class_logits))[:, 0]


def ssgan_d_loss(real_class_logits, fake_class_logits):
    """-E log D(x) - E log(1 - D(G(z))), D(x) = Z / (Z + 1): the paper's
    L_unsupervised, i.e. the non-saturating D loss on `gan_logit`."""
    return non_saturating_d_loss(gan_logit(real_class_logits), gan_logit(fake_class_logits))


def ssgan_supervised_loss(class_logits, labels):
    """L_supervised = -E log p(y | x, y < K + 1): cross-entropy of the softmax
    over the K real classes (the fake class does not enter it)."""
    return ops.mean(ops.sparse_categorical_crossentropy(labels, _f32(class_logits),
                                                        from_logits=True))


def feature_matching_g_loss(real_features, fake_features):
    """||E f(x) - E f(G(z))||^2 / F: the squared distance between the batch
    means of D's intermediate features (F of them; divided by F so that the
    scale does not grow with D's width). G's only loss in the paper's
    semi-supervised experiments."""
    real, fake = _f32(real_features), _f32(fake_features)
    diff = ops.mean(real, axis=0) - ops.mean(fake, axis=0)
    return ops.mean(ops.square(diff))
