"""`train_semi_supervised(cfg)`: `train(cfg)` for `--gan ssgan`.

`keras_gan.training.trainer.train` hands over here, as it does for the
translators. Shared with the GAN runs: the run folder (config.json, resume
checks, the disk check), checkpoints and resume, metrics.csv, the sample
grid, the FD of G's samples, TensorBoard and the fit loop (`fit_from`).
What differs:

- the data: `load_labelled` splits the source into training rows and
  held-out rows (a fixed function of the source); `select_labelled` draws
  `labels_per_class` labelled rows per class from the training rows with
  the run's seed; every training row is also used without its label;
- the fit stream zips the unlabelled minibatches with labelled ones drawn
  (with repeats, reshuffled each pass) from those few rows, as the paper's
  code does, so every D update sees both;
- `test_error`, the classifier's error on the held-out rows, is logged at
  each epoch end (reported, never used to choose anything);
- the final files add `classifier.keras` (images -> class probabilities)
  and `labels.json` (the labelled rows, the held-out rule, the final error).
"""

from __future__ import annotations

import json
import math
import sys

import keras
import numpy as np
import tensorflow as tf

from keras_gan.config import ConfigError, TrainConfig
from keras_gan.data.labelled import LabelledData, load_labelled, select_labelled
from keras_gan.errors import UserError
from keras_gan.models.gans import get_gan
from keras_gan.models.networks import build_networks
from keras_gan.models.semi_supervised import SemiSupervisedGAN
from keras_gan.models.semi_supervised.networks import (
    build_discriminator,
    init_from_data,
    plain_classifier,
)
from keras_gan.training import run_folder as rf
from keras_gan.training.callbacks import MetricsCSV, SampleGrid, SkippedUpdates, StopOnNonFinite
from keras_gan.training.checkpoints import Checkpoint, restore_checkpoint, save_model_atomic
from keras_gan.training.disk import disk_needs
from keras_gan.training.fit_loop import fit_from
from keras_gan.training.run_setup import (
    TrainError,
    TrainResult,
    _prepare_run_dir,
    learning_rate,
    make_optimizer,
)

INIT_EXAMPLES = 500  # the paper's data-dependent initialisation batch
CLASSIFIER_FILE = "classifier.keras"
LABELS_FILE = "labels.json"
# Settings this run cannot honour, with the hint a refusal gives.
REFUSED = {"strategy": " (ssgan trains on one device for now)",
           "clusters": "", "loss": " (D(x) = Z / (Z + 1) fixes it to non_saturating)"}


def check_settings(cfg: TrainConfig) -> dict:
    """Refuses settings the run would silently ignore; returns its options."""
    variant = get_gan(cfg.gan)
    defaults = TrainConfig()
    for name, hint in REFUSED.items():
        value = getattr(cfg, name)
        if value not in (getattr(defaults, name), "non_saturating"):
            flag = "--" + name.replace("_", "-")
            raise ConfigError(f"--gan {cfg.gan}: {flag} {value} does not apply{hint}; "
                              "leave it unset")
    if not cfg.labels_per_class:
        raise ConfigError(f"--gan {cfg.gan} needs --labels-per-class N")
    return variant.resolve_options(cfg.gan_options)


def semi_stream(x, x_labelled, y_labelled, batch_size: int, *, seed: int,
                skip_batches: int = 0) -> tf.data.Dataset:
    """(unlabelled batch, (labelled batch, labels)) forever, from step
    `skip_batches` on: both parts reshuffled each pass with seeds fixed by
    `seed`, so a resumed run sees what an uninterrupted one would."""
    if len(x) < batch_size:
        raise ConfigError(f"--batch-size {batch_size} is larger than the {len(x)} training "
                          "images")
    unlabelled = (tf.data.Dataset.from_tensor_slices(x)
                  .shuffle(len(x), seed=seed, reshuffle_each_iteration=True)
                  .repeat().batch(batch_size, drop_remainder=True))
    # Few rows: repeat before batching, so a batch may hold a row twice (as
    # the paper's code tiles its 100 labelled digits).
    labelled = (tf.data.Dataset.from_tensor_slices((x_labelled, y_labelled))
                .shuffle(len(x_labelled), seed=seed + 1, reshuffle_each_iteration=True)
                .repeat().batch(batch_size, drop_remainder=True))
    ds = tf.data.Dataset.zip((unlabelled, labelled))
    if skip_batches:
        ds = ds.skip(skip_batches)
    return ds.prefetch(tf.data.AUTOTUNE)


def classifier_error(classifier, x, y, batch_size: int = 500) -> float:
    """The share of `x` that `classifier` (images -> probabilities) gets wrong."""
    probabilities = classifier.predict(x, batch_size=batch_size, verbose=0)
    return float(np.mean(np.argmax(probabilities, -1) != y))


class HeldOutError(keras.callbacks.Callback):
    """Adds `test_error`, the classifier's error on the held-out rows, to
    each epoch's logs (before the loggers, like the FD)."""

    def __init__(self, classifier, x, y):
        super().__init__()
        self.classifier, self.x, self.y = classifier, x, y
        self.last = float("nan")

    def on_epoch_end(self, epoch, logs=None):
        self.last = classifier_error(self.classifier, self.x, self.y)
        if logs is not None:
            logs["test_error"] = self.last


def build_semi_model(cfg: TrainConfig, options: dict, image_shape, classes: int,
                     total_steps: int, per_call: int) -> SemiSupervisedGAN:
    """The compiled model: G from `cfg.arch` (the recipe's MLP), the paper's D."""
    generator, _ = build_networks(cfg.arch, cfg.latent_dim, image_shape, cfg.width, cfg.depth)
    try:
        discriminator = build_discriminator(image_shape, classes, options)
    except ValueError as e:  # a D the data cannot feed, e.g. images too small for conv
        raise ConfigError(f"--gan {cfg.gan}: {e}") from None
    model = SemiSupervisedGAN(
        generator, discriminator, classes=classes,
        unsupervised_weight=options["unsupervised_weight"],
        classifier_decay=options["classifier_average"] or None, latent_dim=cfg.latent_dim,
        d_steps=cfg.d_steps, seed=cfg.seed, ema_decay=cfg.ema_decay or None,
        instance_noise=cfg.instance_noise, augment=cfg.augment or None, r1=cfg.r1, r2=cfg.r2,
        reg_every=cfg.reg_every, anneal_steps=cfg.anneal_steps,
        ada_target=cfg.ada_target, ada_interval=cfg.ada_interval, ada_kimg=cfg.ada_kimg)

    def optimizer(value, updates_per_step):
        schedule = learning_rate(value, cfg.lr_schedule, total_steps * updates_per_step)
        return make_optimizer(cfg.optimizer, schedule, cfg.beta_1, cfg.beta_2)

    model.compile(d_optimizer=optimizer(cfg.d_lr, cfg.d_steps), g_optimizer=optimizer(cfg.g_lr, 1),
                  jit_compile=cfg.jit_compile, steps_per_execution=per_call)
    return model


def train_semi_supervised(cfg: TrainConfig, callbacks=()) -> TrainResult:
    """Trains the semi-supervised GAN `cfg` describes (see the module)."""
    options = check_settings(cfg)
    data = load_labelled(cfg.dataset, image_size=cfg.image_size, background=cfg.background)
    labelled = select_labelled(data.y_train, cfg.labels_per_class, cfg.seed, data.class_names)
    steps_per_epoch = cfg.steps_per_epoch or max(
        1, len(data.x_train) // (cfg.batch_size * cfg.d_steps))
    total = cfg.epochs * steps_per_epoch
    previous_policy = keras.mixed_precision.dtype_policy()
    keras.mixed_precision.set_dtype_policy(cfg.precision)
    try:
        keras.utils.set_random_seed(cfg.seed)
        try:
            model = build_semi_model(cfg, options, data.x_train.shape[1:], data.num_classes,
                                     total, math.gcd(cfg.steps_per_execution, steps_per_epoch))
        except ValueError as e:
            if isinstance(e, UserError):
                raise
            raise ConfigError(f"--gan {cfg.gan} on {cfg.dataset}: {e}") from None
        semi_stream(data.x_train, data.x_train[labelled], data.y_train[labelled],
                    cfg.batch_size * cfg.d_steps, seed=cfg.seed)  # checks the batch size
        run_dir = _prepare_run_dir(cfg, disk_needs(cfg, model, data.x_train.shape[1:]))
        return _train(cfg, run_dir, model, data, labelled, steps_per_epoch, list(callbacks))
    finally:
        keras.mixed_precision.set_dtype_policy(previous_policy)


def _fd_callbacks(cfg: TrainConfig, data: LabelledData, model) -> list:
    """The FD of G's samples, as GAN runs log it, where an evaluator fits."""
    from keras_gan.data.sources import DataInfo
    from keras_gan.training.fd_logging import evaluator_for, fd_callback

    info = DataInfo(cfg.dataset, "image", tuple(data.x_train.shape[1:]), len(data.x_train),
                    data.num_classes, data.class_names)
    evaluator = evaluator_for(cfg, info)
    return fd_callback(cfg, evaluator, model.sampling_generator, lambda n: data.x_train[:n])


def _train(cfg, run_dir, model, data: LabelledData, labelled, steps_per_epoch,
           extra_callbacks) -> TrainResult:
    from export.runtime import sample_latents

    rf.write_data_info(run_dir, {
        "kind": "image", "source": cfg.dataset, "shape": list(data.x_train.shape[1:]),
        "num_examples": len(data.x_train), "num_classes": data.num_classes,
        "class_names": list(data.class_names), "held_out": data.held_out,
        "held_out_examples": len(data.x_test), "labelled_examples": len(labelled)})
    checkpoints = run_dir / rf.CHECKPOINTS_DIR
    step = restore_checkpoint(model, checkpoints) if cfg.resume else 0
    if step == 0:  # a resumed run has its own g and b
        init_from_data(model.discriminator, data.x_train[:INIT_EXAMPLES])
        model.reset_average()  # the average starts from the initialised D
    if step >= cfg.epochs * steps_per_epoch:
        print(f"{run_dir} is already trained to step {step}; raise --epochs to train further")
    guard = StopOnNonFinite()
    classifier = model.classifier
    held_out = HeldOutError(classifier, data.x_test, data.y_test)
    logdir = run_dir / rf.LOGS_DIR
    callbacks = [
        guard,
        *([SkippedUpdates()] if cfg.precision == "mixed_float16" else []),
        Checkpoint(checkpoints, cfg.checkpoint_every, keep=cfg.keep_checkpoints),
        SampleGrid(run_dir / rf.SAMPLES_DIR, sample_latents(cfg.num_samples, cfg.latent_dim,
                                                             cfg.seed),
                   logdir=logdir / "samples" if cfg.tensorboard else None),
        # before the loggers: they add to their logs
        *_fd_callbacks(cfg, data, model),
        held_out,
        MetricsCSV(run_dir / rf.METRICS_FILE),
        *extra_callbacks,
        *([keras.callbacks.TensorBoard(str(logdir))] if cfg.tensorboard else []),
    ]
    x_labelled, y_labelled = data.x_train[labelled], data.y_train[labelled]
    history, step = fit_from(
        model, lambda at: semi_stream(data.x_train, x_labelled, y_labelled,
                                      cfg.batch_size * cfg.d_steps, seed=cfg.seed,
                                      skip_batches=at),
        step, cfg.epochs, steps_per_epoch, callbacks, cfg.verbose)
    if guard.message:
        raise TrainError(guard.message)
    save_model_atomic(model.sampling_generator, run_dir / rf.GENERATOR_FILE)
    save_model_atomic(plain_classifier(model.classifying_discriminator),
                      run_dir / CLASSIFIER_FILE)
    save_model_atomic(model, run_dir / rf.GAN_FILE)
    error = classifier_error(classifier, data.x_test, data.y_test)
    rf.write_text_atomic(run_dir / LABELS_FILE, json.dumps({
        "source": cfg.dataset, "labels_per_class": cfg.labels_per_class, "seed": cfg.seed,
        "labelled_rows": labelled.tolist(),
        "rows": "indices into the training rows (the source without its held-out rows)",
        "held_out": data.held_out, "held_out_examples": len(data.x_test),
        "test_error": error, "test_accuracy": 1.0 - error, "step": step}, indent=1))
    print(f"held-out error: {error:.2%} on {len(data.x_test)} images ({data.held_out})",
          file=sys.stderr)
    return TrainResult(run_dir, model, history, step)
