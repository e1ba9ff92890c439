"""`TrainConfig`: the one frozen dataclass a training run is described by.

Config flows one way: CLI flags / YAML -> `TrainConfig` -> `keras_gan/training/trainer.py`, which
hands explicit arguments to the builders. Every field has a default and a
one-line `help` (the CLI's `--help` is generated from it), so this file is the
single place where an option is defined.

This module imports nothing heavy: `keras-gan --help` must stay instant.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from keras_gan.data.colors import parse_background
from keras_gan.errors import UserError

PRECISIONS = ("float32", "mixed_float16", "mixed_bfloat16")
ARCHS = ("auto", "dcgan", "resnet", "tutorial", "mlp")
OPTIMIZERS = ("adam", "sgd", "rmsprop")
# keras_gan.evaluation.evaluator's extractors (kept here: the config imports no Keras).
EVALUATORS = ("auto", "none", "digit", "emoji", "inception")
LR_SCHEDULES = ("constant", "linear", "cosine")
AUGMENTATIONS = ("color", "translation", "cutout")  # DiffAugment (keras_gan/models/tricks.py)
# tf.distribute (keras_gan/training/distribute.py)
STRATEGIES = ("default", "mirrored", "multiworker")


# The data sources `dataset` takes: the epilog of `keras-gan train --help`
# (keras_gan/data/pipeline.py, which reads them, re-exports it).
SOURCES_HELP = """\
Data sources:
  mnist-sample       the embedded 10,000 real MNIST digits (28x28 grey, labelled)
  emoji64            7,572 real colour emoji (64x64 RGBA, 10 categories), read from
                     the data folder; `keras-gan data emoji64` obtains it
  tfds:NAME[:SPLIT]  a TensorFlow Datasets image data set, e.g. tfds:mnist,
                     tfds:cifar10:test (SPLIT defaults to train)
  folder:PATH        a folder, searched recursively, of .png/.jpg/.jpeg/.bmp/.gif/.webp
                     images (unlabelled)
  npz:PATH           a .npz file with array x of shape (N, H, W), (N, H, W, C) with
                     C in {1, 3, 4} (4: RGBA, composited onto --background), or
                     (N, D) points, optional int labels y (N,) and class_names
  ring               2D toy data: 8 Gaussians on the unit circle (std 0.01)
  grid               2D toy data: 25 Gaussians on a 5x5 grid (std 0.05)
  gauss1d[:MEAN,STD] 1D toy data: one Gaussian, N(0, 1) by default (the theory
                     figures: keras-gan figures)"""


class ConfigError(UserError, ValueError):
    """A configuration value or file is wrong; the message says which and why."""


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


# Field annotation (a string: `from __future__ import annotations`) -> what
# values it takes, and how a message names them.
_FIELD_TYPES = {
    "int": ("an integer", _is_int),
    "int | None": ("an integer or null", lambda v: v is None or _is_int(v)),
    "float": ("a number", lambda v: _is_int(v) or isinstance(v, float)),
    "str": ("a string", lambda v: isinstance(v, str)),
    "str | None": ("a string or null", lambda v: v is None or isinstance(v, str)),
    "bool": ("true or false", lambda v: isinstance(v, bool)),
    "dict": ("a mapping of name: value", lambda v: isinstance(v, dict)),
}


def _opt(default: Any, help: str, **kw: Any) -> Any:
    return field(default=default, metadata={"help": help, **kw})


@dataclass(frozen=True)
class TrainConfig:
    """Everything one training run needs, and nothing else: the CLI flags and
    the YAML presets fill it (one flag per field, its help from the field's
    metadata), `config.json` in the run folder stores it, and `train(cfg)`
    reads it. Frozen: derive a variant with `cfg.replace(field=value)`."""

    # -- data --
    dataset: str = _opt("mnist-sample", "data source: mnist-sample, emoji64, tfds:NAME[:SPLIT], "
                        "folder:PATH, npz:PATH, ring, grid or gauss1d[:MEAN,STD]")
    image_size: int | None = _opt(None, "resize images to SIZE x SIZE (default: as stored)")
    background: str = _opt("white", "colour transparent images (RGBA npz, PNGs with alpha) "
                           "are composited onto: white, black or #RRGGBB")
    # -- model --
    # clustered (not dcgan): on the embedded digits, the same DCGAN networks
    # conditioned on 100 k-means clusters found without labels reached digit
    # score 9.25 / FD 0.76 in 5 minutes where the plain unconditional GAN
    # reached 6.6 / 9.4 and plateaued near 7 (issue 6,
    # benchmarks/results/preset_search.md); what it exports takes z alone.
    gan: str = _opt("clustered", "GAN variant, a registered name (see `keras-gan train "
                    "--list-gans`), or vae for the VAE baseline")
    gan_options: dict = field(default_factory=dict, metadata={
        "help": "the variant's own options, e.g. pack=4 for pacgan (see --list-gans); "
                "flag: --gan-option NAME=VALUE, repeatable"})
    loss: str | None = _opt(None, "loss family overriding the variant's: minimax, "
                            "non_saturating, wasserstein, hinge, least_squares")
    arch: str = _opt("auto", "networks: dcgan (images), resnet (SNGAN-style residual "
                     "networks, square images of 28, 32 or 64 px), tutorial (the TensorFlow "
                     "DCGAN tutorial's, images), mlp, or auto (mlp for 2D points, dcgan for "
                     "grey images and colour ones under 64 px, resnet for colour images of 64 "
                     "px and more)", choices=ARCHS)
    latent_dim: int = _opt(64, "size of the latent vector z ~ N(0, I)")
    clusters: int = _opt(100, "k: k-means clusters of the real data that --gan clustered "
                         "conditions on (z's first coordinate picks one)")
    labels_per_class: int | None = _opt(None, "--gan ssgan: labelled training examples per "
                                        "class, drawn with --seed; the rest are used "
                                        "without labels (its recipe: 10)")
    width: int = _opt(32, "base width: DCGAN / ResNet filters of the first D layer or "
                      "block / last G layer or block, or MLP hidden units")
    depth: int = _opt(2, "hidden layers of the MLP networks (ignored by dcgan)")
    # -- optimisation --
    epochs: int = _opt(20, "number of epochs")
    steps_per_epoch: int | None = _opt(None, "generator updates per epoch (default: one "
                                       "pass over the data, or 1000 for 2D mixtures)")
    batch_size: int = _opt(64, "minibatch size m of each discriminator and generator update")
    d_steps: int = _opt(1, "k: discriminator updates per generator update, each on its "
                        "own real minibatch")
    optimizer: str = _opt("adam", "optimizer of both networks", choices=OPTIMIZERS)
    # 1e-3 (not DCGAN's 2e-4) with the EMA below: on the embedded digits it
    # reached digit FD 9.4 in 5 minutes where 2e-4 reached 14.5; 2e-3 was no
    # better (issue 6, benchmarks/results/preset_search.md).
    d_lr: float = _opt(1e-3, "discriminator learning rate")
    g_lr: float = _opt(1e-3, "generator learning rate")
    beta_1: float = _opt(0.5, "Adam beta_1 (or SGD momentum, RMSprop rho)")
    beta_2: float = _opt(0.999, "Adam beta_2")
    lr_schedule: str = _opt("constant", "learning rates constant, or falling to 0 over the "
                            "run (linear, cosine); --resume with more --epochs re-spreads "
                            "the decay over the new length", choices=LR_SCHEDULES)
    ema_decay: float = _opt(0.999, "keep an exponential moving average of the "
                            "generator's weights with this decay (0: off), used for samples "
                            "and export; it warms up over the first ~10/(1-decay) steps")
    # -- tricks (keras_gan/models/tricks.py) --
    instance_noise: float = _opt(0.0, "stddev of Gaussian noise on every sample the "
                                 "discriminator sees, real and fake (0: off)")
    label_smoothing: float = _opt(0.0, "one-sided label smoothing: real targets 1 - S "
                                  "(minimax, non_saturating, least_squares losses)")
    label_noise: float = _opt(0.0, "noisy labels: also take U(0, N) off each real target")
    anneal_steps: int = _opt(0, "instance noise and label smoothing/noise fall linearly to "
                             "0 over this many steps (0: constant)")
    spectral_norm: bool = _opt(False, "spectral normalization on the discriminator's "
                               "layers (Miyato et al. 2018)")
    augment: str = _opt("", "DiffAugment policy for images, comma-separated from color, "
                        "translation, cutout (e.g. translation,cutout; '': off)")
    ada_target: float = _opt(0.0, "ADA: adapt the augmentation probability p so that "
                             "E[sign(D(x_real))] stays near this target (0.6 in the paper; "
                             "0: off); ops from --augment, else color,translation,cutout")
    ada_interval: int = _opt(4, "ADA: discriminator updates between adjustments of p")
    ada_kimg: float = _opt(100.0, "ADA: thousands of real images over which p can move by "
                           "1 (the paper: 500, for much longer runs)")
    r1: float = _opt(0.0, "R1 penalty weight gamma: gamma/2 E||grad D(x)||^2 on real "
                     "samples (Mescheder et al. 2018; 0: off)")
    r2: float = _opt(0.0, "R2 penalty weight gamma: the same on generated samples (0: off)")
    reg_every: int = _opt(1, "lazy R1/R2: compute them every N discriminator updates, "
                          "weighted N (StyleGAN2; 1: every update)")
    # -- execution --
    precision: str = _opt("float32", "dtype policy; mixed_float16 adds loss scaling to "
                          "both optimizers", choices=PRECISIONS)
    jit_compile: bool = _opt(False, "compile the step with XLA (measured slower on small "
                             "CPUs; try it on GPU)")
    strategy: str = _opt("default", "tf.distribute strategy: default (none), mirrored "
                         "(all local GPUs) or multiworker (the machines in TF_CONFIG); "
                         "--batch-size is then the global batch (docs/distributed.md)",
                         choices=STRATEGIES)
    steps_per_execution: int = _opt(1, "training steps per call of the compiled step: "
                                    "more cuts per-step overhead of small models; "
                                    "callbacks then see every Nth step")
    seed: int = _opt(0, "seed of weights, data order and the model's noise")
    # -- run folder --
    out: str | None = _opt(None, "run folder (default: runs/GAN-DATASET)")
    resume: bool = _opt(False, "continue the run in --out from its last checkpoint")
    checkpoint_every: int = _opt(100, "write a checkpoint every N steps (and at each "
                                 "epoch end)")
    keep_checkpoints: int = _opt(2, "keep the last N complete checkpoints (N >= 2): "
                                 "--resume falls back to the previous one when the newest "
                                 "cannot be loaded")
    num_samples: int = _opt(64, "images in the per-epoch sample grid (fixed latents)")
    tensorboard: bool = _opt(True, "write TensorBoard logs to RUN/logs")
    fd_every: int = _opt(1, "log the FD every N epochs, as <extractor>_fd (0: off)")
    evaluator: str = _opt("auto", "feature extractor of that FD: auto (digit for the MNIST "
                          "sources, emoji for emoji64 data, else none), digit, emoji, "
                          "inception (ImageNet weights, downloaded once by Keras) or none",
                          choices=EVALUATORS)
    fd_samples: int = _opt(2000, "generated samples per FD evaluation during training")
    verbose: int = _opt(1, "Keras fit verbosity: 0 silent, 1 progress bar, 2 one line "
                        "per epoch")

    def __post_init__(self) -> None:
        self._check_types()
        positive = ("latent_dim", "clusters", "width", "depth", "epochs", "batch_size", "d_steps",
                    "checkpoint_every", "num_samples", "fd_samples", "steps_per_execution")
        if self.keep_checkpoints < 2:  # one bad file must not cost the whole run
            raise ConfigError(f"keep_checkpoints must be >= 2, got {self.keep_checkpoints}")
        if self.fd_every < 0:
            raise ConfigError(f"fd_every must be >= 0, got {self.fd_every}")
        for name in positive:
            if getattr(self, name) < 1:
                raise ConfigError(f"{name} must be >= 1, got {getattr(self, name)}")
        for name in ("image_size", "steps_per_epoch", "labels_per_class"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise ConfigError(f"{name} must be >= 1 (or unset), got {value}")
        try:
            parse_background(self.background)
        except ValueError as e:
            raise ConfigError(str(e)) from None
        try:
            check_tricks(self.instance_noise, self.label_smoothing, self.label_noise,
                         self.anneal_steps, self.augment)
        except ValueError as e:
            raise ConfigError(str(e)) from None
        try:
            check_penalties(self.r1, self.r2, self.reg_every)
            check_ada(self.ada_target, self.ada_interval, self.ada_kimg)
        except ValueError as e:
            raise ConfigError(str(e)) from None
        if not 0.0 <= self.ema_decay < 1.0:
            raise ConfigError(f"ema_decay must be in [0, 1), got {self.ema_decay}")
        for name in ("d_lr", "g_lr"):
            if not getattr(self, name) > 0:
                raise ConfigError(f"{name} must be > 0, got {getattr(self, name)}")
        for name, allowed in (("precision", PRECISIONS), ("arch", ARCHS),
                              ("optimizer", OPTIMIZERS), ("lr_schedule", LR_SCHEDULES),
                              ("strategy", STRATEGIES)):
            if getattr(self, name) not in allowed:
                raise ConfigError(
                    f"{name} must be one of {', '.join(allowed)}; got {getattr(self, name)!r}"
                )

    def _check_types(self) -> None:
        """YAML and config.json may hold any type: check each value against
        its field's before the range checks compare it (a str < 1 raises
        TypeError, True would pass for 1, 2.5 epochs would fail deep in Keras)."""
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if f.type == "float" and isinstance(value, str):
                # PyYAML reads 1e-4 (no dot, YAML 1.1) as a string: take it as meant.
                try:
                    object.__setattr__(self, f.name, value := float(value))
                except ValueError:
                    pass
            expected = _FIELD_TYPES.get(f.type)
            if expected is not None and not expected[1](value):
                raise ConfigError(f"{f.name} must be {expected[0]}, got {value!r}")

    @property
    def run_dir(self) -> Path:
        return Path(self.out) if self.out else default_run_dir(self.gan, self.dataset)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def replace(self, **changes: Any) -> TrainConfig:
        return dataclasses.replace(self, **changes)

    @classmethod
    def from_dict(cls, values: dict[str, Any], source: str = "config") -> TrainConfig:
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - names)
        if unknown:
            raise ConfigError(
                f"{source}: unknown option(s) {', '.join(unknown)}; "
                f"known options are: {', '.join(sorted(names))}"
            )
        try:
            return cls(**values)
        except TypeError as e:  # pragma: no cover - dataclass arity errors
            raise ConfigError(f"{source}: {e}") from None

    @classmethod
    def from_yaml(cls, path: str | Path, **overrides: Any) -> TrainConfig:
        """Reads a YAML (or JSON, a subset of YAML) mapping of field -> value."""
        return cls.from_dict({**read_yaml(path), **overrides}, source=str(path))

    @classmethod
    def from_json(cls, path: str | Path) -> TrainConfig:
        return cls.from_dict(json.loads(Path(path).read_text()), source=str(path))


def check_tricks(instance_noise=0.0, label_smoothing=0.0, label_noise=0.0, anneal_steps=0,
                 augment=None) -> tuple[str, ...]:
    """The one home of the trick options' own rules (`TrainConfig` and `GAN`
    both call it); returns the parsed augment policy. The rules that depend
    on the loss or the data are `GAN`'s."""
    values = {"instance_noise": instance_noise, "label_smoothing": label_smoothing,
              "label_noise": label_noise, "anneal_steps": anneal_steps}
    for name, value in values.items():
        if not float(value) >= 0.0:
            raise ValueError(f"{name} must be >= 0, got {value}")
    if label_smoothing + label_noise >= 1.0:
        raise ValueError("label_smoothing + label_noise must be < 1, got "
                         f"{label_smoothing} + {label_noise}")
    try:
        return parse_augment(augment)
    except ValueError as e:
        raise ValueError(f"augment: {e}") from None


def check_penalties(r1: float, r2: float, reg_every: int) -> None:
    """R1 / R2 settings (`TrainConfig` and `GAN` both call it)."""
    for name, value in (("r1", r1), ("r2", r2)):
        if not float(value) >= 0.0:
            raise ValueError(f"{name} must be >= 0, got {value}")
    if int(reg_every) < 1:
        raise ValueError(f"reg_every must be >= 1, got {reg_every}")


def check_ada(target: float, interval: int, kimg: float) -> None:
    """ADA's settings (`TrainConfig` and `GAN` both call it)."""
    if not 0.0 <= target < 1.0:
        raise ValueError(f"ada_target must be in [0, 1) (0: off), got {target}")
    if interval < 1:
        raise ValueError(f"ada_interval must be >= 1, got {interval}")
    if not kimg > 0:
        raise ValueError(f"ada_kimg must be > 0, got {kimg}")


def parse_augment(policy) -> tuple[str, ...]:
    """'color,translation' -> ('color', 'translation'); '' or None -> ()."""
    if not policy:
        return ()
    names = tuple(p.strip() for p in str(policy).split(",") if p.strip())
    bad = [n for n in names if n not in AUGMENTATIONS]
    if bad:
        raise ValueError(f"unknown augmentation(s) {bad}; choose from {', '.join(AUGMENTATIONS)}")
    return names


def default_run_dir(gan: str, dataset: str) -> Path:
    """runs/GAN-DATASET, the dataset spelled safely for a folder name."""
    slug = "".join(c if c.isalnum() or c in "-_" else "-" for c in dataset).strip("-")
    return Path("runs") / f"{gan}-{slug}"


def read_yaml(path: str | Path) -> dict[str, Any]:
    import yaml

    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"config file not found: {path}")
    try:
        values = yaml.safe_load(path.read_text())
    except yaml.YAMLError as e:
        # PyYAML's text spans lines (with a caret under the spot); one line will do.
        mark = getattr(e, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise ConfigError(f"{path} is not valid YAML{where}: "
                          f"{getattr(e, 'problem', None) or e}") from None
    if values is None:
        return {}
    if not isinstance(values, dict):
        raise ConfigError(f"{path} must hold a mapping of option: value, "
                          f"got {type(values).__name__}")
    # YAML spells options like the CLI (batch-size) or like Python (batch_size).
    return {str(k).replace("-", "_"): v for k, v in values.items()}
