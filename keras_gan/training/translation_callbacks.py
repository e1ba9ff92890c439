"""Callbacks of a translator's run: the per-epoch grid of fixed validation
images and the val_l1 metric (a GAN run's are in callbacks.py)."""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np

from keras_gan.data.images import save_grid
from keras_gan.training.summaries import PngSummaries


def _rgb(images: np.ndarray) -> np.ndarray:
    """Grey images (a sketch) as RGB, so that they tile beside colour ones."""
    return np.repeat(images, 3, axis=-1) if images.shape[-1] == 1 else images


class TranslationGrid(keras.callbacks.Callback):
    """Saves `samples/epoch_NNN.png` at each epoch's end: one row per fixed
    validation source, its columns source | G(source) | target, or for a
    CycleGAN a | G(a) | F(G(a)), then the true b when the data is paired.
    Fixed sources make epochs comparable; with `logdir` each grid also goes
    to TensorBoard at step `epoch`, as `SampleGrid`'s do."""

    def __init__(self, directory, sources, targets=None, logdir=None):
        super().__init__()
        self.directory = Path(directory)
        self.sources = np.asarray(sources)
        self.targets = None if targets is None else np.asarray(targets)
        self.summaries = PngSummaries(logdir) if logdir is not None else None

    def columns(self) -> list[np.ndarray]:
        fake = keras.ops.convert_to_numpy(self.model.generator(self.sources, training=False))
        columns = [self.sources, fake]
        back = getattr(self.model, "generator_ba", None)  # CycleGAN's F
        if back is not None:
            columns.append(keras.ops.convert_to_numpy(back(fake, training=False)))
        if self.targets is not None:
            columns.append(self.targets)
        return columns

    def on_epoch_end(self, epoch, logs=None):
        columns = self.columns()
        rgb = any(c.shape[-1] == 3 for c in columns)
        columns = [_rgb(c) if rgb else c for c in columns]
        # Row-major: each source's translations side by side.
        images = np.stack(columns, axis=1).reshape(-1, *columns[0].shape[1:])
        path = self.directory / f"epoch_{epoch + 1:03d}.png"
        save_grid(path, images, cols=len(columns), scale=2)
        if self.summaries is not None:
            self.summaries.write(path, step=epoch)

    def on_train_end(self, logs=None):
        if self.summaries is not None:
            self.summaries.close()


class ValidationL1(keras.callbacks.Callback):
    """Adds `val_l1` to each epoch's logs: the mean absolute error of G
    (inference mode) on the validation pairs, in [-1, 1] units. Place it
    before the loggers (MetricsCSV, TensorBoard), which then record it."""

    def __init__(self, sources, targets, batch_size: int = 64):
        super().__init__()
        self.sources = np.asarray(sources)
        self.targets = np.asarray(targets)
        self.batch_size = batch_size

    def on_epoch_end(self, epoch, logs=None):
        total = 0.0
        for i in range(0, len(self.sources), self.batch_size):
            fake = self.model.generator(self.sources[i:i + self.batch_size], training=False)
            error = np.abs(keras.ops.convert_to_numpy(fake).astype(np.float64)
                           - self.targets[i:i + self.batch_size])
            total += float(error.sum())
        if logs is not None:
            logs["val_l1"] = total / self.targets.size
