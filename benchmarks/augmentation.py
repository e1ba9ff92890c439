"""Does a conditional GAN's data help a classifier? (issue 30, part 3)

    python benchmarks/augmentation.py --labels-per-class 10 --seed 1 \\
        --out benchmarks/results/augmentation_10_seed1.md
    python benchmarks/augmentation.py --out benchmarks/results/augmentation.md \\
        --combine benchmarks/results/augmentation_*_seed*.json

For N labelled digits per class of mnist-sample's 8,000 training digits
(`select_labelled` with the seed; capped at the smallest class), one fixed
classifier (the small CNN of `keras_gan.evaluation.cas`, Adam, the same
`SUPERVISED_STEPS` updates) is trained on:

- real: the N x 10 real digits alone;
- real + cgan: the same digits and as many samples per class
  (`GENERATED_PER_CLASS`, half of every pass) from a conditional GAN
  (`--gan cgan`, the cgan preset without the shipped mnist-cgan's R1)
  trained for `--gan-steps` on those same N x 10 digits only;
- real + ssgan G (with `--ssgan-run`, a run of the same N and seed kept by
  `semi_supervised.py --keep`): the semi-supervised GAN's G is
  unconditional, so its samples are labelled by that run's own classifier,
  keeping those it gives at least `CONFIDENCE`.

Scored on the 2,000 held-out digits. Each GAN sees only the labelled
digits a classifier could have used, so any gain is the GAN's own.
"""

from __future__ import annotations

import argparse
import datetime
import json
import math
import os
import shlex
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout

import keras  # noqa: E402
import numpy as np  # noqa: E402
from report import publish  # noqa: E402  (benchmarks/report.py)
from semi_supervised import SUPERVISED_STEPS, fit_for_steps  # noqa: E402

GENERATED_PER_CLASS = 500
CONFIDENCE = 0.9
ROWS = ("real", "real + cgan", "real + ssgan G")


def _uint8(x: np.ndarray) -> np.ndarray:
    return np.clip(np.round((x + 1) * 127.5), 0, 255).astype(np.uint8)


def train_cgan(x, y, steps: int, seed: int, tmp: Path):
    """The cgan preset (the `TrainConfig` defaults, --gan cgan; the study ran
    before the shipped mnist-cgan added lazy R1) on (x, y) only; returns its
    sampling generator."""
    from keras_gan.models.gans import configure
    from keras_gan.training.trainer import train

    path = tmp / "labelled.npz"
    np.savez(path, x=_uint8(x), y=y)
    per_epoch = 100
    cfg = configure(dict(gan="cgan", dataset=f"npz:{path}", seed=seed,
                         epochs=math.ceil(steps / per_epoch), steps_per_epoch=per_epoch,
                         tensorboard=False, verbose=0, fd_every=0, checkpoint_every=10**9,
                         out=str(tmp / "cgan")))
    result = train(cfg)
    return result.model.sampling_generator, cfg.latent_dim


def cgan_samples(generator, latent_dim: int, classes: int, seed: int):
    from export.runtime import sample_latents

    y = np.repeat(np.arange(classes), GENERATED_PER_CLASS)
    z = sample_latents(len(y), latent_dim, seed)
    x = np.concatenate([keras.ops.convert_to_numpy(generator([z[i:i + 500], y[i:i + 500]],
                                                             training=False))
                        for i in range(0, len(y), 500)])
    return x.astype(np.float32), y


def ssgan_samples(run_dir: Path, classes: int, seed: int):
    """G's samples labelled by the run's classifier, at most
    `GENERATED_PER_CLASS` per class among those it gives >= `CONFIDENCE`."""
    from export.runtime import sample_latents

    generator = keras.saving.load_model(run_dir / "generator.keras", safe_mode=True,
                                        compile=False)
    classifier = keras.saving.load_model(run_dir / "classifier.keras", safe_mode=True,
                                         compile=False)
    z = sample_latents(8 * GENERATED_PER_CLASS * classes, int(generator.inputs[0].shape[-1]),
                       seed)
    x = np.concatenate([keras.ops.convert_to_numpy(generator(z[i:i + 1000], training=False))
                        for i in range(0, len(z), 1000)])
    p = np.concatenate([keras.ops.convert_to_numpy(classifier(x[i:i + 1000], training=False))
                        for i in range(0, len(x), 1000)])
    keep = []
    for c in range(classes):
        rows = np.flatnonzero((p.argmax(1) == c) & (p.max(1) >= CONFIDENCE))
        keep.append(rows[:GENERATED_PER_CLASS])
    keep = np.concatenate(keep)
    labels = p[keep].argmax(1)
    return x[keep].astype(np.float32), labels, {
        "kept": int(len(keep)), "drawn": int(len(z)),
        "smallest_class": int(np.bincount(labels, minlength=classes).min())}


def fit_classifier(x, y, x_test, y_test, classes: int, seed: int) -> float:
    """The fixed classifier on (x, y) for `SUPERVISED_STEPS`; held-out error."""
    from keras_gan.evaluation.cas import BATCH_SIZE, LEARNING_RATE, accuracy, build_cas_classifier

    keras.utils.set_random_seed(seed)
    model = build_cas_classifier(x.shape[1:], classes)
    model.compile(keras.optimizers.Adam(LEARNING_RATE),
                  keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    fit_for_steps(model, x, y, BATCH_SIZE)
    return 1.0 - accuracy(model, x_test, y_test)


def mixed(x_real, y_real, x_gen, y_gen):
    """Real rows repeated to as many as the generated ones: half of every pass."""
    reps = max(1, round(len(x_gen) / len(x_real)))
    return (np.concatenate([np.tile(x_real, (reps, 1, 1, 1)), x_gen]),
            np.concatenate([np.tile(y_real, reps), y_gen]))


def combine(paths: list[str], out: str | None) -> int:
    runs = [json.loads(Path(p).read_text()) for p in paths]
    groups: dict[int, list] = {}
    for run in runs:
        groups.setdefault(run["settings"]["labels_per_class"], []).append(run)
    lines = ["# Augmenting a classifier with GAN samples, mnist-sample", "",
             f"- Command: `python benchmarks/augmentation.py --combine {' '.join(paths)}`",
             f"- The CAS classifier, {SUPERVISED_STEPS} Adam updates, on N real digits per "
             f"class, alone or with {GENERATED_PER_CLASS} generated per class; error on the "
             "2,000 held-out digits; mean ± sample standard deviation over seeds.", "",
             "| labels per class | " + " | ".join(ROWS) + " | seeds |",
             "|---" * (len(ROWS) + 2) + "|"]
    table = {}
    for per_class, group in sorted(groups.items()):
        cells = []
        for row in ROWS:
            errors = [g["results"][row]["error"] for g in group if row in g["results"]]
            if not errors:
                cells.append("-")
                continue
            text = f"{100 * np.mean(errors):.2f}%"
            if len(errors) > 1:
                text += f" ± {100 * np.std(errors, ddof=1):.2f}"
            cells.append(text)
            table.setdefault(str(per_class), {})[row] = errors
        seeds = ", ".join(str(g["settings"]["seed"]) for g in group)
        lines.append(f"| {per_class} | " + " | ".join(cells) + f" | {seeds} |")
    publish("\n".join(lines) + "\n", {"runs": paths, "table": table}, out)
    return 0


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--labels-per-class", type=int, default=10)
    p.add_argument("--seed", type=int, default=1, help="0 is kept for tuning")
    p.add_argument("--gan-steps", type=int, default=3000, help="cgan updates")
    p.add_argument("--ssgan-run", help="a semi_supervised.py --keep folder, same N and seed")
    p.add_argument("--combine", nargs="+", metavar="JSON")
    p.add_argument("--out", help="markdown report (.json beside it)")
    args = p.parse_args(argv)
    if args.combine:
        return combine(args.combine, args.out)
    import tensorflow as tf

    from keras_gan.data.labelled import load_labelled, select_labelled

    tf.config.threading.set_intra_op_parallelism_threads(1)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    data = load_labelled("mnist-sample")
    classes = data.num_classes
    per_class = min(args.labels_per_class, int(np.bincount(data.y_train).min()))
    rows = select_labelled(data.y_train, per_class, args.seed, data.class_names)
    x, y = data.x_train[rows], data.y_train[rows]
    results, start = {}, time.time()
    results["real"] = {"error": fit_classifier(x, y, data.x_test, data.y_test, classes,
                                               args.seed)}
    print("real", results["real"], flush=True)
    t0 = time.time()
    generator, latent_dim = train_cgan(x, y, args.gan_steps, args.seed,
                                       Path(tempfile.mkdtemp(prefix="augmentation_")))
    gan_seconds = time.time() - t0
    xg, yg = cgan_samples(generator, latent_dim, classes, args.seed)
    xm, ym = mixed(x, y, xg, yg)
    results["real + cgan"] = {"error": fit_classifier(xm, ym, data.x_test, data.y_test,
                                                      classes, args.seed),
                              "gan_steps": args.gan_steps,
                              "gan_wall_seconds": round(gan_seconds, 1)}
    print("real + cgan", results["real + cgan"], flush=True)
    if args.ssgan_run:
        xs, ys, kept = ssgan_samples(Path(args.ssgan_run), classes, args.seed)
        xm, ym = mixed(x, y, xs, ys)
        results["real + ssgan G"] = {"error": fit_classifier(xm, ym, data.x_test, data.y_test,
                                                             classes, args.seed),
                                     "run": args.ssgan_run, **kept}
        print("real + ssgan G", results["real + ssgan G"], flush=True)
    settings = {"labels_per_class": per_class, "asked_per_class": args.labels_per_class,
                "seed": args.seed, "gan_steps": args.gan_steps}
    date = f"{datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M UTC}"
    command = " ".join(shlex.quote(a) for a in (sys.argv[1:] if argv is None else argv))
    lines = [f"# Augmentation, {per_class} labels per class, seed {args.seed}", "",
             f"- Command: `python benchmarks/augmentation.py {command}`",
             f"- Date: {date}; {time.time() - start:.0f} s in all.", "",
             "| trained on | held-out error |", "|---|---|"]
    lines += [f"| {row} | {100 * r['error']:.2f}% |" for row, r in results.items()]
    publish("\n".join(lines) + "\n", {"settings": settings, "date": date, "results": results},
            args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
