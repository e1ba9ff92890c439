"""Keras callbacks of a training run: sample grids and crash-safe checkpoints."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import keras
import numpy as np

from keras_gan import run_folder
from keras_gan.errors import UserError
from keras_gan.images import save_grid, save_scatter

STATE_FILE = "state.json"
CHECKPOINT_FILE = "ckpt.weights.h5"  # the weights of state files that name none (older runs)
TMP_WEIGHTS = "ckpt-tmp.weights.h5"  # Keras insists on the .weights.h5 suffix


class CheckpointError(UserError, RuntimeError):
    """A checkpoint cannot be read or written; the message names the file."""


def weights_name(step: int) -> str:
    """The weights file of the checkpoint at `step`: each checkpoint gets its
    own name, so the file state.json names is never overwritten in place."""
    return f"ckpt-{step:09d}.weights.h5"


# The atomic writers live with the run folder's layout; the old names stay
# importable from here.
_fsync = run_folder.fsync
_write_atomic = run_folder.write_atomic
_atomic_write_text = run_folder.write_text_atomic


def save_model_atomic(model: keras.Model, path) -> None:
    """`model.save(path)` through a temporary name, so that a crash or a full
    disk never leaves a half-written .keras file under the real name."""
    path = Path(path)
    # Keras wants the .keras suffix on the temporary name too.
    _write_atomic(path, path.with_name(f"{path.stem}-tmp{path.suffix}"), model.save)


def _reason(e: OSError) -> str:
    """An OSError in one line: h5py puts the errno in a long multi-line text."""
    if e.strerror:
        return e.strerror
    text = str(e).splitlines()[0] if str(e) else type(e).__name__
    return text[:200]


class SampleGrid(keras.callbacks.Callback):
    """Saves what the generator makes from fixed latents at each epoch's end.

    Images go to `samples/epoch_NNN.png`; 2D points to a scatter plot over the
    mixture's mode centres. Fixed latents make epochs comparable.
    """

    def __init__(self, directory, latents, centres=None, every: int = 1):
        """`latents`: z (N, latent_dim), or [z, labels] for conditional models."""
        super().__init__()
        self.directory = Path(directory)
        self.latents = latents
        self.centres = centres
        self.every = every

    def on_epoch_end(self, epoch, logs=None):
        if (epoch + 1) % self.every:
            return
        generator = getattr(self.model, "sampling_generator", self.model.generator)
        samples = keras.ops.convert_to_numpy(generator(self.latents, training=False))
        path = self.directory / f"epoch_{epoch + 1:03d}.png"
        if samples.ndim == 2:
            save_scatter(path, samples, self.centres, title=f"epoch {epoch + 1}")
        else:
            save_grid(path, samples, scale=2)


class Checkpoint(keras.callbacks.Callback):
    """Writes the whole training state every `every_steps` steps and at each
    epoch's end: both networks, both optimizers (moments and iteration
    counts) and the model's RNG state, via `model.save_weights`.

    The step is `model.optimizer.iterations` (generator updates), so the
    state file needs no bookkeeping of its own. A checkpoint is committed in
    three moves, each of which a crash (kill -9, full disk) may interrupt:
    1. the weights go to a temporary file, flushed, then renamed to a name
       of their own (`weights_name(step)`): a file under such a name is
       always whole;
    2. state.json, naming that file and its step, is written the same way:
       its rename is the commit, so the step it says is the step the named
       weights hold;
    3. only then are older weights files removed.
    A crash before 2 leaves the previous checkpoint in force, and stray
    files that this callback removes when training (re)starts:
    `restore_checkpoint` only reads, so that under multiworker only the
    chief, which alone has this callback, writes the folder.
    """

    def __init__(self, directory, every_steps: int):
        super().__init__()
        self.directory = Path(directory)
        self.every_steps = every_steps
        self._saved = None  # the step last committed by this callback

    def _step(self) -> int:
        return int(keras.ops.convert_to_numpy(self.model.optimizer.iterations))

    def save(self) -> int:
        step = self._step()
        name = weights_name(step)
        tmp = self.directory / TMP_WEIGHTS
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            self.model.save_weights(tmp, overwrite=True)
            _fsync(tmp)
            os.replace(tmp, self.directory / name)
            _atomic_write_text(self.directory / STATE_FILE, json.dumps(
                {"step": step, "weights": name, "time": time.time()}))
            if os.name == "posix":  # a folder opens for fsync there only
                _fsync(self.directory)  # the renames themselves
        except OSError as e:  # ENOSPC, EIO, a folder gone read-only
            tmp.unlink(missing_ok=True)
            kept = _read_state(self.directory)
            if kept is None or kept[1].name != name:
                (self.directory / name).unlink(missing_ok=True)  # written, never committed
            last = (f"the last complete checkpoint (step {kept[0]}) is kept"
                    if kept else "no checkpoint was written before")
            raise CheckpointError(f"cannot write the checkpoint of step {step} to "
                                  f"{self.directory}: {_reason(e)}; {last}") from None
        self._saved = step
        _remove_stale(self.directory, keep=name)
        return step

    def on_train_begin(self, logs=None):
        self._last = self._step()
        if self.directory.is_dir():  # what a crash mid-save left behind
            state = _read_state(self.directory)
            _remove_stale(self.directory, keep=state[1].name if state else "")

    def on_train_batch_end(self, batch, logs=None):
        # With steps_per_execution > 1 this runs every Nth step: save when a
        # multiple of every_steps was passed since the last save. stop_training
        # is set by StopOnNonFinite: never overwrite the last good checkpoint
        # with diverged weights.
        step = self._step()
        if step // self.every_steps > self._last // self.every_steps \
                and not self.model.stop_training:
            self.save()
            self._last = step

    def on_epoch_end(self, epoch, logs=None):
        # An epoch that ends on a multiple of every_steps was just saved.
        if not self.model.stop_training and self._step() != self._saved:
            self.save()


class MetricsCSV(keras.callbacks.Callback):
    """Appends one row per epoch to a CSV: epoch, step, seconds, then metrics
    (`keras_gan.run_folder.append_metrics`).

    Unlike Keras's CSVLogger it writes no empty val_ columns, records the
    step (generator updates) and the wall time, and appends across resumes;
    a resume that logs new columns (e.g. a --fd-every that adds the digit
    FD) widens the header, the earlier rows' new cells left empty.
    """

    def __init__(self, path):
        super().__init__()
        self.path = Path(path)
        self._start = None

    def on_train_begin(self, logs=None):
        self._start = time.time()

    def on_epoch_end(self, epoch, logs=None):
        logs = {k: float(v) for k, v in sorted((logs or {}).items())}
        step = int(keras.ops.convert_to_numpy(self.model.optimizer.iterations))
        run_folder.append_metrics(self.path, {
            "epoch": epoch + 1, "step": step,
            "seconds": round(time.time() - self._start, 3), **logs})


class FrechetDistance(keras.callbacks.Callback):
    """The digit FD of the generator every `every` epochs, added to the epoch
    logs as `digit_fd` (and its cost as `fd_seconds`), so that `MetricsCSV`
    and TensorBoard, placed after this callback, record it.

    The real features' statistics are computed once; each evaluation costs
    `num_samples` generator and classifier forward passes. Epochs without an
    evaluation log NaN, so the CSV keeps one set of columns.
    """

    def __init__(self, evaluator, real_images, num_samples: int = 2000, every: int = 1,
                 seed: int = 0, num_classes: int | None = None):
        super().__init__()
        from keras_gan.metrics import FeatureStats

        self.evaluator = evaluator
        self.real = FeatureStats()
        self.real.update(evaluator.features(real_images))
        self.num_samples, self.every, self.seed = num_samples, every, seed
        self.num_classes = num_classes

    def on_epoch_end(self, epoch, logs=None):
        from keras_gan.evaluate import generate
        from keras_gan.metrics import FeatureStats, stats_frechet_distance

        if logs is None:
            return
        if (epoch + 1) % self.every:
            logs["digit_fd"] = logs["fd_seconds"] = float("nan")
            return
        start = time.time()
        generator = getattr(self.model, "sampling_generator", self.model.generator)
        fake, _ = generate(generator, self.num_samples, self.seed,
                           num_classes=self.num_classes, progress=False)
        stats = FeatureStats()
        stats.update(self.evaluator.features(fake))
        logs["digit_fd"] = stats_frechet_distance(stats, self.real)
        logs["fd_seconds"] = time.time() - start


class StopOnNonFinite(keras.callbacks.Callback):
    """Stops training when a logged loss is NaN or inf, naming the step.

    Keras's TerminateOnNaN watches only `loss`, which a GAN does not log
    (the VAE does).
    Place it before `Checkpoint` so the diverged state is not saved.
    """

    def __init__(self, keys=("d_loss", "g_loss", "loss")):
        super().__init__()
        self.keys = keys
        self.message = None

    def on_train_batch_end(self, batch, logs=None):
        logs = logs or {}
        bad = {k: float(logs[k]) for k in self.keys
               if k in logs and not np.isfinite(float(logs[k]))}
        if bad:
            step = int(keras.ops.convert_to_numpy(self.model.optimizer.iterations))
            self.message = (f"non-finite loss at step {step} ({bad}); training "
                            "stopped, the last good checkpoint is kept")
            print(f"\n{self.message}")
            self.model.stop_training = True


class SkippedUpdates(keras.callbacks.Callback):
    """Counts the updates mixed_float16 loss scaling skipped, per epoch.

    Keras's `LossScaleOptimizer`, given non-finite gradients (float16
    overflow), applies nothing, halves its loss scale and leaves
    `iterations` where it was, without a word. A run's step (the generator
    optimizer's iterations) therefore counts applied updates only, and
    `train` runs extra fit batches to reach its total. This adds to each
    epoch's logs, before `MetricsCSV` and TensorBoard read them,
    `skipped_steps` (fit batches whose generator update was skipped) and,
    for GANs, `skipped_d_updates`, and prints a line when any were skipped.
    """

    def _counts(self) -> dict[str, int]:
        optimizers = {"g": self.model.optimizer,
                      "d": getattr(self.model, "d_optimizer", None)}
        return {k: int(keras.ops.convert_to_numpy(o.iterations))
                for k, o in optimizers.items() if o is not None}

    def on_epoch_begin(self, epoch, logs=None):
        self._start, self._batches = self._counts(), 0

    def on_train_batch_end(self, batch, logs=None):
        # `batch` is the epoch's index of the last step run (also with
        # steps_per_execution > 1), so batch + 1 fit batches have run.
        self._batches = batch + 1

    def on_epoch_end(self, epoch, logs=None):
        now = self._counts()
        skipped = {"skipped_steps": self._batches - (now["g"] - self._start["g"])}
        if "d" in now:
            per_step = getattr(self.model, "d_steps", 1)
            skipped["skipped_d_updates"] = (self._batches * per_step
                                            - (now["d"] - self._start["d"]))
        if logs is not None:
            logs.update({k: float(v) for k, v in skipped.items()})
        if any(skipped.values()):
            counts = ", ".join(f"{k} {v}" for k, v in skipped.items())
            scale = getattr(self.model.optimizer, "dynamic_scale", None)
            scale = "" if scale is None else (
                f"; generator loss scale now {float(keras.ops.convert_to_numpy(scale)):g}")
            print(f"\nepoch {epoch + 1}: mixed_float16 loss scaling skipped updates with "
                  f"non-finite gradients ({counts}){scale}")


def _read_state(directory) -> tuple[int, Path] | None:
    """(step, weights path) of the committed checkpoint in `directory`, or None."""
    state = Path(directory) / STATE_FILE
    if not state.exists():
        return None
    try:
        values = json.loads(state.read_text())
        return int(values["step"]), Path(directory) / values.get("weights", CHECKPOINT_FILE)
    except (ValueError, KeyError, TypeError, AttributeError) as e:
        raise CheckpointError(f"checkpoint state {state} is corrupt ({e}); "
                              "delete the checkpoints folder to start over") from None


def _remove_stale(directory: Path, keep: str) -> None:
    """Removes what a crash mid-save can leave: temporary files and weights
    no state.json names. Never touches the committed checkpoint `keep`."""
    for f in list(directory.glob("ckpt*.weights.h5")) + list(directory.glob("*.tmp")):
        if f.name != keep:
            f.unlink(missing_ok=True)


def read_checkpoint_step(directory) -> int | None:
    """The step of the last complete checkpoint in `directory`, or None."""
    for _ in range(2):  # a save may commit and remove the file between the reads
        state = _read_state(directory)
        if state is None or state[1].exists():
            return state and state[0]
    raise CheckpointError(f"{Path(directory) / STATE_FILE} names {state[1].name}, which "
                          "is missing; delete the checkpoints folder to start over")


def restore_checkpoint(model: keras.Model, directory) -> int:
    """Loads the last checkpoint into a compiled model; returns its step (0 if none).

    Loads only the weights file state.json names (never a temporary or
    uncommitted one), and checks that the restored optimizer's step is the
    one state.json says. Reads only: `Checkpoint` tidies the folder.
    """
    directory = Path(directory)
    state = _read_state(directory)
    if state is None:
        return 0
    expected, path = state
    try:
        model.load_weights(path)
    except Exception as e:  # h5py / Keras raise many types for a bad file
        # h5py's texts span lines; the first says what went wrong.
        detail = (str(e).strip().splitlines() or [""])[0][:300]
        raise CheckpointError(
            f"cannot load checkpoint {path}: {type(e).__name__}: {detail}. It does not "
            "match this model (different config?) or is corrupt; move it away to "
            "start over."
        ) from None
    step = int(keras.ops.convert_to_numpy(model.optimizer.iterations))
    if step != expected:
        raise CheckpointError(f"checkpoint {path} holds step {step} but {STATE_FILE} says "
                              f"{expected}: the folder was changed by hand; move it away "
                              "to start over")
    return step
