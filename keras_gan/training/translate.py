"""`train_translator(cfg)`: `train(cfg)` for the image-to-image translators.

`keras_gan.training.trainer.train` hands over here when `--gan` names a
translator (pix2pix, unet-l1, pix2pix-adv, cyclegan). The run folder is
the GAN runs' (`run_setup._prepare_run_dir`: config.json, resume
checks, the disk check), and so are the checkpoints with their resume,
metrics.csv, TensorBoard and the fit loop (`fit_from`). What differs: the
data are `Pairs` (keras_gan/data/pair_pipeline.py), the grid shows fixed
validation sources translated (translation_callbacks.py), val_l1 is
logged where the data pairs, and the final files are

- translator.keras: G alone, source -> target, what users run and export;
- translator_ba.keras: CycleGAN's F, target -> source;
- gan.keras: the whole trained model (`Pix2Pix` / `CycleGAN`).

GAN-only settings (latent size, tricks, penalties, FD on z samples...)
left at their defaults (or the recipe's) are ignored; set otherwise they
are refused in one line, before anything is written.
"""

from __future__ import annotations

import math

import keras

from keras_gan.config import ConfigError, TrainConfig
from keras_gan.data.pair_pipeline import pair_stream, steps_per_pass, train_val_pairs
from keras_gan.errors import UserError
from keras_gan.models.gans import get_gan
from keras_gan.models.translation.registry import build_translator, get_translator
from keras_gan.models.translation.schedules import ConstantThenLinearDecay
from keras_gan.training import run_folder as rf
from keras_gan.training.callbacks import MetricsCSV, SkippedUpdates, StopOnNonFinite
from keras_gan.training.checkpoints import Checkpoint, restore_checkpoint, save_model_atomic
from keras_gan.training.disk import disk_needs
from keras_gan.training.fit_loop import fit_from
from keras_gan.training.run_setup import TrainError, TrainResult, _prepare_run_dir, make_optimizer
from keras_gan.training.translation_callbacks import TranslationGrid, ValidationL1

TRANSLATOR_FILE = "translator.keras"
TRANSLATOR_BA_FILE = "translator_ba.keras"
GRID_ROWS = 16  # validation sources in each epoch's grid, at most (and --num-samples)
# TrainConfig fields only the GANs use, with the hint a refusal gives.
GAN_ONLY = {
    "arch": "", "latent_dim": "", "clusters": "", "loss": "", "d_steps": "", "ema_decay": "",
    "depth": " (the U-Net's is --gan-option depth=N)", "instance_noise": "",
    "label_smoothing": "", "label_noise": "", "anneal_steps": "", "spectral_norm": "",
    "augment": "", "ada_target": "", "ada_interval": "", "ada_kimg": "", "r1": "", "r2": "",
    "reg_every": "", "lr_schedule": " (translators decay with --gan-option lr_decay=F)",
    "fd_every": " (no FD of translations yet: val_l1 is logged)",
    "strategy": " (translators train on one device for now)",
    "labels_per_class": " (it is --gan ssgan's)",
}


def check_settings(cfg: TrainConfig) -> dict:
    """Refuses GAN-only settings a translator run would silently ignore;
    returns the translator's resolved options."""
    variant = get_gan(cfg.gan)
    defaults = TrainConfig()
    for name, hint in GAN_ONLY.items():
        value = getattr(cfg, name)
        if value not in (getattr(defaults, name), variant.recipe.get(name, getattr(defaults,
                                                                                   name))):
            flag = "--" + name.replace("_", "-")
            raise ConfigError(f"--gan {cfg.gan} is a translator: {flag} {value} does not "
                              f"apply to it{hint}; leave it unset")
    return variant.resolve_options(cfg.gan_options)


def _model(cfg: TrainConfig, options: dict, in_channels: int, out_channels: int, size: int,
           total: int, per_call: int):
    options = dict(options)
    decay = options.pop("lr_decay")
    if cfg.gan == "cyclegan" and options["identity_weight"] is None:
        # The identity terms feed B to G: A and B need the same channels.
        options["identity_weight"] = 0.0 if in_channels != out_channels else None
    try:
        model = build_translator(cfg.gan, size, in_channels, out_channels, cfg.width,
                                 seed=cfg.seed, **options)
    except ValueError as e:
        if isinstance(e, UserError):
            raise
        raise ConfigError(f"--gan {cfg.gan} on {cfg.dataset}: {e}") from None

    def optimizer(value):
        # Decay over the last `decay` of the run's updates (one per step each).
        decaying = round(total * decay)
        if decaying:
            value = ConstantThenLinearDecay(value, total - decaying, decaying)
        return make_optimizer(cfg.optimizer, value, cfg.beta_1, cfg.beta_2)

    model.compile(d_optimizer=optimizer(cfg.d_lr), g_optimizer=optimizer(cfg.g_lr),
                  jit_compile=cfg.jit_compile, steps_per_execution=per_call)
    return model


def train_translator(cfg: TrainConfig, callbacks=()) -> TrainResult:
    """Trains translator `cfg.gan` on the pairs `cfg.dataset` names; returns
    the run folder, model and history (see the module)."""
    options = check_settings(cfg)
    paired = get_translator(cfg.gan).paired
    train, val = train_val_pairs(cfg.dataset, size=cfg.image_size, background=cfg.background)
    if paired and not train.paired:
        raise ConfigError(f"--gan {cfg.gan} trains on pairs and {cfg.dataset} is unpaired; "
                          "use pairs:/npz:/emoji64: data, or --gan cyclegan")
    h, w = train.size
    if h != w:
        raise ConfigError(f"--gan {cfg.gan} takes square images, {cfg.dataset} holds {w}x{h}; "
                          "pass --image-size N")
    steps_per_epoch = cfg.steps_per_epoch or steps_per_pass(train, cfg.batch_size, paired)
    total = cfg.epochs * steps_per_epoch
    previous_policy = keras.mixed_precision.dtype_policy()
    keras.mixed_precision.set_dtype_policy(cfg.precision)  # before the model is built
    try:
        keras.utils.set_random_seed(cfg.seed)
        model = _model(cfg, options, train.a.shape[-1], train.b.shape[-1], h, total,
                       math.gcd(cfg.steps_per_execution, steps_per_epoch))
        # Checks the stream (enough images for a batch) before the folder is written.
        pair_stream(train, cfg.batch_size, seed=cfg.seed, paired=paired)
        rows = min(cfg.num_samples, GRID_ROWS, len(val.a))
        targets = val.b[:rows] if val.paired else None
        columns = 2 + (cfg.gan == "cyclegan") + (targets is not None)
        needs = disk_needs(cfg.replace(num_samples=rows * columns), model, (h, h, 3))
        run_dir = _prepare_run_dir(cfg, needs)
        return _train(cfg, run_dir, model, train, val, paired, steps_per_epoch,
                      (val.a[:rows], targets), list(callbacks))
    finally:
        keras.mixed_precision.set_dtype_policy(previous_policy)


def _train(cfg, run_dir, model, train, val, paired, steps_per_epoch, grid,
           extra_callbacks) -> TrainResult:
    rf.write_data_info(run_dir, {
        "kind": "pairs", "source": train.source, "paired": train.paired,
        "domains": list(train.domains), "shape_a": list(train.a.shape[1:]),
        "shape_b": list(train.b.shape[1:]), "train": [len(train.a), len(train.b)],
        "val": [len(val.a), len(val.b)]})
    checkpoints = run_dir / rf.CHECKPOINTS_DIR
    step = restore_checkpoint(model, checkpoints) if cfg.resume else 0
    if step >= cfg.epochs * steps_per_epoch:
        print(f"{run_dir} is already trained to step {step}; raise --epochs to train further")
    guard = StopOnNonFinite()
    logdir = run_dir / rf.LOGS_DIR
    callbacks = [
        guard,
        *([SkippedUpdates()] if cfg.precision == "mixed_float16" else []),
        Checkpoint(checkpoints, cfg.checkpoint_every, keep=cfg.keep_checkpoints),
        TranslationGrid(run_dir / rf.SAMPLES_DIR, *grid,
                        logdir=logdir / "samples" if cfg.tensorboard else None),
        # before the loggers: it adds to their logs
        *([ValidationL1(val.a, val.b, cfg.batch_size)] if val.paired else []),
        MetricsCSV(run_dir / rf.METRICS_FILE),
        *extra_callbacks,
        *([keras.callbacks.TensorBoard(str(logdir))] if cfg.tensorboard else []),
    ]
    history, step = fit_from(
        model, lambda at: pair_stream(train, cfg.batch_size, seed=cfg.seed, paired=paired,
                                      skip_batches=at),
        step, cfg.epochs, steps_per_epoch, callbacks, cfg.verbose)
    if guard.message:
        raise TrainError(guard.message)
    save_model_atomic(model.generator, run_dir / TRANSLATOR_FILE)
    if getattr(model, "generator_ba", None) is not None:
        save_model_atomic(model.generator_ba, run_dir / TRANSLATOR_BA_FILE)
    save_model_atomic(model, run_dir / rf.GAN_FILE)
    return TrainResult(run_dir, model, history, step)

