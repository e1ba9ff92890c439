"""`SemiSupervisedGAN`: the base loop with the semi-supervised hooks.

`GAN.train_step` runs unchanged (k D updates, then one G update); this
class overrides hooks only:
- `split_real`: the fit batch is (unlabelled images, (labelled images,
  labels)); each D update gets its own part of both;
- `discriminate`: D's K class logits collapsed to the GAN logit LSE(l),
  so the base loop's non-saturating loss on it is the paper's
  L_unsupervised (losses.py says why);
- `discriminator_loss`: that loss times `unsupervised_weight`;
- `d_regularizers`: adds "supervised", the cross-entropy on the labelled
  minibatch, to D's loss (and logs it) beside the base's R1 / R2: it is a
  named term of D's loss like theirs, so the hook fits without a new loop;
- `generator_loss`: feature matching on D's last hidden layer.

With `classifier_decay`, it also keeps a running average of D's weights
(`averaged_discriminator`), as the paper's code tests its classifier with;
`classifier` then reads the average. The average is updated after each
step, outside the loop's hooks: it trains nothing.
"""

from __future__ import annotations

import keras
from keras import ops

from keras_gan.models.gan import GAN
from keras_gan.models.semi_supervised.losses import (
    feature_matching_g_loss,
    gan_logit,
    ssgan_supervised_loss,
)


@keras.saving.register_keras_serializable(package="keras_gan")
class SemiSupervisedGAN(GAN):
    """Salimans et al. 2016's semi-supervised GAN.

    Args:
        generator: unconditional, z -> image.
        discriminator: image -> [class logits (classes,), features (F,)]
            (`build_ssgan_discriminator`).
        classes: K, the real classes.
        unsupervised_weight: weight of L_unsupervised beside the supervised
            cross-entropy (0.5 in the paper's code).
        classifier_decay: if set, in (0, 1): the decay of a running average
            of D's weights that the classifier uses (warmed up like the
            generator's `ema_decay`); None: the classifier is D itself.
        **kwargs: `GAN` arguments; the loss is the non-saturating family's
            (the only one for which LSE(l) is D's logit) and G takes no labels.
    """

    metric_names = ("d_loss", "g_loss", "d_real", "d_fake", "supervised")

    def __init__(self, generator, discriminator, classes=10, unsupervised_weight=0.5,
                 classifier_decay=None, **kwargs):
        if kwargs.get("num_classes"):
            raise ValueError("the semi-supervised GAN's generator takes no labels: give "
                             "classes=, not num_classes=")
        loss = kwargs.setdefault("loss", "non_saturating")
        if loss != "non_saturating":
            raise ValueError(f"the semi-supervised GAN's D(x) = Z / (Z + 1) fixes its loss "
                             f"to non_saturating, got {loss}")
        if len(discriminator.outputs) != 2:
            raise ValueError("the semi-supervised discriminator must output [class logits, "
                             f"features], got {len(discriminator.outputs)} output(s)")
        got = int(discriminator.outputs[0].shape[-1])
        if got != int(classes):
            raise ValueError(f"the discriminator has {got} class logits for {classes} classes")
        if not unsupervised_weight >= 0:
            raise ValueError(f"unsupervised_weight must be >= 0, got {unsupervised_weight}")
        super().__init__(generator, discriminator, **kwargs)
        self.classes = int(classes)
        self.unsupervised_weight = float(unsupervised_weight)
        self.classifier_decay = float(classifier_decay) if classifier_decay else None
        if self.classifier_decay is not None:
            if not 0.0 < self.classifier_decay < 1.0:
                raise ValueError(f"classifier_decay must be in (0, 1), got {classifier_decay}")
            self.averaged_discriminator = keras.models.clone_model(discriminator)
            self.reset_average()

    def get_config(self):
        return {**super().get_config(), "classes": self.classes,
                "unsupervised_weight": self.unsupervised_weight,
                "classifier_decay": self.classifier_decay}

    # -- what D computes --------------------------------------------------------

    def class_logits(self, images, training=True):
        return self.discriminator(images, training=training)[0]

    def features(self, images, training=True):
        return self.discriminator(images, training=training)[1]

    def discriminate(self, samples, labels=None, training=True):
        return gan_logit(self.class_logits(samples, training=training))

    @property
    def classifying_discriminator(self) -> keras.Model:
        """The D the classifier reads: the running average when kept, else D."""
        return (self.averaged_discriminator if self.classifier_decay is not None
                else self.discriminator)

    @property
    def classifier(self) -> keras.Model:
        """images -> class probabilities (K,): `classifying_discriminator`
        without its noise (inference) and with a softmax; shares its weights.
        Built on demand, so that saving the GAN does not track it twice."""
        d = self.classifying_discriminator
        probabilities = keras.layers.Softmax(dtype="float32", name="probabilities")(
            d.outputs[0])
        return keras.Model(d.inputs[0], probabilities, name="classifier")

    # -- the running average of D ---------------------------------------------

    def reset_average(self):
        """Starts the average at D's current weights: at construction, and
        again after `init_from_data` changes D (keras_gan.training.semi)."""
        if self.classifier_decay is None:
            return
        for a, w in zip(self.averaged_discriminator.weights, self.discriminator.weights,
                        strict=True):
            a.assign(w)

    def update_average(self):
        """avg <- d avg + (1 - d) w, d = min(decay, (1 + n) / (10 + n)) after n
        D updates: `GAN.update_ema`'s warm-up, for the same reason."""
        n = ops.cast(self.d_optimizer.iterations, "float32")
        d = ops.minimum(self.classifier_decay, (1.0 + n) / (10.0 + n))
        for a, w in zip(self.averaged_discriminator.weights, self.discriminator.weights,
                        strict=True):
            a.assign(d * a + (1.0 - d) * ops.cast(w, a.dtype))

    def train_step(self, data):
        """The base loop unchanged, then the average (when kept)."""
        logs = super().train_step(data)
        if self.classifier_decay is not None:
            self.update_average()
        return logs

    # -- hooks of the base loop --------------------------------------------------

    def split_real(self, data):
        """(x, (x_labelled, y)) -> d_steps (real, (x_labelled, y)) parts."""
        try:
            real, (labelled, labels) = data
        except (TypeError, ValueError):
            raise ValueError("the semi-supervised GAN trains on (images, (labelled images, "
                             "labels)) batches (keras_gan.training.semi)") from None
        if self.d_steps == 1:
            return [(real, (labelled, labels))]
        reals = ops.split(real, self.d_steps, axis=0)
        xs = ops.split(labelled, self.d_steps, axis=0)
        ys = ops.split(labels, self.d_steps, axis=0)
        return [(r, (x, y)) for r, x, y in zip(reals, xs, ys, strict=True)]

    def discriminator_loss(self, real_logits, fake_logits, real, fake, labels=None):
        return self.unsupervised_weight * super().discriminator_loss(
            real_logits, fake_logits, real, fake)

    def d_regularizers(self, real, fake, labels=None) -> dict:
        terms = super().d_regularizers(real, fake)
        labelled, y = labels
        logits = self.class_logits(self.perturb(labelled), training=True)
        return {**terms, "supervised": ssgan_supervised_loss(logits, y)}

    def generator_loss(self, fake_logits, fake, *, real_logits=None, real=None, labels=None):
        real_features = ops.stop_gradient(self.features(self.perturb(real), training=True))
        fake_features = self.features(self.perturb(fake), training=True)
        return feature_matching_g_loss(real_features, fake_features)
