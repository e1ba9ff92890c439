"""Keras callbacks of a training run: sample grids, metrics, FD, step
histories. The checkpoint callback is in `keras_gan.training.checkpoints`."""

from __future__ import annotations

import time
from pathlib import Path

import keras
import numpy as np

from keras_gan.data.images import save_grid, save_scatter
from keras_gan.training import run_folder
from keras_gan.training.summaries import PngSummaries


class SampleGrid(keras.callbacks.Callback):
    """Saves what the generator makes from fixed latents at each epoch's end.

    Images go to `samples/epoch_NNN.png`; 2D points to a scatter plot over the
    mixture's mode centres. Fixed latents make epochs comparable. With
    `logdir`, each file is also a TensorBoard image summary there, at step
    `epoch` (0-based): the step Keras's TensorBoard logs the epoch's losses
    and FD at, so the Images tab lines up with the scalars.
    """

    def __init__(self, directory, latents, centres=None, every: int = 1, logdir=None):
        """`latents`: z (N, latent_dim), or [z, labels] for conditional models."""
        super().__init__()
        self.directory = Path(directory)
        self.latents = latents
        self.centres = centres
        self.every = every
        self.summaries = PngSummaries(logdir) if logdir is not None else None

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
        if self.summaries is not None:
            self.summaries.write(path, step=epoch)

    def on_train_end(self, logs=None):
        if self.summaries is not None:
            self.summaries.close()


class MetricsCSV(keras.callbacks.Callback):
    """Appends one row per epoch to a CSV: epoch, step, seconds, then metrics
    (`keras_gan.training.run_folder.append_metrics`).

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
    """The generator's FD in an evaluator's features every `every` epochs,
    added to the epoch logs as `<extractor>_fd` (`digit_fd`, `emoji_fd`,
    `inception_fd`: the name says what measured it) and its cost as
    `fd_seconds`, so that `MetricsCSV` and TensorBoard, placed after this
    callback, record it.

    The real features' statistics are computed once; each evaluation costs
    `num_samples` generator and evaluator forward passes. Epochs without an
    evaluation log NaN, so the CSV keeps one set of columns.

    Raises:
        EvaluatorError: If the evaluator cannot score images like `real_images`.
    """

    def __init__(self, evaluator, real_images, num_samples: int = 2000, every: int = 1,
                 seed: int = 0, num_classes: int | None = None):
        super().__init__()
        from keras_gan.evaluation.evaluator import EvaluatorError
        from keras_gan.evaluation.metrics import FeatureStats

        problem = evaluator.fits(np.shape(real_images)[1:])
        if problem:
            raise EvaluatorError(f"FrechetDistance: {problem}.")
        self.evaluator = evaluator
        self.key = f"{evaluator.name}_fd"
        self.real = FeatureStats()
        self.real.update(evaluator.features(real_images))
        self.num_samples, self.every, self.seed = num_samples, every, seed
        self.num_classes = num_classes

    def on_epoch_end(self, epoch, logs=None):
        from keras_gan.evaluation.evaluate import generate
        from keras_gan.evaluation.metrics import FeatureStats, stats_frechet_distance

        if logs is None:
            return
        if (epoch + 1) % self.every:
            logs[self.key] = logs["fd_seconds"] = float("nan")
            return
        start = time.time()
        generator = getattr(self.model, "sampling_generator", self.model.generator)
        fake, _ = generate(generator, self.num_samples, self.seed,
                           num_classes=self.num_classes, progress=False)
        stats = FeatureStats()
        stats.update(self.evaluator.features(fake))
        logs[self.key] = stats_frechet_distance(stats, self.real)
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


class StepHistory(keras.callbacks.Callback):
    """Records logged metrics per training step, not per epoch.

    Keras hands `on_train_batch_end` the running mean of each metric since
    the epoch began (the trackers are `keras.metrics.Mean`s), so the value of
    the steps since the last call is recovered from two running means:
    (n * m_n - n' * m_n') / (n - n'), n' the steps of the previous call. With
    `steps_per_execution` > 1 one entry covers that many steps (their mean).

    After `fit`: `steps` (the step count after each entry, from
    `model.optimizer.iterations`: generator updates for a GAN) and
    `history[name]`, a list of floats per recorded metric. Use it with
    `GAN(grad_norms=True)` to see each update's gradient norm.

    Args:
        keys: the metric names to record (None: every logged one).
    """

    def __init__(self, keys=None):
        super().__init__()
        self.keys = None if keys is None else tuple(keys)
        self.steps: list[int] = []
        self.history: dict[str, list[float]] = {}

    def on_epoch_begin(self, epoch, logs=None):
        self._seen, self._means = 0, {}

    def on_train_batch_end(self, batch, logs=None):
        n = batch + 1  # `batch` is the epoch's index of the last step run
        done = n - self._seen
        for name, value in (logs or {}).items():
            if self.keys is not None and name not in self.keys:
                continue
            mean = float(keras.ops.convert_to_numpy(value))
            before = self._means.get(name, 0.0)
            self.history.setdefault(name, []).append(
                (n * mean - self._seen * before) / done)
            self._means[name] = mean
        self._seen = n
        self.steps.append(int(keras.ops.convert_to_numpy(self.model.optimizer.iterations)))


class SampleSnapshots(keras.callbacks.Callback):
    """Keeps what the sampling generator makes from fixed latents at chosen
    steps, in memory: `samples[step]` (numpy), for figures of training over
    time (sample grids, animations).

    A step is `model.optimizer.iterations` (generator updates), checked at
    each batch end, so with `steps_per_execution` N only multiples of N
    are seen; `at_steps` should be. Step 0 (before training) is taken at
    `on_train_begin` if asked for.

    Args:
        latents: z (N, latent_dim), or [z, labels] for conditional models.
        at_steps: the steps to keep.
    """

    def __init__(self, latents, at_steps):
        super().__init__()
        self.latents = latents
        self.at_steps = frozenset(int(s) for s in at_steps)
        self.samples: dict[int, np.ndarray] = {}

    def _take(self):
        step = int(keras.ops.convert_to_numpy(self.model.optimizer.iterations))
        if step in self.at_steps and step not in self.samples:
            generator = getattr(self.model, "sampling_generator", self.model.generator)
            self.samples[step] = keras.ops.convert_to_numpy(
                generator(self.latents, training=False))

    def on_train_begin(self, logs=None):
        self._take()

    def on_train_batch_end(self, batch, logs=None):
        self._take()
