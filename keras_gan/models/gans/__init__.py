"""The registry of variants: a name -> its `Variant` (keras_gan/models/variant.py).

A loss-only variant is two functions in `keras_gan/models/losses.py` and one
`register_gan` line below; a variant that changes the loop is a small file
in this package defining a `GAN` subclass (and, if it prepares data or
builds networks its own way, a `Variant` subclass), plus its line here.
Tests are generated from `list_gans()`, so a registered variant is tested
by being registered.
"""

from __future__ import annotations

from keras_gan.config import ConfigError, TrainConfig
from keras_gan.models.gan import GAN
from keras_gan.models.gans.clustered import ClusteredGAN, ClusteredVariant
from keras_gan.models.gans.pacgan import PacGAN
from keras_gan.models.gans.unrolled import UnrolledGAN
from keras_gan.models.gans.wgan import WGAN, WGANGP
from keras_gan.models.losses import LOSSES
from keras_gan.models.variant import DataPlan, Option, Variant

__all__ = ["DataPlan", "Option", "Variant", "build_gan", "configure", "get_gan",
           "list_gans", "list_variants", "register", "register_gan"]

_REGISTRY: dict[str, Variant] = {}


def register(variant: Variant) -> Variant:
    """Adds `variant` under its name; returns it."""
    if variant.name in _REGISTRY:
        raise ValueError(f"GAN variant {variant.name!r} is already registered")
    if variant.loss is not None and variant.loss not in LOSSES:
        raise ValueError(f"unknown loss {variant.loss!r} for variant {variant.name!r}")
    _REGISTRY[variant.name] = variant
    return variant


def register_gan(name: str, *, loss: str, description: str, cls: type = GAN,
                 conditional: bool = False, recipe: dict | None = None,
                 options: dict | None = None, variant: type = Variant) -> Variant:
    """Registers a GAN variant: `cls` (a `GAN` subclass) with loss family
    `loss`; `recipe` holds the paper's `TrainConfig` settings (applied by
    `configure` unless the user sets them), `options` the `Option`s of the
    keyword arguments of `cls` a user may set."""
    if not (isinstance(cls, type) and issubclass(cls, GAN)):
        raise TypeError(f"variant {name!r}: cls must be a GAN subclass")
    unknown = sorted(set(recipe or {}) - set(TrainConfig.__dataclass_fields__))
    if unknown:
        raise ValueError(f"variant {name!r}: recipe sets unknown fields {unknown}")
    return register(variant(name, loss, description, cls, conditional=conditional,
                            recipe=dict(recipe or {}), options=dict(options or {})))


def get_gan(name: str) -> Variant:
    """The variant `name`: a registered one, or a translator's or the
    semi-supervised GAN's (their options and recipe;
    `keras_gan.training.translate` / `.semi` train them)."""
    try:
        return _REGISTRY[name]
    except KeyError:
        from keras_gan.models.translation.variant import translator_variant

        if (translator := translator_variant(name)) is not None:
            return translator
        from keras_gan.models.semi_supervised.variant import semi_supervised_variant

        if (semi := semi_supervised_variant(name)) is not None:
            return semi
        raise ConfigError(
            f"unknown GAN variant {name!r}; registered: {', '.join(list_variants())}"
        ) from None


def list_variants() -> list[str]:
    """Every registered name, the VAE baseline included."""
    return sorted(_REGISTRY)


def list_gans() -> list[str]:
    """The registered GAN variants (the VAE baseline left out)."""
    return sorted(n for n, v in _REGISTRY.items() if issubclass(v.cls, GAN))


def build_gan(name: str, generator, discriminator, *, latent_dim: int | None = None,
              d_steps: int = 1, loss: str | None = None, seed: int | None = None,
              num_classes: int | None = None, **kwargs) -> GAN:
    """The registered variant `name` around networks you built.

    `loss` overrides the variant's loss family; `num_classes` is required by
    variants whose networks take labels (classes, or clusters); `kwargs` go
    to the variant's class (its options, e.g. `pack`, and `GAN` arguments).
    """
    variant = get_gan(name)
    if variant.takes_labels and not num_classes:
        raise ConfigError(f"GAN variant {name!r} is conditional: it needs "
                          f"{variant.labels_needed} (num_classes)")
    return variant.cls(generator, discriminator, latent_dim=latent_dim, d_steps=d_steps,
                       loss=loss or variant.loss, seed=seed,
                       num_classes=num_classes if variant.takes_labels else None, **kwargs)


def configure(values: dict | None = None, *, source: str = "config", **fields) -> TrainConfig:
    """The `TrainConfig` for `values` (then `fields`): the variant's recipe
    where they do not set a field, and its options resolved (defaults filled
    in, each checked). The CLI and YAML go through here; `TrainConfig(...)`
    built by hand is taken as given. `source` names the values in errors."""
    values = {**(values or {}), **fields}
    given = TrainConfig.from_dict(values, source=source)  # names and types first
    variant = get_gan(given.gan)
    merged = {**variant.recipe, **values}
    merged["gan_options"] = variant.resolve_options(given.gan_options)
    return TrainConfig.from_dict(merged, source=source)


def _positive(v):
    return v > 0


def _at_least(n):
    return lambda v: v >= n


# -- the registered variants -----------------------------------------------------

register_gan("gan", loss="minimax",
             description="Goodfellow et al. 2014 as published: the saturating minimax "
                         "game, k discriminator steps per generator step")
register_gan("nsgan", loss="non_saturating",
             description="Goodfellow et al. 2014 with the non-saturating generator "
                         "loss -log D(G(z)) (their Section 3)")
register_gan("dcgan", loss="non_saturating",
             recipe={"optimizer": "adam", "d_lr": 2e-4, "g_lr": 2e-4, "beta_1": 0.5,
                     "beta_2": 0.999, "ema_decay": 0.0},
             description="Radford et al. 2016: DCGAN networks, non-saturating loss, "
                         "recipe Adam 2e-4 beta_1 0.5, no weight average")
register_gan("lsgan", loss="least_squares",
             description="Mao et al. 2017: least-squares losses")
register_gan("hinge", loss="hinge",
             description="Lim & Ye 2017 / Miyato et al. 2018: hinge losses")
register_gan("rpgan", loss="relativistic_pairing",
             description="Jolicoeur-Martineau 2018 (R3GAN's baseline, Huang et al. 2024): "
                         "relativistic pairing loss softplus(-(D(x) - D(G(z))))")
register_gan("cgan", loss="non_saturating", conditional=True,
             description="Mirza & Osindero 2014: class-conditional G (label embedding) "
                         "and projection D (Miyato & Koyama 2018)")
register_gan("clustered", loss="non_saturating", cls=ClusteredGAN, variant=ClusteredVariant,
             description="unconditional: G and a projection D conditioned on k-means "
                         "clusters of the real data (--clusters; cf. Lucic et al. 2019), "
                         "the cluster drawn from z; the default preset")
register_gan("wgan", loss="wasserstein", cls=WGAN,
             recipe={"optimizer": "rmsprop", "d_lr": 5e-5, "g_lr": 5e-5, "d_steps": 5,
                     "ema_decay": 0.0},
             options={"clip_value": Option(0.01, "critic weights clipped to [-c, c]",
                                           _positive, "> 0")},
             description="Arjovsky et al. 2017: Wasserstein critic, weights clipped "
                         "after each update; recipe RMSprop 5e-5, d_steps 5")
register_gan("wgan-gp", loss="wasserstein", cls=WGANGP,
             recipe={"optimizer": "adam", "d_lr": 1e-4, "g_lr": 1e-4, "beta_1": 0.0,
                     "beta_2": 0.9, "d_steps": 5, "ema_decay": 0.0},
             options={"gp_weight": Option(10.0, "lambda of the gradient penalty",
                                          _at_least(0), ">= 0")},
             description="Gulrajani et al. 2017: Wasserstein critic with gradient penalty "
                         "lambda E[(|grad D(xhat)| - 1)^2]; recipe Adam 1e-4 betas 0/0.9, "
                         "d_steps 5")
register_gan("unrolled", loss="non_saturating", cls=UnrolledGAN,
             options={"unroll_steps": Option(5, "K, discriminator updates unrolled",
                                             _at_least(0), ">= 0"),
                      "unroll_learning_rate": Option(
                          None, "SGD step of the unrolled updates (null: D's rate)",
                          _at_least(0), ">= 0", type=float)},
             description="Metz et al. 2016: generator loss through K unrolled (SGD) "
                         "discriminator updates, differentiated through")
register_gan("pacgan", loss="non_saturating", cls=PacGAN,
             options={"pack": Option(2, "samples per discriminator input", _at_least(1),
                                     ">= 1")},
             description="Lin et al. 2018: the discriminator judges packs of samples "
                         "concatenated along channels")


def _register_vae() -> None:
    # The VAE baseline trains through the same glue (keras_gan/models/vae.py).
    from keras_gan.models.vae import VaeVariant

    register(VaeVariant())


_register_vae()
