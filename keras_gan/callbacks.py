"""Keras callbacks of a training run: sample grids and crash-safe checkpoints."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import keras
import numpy as np

from keras_gan.errors import UserError
from keras_gan.images import save_grid, save_scatter

CHECKPOINT_FILE = "ckpt.weights.h5"
STATE_FILE = "state.json"


class CheckpointError(UserError, RuntimeError):
    """A checkpoint cannot be read; the message names the file."""


def _atomic_write_text(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


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
    state file needs no bookkeeping of its own. Files are written under a
    temporary name and renamed: a crash mid-write leaves the previous
    checkpoint whole.
    """

    def __init__(self, directory, every_steps: int):
        super().__init__()
        self.directory = Path(directory)
        self.every_steps = every_steps

    def _step(self) -> int:
        return int(keras.ops.convert_to_numpy(self.model.optimizer.iterations))

    def save(self) -> int:
        self.directory.mkdir(parents=True, exist_ok=True)
        step = self._step()
        tmp = self.directory / "ckpt-tmp.weights.h5"
        self.model.save_weights(tmp, overwrite=True)
        os.replace(tmp, self.directory / CHECKPOINT_FILE)
        # Informational (and what tests poll): restore reads the step from
        # the weights themselves.
        _atomic_write_text(self.directory / STATE_FILE,
                           json.dumps({"step": step, "time": time.time()}))
        return step

    def on_train_begin(self, logs=None):
        self._last = self._step()

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
        if not self.model.stop_training:
            self.save()


class MetricsCSV(keras.callbacks.Callback):
    """Appends one row per epoch to a CSV: epoch, step, seconds, then metrics.

    Unlike Keras's CSVLogger it writes no empty val_ columns, records the
    step (generator updates) and the wall time, and appends across resumes
    (the header is written once, when the file is new).
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
        row = {"epoch": epoch + 1, "step": step,
               "seconds": round(time.time() - self._start, 3), **logs}
        new = not self.path.exists()
        with self.path.open("a") as f:
            if new:
                f.write(",".join(row) + "\n")
            f.write(",".join(str(v) for v in row.values()) + "\n")


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


def read_checkpoint_step(directory) -> int | None:
    """The step of the last complete checkpoint in `directory`, or None."""
    state = Path(directory) / STATE_FILE
    if not state.exists() or not (Path(directory) / CHECKPOINT_FILE).exists():
        return None
    try:
        return int(json.loads(state.read_text())["step"])
    except (ValueError, KeyError, TypeError) as e:
        raise CheckpointError(f"checkpoint state {state} is corrupt ({e}); "
                              "delete the checkpoints folder to start over") from None


def restore_checkpoint(model: keras.Model, directory) -> int:
    """Loads the last checkpoint into a compiled model; returns its step (0 if none).

    The step comes from the restored optimizer, not from the state file: the
    weights file is renamed into place whole, so it is the truth even if a
    crash came between the two writes.
    """
    path = Path(directory) / CHECKPOINT_FILE
    if not path.exists():
        return 0
    try:
        model.load_weights(path)
    except Exception as e:  # h5py / Keras raise many types for a bad file
        raise CheckpointError(
            f"cannot load checkpoint {path}: {type(e).__name__}: {e}. It does not "
            "match this model (different config?) or is corrupt; move it away to "
            "start over."
        ) from None
    return int(keras.ops.convert_to_numpy(model.optimizer.iterations))
