"""The semi-supervised GAN as a `Variant`: its options and recipe, for the
config side (`configure`, `--dry-run`, resume checks), as the translators
have theirs (keras_gan/models/translation/variant.py). It is not in the GAN
registry (`list_gans`): the registry's generated tests train every GAN on
2D points, and this one needs labelled images; `get_gan` falls back to it
and `keras_gan.training.semi` trains it.
"""

from __future__ import annotations

from functools import cache

from keras_gan.models.variant import Option, Variant

NAME = "ssgan"
DESCRIPTION = ("Salimans et al. 2016 (section 5) / Odena 2016: semi-supervised GAN, D a "
               "K-class classifier with D(x) = Z / (Z + 1), G by feature matching; "
               "--labels-per-class N labelled examples, the rest unlabelled")
# The paper's MNIST setup (its code): batch 100, Adam beta_1 0.5, G an MLP of
# 500-500 units from 100 latents, no weight average. Rates: tuned on seed 0's
# validation rows (benchmarks/semi_supervised.py --tune).
RECIPE = {"labels_per_class": 10, "arch": "mlp", "width": 500, "depth": 2,
          "latent_dim": 100, "batch_size": 100, "optimizer": "adam", "d_lr": 1e-3,
          "g_lr": 1e-3, "beta_1": 0.5, "beta_2": 0.999, "lr_schedule": "linear",
          "ema_decay": 0.0}


def _options() -> dict:
    return {
        "d_arch": Option("mlp", "D's network: mlp (the paper's MNIST one) or conv (its "
                         "CIFAR-10 one, scaled down)", lambda v: v in ("mlp", "conv"),
                         "mlp or conv"),
        "d_channels": Option(32, "conv D: channels of its first stage (then twice that)",
                             lambda v: v >= 1, ">= 1"),
        "d_width": Option(1000, "units of D's first layer (then /2, /4, /4, /4; the "
                          "paper's 1000-500-250-250-250)", lambda v: v >= 4, ">= 4"),
        "unsupervised_weight": Option(0.5, "weight of the GAN loss beside the supervised "
                                      "cross-entropy (the paper's code: 0.5)",
                                      lambda v: v >= 0, ">= 0"),
        "classifier_average": Option(0.999, "decay of a running average of D's weights that "
                                     "the classifier uses (the paper's code tests with one; "
                                     "0.999 chosen on seed 0's validation rows); 0: the "
                                     "classifier is D itself",
                                     lambda v: 0 <= v < 1, "in [0, 1)"),
        "input_noise": Option(0.3, "stddev of the Gaussian noise on D's input",
                              lambda v: v >= 0, ">= 0"),
        "hidden_noise": Option(0.5, "stddev of the Gaussian noise after D's hidden layers",
                               lambda v: v >= 0, ">= 0"),
    }


@cache
def semi_supervised_variant(name: str) -> Variant | None:
    """The `Variant` of `name` if it is the semi-supervised GAN, else None."""
    if name != NAME:
        return None
    from keras_gan.models.semi_supervised.model import SemiSupervisedGAN

    return Variant(NAME, "non_saturating", DESCRIPTION, SemiSupervisedGAN,
                   recipe=dict(RECIPE), options=_options())
