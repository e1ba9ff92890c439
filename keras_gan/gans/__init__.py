"""The registry of GAN variants: a name -> (model class, loss family).

A loss-only variant is one `register_gan` line below; a variant that changes
the loop is a small file in this package defining a `GAN` subclass, plus its
`register_gan` line. Tests are generated from `list_gans()`, so a registered
variant is tested by being registered.
"""

from __future__ import annotations

from dataclasses import dataclass

from keras_gan.config import ConfigError
from keras_gan.gan import GAN
from keras_gan.gans.clustered import ClusteredGAN
from keras_gan.gans.pacgan import PacGAN
from keras_gan.gans.unrolled import UnrolledGAN
from keras_gan.gans.wgan import WGAN, WGANGP
from keras_gan.losses import LOSSES


@dataclass(frozen=True)
class GanSpec:
    name: str
    cls: type
    loss: str
    description: str
    conditional: bool = False  # trains on (images, labels); networks take labels
    # Trains on (images, k-means cluster of each image): networks take labels,
    # the data needs none, and the sampler takes z alone (gans/clustered.py).
    clustered: bool = False

    @property
    def takes_labels(self) -> bool:
        """Whether the networks take labels (classes or clusters) in training."""
        return self.conditional or self.clustered


_REGISTRY: dict[str, GanSpec] = {}


def register_gan(name: str, *, loss: str, description: str, cls: type = GAN,
                 conditional: bool = False, clustered: bool = False) -> GanSpec:
    if name in _REGISTRY:
        raise ValueError(f"GAN variant {name!r} is already registered")
    if loss not in LOSSES:
        raise ValueError(f"unknown loss {loss!r} for variant {name!r}")
    if not (isinstance(cls, type) and issubclass(cls, GAN)):
        raise TypeError(f"variant {name!r}: cls must be a GAN subclass")
    if conditional and clustered:
        raise ValueError(f"variant {name!r}: conditional on labels or on clusters, not both")
    spec = GanSpec(name, cls, loss, description, conditional, clustered)
    _REGISTRY[name] = spec
    return spec


def get_gan(name: str) -> GanSpec:
    try:
        return _REGISTRY[name]
    except KeyError:
        raise ConfigError(
            f"unknown GAN variant {name!r}; registered: {', '.join(list_gans())}"
        ) from None


def list_gans() -> list[str]:
    return sorted(_REGISTRY)


def build_gan(name: str, generator, discriminator, *, latent_dim: int | None = None,
              d_steps: int = 1, loss: str | None = None, seed: int | None = None,
              num_classes: int | None = None, **kwargs) -> GAN:
    """The registered variant `name` around the given networks.

    `loss` overrides the variant's loss family; `num_classes` is required by
    conditional variants (classes) and clustered ones (clusters); `kwargs` go
    to the variant's class (its options, e.g. `cluster_prior`).
    """
    spec = get_gan(name)
    if spec.takes_labels and not num_classes:
        what = "labelled data" if spec.conditional else "the number of clusters"
        raise ConfigError(f"GAN variant {name!r} is conditional: it needs {what} "
                          "(num_classes)")
    return spec.cls(generator, discriminator, latent_dim=latent_dim, d_steps=d_steps,
                    loss=loss or spec.loss, seed=seed,
                    num_classes=num_classes if spec.takes_labels else None, **kwargs)


register_gan("gan", loss="minimax",
             description="Goodfellow et al. 2014 as published: the saturating minimax "
                         "game, k discriminator steps per generator step")
register_gan("nsgan", loss="non_saturating",
             description="Goodfellow et al. 2014 with the non-saturating generator "
                         "loss -log D(G(z)) (their Section 3)")
register_gan("dcgan", loss="non_saturating",
             description="Radford et al. 2016: DCGAN networks, non-saturating loss, "
                         "Adam 2e-4 beta_1 0.5")
register_gan("lsgan", loss="least_squares",
             description="Mao et al. 2017: least-squares losses")
register_gan("hinge", loss="hinge",
             description="Lim & Ye 2017 / Miyato et al. 2018: hinge losses")
register_gan("cgan", loss="non_saturating", conditional=True,
             description="Mirza & Osindero 2014: class-conditional G (label embedding) "
                         "and projection D (Miyato & Koyama 2018)")
register_gan("clustered", loss="non_saturating", cls=ClusteredGAN, clustered=True,
             description="unconditional: G and a projection D conditioned on k-means "
                         "clusters of the real data (--clusters; cf. Lucic et al. 2019), "
                         "the cluster drawn from z; the default preset")
register_gan("wgan", loss="wasserstein", cls=WGAN,
             description="Arjovsky et al. 2017: Wasserstein critic, weights clipped to "
                         "[-0.01, 0.01] after each update (paper: RMSprop 5e-5, d_steps 5)")
register_gan("wgan-gp", loss="wasserstein", cls=WGANGP,
             description="Gulrajani et al. 2017: Wasserstein critic with gradient penalty "
                         "10 * E[(|grad D(xhat)| - 1)^2] (paper: Adam 1e-4 betas 0/0.9, "
                         "d_steps 5)")
register_gan("unrolled", loss="non_saturating", cls=UnrolledGAN,
             description="Metz et al. 2016: generator loss through 5 unrolled (SGD) "
                         "discriminator updates, differentiated through")
register_gan("pacgan", loss="non_saturating", cls=PacGAN,
             description="Lin et al. 2018: the discriminator judges packs of 2 samples "
                         "concatenated along channels")
