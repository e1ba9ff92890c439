"""The translators by name: what `build_translator` builds.

- "pix2pix": U-Net G and conditional PatchGAN D, L1 weight 100 (Isola et
  al. 2017);
- "unet-l1": the same U-Net trained on L1 alone, no D (the paper's L1 row);
- "pix2pix-adv": the conditional GAN alone, L1 weight 0 (its cGAN row);
- "cyclegan": two U-Nets and two PatchGANs on unpaired data (Zhu et al.
  2017; the paper's generators are ResNets, its code offers the U-Net too).

Every builder returns an uncompiled model whose `compile(d_optimizer,
g_optimizer)` takes the same two optimizers (the L1 baseline ignores D's).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from keras_gan.config import ConfigError
from keras_gan.models.translation.cyclegan import CycleGAN
from keras_gan.models.translation.networks import build_patchgan, build_unet
from keras_gan.models.translation.pix2pix import Pix2Pix

# Options that shape the networks; the rest go to the model's constructor.
NETWORK_OPTIONS = ("depth", "dropout", "n_layers", "norm")


def _networks(options: dict) -> tuple[dict, dict]:
    unet = {k: options.pop(k) for k in ("depth", "dropout", "norm") if k in options}
    patchgan = {k: options.pop(k) for k in ("n_layers",) if k in options}
    if "norm" in unet:
        patchgan["norm"] = unet["norm"]
    return unet, patchgan


def _pix2pix(size, in_channels, out_channels, width, seed, adversarial=True, **options):
    unet, patchgan = _networks(options)
    generator = build_unet(size, in_channels, out_channels, width, name="generator", seed=seed,
                           **unet)
    discriminator = (build_patchgan(size, out_channels, width, condition_channels=in_channels,
                                    name="discriminator", **patchgan) if adversarial else None)
    return Pix2Pix(generator, discriminator, seed=seed, **options)


def _cyclegan(size, in_channels, out_channels, width, seed, **options):
    unet, patchgan = _networks(options)
    return CycleGAN(
        build_unet(size, in_channels, out_channels, width, name="generator", seed=seed, **unet),
        build_unet(size, out_channels, in_channels, width, name="generator_ba",
                   seed=None if seed is None else seed + 100, **unet),
        build_patchgan(size, in_channels, width, name="discriminator_a", **patchgan),
        build_patchgan(size, out_channels, width, name="discriminator_b", **patchgan),
        seed=seed, **options)


@dataclass(frozen=True)
class Translator:
    name: str
    description: str
    build: Callable
    paired: bool  # trained on (source, target) pairs; else unpaired (a, b) batches
    fixed: dict = field(default_factory=dict)  # options the entry sets itself


TRANSLATORS: dict[str, Translator] = {t.name: t for t in (
    Translator("pix2pix", "Isola et al. 2017: U-Net + conditional PatchGAN, L1 weight 100",
               _pix2pix, paired=True),
    Translator("unet-l1", "pix2pix's L1-only baseline: the U-Net as a regression, no D",
               _pix2pix, paired=True, fixed={"adversarial": False, "adv_weight": 0.0}),
    Translator("pix2pix-adv", "pix2pix's adversarial loss alone (L1 weight 0)",
               _pix2pix, paired=True, fixed={"l1_weight": 0.0}),
    Translator("cyclegan", "Zhu et al. 2017: two U-Nets, two PatchGANs, unpaired data",
               _cyclegan, paired=False),
)}


def list_translators() -> list[str]:
    return list(TRANSLATORS)


def get_translator(name: str) -> Translator:
    try:
        return TRANSLATORS[name]
    except KeyError:
        raise ConfigError(f"unknown translator {name!r}; choose one of: "
                          f"{', '.join(TRANSLATORS)}") from None


def build_translator(name: str, size: int, in_channels: int, out_channels: int, width: int,
                     seed=None, **options):
    """An uncompiled translator `name` for square images of side `size`.

    `options`: the network options `NETWORK_OPTIONS` (`build_unet`'s depth,
    dropout and norm, `build_patchgan`'s n_layers; norm for both) and the
    model's constructor arguments (e.g. l1_weight, cycle_weight,
    history_size), except those the entry fixes.
    """
    translator = get_translator(name)
    clash = sorted(set(options) & set(translator.fixed))
    if clash:
        raise ConfigError(f"translator {name!r} sets {', '.join(clash)} itself")
    return translator.build(size, in_channels, out_channels, width, seed,
                            **translator.fixed, **options)
