"""`train(cfg)`: the glue from a `TrainConfig` to `model.fit` and a run folder.

This is the only library module that reads the config; everything it calls
takes explicit arguments, and everything variant-specific (data
preparation, networks, compile, what is sampled) is the registered
`Variant`'s (keras_gan/models/variant.py): this module names no variant. The run
folder's layout is `keras_gan.training.run_folder`'s.
"""

from __future__ import annotations

import dataclasses
import errno
import math
from functools import cache
from pathlib import Path

import keras
import numpy as np

from export.runtime import sample_latents
from keras_gan.config import ConfigError, TrainConfig
from keras_gan.data.pipeline import batch_dataset, first_examples, load_dataset
from keras_gan.data.sources import toy_mixture
from keras_gan.errors import UserError
from keras_gan.models.gans import get_gan
from keras_gan.models.losses import get_loss
from keras_gan.models.translation.registry import list_translators
from keras_gan.training import distribute
from keras_gan.training import run_folder as rf
from keras_gan.training.callbacks import (
    MetricsCSV,
    SampleGrid,
    SkippedUpdates,
    StopOnNonFinite,
)
from keras_gan.training.checkpoints import (
    Checkpoint,
    restore_checkpoint,
    save_model_atomic,
)
from keras_gan.training.disk import disk_needs
from keras_gan.training.fd_logging import evaluator_for, fd_callback, sampler_classes
from keras_gan.training.fit_loop import fit_from
from keras_gan.training.run_setup import (  # noqa: F401  (TrainError, TrainResult: public here too)
    TrainError,
    TrainResult,
    _prepare_run_dir,
    learning_rate,
    make_optimizer,
)

TOY_STEPS_PER_EPOCH = 1000


def build_model(cfg: TrainConfig, sample_shape, num_classes: int | None = None,
                total_steps: int | None = None, steps_per_execution: int | None = None,
                plan=None) -> keras.Model:
    """The compiled model a config describes, for samples of `sample_shape`.

    `plan` is the variant's `DataPlan` (what `train` gets from
    `Variant.prepare_data`); without one, the plan from counts alone
    (`num_classes` classes of labelled data, or `cfg.clusters` equal
    clusters). `total_steps` (generator updates of the whole run) sizes a
    decaying `lr_schedule`.
    """
    variant = get_gan(cfg.gan)
    options = variant.resolve_options(cfg.gan_options)
    if plan is None:
        plan = variant.plan_without_data(num_classes, cfg.clusters)

    def optimizer(role: str, updates_per_step: int):
        value = cfg.d_lr if role == "d" else cfg.g_lr
        steps = total_steps * updates_per_step if total_steps else None
        return make_optimizer(cfg.optimizer, learning_rate(value, cfg.lr_schedule, steps),
                              cfg.beta_1, cfg.beta_2)

    try:
        model = variant.build(
            arch=cfg.arch, sample_shape=tuple(sample_shape), plan=plan,
            latent_dim=cfg.latent_dim, width=cfg.width, depth=cfg.depth,
            spectral_norm=cfg.spectral_norm, options=options, seed=cfg.seed,
            d_steps=cfg.d_steps, loss=cfg.loss or variant.loss,
            ema_decay=cfg.ema_decay or None, instance_noise=cfg.instance_noise,
            label_smoothing=cfg.label_smoothing, label_noise=cfg.label_noise,
            anneal_steps=cfg.anneal_steps, augment=cfg.augment or None, r1=cfg.r1, r2=cfg.r2,
            reg_every=cfg.reg_every, ada_target=cfg.ada_target, ada_interval=cfg.ada_interval,
            ada_kimg=cfg.ada_kimg)
    except ValueError as e:
        if isinstance(e, UserError):
            raise
        # The model's own checks (options that do not fit the data or the loss).
        raise ConfigError(f"--gan {cfg.gan} on {cfg.dataset}: {e}") from None
    variant.compile(model, optimizer, d_steps=cfg.d_steps, jit_compile=cfg.jit_compile,
                    steps_per_execution=steps_per_execution or cfg.steps_per_execution)
    return model


def train(cfg: TrainConfig, callbacks=()) -> TrainResult:
    """Trains the model `cfg` describes; returns the run folder, model and history.

    With `cfg.resume`, continues from the run folder's last checkpoint with
    weights, both optimizers, the step count, the RNG state and the data
    stream position restored, so that the result matches an uninterrupted run
    (from the previous checkpoint kept, said on stderr, if the newest cannot
    be loaded). The run folder may have been moved or copied since.

    Under `cfg.strategy` (or a strategy whose scope the caller opened, with
    the "default" one) the model and both optimizers are created in the
    strategy's scope and `batch_size` is the global minibatch. Under
    multiworker every worker calls this; only the chief writes the run folder.
    """
    if cfg.gan in list_translators():  # image-to-image: pairs in, its own grid and files
        from keras_gan.training.translate import train_translator

        return train_translator(cfg, callbacks)
    if cfg.gan == "ssgan":  # semi-supervised: labelled and unlabelled rows, a classifier
        from keras_gan.training.semi import train_semi_supervised

        return train_semi_supervised(cfg, callbacks)
    if cfg.labels_per_class is not None:
        raise ConfigError(f"--labels-per-class is for --gan ssgan; --gan {cfg.gan} uses all "
                          "the labels (conditional variants) or none")
    # First: multiworker must be set up before TensorFlow runs anything.
    strategy = distribute.make_strategy(cfg.strategy)
    # Check names, data and the model before the run folder is written, so
    # that a typo leaves nothing behind that a corrected command would trip over.
    variant = get_gan(cfg.gan)
    variant.resolve_options(cfg.gan_options)
    variant.check_config(cfg.latent_dim)
    if cfg.loss:
        get_loss(cfg.loss)
    distribute.check_global_batch(cfg.batch_size, strategy.num_replicas_in_sync)
    distribute.check_jit_compile(cfg.jit_compile, strategy.num_replicas_in_sync)
    # The source is opened (decoded) once; every pipeline of the run reads it.
    source, info = load_dataset(cfg.dataset, image_size=cfg.image_size, seed=cfg.seed,
                                background=cfg.background)
    examples = cache(lambda n: first_examples(source, n))
    # e.g. k-means (a few seconds) of the clustered variant: --clusters may not fit.
    plan = variant.prepare_data(info, examples, clusters=cfg.clusters, seed=cfg.seed)
    evaluator = evaluator_for(cfg, info)  # a named one that cannot score this data stops here
    previous_policy = keras.mixed_precision.dtype_policy()
    keras.mixed_precision.set_dtype_policy(cfg.precision)  # before the model is built
    try:
        return _build_and_train(cfg, strategy, info, source, plan, examples, list(callbacks),
                                evaluator)
    except OSError as e:
        # A full disk mid-run (checkpoints say so themselves): one line, not a
        # traceback; every file is written whole or not at all.
        if e.errno not in (errno.ENOSPC, errno.EDQUOT):
            raise
        raise TrainError(f"disk full writing {e.filename or cfg.run_dir}: {e.strerror}; the "
                         "last complete checkpoint is kept: free space, then --resume") from None
    finally:
        keras.mixed_precision.set_dtype_policy(previous_policy)


def _build_and_train(cfg, strategy, info, source, plan, examples, callbacks,
                     evaluator=None) -> TrainResult:
    keras.utils.set_random_seed(cfg.seed)
    steps_per_epoch = _steps_per_epoch(cfg, info)
    total = cfg.epochs * steps_per_epoch
    # Keras runs whole executions: an epoch (or a resumed part of one) must be
    # a multiple of the steps per execution, so take the largest divisor.
    per_call = math.gcd(cfg.steps_per_execution, steps_per_epoch)
    # The model and both optimizers are created in the strategy's scope; fit
    # and the callbacks run outside it, as Keras intends. Under multiworker
    # this matters: saving creates throwaway Keras objects, whose variables
    # in the scope would be collective ops that the other workers never join.
    with strategy.scope():
        model = build_model(cfg, info.shape, total_steps=total, steps_per_execution=per_call,
                            plan=plan)
    # The other workers read the folder (checkpoints) but never write it, so
    # that nothing races on a shared filesystem. The model's own checks ran
    # above: a run it refuses leaves no folder behind.
    chief = distribute.is_chief(strategy)
    run_dir = _prepare_run_dir(cfg, disk_needs(cfg, model, info.shape)) if chief \
        else cfg.run_dir
    return _train(cfg, run_dir, info, model, source, plan, examples, steps_per_epoch,
                  callbacks, chief, evaluator)


def _steps_per_epoch(cfg: TrainConfig, info) -> int:
    if cfg.steps_per_epoch:
        return cfg.steps_per_epoch
    if info.kind == "points" or not info.num_examples:
        return TOY_STEPS_PER_EPOCH
    return max(1, info.num_examples // (cfg.batch_size * cfg.d_steps))


def _stream(cfg: TrainConfig, source, info, plan, skip_batches: int):
    """The fit stream from step `skip_batches` on: k minibatches of m per step
    (global batches: under a strategy each replica gets a slice of each)."""
    ds = batch_dataset(source, info, cfg.batch_size * cfg.d_steps, seed=cfg.seed,
                       skip_batches=skip_batches, with_labels=plan.with_labels,
                       label_map=plan.label_map)
    return distribute.shard_by_data(ds)


def _train(cfg: TrainConfig, run_dir: Path, info, model, source, plan, examples,
           steps_per_epoch: int, extra_callbacks: list, chief: bool = True,
           evaluator=None) -> TrainResult:
    variant = get_gan(cfg.gan)
    total = cfg.epochs * steps_per_epoch
    if chief:
        rf.write_data_info(run_dir, dataclasses.asdict(info))
    checkpoints = run_dir / rf.CHECKPOINTS_DIR
    step = restore_checkpoint(model, checkpoints) if cfg.resume else 0
    if step >= total:
        print(f"{run_dir} is already trained to step {step} of {total}; "
              "raise --epochs to train further")

    latents = sample_latents(cfg.num_samples, cfg.latent_dim, cfg.seed)
    sampler = variant.sampler(model)  # what the grids and the FD sample from
    classes = sampler_classes(sampler)
    if classes:  # the grid's rows cycle through the classes
        latents = [latents, np.arange(cfg.num_samples, dtype=np.int64) % classes]
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
            Checkpoint(checkpoints, cfg.checkpoint_every, keep=cfg.keep_checkpoints),
            # each grid also to TensorBoard's Images tab, beside the losses and FD
            SampleGrid(run_dir / rf.SAMPLES_DIR, latents, centres,
                       logdir=run_dir / rf.LOGS_DIR / "samples" if cfg.tensorboard else None),
            # before the loggers: it adds to their logs
            *fd_callback(cfg, evaluator, sampler, examples),
            MetricsCSV(run_dir / rf.METRICS_FILE),
        ] if chief else []),
        *extra_callbacks,
    ]
    if cfg.tensorboard and chief:
        callbacks.append(keras.callbacks.TensorBoard(str(run_dir / rf.LOGS_DIR)))

    history, step = fit_from(model, lambda at: _stream(cfg, source, info, plan, at), step,
                             cfg.epochs, steps_per_epoch, callbacks, cfg.verbose)
    if guard.message:
        raise TrainError(guard.message)

    if chief:
        # What users sample from: z alone for unconditional variants.
        save_model_atomic(variant.sampler(model, ema=False), run_dir / rf.GENERATOR_FILE)
        if getattr(model, "ema_decay", None):  # export prefers it (run_folder)
            save_model_atomic(variant.sampler(model), run_dir / rf.GENERATOR_EMA_FILE)
        save_model_atomic(model, run_dir / rf.GAN_FILE)
    return TrainResult(run_dir, model, history, step, chief)
