"""`Variant`: everything a registered variant owns, in one object.

A registry entry (keras_gan/models/gans/__init__.py) says, for its variant:
- its model class and loss family;
- its options (`Option`: default, rule, help), reachable as
  `--gan-option NAME=VALUE` / YAML `gan_options:`, validated here with a
  message that names the variant, and stored in config.json and the card;
- its recipe: the paper's training settings (`TrainConfig` fields), applied
  unless the user sets them (`configure`, `--dry-run` prints them);
- how its data is prepared (`prepare_data` -> `DataPlan`: labels from the
  source, k-means pseudo-labels, ...);
- how its networks and model are built (`build`) and compiled (`compile`);
- what users sample and export (`sampler`).

`keras_gan/training/trainer.py` calls these and names no variant. Variants that need
more than a class, a loss and options subclass `Variant` (clustered.py,
the VAE baseline in keras_gan/models/vae.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from keras_gan.config import ConfigError


@dataclass(frozen=True)
class Option:
    """One variant option: its default, the rule a value must meet (a
    predicate and its words, e.g. `lambda v: v >= 1`, ">= 1"), and help."""

    default: Any
    help: str
    check: Callable[[Any], bool] = lambda value: True
    rule: str = ""
    # A None default takes this type (a number that may stay unset).
    type: type | None = None

    def validate(self, variant: str, name: str, value: Any) -> Any:
        kind = self.type or type(self.default)
        if value is None and self.default is None:
            return None
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if type(value) is not kind:
            what = {int: "an integer", float: "a number", str: "a string",
                    bool: "true or false"}.get(kind, kind.__name__)
            raise ConfigError(f"--gan {variant}: option {name} must be {what}, got "
                              f"{value!r}")
        if not self.check(value):
            raise ConfigError(f"--gan {variant}: option {name} must be {self.rule}, got "
                              f"{value!r}")
        return value


@dataclass(frozen=True)
class DataPlan:
    """What a variant makes of the data before training.

    Attributes:
        with_labels: the training stream yields the source's labels.
        num_classes: classes (or clusters) the networks are conditioned on.
        label_map: x batch -> labels, applied to the training stream (e.g.
            each image's k-means cluster); None when labels come as they are.
        model_kwargs: further arguments of the model class (e.g. the
            clusters' shares, `cluster_prior`).
    """

    with_labels: bool = False
    num_classes: int | None = None
    label_map: Callable | None = None
    model_kwargs: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Variant:
    """A plain GAN variant: `cls` on `build_networks`' networks.

    Attributes:
        name: the registered name (`--gan NAME`).
        loss: the loss family (`keras_gan.models.losses.LOSSES`).
        description: one line with its paper.
        cls: the model class (a `GAN` subclass).
        conditional: trains on the data's labels; networks take labels.
        recipe: `TrainConfig` fields the paper sets, applied unless given.
        options: keyword arguments of `cls` a user may set, by name.
    """

    name: str
    loss: str | None
    description: str
    cls: type
    conditional: bool = False
    recipe: dict = field(default_factory=dict)
    options: dict = field(default_factory=dict)

    @property
    def takes_labels(self) -> bool:
        """Whether the networks take labels (classes, or clusters) in training."""
        return self.conditional

    labels_needed = "labelled data"  # what a `takes_labels` variant needs, in words

    # -- configuration ---------------------------------------------------------

    def resolve_options(self, given: dict | None) -> dict:
        """Every option's value: `given` checked, the rest at their defaults."""
        given = dict(given or {})
        unknown = sorted(set(given) - set(self.options))
        if unknown:
            known = ", ".join(sorted(self.options)) or "none"
            raise ConfigError(f"--gan {self.name} has no option {', '.join(unknown)} "
                              f"(its options: {known})")
        return {name: opt.validate(self.name, name, given.get(name, opt.default))
                for name, opt in self.options.items()}

    def check_config(self, latent_dim: int) -> None:
        """Rules on the run's settings this variant adds; raises ConfigError."""

    # -- data --------------------------------------------------------------------

    def prepare_data(self, info, examples: Callable, *, clusters: int, seed: int) -> DataPlan:
        """The `DataPlan` for a source described by `info` (a DataInfo);
        `examples(n)` returns the source's first n examples (numpy), read
        once per run. Conditional variants need labelled data."""
        if not self.conditional:
            return DataPlan()
        from keras_gan.data.pipeline import require_labels

        require_labels(info)
        return DataPlan(with_labels=True, num_classes=info.num_classes)

    def plan_without_data(self, num_classes: int | None, clusters: int) -> DataPlan:
        """A `DataPlan` from counts alone (library use: no data at hand)."""
        if self.conditional:
            if not num_classes:
                raise ConfigError(f"--gan {self.name} is conditional: it needs labelled "
                                  "data (num_classes)")
            return DataPlan(with_labels=True, num_classes=num_classes)
        return DataPlan()

    # -- model ---------------------------------------------------------------

    def build(self, *, arch: str, sample_shape, plan: DataPlan, latent_dim: int, width: int,
              depth: int, spectral_norm: bool, options: dict, **model_kwargs):
        """The uncompiled model: networks for `sample_shape` (the
        discriminator for what the class feeds it, e.g. PacGAN's packs) and
        `cls` around them. `model_kwargs` are `GAN` arguments (seed, loss,
        d_steps, tricks)."""
        from keras_gan.models.networks import build_networks, resolve_arch

        # Resolved on the samples, not on D's input: PacGAN's packs of grey
        # images have several channels and must not turn "auto" into resnet.
        arch = resolve_arch(arch, sample_shape)
        generator, discriminator = build_networks(arch, latent_dim, sample_shape, width, depth,
                                                  plan.num_classes,
                                                  spectral_norm=spectral_norm)
        d_shape = self.cls.discriminator_input_shape(sample_shape, **options)
        if tuple(d_shape) != tuple(sample_shape):
            _, discriminator = build_networks(arch, latent_dim, d_shape, width, depth,
                                              plan.num_classes, spectral_norm=spectral_norm)
        return self.cls(generator, discriminator, latent_dim=latent_dim,
                        num_classes=plan.num_classes,
                        **{**model_kwargs, **plan.model_kwargs, **options})

    def compile(self, model, optimizer: Callable, *, d_steps: int, jit_compile: bool,
                steps_per_execution: int) -> None:
        """Compiles `model` with `optimizer(role, updates_per_step)` for the
        roles "d" and "g" (D takes d_steps updates per step)."""
        model.compile(d_optimizer=optimizer("d", d_steps), g_optimizer=optimizer("g", 1),
                      jit_compile=jit_compile, steps_per_execution=steps_per_execution)

    def sampler(self, model, ema: bool = True):
        """What users sample and export: the model's sampling generator
        (the EMA one when kept, unless `ema` is False)."""
        if ema:
            return model.sampling_generator
        return model.sampler(model.generator)
