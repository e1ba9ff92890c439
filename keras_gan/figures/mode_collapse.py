"""Figure 5: mode collapse in motion (Metz et al. 2016, "Unrolled GANs",
Figure 1), on the 8-Gaussian ring of the mode-collapse benchmark.

Each row is one `keras_gan.train(cfg)` run, sampled from fixed latents at
the same steps by `keras_gan.training.callbacks.SampleSnapshots`: `gan`, `unrolled`
and `pacgan` in the one common setting of the mode-collapse benchmark
(`BASELINE`: the VEEGAN / Unrolled-GAN setting, MLPs of 2 x 128 units, z in
R^256, batch 512, Adam with D at 1e-4 and G at 1e-3, as
benchmarks/toy_modes.py trains them), so that only the variant differs; and
the preset itself (`presets/toy-ring.yaml`: PacGAN, z in R^2, batch 1,024,
an EMA of G), all for the same number of steps (the preset's own 8,000 are
cut short).

Why not the preset's settings for every row: tried first (seed 0, 3,000
steps), they made even the plain minimax `gan` cover all 8 modes (91% high
quality): the preset's small latent and large batches do most of the work,
and no collapse was left to show. Written as a grid
of snapshots (PNG) and an animation (GIF, one frame per snapshot), with
the benchmark's mode metrics (`keras_gan.evaluation.metrics.mode_metrics`: modes
covered, % high-quality samples) of each snapshot.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np

from keras_gan.figures import common

NAME = "mode-collapse"
TITLE = "Mode collapse in motion"
ROWS = ("gan", "unrolled", "pacgan", "preset")
# 3,000 steps: unrolled (5 extra D passes per G step) is the slow row; the
# preset's own run is 8,000 steps, which this figure cuts short as well.
FULL = dict(steps=3000, every=250, grid_steps=(0, 250, 500, 1000, 2000, 3000),
            samples=2500, rows=ROWS)
TINY = dict(steps=50, every=25, grid_steps=(0, 25, 50), samples=500, rows=ROWS)
PRESET = Path(__file__).resolve().parents[2] / "presets" / "toy-ring.yaml"


def preset_config():
    """The ring preset's `TrainConfig` (presets/toy-ring.yaml)."""
    from keras_gan.config import TrainConfig

    return TrainConfig.from_yaml(PRESET)


# benchmarks/toy_modes.py's BASELINE (the plain variants' one setting there),
# with 25 steps per compiled call (faster; snapshots fall on multiples of 25).
BASELINE = dict(dataset="ring", arch="mlp", width=128, depth=2, latent_dim=256, batch_size=512,
                d_steps=1, optimizer="adam", d_lr=1e-4, g_lr=1e-3, beta_1=0.5, beta_2=0.999,
                ema_decay=0.0, steps_per_execution=25)


def row_config(row: str, steps: int, seed: int, out: str):
    """The config of one row: the preset, or a plain variant in the
    benchmark's common setting (`BASELINE`)."""
    from keras_gan.config import TrainConfig

    base = preset_config().to_dict() if row == "preset" else dict(BASELINE, gan=row)
    base.update(epochs=1, steps_per_epoch=steps, seed=seed, out=out, verbose=0,
                checkpoint_every=10**9, tensorboard=False, fd_every=0)
    return TrainConfig.from_dict(base, source=f"mode-collapse row {row}")


def make(out_dir, *, tiny: bool = False, seed: int = 0, progress: bool = True,
         **overrides) -> dict:
    from export.runtime import sample_latents
    from keras_gan.data.sources import toy_mixture
    from keras_gan.evaluation.metrics import mode_metrics
    from keras_gan.training.callbacks import SampleSnapshots
    from keras_gan.training.trainer import train

    s = {**(TINY if tiny else FULL), **overrides}
    rows = list(s["rows"])
    at = list(range(0, s["steps"] + 1, s["every"]))
    means, std = toy_mixture("ring")
    bar = common.Progress(len(rows) * s["steps"], NAME, progress)
    snaps, numbers = {}, {}
    for row in rows:
        with tempfile.TemporaryDirectory() as tmp:
            cfg = row_config(row, s["steps"], seed, tmp)
            z = sample_latents(s["samples"], cfg.latent_dim, seed=1000 + seed)
            snapshots = SampleSnapshots(z, at)
            train(cfg, callbacks=[snapshots, common.progress_callback(bar)])
        snaps[row] = snapshots.samples
        numbers[row] = {}
        for step, pts in sorted(snapshots.samples.items()):
            m = mode_metrics(pts, means, std)
            numbers[row][str(step)] = dict(modes=int(m["modes"]),
                                           high_quality=round(100 * float(m["high_quality"]),
                                                              1))
    bar.close()

    plt = common.pyplot()
    labels = {"gan": "gan", "unrolled": "unrolled (K=5)", "pacgan": "pacgan (pack 2)",
              "preset": "preset (toy-ring.yaml)"}

    def draw(ax, row, step):
        pts = snaps[row].get(step)
        ax.scatter(means[:, 0], means[:, 1], s=25, marker="x", c="red", lw=1)
        if pts is not None:
            ax.scatter(pts[:, 0], pts[:, 1], s=1.5, alpha=0.5, c="tab:blue")
            m = numbers[row][str(step)]
            ax.text(0.02, 0.02, f"{m['modes']}/8 modes, {m['high_quality']:.0f}% HQ",
                    transform=ax.transAxes, fontsize=7)
        ax.set_xlim(-1.6, 1.6)
        ax.set_ylim(-1.6, 1.6)
        ax.set_aspect("equal")
        ax.set_xticks([])
        ax.set_yticks([])

    cols = [c for c in s["grid_steps"] if c in at]
    fig, axes = plt.subplots(len(rows), len(cols), figsize=(1.9 * len(cols), 1.9 * len(rows)),
                             squeeze=False)
    for i, row in enumerate(rows):
        for j, step in enumerate(cols):
            draw(axes[i, j], row, step)
            if i == 0:
                axes[i, j].set_title(f"step {step}", fontsize=9)
        axes[i, 0].set_ylabel(labels[row], fontsize=9)
    fig.suptitle("Mode collapse on the 8-Gaussian ring (after Metz et al. 2016, Fig. 1)",
                 fontsize=10)
    files = [common.save(fig, f"{out_dir}/mode_collapse.png")]

    frames = []
    for step in at:
        fig, axes = plt.subplots(1, len(rows), figsize=(2.2 * len(rows), 2.6), squeeze=False)
        for ax, row in zip(axes[0], rows, strict=True):
            draw(ax, row, step)
            ax.set_title(labels[row], fontsize=8)
        fig.suptitle(f"step {step}", fontsize=10)
        frames.append(_rgb(fig))
        plt.close(fig)
    files.append(_save_gif(frames, Path(out_dir) / "mode_collapse.gif"))
    return dict(files=files, settings={k: (list(v) if isinstance(v, tuple) else v)
                                       for k, v in s.items()}, numbers=numbers)


def _rgb(fig) -> np.ndarray:
    """The figure's pixels, (H, W, 3) uint8."""
    fig.canvas.draw()
    return np.asarray(fig.canvas.buffer_rgba())[..., :3].copy()


def _save_gif(frames, path: Path, ms: int = 400) -> str:
    """An endlessly looping GIF (Pillow), the last frame held 4 times longer."""
    from PIL import Image

    images = [Image.fromarray(f).convert("P", palette=Image.ADAPTIVE, colors=64)
              for f in frames]
    durations = [ms] * (len(images) - 1) + [4 * ms]
    path.parent.mkdir(parents=True, exist_ok=True)
    images[0].save(path, save_all=True, append_images=images[1:], duration=durations, loop=0,
                   optimize=True)
    return path.name
