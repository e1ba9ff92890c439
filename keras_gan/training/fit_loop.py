"""`fit_from`: `model.fit` from a step on, to the run's end, by whole epochs;
shared by the GAN trainer and the translators' (translate.py)."""

from __future__ import annotations

from collections.abc import Callable

import keras


def fit_from(model: keras.Model, stream: Callable, step: int, epochs: int,
             steps_per_epoch: int, callbacks: list, verbose) -> tuple[dict, int]:
    """Trains from `step` (optimizer updates done) to `epochs` epochs; returns
    the history and the step reached. `stream(step)` is the data from that
    step on. A run resumed mid-epoch first finishes that epoch, then goes on
    by whole epochs, so that epoch ends (checkpoints, grids, metrics) fall
    where an uninterrupted run's do. Stops early when a callback sets
    `model.stop_training` or a fit makes no step."""
    total = epochs * steps_per_epoch
    history: dict = {}
    while step < total:
        epoch = step // steps_per_epoch
        partial = step % steps_per_epoch
        h = model.fit(stream(step), epochs=epoch + 1 if partial else epochs,
                      initial_epoch=epoch, steps_per_epoch=steps_per_epoch - partial,
                      callbacks=callbacks, verbose=verbose, shuffle=False)
        for k, v in h.history.items():
            history.setdefault(k, []).extend(v)
        new_step = int(keras.ops.convert_to_numpy(model.optimizer.iterations))
        stopped = new_step == step or model.stop_training  # e.g. TerminateOnNaN
        step = new_step
        if stopped:
            break
    return history, step
