"""`train(cfg)`: the glue from a `TrainConfig` to `GAN.fit` and a run folder.

This is the only library module that reads the config; everything it calls
takes explicit arguments. A run folder holds:

    config.json            the resolved config (what --resume continues)
    data.json              what the data source turned out to be (shape, classes)
    metrics.csv            one row per epoch: step, seconds, losses, D outputs
    logs/                  TensorBoard
    samples/epoch_NNN.png  fixed-latent samples (a scatter plot for 2D data)
    checkpoints/           the last complete training state
    generator.keras        the trained generator, loadable alone
    generator_ema.keras    its weights' moving average (with --ema-decay)
    gan.keras              the whole GAN: both networks and optimizers
"""

from __future__ import annotations

import dataclasses
import errno
import json
import math
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np

from export.runtime import sample_latents
from keras_gan import clusters, distribute
from keras_gan.callbacks import (
    Checkpoint,
    FrechetDistance,
    MetricsCSV,
    SampleGrid,
    SkippedUpdates,
    StopOnNonFinite,
    _atomic_write_text,
    restore_checkpoint,
    save_model_atomic,
)
from keras_gan.config import ConfigError, TrainConfig
from keras_gan.data import load_dataset, make_dataset, toy_mixture
from keras_gan.errors import UserError
from keras_gan.gans import build_gan, get_gan
from keras_gan.losses import get_loss
from keras_gan.networks import build_networks

# Options that may differ between a run and its --resume: they change neither
# the model, the data stream nor the optimisation. The strategy only changes
# how each global batch is split (and so which noise each share draws): a run
# started on 4 GPUs may go on with 2, or on one machine (the replica count can
# change under an unchanged --strategy anyway); checkpoints hold one copy.
RESUMABLE_CHANGES = frozenset({"epochs", "resume", "verbose", "tensorboard",
                               "checkpoint_every", "fd_every", "fd_samples", "strategy"})
TOY_STEPS_PER_EPOCH = 1000
# k-means of --gan clustered runs on at most this many real examples (the
# first ones of the source): ~100 examples per centroid at the default 100
# clusters, a few seconds of numpy.
CLUSTER_EXAMPLES = 10_000
VAE_NAME = "vae"  # --gan vae trains the VAE baseline (keras_gan/vae.py)


class TrainError(UserError, RuntimeError):
    """The run cannot start as asked; the message says why and what to do."""


@dataclass
class TrainResult:
    run_dir: Path
    model: keras.Model
    history: dict
    step: int
    chief: bool = True  # False on the other workers of a multiworker run: they wrote nothing


def learning_rate(value: float, schedule: str = "constant", decay_steps: int | None = None):
    """`value`, or a schedule falling from it to 0 over `decay_steps` updates
    of its optimizer ("linear" or "cosine"). Decaying the step size at the end
    of training tightens what the generator makes (measured on the 2D
    benchmark: benchmarks/results/toy_modes.md)."""
    if schedule == "constant":
        return value
    if not decay_steps:
        raise ValueError(f"lr_schedule {schedule!r} needs the number of steps")
    if schedule == "linear":
        return keras.optimizers.schedules.PolynomialDecay(value, decay_steps, 0.0)
    if schedule == "cosine":
        return keras.optimizers.schedules.CosineDecay(value, decay_steps)
    raise ValueError(f"unknown lr_schedule {schedule!r}; choose constant, linear or cosine")


def make_optimizer(name: str, learning_rate: float, beta_1: float, beta_2: float):
    """One optimizer from explicit settings (beta_1 doubles as SGD momentum
    and RMSprop rho, so each optimizer has one knob for its first moment);
    `learning_rate` may be a schedule."""
    if name == "adam":
        return keras.optimizers.Adam(learning_rate, beta_1=beta_1, beta_2=beta_2)
    if name == "sgd":
        return keras.optimizers.SGD(learning_rate, momentum=beta_1)
    if name == "rmsprop":
        return keras.optimizers.RMSprop(learning_rate, rho=beta_1)
    raise ValueError(f"unknown optimizer {name!r}; choose adam, sgd or rmsprop")


def _prepare_run_dir(cfg: TrainConfig) -> Path:
    run_dir = cfg.run_dir
    saved = run_dir / "config.json"
    if saved.exists():
        if not cfg.resume:
            raise TrainError(f"{run_dir} already holds a run; pass --resume to continue "
                             "it, or --out to start a new one")
        before = TrainConfig.from_json(saved).to_dict()
        now = cfg.to_dict()
        changed = sorted(k for k in now if k not in RESUMABLE_CHANGES
                         and before.get(k) != now[k])
        if changed:
            diffs = ", ".join(f"{k}: {before.get(k)!r} -> {now[k]!r}" for k in changed)
            may = ", ".join(sorted(RESUMABLE_CHANGES - {"resume"}))
            raise TrainError(f"cannot resume {run_dir} with a different config ({diffs}); "
                             f"only these may change: {may}")
    try:
        run_dir.mkdir(parents=True, exist_ok=True)
        probe = run_dir / ".write-test"
        probe.write_text("ok")
        probe.unlink()
    except OSError as e:
        raise TrainError(f"cannot write to run folder {run_dir}: {e.strerror}") from None
    # Atomic: other workers of a multi-worker run may be reading it (--resume).
    _atomic_write_text(run_dir / "config.json", json.dumps(cfg.to_dict(), indent=2) + "\n")
    return run_dir


def build_model(cfg: TrainConfig, sample_shape, num_classes: int | None = None,
                total_steps: int | None = None,
                steps_per_execution: int | None = None,
                cluster_prior: list[float] | None = None) -> keras.Model:
    """The compiled GAN a config describes, for samples of `sample_shape`
    (and `num_classes` classes, used by conditional variants); `total_steps`
    (generator updates of the whole run) sizes a decaying `lr_schedule`.
    Clustered variants take the clusters' shares in `cluster_prior` (default:
    `cfg.clusters` equal shares)."""
    def lr(value, updates_per_step=1):
        steps = total_steps * updates_per_step if total_steps else None
        return learning_rate(value, cfg.lr_schedule, steps)

    if cfg.gan == VAE_NAME:  # the comparison baseline: same glue, one optimizer
        from keras_gan.vae import build_vae

        # Points need a sharper likelihood than [-1, 1] images (sigma study in vae.py).
        sigma = 0.1 if len(sample_shape) == 1 else 1.0
        vae = build_vae(cfg.arch, cfg.latent_dim, sample_shape, cfg.width, cfg.depth,
                        seed=cfg.seed, sigma=sigma)
        vae.compile(make_optimizer(cfg.optimizer, lr(cfg.g_lr), cfg.beta_1, cfg.beta_2),
                    jit_compile=cfg.jit_compile)
        return vae
    latent_dim, options = cfg.latent_dim, {}
    if _clustered(cfg):
        # The sampler spends z's first coordinate on the cluster; the network
        # gets the rest (keras_gan/clusters.py).
        prior = cluster_prior or [1.0 / cfg.clusters] * cfg.clusters
        num_classes, latent_dim = len(prior), cfg.latent_dim - 1
        options["cluster_prior"] = prior
    elif not _conditional(cfg):
        num_classes = None
    generator, discriminator = build_networks(cfg.arch, latent_dim, sample_shape,
                                              cfg.width, cfg.depth, num_classes,
                                              spectral_norm=cfg.spectral_norm)
    # A variant whose discriminator sees something other than one sample
    # (PacGAN: packs of samples along channels) says what it needs.
    d_shape = get_gan(cfg.gan).cls.discriminator_input_shape(sample_shape)
    if d_shape != tuple(sample_shape):
        _, discriminator = build_networks(cfg.arch, latent_dim, d_shape, cfg.width,
                                          cfg.depth, num_classes,
                                          spectral_norm=cfg.spectral_norm)
    gan = build_gan(cfg.gan, generator, discriminator, latent_dim=latent_dim,
                    d_steps=cfg.d_steps, loss=cfg.loss, seed=cfg.seed,
                    num_classes=num_classes, ema_decay=cfg.ema_decay or None,
                    instance_noise=cfg.instance_noise, label_smoothing=cfg.label_smoothing,
                    label_noise=cfg.label_noise, anneal_steps=cfg.anneal_steps,
                    augment=cfg.augment or None, **options)
    gan.compile(
        # The D optimizer takes d_steps updates per step.
        d_optimizer=make_optimizer(cfg.optimizer, lr(cfg.d_lr, cfg.d_steps), cfg.beta_1,
                                   cfg.beta_2),
        g_optimizer=make_optimizer(cfg.optimizer, lr(cfg.g_lr), cfg.beta_1, cfg.beta_2),
        jit_compile=cfg.jit_compile,
        steps_per_execution=steps_per_execution or cfg.steps_per_execution,
    )
    return gan


def train(cfg: TrainConfig, callbacks=()) -> TrainResult:
    """Trains the GAN `cfg` describes; returns the run folder, model and history.

    With `cfg.resume`, continues from the run folder's last checkpoint with
    weights, both optimizers, the step count, the RNG state and the data
    stream position restored, so that the result matches an uninterrupted run.

    Under `cfg.strategy` (or a strategy whose scope the caller opened, with
    the "default" one) the model and both optimizers are created in the
    strategy's scope and `batch_size` is the global minibatch. Under
    multiworker every worker calls this; only the chief writes the run folder.
    """
    # First: multiworker must be set up before TensorFlow runs anything.
    strategy = distribute.make_strategy(cfg.strategy)
    # Check names and data before the run folder is written, so that a typo
    # leaves nothing behind that a corrected command would trip over.
    if _clustered(cfg) and cfg.latent_dim < 2:
        raise ConfigError(f"--gan {cfg.gan} spends z's first coordinate on the cluster: "
                          f"latent_dim must be >= 2, got {cfg.latent_dim}")
    if cfg.loss:
        get_loss(cfg.loss)
    _, info = _dataset(cfg, 0)
    _check_tricks(cfg, info)
    distribute.check_global_batch(cfg.batch_size, strategy.num_replicas_in_sync)
    distribute.check_jit_compile(cfg.jit_compile, strategy.num_replicas_in_sync)
    # k-means (a few seconds) before the folder too: --clusters may not fit the data.
    clustering = _fit_clusters(cfg) if _clustered(cfg) else (None, None)
    # The other workers read the folder (checkpoints) but never write it, so
    # that nothing races on a shared filesystem.
    chief = distribute.is_chief(strategy)
    run_dir = _prepare_run_dir(cfg) if chief else cfg.run_dir
    previous_policy = keras.mixed_precision.dtype_policy()
    keras.mixed_precision.set_dtype_policy(cfg.precision)
    try:
        return _train(cfg, run_dir, info, list(callbacks), strategy, chief, clustering)
    except OSError as e:
        # A full disk mid-run (checkpoints say so themselves): one line, not a
        # traceback; every file is written whole or not at all.
        if e.errno not in (errno.ENOSPC, errno.EDQUOT):
            raise
        raise TrainError(f"disk full writing {e.filename or run_dir}: {e.strerror}; the "
                         "last complete checkpoint is kept: free space, then --resume") from None
    finally:
        keras.mixed_precision.set_dtype_policy(previous_policy)


def _check_tricks(cfg: TrainConfig, info) -> None:
    """The trick options that depend on the data or the loss, checked before
    anything is written (GAN checks them again for library users)."""
    if cfg.augment and info.kind != "image":
        raise ConfigError(f"--augment {cfg.augment} needs image data; {cfg.dataset} holds "
                          f"{info.kind} of shape {tuple(info.shape)}")
    if (cfg.label_smoothing or cfg.label_noise) and cfg.gan != VAE_NAME:
        loss = cfg.loss or get_gan(cfg.gan).loss
        if not get_loss(loss).smoothable:
            raise ConfigError(f"--label-smoothing / --label-noise need a loss with targets "
                              f"(minimax, non_saturating, least_squares); {cfg.gan} uses {loss}")


def _dataset(cfg: TrainConfig, skip_batches: int, centroids=None):
    """The fit stream from step `skip_batches` on: k minibatches of m per step
    (global batches: under a strategy each replica gets a slice of each);
    with `centroids`, each example with the index of its nearest one."""
    ds, info = make_dataset(cfg.dataset, cfg.batch_size * cfg.d_steps,
                            image_size=cfg.image_size, seed=cfg.seed,
                            skip_batches=skip_batches, with_labels=_conditional(cfg))
    if centroids is not None:
        ds = ds.map(lambda x: (x, clusters.assign_tensor(x, centroids)))
    return distribute.shard_by_data(ds), info


def _conditional(cfg: TrainConfig) -> bool:
    """Whether the model trains on the data's labels (raises on an unknown name)."""
    return cfg.gan != VAE_NAME and get_gan(cfg.gan).conditional


def _clustered(cfg: TrainConfig) -> bool:
    """Whether the model trains on k-means clusters of the data as labels."""
    return cfg.gan != VAE_NAME and get_gan(cfg.gan).clustered


def _fit_clusters(cfg: TrainConfig):
    """(centroids, shares) of `cfg.clusters` k-means clusters of the first
    `CLUSTER_EXAMPLES` real examples; deterministic, so --resume refits the same."""
    ds, _ = load_dataset(cfg.dataset, image_size=cfg.image_size)
    x = np.stack([x for x, _ in ds.take(CLUSTER_EXAMPLES).as_numpy_iterator()])
    try:
        return clusters.fit_clusters(x, cfg.clusters, seed=cfg.seed)
    except ValueError as e:
        raise ConfigError(f"--clusters {cfg.clusters}: {e} ({cfg.dataset})") from None


def _fd_callback(cfg: TrainConfig, info, gan) -> list:
    """[FrechetDistance] for digit data when the shipped classifier is there."""
    if not cfg.fd_every or tuple(info.shape) != (28, 28, 1):
        return []
    from keras_gan.evaluator import DEFAULT_CLASSIFIER, DigitEvaluator

    if not Path(DEFAULT_CLASSIFIER).exists():
        print(f"note: no digit classifier at {DEFAULT_CLASSIFIER}; digit FD not logged")
        return []
    ds, _ = load_dataset(cfg.dataset, image_size=cfg.image_size)
    real = np.stack([x for x, _ in ds.take(10_000).as_numpy_iterator()])
    return [FrechetDistance(DigitEvaluator(), real, cfg.fd_samples, cfg.fd_every,
                            seed=cfg.seed, num_classes=_sampler_classes(gan))]


def _sampler_classes(gan) -> int | None:
    """The classes the model's sampler takes as labels, None if it takes z alone."""
    sampler = getattr(gan, "sampling_generator", None)  # the VAE has none
    if sampler is None or len(sampler.inputs) != 2:
        return None
    return gan.num_classes


def _train(cfg: TrainConfig, run_dir: Path, info, extra_callbacks: list,
           strategy=None, chief: bool = True, clustering=(None, None)) -> TrainResult:
    keras.utils.set_random_seed(cfg.seed)
    fit_batch = cfg.batch_size * cfg.d_steps
    if cfg.steps_per_epoch:
        steps_per_epoch = cfg.steps_per_epoch
    elif info.kind == "points" or not info.num_examples:
        steps_per_epoch = TOY_STEPS_PER_EPOCH
    else:
        steps_per_epoch = max(1, info.num_examples // fit_batch)

    total = cfg.epochs * steps_per_epoch
    # Keras runs whole executions: an epoch (or a resumed part of one) must be
    # a multiple of the steps per execution, so take the largest divisor.
    per_call = math.gcd(cfg.steps_per_execution, steps_per_epoch)
    # The model and both optimizers are created in the strategy's scope; fit
    # and the callbacks run outside it, as Keras intends. Under multiworker
    # this matters: saving creates throwaway Keras objects, whose variables
    # in the scope would be collective ops that the other workers never join.
    centroids, prior = clustering
    with (strategy or distribute.make_strategy()).scope():
        gan = build_model(cfg, info.shape, info.num_classes, total_steps=total,
                          steps_per_execution=per_call, cluster_prior=prior)
    if chief:
        (run_dir / "data.json").write_text(
            json.dumps(dataclasses.asdict(info), indent=2) + "\n")
    step = restore_checkpoint(gan, run_dir / "checkpoints") if cfg.resume else 0
    if step >= total:
        print(f"{run_dir} is already trained to step {step} of {total}; "
              "raise --epochs to train further")

    latents = sample_latents(cfg.num_samples, cfg.latent_dim, cfg.seed)
    if _sampler_classes(gan):  # the grid's rows cycle through the classes
        latents = [latents, np.arange(cfg.num_samples, dtype=np.int64) % gan.num_classes]
    centres = None
    if info.kind == "points" and info.source in ("ring", "grid"):
        centres = toy_mixture(info.source)[0]
    guard = StopOnNonFinite()
    # Only the chief writes (checkpoints need no other worker: Keras reads one
    # copy of each variable, with no collective op). The logged values are
    # already reduced over all replicas, so the chief's logs are the run's.
    callbacks = [
        guard,
        # mixed_float16 skips overflowing updates silently: count them, before the loggers.
        *([SkippedUpdates()] if cfg.precision == "mixed_float16" else []),
        *([
            Checkpoint(run_dir / "checkpoints", cfg.checkpoint_every),
            SampleGrid(run_dir / "samples", latents, centres),
            *_fd_callback(cfg, info, gan),  # before the loggers: it adds to their logs
            MetricsCSV(run_dir / "metrics.csv"),
        ] if chief else []),
        *extra_callbacks,
    ]
    if cfg.tensorboard and chief:
        callbacks.append(keras.callbacks.TensorBoard(str(run_dir / "logs")))

    history: dict = {}
    # A run resumed mid-epoch first finishes that epoch, then goes on by
    # whole epochs; each fit gets the data stream from the current step on.
    while step < total:
        epoch = step // steps_per_epoch
        partial = step % steps_per_epoch
        epochs = epoch + 1 if partial else cfg.epochs
        ds, _ = _dataset(cfg, step, centroids)
        h = gan.fit(ds, epochs=epochs, initial_epoch=epoch,
                    steps_per_epoch=steps_per_epoch - partial,
                    callbacks=callbacks, verbose=cfg.verbose, shuffle=False)
        for k, v in h.history.items():
            history.setdefault(k, []).extend(v)
        new_step = int(keras.ops.convert_to_numpy(gan.optimizer.iterations))
        stopped = new_step == step or gan.stop_training  # e.g. TerminateOnNaN
        step = new_step
        if guard.message:
            raise TrainError(guard.message)
        if stopped:
            break

    if chief:
        # What users sample from (`sampler`: z alone, also for clustered runs).
        sampler = getattr(gan, "sampler", lambda g: g)
        save_model_atomic(sampler(gan.generator), run_dir / "generator.keras")
        if getattr(gan, "ema_decay", None):  # export prefers it (export/writer.py)
            save_model_atomic(sampler(gan.ema_generator), run_dir / "generator_ema.keras")
        save_model_atomic(gan, run_dir / "gan.keras")
    return TrainResult(run_dir, gan, history, step, chief)
