"""How much a training run will write to its run folder: an estimate from
above, made before the run starts (`disk_needs`), so that a run that cannot
fit on its disk is refused before it writes anything (the trainer's
`_check_disk`). It counts the files of the folder's layout
(`keras_gan.training.run_folder`): checkpoints, sample grids, the
TensorBoard images of those grids (`logs/samples`) and the final models.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import keras
import numpy as np

from keras_gan.config import TrainConfig
from keras_gan.training import run_folder as rf
from keras_gan.training.checkpoints import checkpoint_files

# HDF5 / .keras bookkeeping above the variables' own bytes, from above
# (measured: 1.3-1.9 kB a variable, 15-45 kB a .keras file's zip and config).
FILE_OVERHEAD = 48_000
VARIABLE_OVERHEAD = 2_500
# An image summary's event record above its PNG: tag, description (the
# file's name), metadata, record framing.
SUMMARY_OVERHEAD = 1_000


@dataclass(frozen=True)
class DiskNeeds:
    """What a run will write to its folder, in bytes, estimated from above:
    the checkpoints it holds at once (--keep-checkpoints and the one being
    written; those already there count as written), the sample grids still
    to come (uncompressed pixels: PNGs are smaller), with --tensorboard each
    grid again as an image summary under logs/samples (`PngSummaries`: the
    PNG decoded, stored PNG-encoded in the event file) and the final
    models."""

    checkpoint: int  # one checkpoint: both networks, both optimizers, the RNG
    checkpoints: int  # how many more of them the folder will hold at once
    keep: int
    held: int  # checkpoints already in the folder (--resume)
    grid: int  # one sample grid
    grids: int
    models: int  # generator.keras (and generator_ema.keras) and gan.keras
    summary: int = 0  # one grid's TensorBoard image (--tensorboard)
    summaries: int = 0

    @property
    def total(self) -> int:
        return (self.checkpoint * self.checkpoints + self.grid * self.grids
                + self.summary * self.summaries + self.models)

    def describe(self) -> str:
        h = rf.human_bytes
        held = f", less the {self.held} already there" if self.held else ""
        return (f"checkpoints {self.checkpoints} x {h(self.checkpoint)}: --keep-checkpoints "
                f"{self.keep} and the one being written{held}; sample grids {self.grids} x "
                f"{h(self.grid)}; "
                + (f"TensorBoard sample images {self.summaries} x {h(self.summary)}; "
                   if self.summaries else "")
                + f"final models {h(self.models)}")


def _variables_bytes(variables) -> int:
    unique = {id(v): v for v in variables}.values()
    return sum(math.prod(v.shape) * np.dtype(v.dtype).itemsize + VARIABLE_OVERHEAD
               for v in unique)


def _grid_bytes(shape, num_samples: int) -> int:
    """One sample grid's pixels: `SampleGrid`'s tiling (`images.make_grid`,
    2 px pads) drawn at twice the size, or a 400 x 400 RGBA scatter plot."""
    if len(shape) != 3:
        return 400 * 400 * 4
    h, w, c = shape
    cols = math.ceil(math.sqrt(num_samples))
    rows = math.ceil(num_samples / cols)
    return (rows * (h + 2) + 2) * (cols * (w + 2) + 2) * c * 2 * 2


def disk_needs(cfg: TrainConfig, model: keras.Model, shape) -> DiskNeeds:
    """What the run `cfg` describes will write to its folder (see `DiskNeeds`):
    from the model's variables and the samples' `shape`. On --resume the
    checkpoints and sample grids already in the folder are not counted again."""
    optimizers = [getattr(model, name, None) for name in ("optimizer", "d_optimizer",
                                                          "g_optimizer")]
    state = list(model.variables) + [v for o in {id(o): o for o in optimizers
                                                 if o is not None}.values()
                                     for v in o.variables]
    checkpoint = _variables_bytes(state) + FILE_OVERHEAD
    generator = _variables_bytes(getattr(model, "generator", model).variables) + FILE_OVERHEAD
    models = checkpoint + FILE_OVERHEAD + generator * (2 if getattr(model, "ema_decay", None)
                                                      else 1)
    held_checkpoints = held_grids = 0
    if cfg.resume:
        run_dir = cfg.run_dir
        held_checkpoints = len(checkpoint_files(run_dir / rf.CHECKPOINTS_DIR))
        held_grids = len(list((run_dir / rf.SAMPLES_DIR).glob("epoch_*.png")))
    grid, grids = _grid_bytes(tuple(shape), cfg.num_samples), max(0, cfg.epochs - held_grids)
    # With --tensorboard each grid to come is also an image summary (the
    # event file of logs/samples grows by one per epoch; those of earlier
    # sessions are already there, like their grids).
    return DiskNeeds(checkpoint, max(0, cfg.keep_checkpoints + 1 - held_checkpoints),
                     cfg.keep_checkpoints, held_checkpoints, grid, grids, models,
                     summary=grid + SUMMARY_OVERHEAD if cfg.tensorboard else 0,
                     summaries=grids if cfg.tensorboard else 0)
