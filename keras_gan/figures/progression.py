"""Figure 6: a training progression on images, the "after 100, 1,000,
10,000 rounds" sample grids of lecture notes, from a real run of the
project's default preset (`keras-gan train`: `clustered` GAN, DCGAN
networks, EMA of G) on `--dataset` (default: the embedded MNIST digits).

One `keras_gan.train(cfg)` run; `keras_gan.training.callbacks.SampleSnapshots`
keeps what the sampling generator (the EMA generator) makes from 64 fixed
latents at each snapshot step. Where the project has a classifier for the
data (`keras_gan.evaluation.evaluator.choose_evaluator`: digits now; any source whose
evaluator is added later, e.g. emoji, with no change here) each snapshot
is also scored: Frechet distance in the classifier's features and its
Inception-style score, on `scored` samples against as many real ones.
"""

from __future__ import annotations

import tempfile

import numpy as np

from keras_gan.figures import common

NAME = "progression"
TITLE = "A training progression on images"
FULL = dict(dataset="mnist-sample", snapshots=(10, 100, 1000, 2000), samples=64, scored=2000)
TINY = dict(dataset="mnist-sample", snapshots=(2, 4), samples=16, scored=200)


# A preset file's keys that say how a run is kept, not what it trains.
RUN_KEYS = {"out", "seed", "epochs", "fd_every", "tensorboard", "verbose", "resume",
            "checkpoint_every"}


def run_config(dataset: str, steps: int, seed: int, out: str, preset: str | None = None,
               image_size: int | None = None):
    """The default preset (the config's defaults and the variant's recipe),
    or a preset file's settings, trained for `steps` steps in one epoch,
    quietly, in `out`."""
    from keras_gan.config import read_yaml
    from keras_gan.models.gans import configure

    values = {k: v for k, v in read_yaml(preset).items() if k not in RUN_KEYS} if preset else {}
    values.update(dataset=dataset, **({"image_size": image_size} if image_size else {}))
    return configure(values, epochs=1, steps_per_epoch=steps, seed=seed, out=out,
                     verbose=0, checkpoint_every=10**9, tensorboard=False, fd_every=0,
                     source=preset or "figures progression")


def make(out_dir, *, tiny: bool = False, seed: int = 0, progress: bool = True,
         dataset: str | None = None, **overrides) -> dict:
    from export.runtime import sample_latents
    from keras_gan.data.images import make_grid, to_uint8
    from keras_gan.data.pipeline import first_examples, load_dataset
    from keras_gan.evaluation.evaluator import choose_evaluator
    from keras_gan.evaluation.metrics import frechet_distance_from_features, inception_score
    from keras_gan.training.callbacks import SampleSnapshots
    from keras_gan.training.trainer import train

    s = {**(TINY if tiny else FULL), **overrides}
    if dataset:
        s["dataset"] = dataset
    at = sorted(int(v) for v in s["snapshots"])
    bar = common.Progress(at[-1], NAME, progress)
    with tempfile.TemporaryDirectory() as tmp:
        cfg = run_config(s["dataset"], at[-1], seed, tmp, s.get("preset"),
                         s.get("image_size"))
        z = sample_latents(max(s["samples"], s["scored"]), cfg.latent_dim, seed=seed)
        snapshots = SampleSnapshots(z, at)
        result = train(cfg, callbacks=[snapshots, common.progress_callback(bar)])
    bar.close()

    real_ds, info = load_dataset(s["dataset"], image_size=cfg.image_size, seed=seed,
                                 background=cfg.background)
    evaluator = choose_evaluator("auto", info.source, info.shape, info.class_names)
    rows = []
    real_features = None
    if evaluator is not None:
        real = first_examples(real_ds.shuffle(info.num_examples or 10_000, seed=seed),
                              s["scored"])
        real_features, _ = evaluator.features_and_probs(real)
    for step in at:
        images = snapshots.samples[step]
        row = {"step": step}
        if evaluator is not None:
            feats, probs = evaluator.features_and_probs(images[:s["scored"]])
            row[f"{evaluator.name}_fd"] = round(frechet_distance_from_features(
                feats, real_features), 3)
            row[f"{evaluator.name}_score"] = round(float(inception_score(probs)[0]), 3)
        rows.append(row)

    plt = common.pyplot()
    fig, axes = plt.subplots(1, len(at), figsize=(3.2 * len(at), 3.6), squeeze=False)
    for ax, step, row in zip(axes[0], at, rows, strict=True):
        grid = make_grid(to_uint8(snapshots.samples[step][:s["samples"]]),
                         cols=int(np.ceil(np.sqrt(s["samples"]))))
        ax.imshow(grid[..., 0] if grid.shape[-1] == 1 else grid, cmap="gray",
                  interpolation="nearest")
        ax.set_xticks([])
        ax.set_yticks([])
        title = f"after {step:,} steps"
        if evaluator is not None:
            title += (f"\nFD {row[f'{evaluator.name}_fd']:.2f}, "
                      f"score {row[f'{evaluator.name}_score']:.2f}")
        ax.set_title(title, fontsize=9)
    how = f"--config {s['preset']}" if s.get("preset") else "default preset"
    fig.suptitle(f"keras-gan train ({how}, --gan {cfg.gan}) on {s['dataset']}: "
                 f"the same {s['samples']} latents over training", fontsize=10)
    slug = s["dataset"].split(":")[-1].split("/")[-1].split(".")[0] or "data"
    files = [common.save(fig, f"{out_dir}/progression_{slug}.png")]
    return dict(files=files, settings={**{k: (list(v) if isinstance(v, tuple) else v)
                                          for k, v in s.items()}, "gan": cfg.gan,
                                       "steps_made": int(result.step)},
                numbers=dict(snapshots=rows))
