"""The translators as `Variant`s: their options and recipe, for the config side.

`keras-gan train --gan pix2pix` goes through the same `configure` as the
GANs (the recipe fills the fields the user left unset, `--gan-option`
values are checked here, `--dry-run` prints both, a resume compares them),
so each translator of `keras_gan.models.translation.registry` has a
`Variant` here. They are not in the GAN registry (`list_variants`): the
GAN glue and its generated tests take z; `get_gan` falls back to these,
and `keras_gan.training.translate` trains them.
"""

from __future__ import annotations

from functools import cache

from keras_gan.models.variant import Option, Variant

# The papers' optimisation (pix2pix Section 3.3, CycleGAN Section 7.1):
# Adam 2e-4, beta_1 0.5. No weight average, and no FD on z samples.
RECIPE = {"optimizer": "adam", "d_lr": 2e-4, "g_lr": 2e-4, "beta_1": 0.5, "beta_2": 0.999,
          "ema_decay": 0.0, "fd_every": 0}


def _unet_options(lr_decay: float) -> dict:
    return {
        "depth": Option(None, "U-Net stride-2 levels (null: as many as the size allows)",
                        lambda v: v >= 1, ">= 1", type=int),
        "dropout": Option(0.5, "dropout rate of the innermost U-Net decoder blocks",
                          lambda v: 0 <= v < 1, "in [0, 1)"),
        "norm": Option("instance", "normalization of both networks: instance or none",
                       lambda v: v in ("instance", "none"), "instance or none"),
        # CycleGAN trains 100 epochs at the rate, then 100 decaying to 0: 0.5.
        "lr_decay": Option(lr_decay, "fraction of the run, at its end, over which both "
                           "learning rates fall linearly to 0 (0: constant)",
                           lambda v: 0 <= v <= 1, "in [0, 1]"),
    }


_N_LAYERS = Option(None, "PatchGAN stride-2 convs (null: from the size)", lambda v: v >= 1,
                   ">= 1", type=int)


def _options(name: str) -> dict:
    if name == "cyclegan":
        return {**_unet_options(0.5), "n_layers": _N_LAYERS,
                "cycle_weight": Option(10.0, "lambda of the cycle-consistency terms",
                                       lambda v: v >= 0, ">= 0"),
                "identity_weight": Option(None, "weight of the identity terms (null: half "
                                          "the cycle weight, 0 when A and B differ in "
                                          "channels)", lambda v: v >= 0, ">= 0", type=float),
                "history_size": Option(50, "generated images kept for each discriminator "
                                       "(the paper's pool; 0: none)", lambda v: v >= 0,
                                       ">= 0")}
    options = _unet_options(0.0)
    if name != "unet-l1":
        options["n_layers"] = _N_LAYERS
    if name == "pix2pix":
        options["l1_weight"] = Option(100.0, "lambda of the L1 term", lambda v: v >= 0, ">= 0")
    return options


@cache
def translator_variant(name: str) -> Variant | None:
    """The `Variant` of translator `name`, None if there is no such translator."""
    from keras_gan.models.translation.registry import TRANSLATORS

    entry = TRANSLATORS.get(name)
    if entry is None:
        return None
    from keras_gan.models.translation.cyclegan import CycleGAN
    from keras_gan.models.translation.pix2pix import Pix2Pix

    return Variant(name, None, entry.description, CycleGAN if name == "cyclegan" else Pix2Pix,
                   recipe=dict(RECIPE), options=_options(name))
