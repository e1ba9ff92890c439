"""What the figure modules share: matplotlib (Agg), a progress bar, the
discriminator-only loop, densities and divergences on a grid.

Light at import (numpy only); TensorFlow, Keras and matplotlib are imported
by the functions that need them, so `keras-gan figures --help` stays instant.
"""

from __future__ import annotations

import sys
import time

import numpy as np

LOG2 = float(np.log(2.0))
LOG4 = float(np.log(4.0))


def pyplot():
    """matplotlib.pyplot on the Agg backend (no display on servers and in CI)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save(fig, path) -> str:
    """Writes `fig` as a PNG (or whatever `path`'s suffix says) and closes it;
    returns the file's name."""
    from pathlib import Path

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110, bbox_inches="tight")
    pyplot().close(fig)
    return path.name


class Progress:
    """A one-line text progress bar on stderr: `update(n)` adds n units
    (training steps, mostly). Silent when `enabled` is False (tests)."""

    def __init__(self, total: int, label: str, enabled: bool = True, width: int = 30):
        self.total, self.label, self.enabled, self.width = max(int(total), 1), label, enabled, width
        self.done, self.start = 0, time.perf_counter()
        self._draw()

    def update(self, n: int = 1) -> None:
        self.done = min(self.done + int(n), self.total)
        self._draw()

    def close(self) -> None:
        self.done = self.total
        self._draw()
        if self.enabled:
            sys.stderr.write("\n")
            sys.stderr.flush()

    def _draw(self) -> None:
        if not self.enabled:
            return
        frac = self.done / self.total
        now = time.perf_counter()
        # Redrawn at most 4 times a second, and at the end.
        if frac < 1 and now - getattr(self, "_drawn", -1.0) < 0.25:
            return
        self._drawn = now
        bar = "#" * int(frac * self.width)
        seconds = time.perf_counter() - self.start
        sys.stderr.write(f"\r{self.label:14s} [{bar:{self.width}s}] {100 * frac:3.0f}% "
                         f"{seconds:5.0f} s")
        sys.stderr.flush()


def progress_callback(progress: Progress):
    """A Keras callback that moves `progress` by one unit per training step."""
    import keras

    class _Steps(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            # `batch` is the epoch's index of the last step run.
            n = batch + 1
            progress.update(n - self._last)
            self._last = n

        def on_epoch_begin(self, epoch, logs=None):
            self._last = 0

    return _Steps()


def d_trainer(gan):
    """A function `(dataset, steps)` that runs `steps` discriminator updates
    of `gan` (its own `d_step`: loss, tricks, penalties) on batches of
    `dataset`, the generator left as it is: the inner loop of Algorithm 1
    run to (near) convergence, as the theory assumes ("D is trained to
    discriminate samples from data, converging to D*", Goodfellow et al.
    2014, Figure 1b). Keep the function: each one traces once."""
    import tensorflow as tf

    @tf.function
    def loop(batches):
        for real in batches:
            gan.d_step(real)

    def run(dataset, steps: int) -> None:
        loop(dataset.take(int(steps)))

    return run


def logits(model, x, batch: int = 8192) -> np.ndarray:
    """A discriminator's logits on numpy inputs, as a flat float64 array."""
    x = np.asarray(x, np.float32)
    out = [np.asarray(model(x[i:i + batch], training=False), np.float64).reshape(-1)
           for i in range(0, len(x), batch)]
    return np.concatenate(out)


def sigmoid(z):
    return 0.5 * (1.0 + np.tanh(0.5 * np.asarray(z, np.float64)))


def log_sigmoid(z):
    """log sigmoid(z) = -softplus(-z), stable for large |z|."""
    return -np.logaddexp(0.0, -np.asarray(z, np.float64))


def value_function(real_logits, fake_logits) -> float:
    """V(D, G) = E_p[log D(x)] + E_pg[log(1 - D(x))], Monte Carlo, from logits
    (log(1 - sigmoid(l)) = log sigmoid(-l))."""
    return float(np.mean(log_sigmoid(real_logits)) + np.mean(log_sigmoid(-np.asarray(
        fake_logits, np.float64))))


def kde(samples, grid) -> np.ndarray:
    """A Gaussian kernel density estimate (Scott's bandwidth) of 1D samples on `grid`."""
    from scipy import stats

    return stats.gaussian_kde(np.asarray(samples, np.float64).reshape(-1))(grid)


def jsd(p, q, grid) -> float:
    """JSD(p || q) in nats of two densities given on an even `grid`:
    (KL(p || m) + KL(q || m)) / 2, m = (p + q) / 2, by the trapezoid rule."""
    p, q = np.maximum(p, 0.0), np.maximum(q, 0.0)
    m = 0.5 * (p + q)
    with np.errstate(divide="ignore", invalid="ignore"):
        a = np.where(p > 0, p * np.log(p / m), 0.0)
        b = np.where(q > 0, q * np.log(q / m), 0.0)
    return float(0.5 * np.trapezoid(a + b, grid))


def set_threads(threads: int) -> None:
    """TensorFlow's intra- and inter-op threads (0: leave TensorFlow's
    defaults). Call before any TensorFlow op runs; later calls are ignored
    (TensorFlow refuses to change them once initialized)."""
    if not threads:
        return
    import tensorflow as tf

    try:
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(threads)
    except RuntimeError:
        pass


def generator_density(generator, grid, n: int = 400_000) -> np.ndarray:
    """The density of a 1D generator's samples x = G(z), z ~ N(0, 1), on an
    even `grid`: a histogram of G at n quantiles of N(0, 1), one bin per grid
    point. Quantiles, not random draws: the histogram then has no sampling
    noise, only the bin width's smoothing (one grid step), so p_g is
    resolved far more finely than a kernel estimate of random samples would
    (a ReLU generator's density has sharp edges a kernel blurs)."""
    from scipy import special

    z = special.ndtri((np.arange(n) + 0.5) / n).astype(np.float32)[:, None]
    x = np.asarray(generator(z, training=False), np.float64).reshape(-1)
    step = grid[1] - grid[0]
    edges = np.concatenate([grid - step / 2, [grid[-1] + step / 2]])
    counts, _ = np.histogram(x, bins=edges)
    return counts / (n * step)
