"""What every trainer shares before `fit`: the run's error and result types,
optimizers from explicit settings, and the run folder's preparation
(config.json, the resume check, the disk check). `train` (trainer.py) and
`train_translator` (translate.py) both build on it; it imports neither.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import keras

from keras_gan.config import TrainConfig
from keras_gan.errors import UserError
from keras_gan.models.gans import get_gan
from keras_gan.training import run_folder as rf
from keras_gan.training.disk import DiskNeeds

# Options that may differ between a run and its --resume: they change neither
# the model, the data stream nor the optimisation. The strategy only changes
# how each global batch is split (and so which noise each share draws): a run
# started on 4 GPUs may go on with 2, or on one machine (the replica count can
# change under an unchanged --strategy anyway); checkpoints hold one copy.
RESUMABLE_CHANGES = frozenset({"epochs", "resume", "verbose", "tensorboard",
                               "checkpoint_every", "keep_checkpoints", "fd_every",
                               "fd_samples", "evaluator", "strategy"})
# Not part of what a run trains at all: where its folder is (a run folder may
# be moved or copied, then resumed there; config.json then records where it
# is now) and whether this is a resume.
NOT_COMPARED = frozenset({"out", "resume"})


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


def _prepare_run_dir(cfg: TrainConfig, needs: DiskNeeds | None = None) -> Path:
    """Checks the run folder (a run there only with --resume, and then with a
    config that may continue it; writable; room on its disk for `needs`),
    then writes config.json. A refused run leaves no folder behind."""
    run_dir = cfg.run_dir
    saved = rf.read_config(run_dir)
    if saved is not None:
        if not cfg.resume:
            raise TrainError(f"{run_dir} already holds a run; pass --resume to continue "
                             "it, or --out to start a new one")
        saved = TrainConfig.from_dict(saved, source=str(run_dir / rf.CONFIG_FILE))
        # Options left out of an older config.json are at their defaults.
        before = saved.replace(
            gan_options=get_gan(saved.gan).resolve_options(saved.gan_options)).to_dict()
        now = cfg.to_dict()
        changed = sorted(k for k in now if k not in RESUMABLE_CHANGES | NOT_COMPARED
                         and before.get(k) != now[k])
        if changed:
            diffs = ", ".join(f"{k}: {before.get(k)!r} -> {now[k]!r}" for k in changed)
            may = ", ".join(sorted(RESUMABLE_CHANGES - NOT_COMPARED))
            raise TrainError(f"cannot resume {run_dir} with a different config ({diffs}); "
                             f"only these may change: {may}")
    # What this call creates (innermost first), removed again if the disk is short.
    created = [p for p in (run_dir, *run_dir.parents) if not p.exists()]
    try:
        run_dir.mkdir(parents=True, exist_ok=True)
        probe = run_dir / ".write-test"
        probe.write_text("ok")
        probe.unlink()
    except OSError as e:
        raise TrainError(f"cannot write to run folder {run_dir}: {e.strerror}") from None
    if needs is not None:
        try:
            _check_disk(run_dir, needs)
        except TrainError:
            for folder in created:
                try:
                    folder.rmdir()
                except OSError:
                    break
            raise
    # Atomic: other workers of a multi-worker run may be reading it (--resume).
    rf.write_config(run_dir, cfg.to_dict())
    return run_dir


# A run that will write more than the free space of its disk is refused; one
# that will write more than 1 / DISK_MARGIN of it gets a warning.
DISK_MARGIN = 2


def _check_disk(run_dir: Path, needs: DiskNeeds) -> None:
    """Refuses a run that will not fit in the free space of its folder's disk;
    warns (one line on stderr) when it will take most of it."""
    free = rf.free_space(run_dir)
    h = rf.human_bytes
    if needs.total > free:
        raise TrainError(f"not enough free disk for run folder {run_dir}: the run will write "
                         f"about {h(needs.total)} ({needs.describe()}) and {h(free)} is free "
                         "there; free space, lower --keep-checkpoints or --num-samples, or "
                         "pass --out on another disk")
    if needs.total * DISK_MARGIN > free:
        print(f"warning: run folder {run_dir}: the run will write about {h(needs.total)} "
              f"({needs.describe()}), more than half of the {h(free)} free there",
              file=sys.stderr, flush=True)
