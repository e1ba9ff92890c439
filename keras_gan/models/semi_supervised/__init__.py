"""The semi-supervised GAN (Salimans et al. 2016, section 5; Odena 2016):
D is a K-class classifier whose "real" probability is Z / (Z + 1), Z the
sum of its exponentiated class logits, trained on a few labelled images and
many unlabelled ones; G trained by feature matching. `keras-gan train --gan
ssgan --labels-per-class N` trains it (keras_gan/training/semi.py)."""

from keras_gan.models.semi_supervised.model import SemiSupervisedGAN
from keras_gan.models.semi_supervised.networks import build_ssgan_discriminator

__all__ = ["SemiSupervisedGAN", "build_ssgan_discriminator"]
