"""Figure 7: GAN vs VAE on the same data (Kingma and Welling 2014 beside
Goodfellow et al. 2014).

Top: trained here, on the 8-Gaussian ring: the ring preset
(`presets/toy-ring.yaml`, PacGAN) and the VAE baseline (`--gan vae`, its
Gaussian likelihood's sigma at the points' default, 0.1) with the same MLPs,
batch, optimizer and steps, by the same `keras_gan.train`, scored by the same
mode metrics. The VAE covers every mode but spreads its samples between
them (few high-quality samples): the blur of a Gaussian likelihood, in 2D.

Bottom: the digit comparison of the benchmarks page, not retrained here: the committed
evaluation reports of the default preset, a plain DCGAN and the VAE, each
trained 60 epochs (benchmarks/results/eval/*/eval.json and samples.png,
whose commands README.md gives); their numbers are copied into this
figure's results from those files.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import numpy as np

from keras_gan.figures import common
from keras_gan.figures.mode_collapse import preset_config

NAME = "gan-vs-vae"
TITLE = "GAN vs VAE on the same data"
FULL = dict(steps=4000, samples=2500)
TINY = dict(steps=20, samples=500)
EVAL = Path(__file__).resolve().parents[2] / "benchmarks" / "results" / "eval"
DIGIT_RUNS = (("default preset (clustered)", "mnist-dcgan"), ("plain DCGAN", "mnist-dcgan-plain"),
              ("VAE", "mnist-vae"))


def ring_config(model: str, steps: int, seed: int, out: str):
    from keras_gan.config import TrainConfig

    base = preset_config().to_dict()
    if model == "vae":
        base.update(gan="vae", gan_options={}, loss=None, ema_decay=0.0)
    base.update(epochs=1, steps_per_epoch=steps, seed=seed, out=out, verbose=0,
                checkpoint_every=10**9, tensorboard=False, fd_every=0)
    return TrainConfig.from_dict(base, source=f"gan-vs-vae {model}")


def make(out_dir, *, tiny: bool = False, seed: int = 0, progress: bool = True,
         **overrides) -> dict:
    from export.runtime import sample_latents
    from keras_gan.data.sources import toy_mixture
    from keras_gan.evaluation.metrics import mode_metrics
    from keras_gan.models.gans import get_gan
    from keras_gan.training.trainer import train

    s = {**(TINY if tiny else FULL), **overrides}
    means, std = toy_mixture("ring")
    bar = common.Progress(2 * s["steps"], NAME, progress)
    ring = {}
    for model in ("gan", "vae"):
        with tempfile.TemporaryDirectory() as tmp:
            cfg = ring_config(model, s["steps"], seed, tmp)
            result = train(cfg, callbacks=[common.progress_callback(bar)])
        z = sample_latents(s["samples"], cfg.latent_dim, seed=1000 + seed)
        # What the variant samples and exports (the EMA generator, the decoder).
        sampler = get_gan(cfg.gan).sampler(result.model)
        pts = np.asarray(sampler(z, training=False))
        m = mode_metrics(pts, means, std)
        ring[model] = dict(points=pts, gan=cfg.gan, modes=int(m["modes"]),
                           high_quality=round(100 * float(m["high_quality"]), 1),
                           spread=round(float(np.mean(np.min(np.linalg.norm(
                               pts[:, None] - means[None], axis=-1), axis=1))), 4))
    bar.close()

    digits = {}
    for label, name in DIGIT_RUNS:
        path = EVAL / name / "eval.json"
        if path.exists():
            e = json.loads(path.read_text())
            digits[label] = dict(report=f"benchmarks/results/eval/{name}",
                                 fd=round(e["metrics"]["fd"], 2),
                                 score=round(e["metrics"]["score"], 2),
                                 precision=round(e["metrics"]["precision"], 2),
                                 recall=round(e["metrics"]["recall"], 2), steps=e["steps"])

    plt = common.pyplot()
    fig = plt.figure(figsize=(12, 8.4 if digits else 4.2))
    rows = 2 if digits else 1
    grid = fig.add_gridspec(rows, 3)
    for j, model in enumerate(("gan", "vae")):
        ax = fig.add_subplot(grid[0, j])
        r = ring[model]
        ax.scatter(r["points"][:, 0], r["points"][:, 1], s=1.5, alpha=0.5)
        ax.scatter(means[:, 0], means[:, 1], s=25, marker="x", c="red", lw=1)
        ax.set_xlim(-1.6, 1.6)
        ax.set_ylim(-1.6, 1.6)
        ax.set_aspect("equal")
        name = "GAN (ring preset, pacgan)" if model == "gan" else "VAE (same networks)"
        ax.set_title(f"{name}\n{r['modes']}/8 modes, {r['high_quality']:.1f}% high quality, "
                     f"mean distance {r['spread']:.3f}", fontsize=8)
    ax = fig.add_subplot(grid[0, 2])
    ax.axis("off")
    ax.text(0, 0.5, f"ring: {s['steps']:,} steps each,\nsame MLPs, batch and Adam;\n"
            "high quality: within 3 std\n(0.03) of a mode", fontsize=9, va="center")
    if digits:
        from PIL import Image

        for j, (label, name) in enumerate(DIGIT_RUNS):
            if label not in digits:
                continue
            ax = fig.add_subplot(grid[1, j])
            ax.imshow(np.asarray(Image.open(EVAL / name / "samples.png")), cmap="gray")
            ax.axis("off")
            d = digits[label]
            ax.set_title(f"{label}: digit FD {d['fd']:.2f}, score {d['score']:.2f}\n"
                         f"precision {d['precision']:.2f}, recall {d['recall']:.2f}",
                         fontsize=8)
    fig.suptitle("GAN vs VAE on the same data: the VAE's samples fall between the modes",
                 fontsize=10)
    files = [common.save(fig, f"{out_dir}/gan_vs_vae.png")]
    numbers = dict(ring={m: {k: v for k, v in r.items() if k != "points"}
                         for m, r in ring.items()}, digits=digits)
    return dict(files=files, settings=dict(s), numbers=numbers)
