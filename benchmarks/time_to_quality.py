"""Time to quality: FD / score / precision / recall / class coverage at time budgets.

    python benchmarks/time_to_quality.py --budgets 1,2,5,10,20 \
        --out benchmarks/results/time_to_quality.md
    python benchmarks/time_to_quality.py --dataset emoji64 \
        --image-size 32 --recipes yaml:presets/emoji-32.yaml --clock cpu --threads 1 \
        --budgets 5,15,30 --grids --out benchmarks/results/emoji32_preset.md

Images are scored in the features of the evaluator that fits the data
(`keras_gan.evaluation.evaluator.choose_evaluator`: digit or emoji). The MNIST text
below is the original protocol; `yaml:PATH` recipes benchmark a preset file
as it is, and `plain-dcgan` is the DCGAN paper's recipe and networks
(`--gan dcgan --arch dcgan`).

Trains each recipe once with `keras_gan.training.trainer.train` (what `keras-gan train`
runs) on the embedded `mnist-sample` digits and snapshots the generator it
would export (the EMA one when the recipe keeps one) when the wall clock
(from the call of `train`: data loading, the default preset's k-means,
model building, tracing, checkpoints and sample grids included) passes each
budget; training stops at the last
budget. Afterwards each snapshot is scored like `keras-gan eval` does: 10,000
samples from seed 0 against the 10,000 real digits, with the shipped digit
classifier (`keras_gan.evaluation.evaluate.image_metrics`), beside the real-data
reference. Recipes:

- `tutorial`: the TensorFlow DCGAN tutorial's recipe (its networks, z 100,
  batch 256, Adam 1e-4 with Keras's default betas, non-saturating loss),
  trained by `GAN.fit` (Algorithm 1: separate D and G updates);
- `default`: `keras-gan train` with no flags (the project's default preset);
- `nsgan`: the same settings, unconditional (no k-means clusters): the plain
  GAN the default preset improves on;
- `rpgan-r1r2`: `nsgan` with the relativistic pairing loss and R1 / R2;
- `clustered-rpgan-r1r2`: the default preset with the relativistic pairing
  loss and R1 / R2.
R1 / R2 weight 0.1 each, computed every 4th D update (lazy, weighted 4):
the weight chosen on the 2D toys' seed 0 (0.1 over 1.0,
`benchmarks/results/toy_modes_rpgan_tuning.md`), not tuned on digits.
`--seed` sets every recipe's training seed (the default preset was chosen
on seed 0).

Only one recipe trains at a time; evaluation happens after all training.
Two processes (one thread each, `--clock cpu`) can train two recipes side by
side; a third call with `--recipes "" --keep A.json --keep B.json` reports
them together.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import shlex
import shutil
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from report import publish  # noqa: E402  (benchmarks/report.py)

from keras_gan.data.pipeline import load_dataset  # noqa: E402
from keras_gan.evaluation.evaluate import generate, image_metrics  # noqa: E402
from keras_gan.evaluation.evaluator import choose_evaluator  # noqa: E402
from keras_gan.models.gans import configure  # noqa: E402
from keras_gan.training.trainer import train  # noqa: E402

# Epochs: more than any budget reaches (the budget stops training), few
# enough that the disk estimate of their sample grids stays sane.
QUIET = dict(tensorboard=False, fd_every=0, verbose=0, epochs=2_000)
RUN_KEYS = {"out", "seed", "epochs", "fd_every", "tensorboard", "verbose", "resume",
            "checkpoint_every", "dataset", "image_size", "background"}
RECIPES = {
    "tutorial": dict(arch="tutorial", gan="dcgan", latent_dim=100, width=64, batch_size=256,
                     d_lr=1e-4, g_lr=1e-4, beta_1=0.9, beta_2=0.999, ema_decay=0.0),
    "default": {},
    "nsgan": dict(gan="nsgan"),
    "rpgan-r1r2": dict(gan="rpgan", r1=0.1, r2=0.1, reg_every=4),
    "clustered-rpgan-r1r2": dict(loss="relativistic_pairing", r1=0.1, r2=0.1, reg_every=4),
    "plain-dcgan": dict(gan="dcgan", arch="dcgan"),
}


class WallClockSnapshots(keras.callbacks.Callback):
    """Copies the sampling generator's weights as training time passes each
    budget (seconds since `start`, a `clock()` value, or else since the start
    of fit; minus the time spent copying); stops training after the last one.

    `clock` is `time.perf_counter` (wall time) or `time.process_time` (this
    process's CPU time: with one TensorFlow thread, the wall time the run
    would take alone, whatever else shares the machine)."""

    def __init__(self, budgets_s, start: float | None = None, clock=time.perf_counter):
        super().__init__()
        self.budgets = sorted(budgets_s)
        self.snapshots = {}  # budget -> (weights, step, seconds)
        self.t0 = start
        self.clock = clock
        self.paused = 0.0

    def on_train_begin(self, logs=None):
        if self.t0 is None:
            self.t0 = self.clock()

    def on_train_batch_end(self, batch, logs=None):
        elapsed = self.clock() - self.t0 - self.paused
        while self.budgets and elapsed >= self.budgets[0]:
            t = self.clock()
            gen = self.model.sampling_generator
            # Generator updates, also right with steps_per_execution > 1.
            step = int(keras.ops.convert_to_numpy(self.model.g_optimizer.iterations))
            self.snapshots[self.budgets.pop(0)] = ([w.copy() for w in gen.get_weights()],
                                                   step, elapsed)
            self.paused += self.clock() - t
        if not self.budgets:
            self.model.stop_training = True


def recipe_settings(name: str) -> dict:
    """A built-in recipe's overrides, or a preset file's settings (`yaml:PATH`,
    less its run-folder, seed and logging keys, which the benchmark sets)."""
    if not name.startswith("yaml:"):
        return RECIPES[name]
    from keras_gan.config import read_yaml

    values = read_yaml(name[5:])
    return {k: v for k, v in values.items() if k not in RUN_KEYS}


def run_recipe(name, budgets_s, root: Path, seed: int = 0, data=None, clock=time.perf_counter):
    settings = {**recipe_settings(name), **(data or {})}
    # Through `configure`, as the CLI: a variant's recipe (dcgan's Adam 2e-4,
    # beta_1 0.5, no EMA) applies where the recipe sets nothing else.
    cfg = configure({**settings, **QUIET}, source=name, out=str(root / _slug(name)), seed=seed)
    # The clock starts before train(): data loading, the default preset's
    # k-means clustering and model building count against the budget.
    snap = WallClockSnapshots(budgets_s, start=clock(), clock=clock)
    result = train(cfg, callbacks=[snap])
    return cfg, result.model.sampling_generator, snap.snapshots


def _grid(path, generator, n=64):
    from keras_gan.data.images import save_grid

    fake, _ = generate(generator, n, 0, progress=False)
    save_grid(path, fake, cols=8, scale=2)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--budgets", default="1,2,5,10,20", help="minutes (1,2,5,10,20)")
    p.add_argument("--recipes", default="tutorial,default",
                   help=f"comma-separated: {', '.join(RECIPES)}, or yaml:PRESET.yaml")
    p.add_argument("--dataset", default="mnist-sample", help="data source (mnist-sample)")
    p.add_argument("--image-size", type=int, help="resize images to SIZE x SIZE")
    p.add_argument("--clock", choices=("wall", "cpu"), default="wall",
                   help="budgets in wall-clock seconds, or in this process's CPU seconds "
                        "(with --threads 1: what the run takes alone on one core, however "
                        "busy the machine is)")
    p.add_argument("--baseline", help="a recipe: report every other one's FD as a ratio to it")
    p.add_argument("--grids", action="store_true",
                   help="save an 8x8 sample grid per recipe and budget beside --out")
    p.add_argument("--num-samples", type=int, default=10_000)
    p.add_argument("--seed", type=int, default=0, help="training seed of every recipe (0)")
    p.add_argument("--threads", type=int, default=0,
                   help="TensorFlow intra- and inter-op threads (0: TensorFlow's defaults); "
                        "1 lets two of these runs share the 2-core CPU side by side")
    p.add_argument("--out", help="markdown report path (.json beside it)")
    p.add_argument("--runs", metavar="DIR",
                   help="keep each recipe's run folder as DIR/RECIPE (a trained model to "
                        "evaluate or export, e.g. benchmarks/ship_emoji_models.py --run); "
                        "default: a temporary folder, deleted")
    p.add_argument("--keep", metavar="JSON", action="append", default=[],
                   help="an earlier report's .json (repeatable): its recipes not trained now "
                        "are reported from it, marked as such (a 20-minute tutorial run "
                        "need not be repeated when only the default preset changed; two "
                        "recipes trained side by side are reported together)")
    args = p.parse_args(argv)
    if args.threads:  # before the first TensorFlow op fixes the thread pools
        tf.config.threading.set_intra_op_parallelism_threads(args.threads)
        tf.config.threading.set_inter_op_parallelism_threads(args.threads)
    budgets = [float(b) for b in args.budgets.split(",")]
    recipes = [r.strip() for r in args.recipes.split(",") if r.strip()]
    for r in recipes:
        if r not in RECIPES and not (r.startswith("yaml:") and Path(r[5:]).is_file()):
            p.error(f"unknown recipe {r!r}; choose from {', '.join(RECIPES)} or yaml:PATH")
    clock = time.process_time if args.clock == "cpu" else time.perf_counter
    data = {"dataset": args.dataset, "image_size": args.image_size}
    root = Path(args.runs) if args.runs else Path(tempfile.mkdtemp(prefix="ttq_"))
    trained = {}
    try:
        for r in recipes:
            t0 = time.perf_counter()
            trained[r] = run_recipe(r, [60 * b for b in budgets], root, args.seed, data, clock)
            print(f"{r}: trained in {time.perf_counter() - t0:.0f} s", flush=True)
            keras.backend.clear_session(free_memory=False)
    finally:
        if not args.runs:
            shutil.rmtree(root, ignore_errors=True)

    ds, info = load_dataset(args.dataset, image_size=args.image_size)
    real = np.stack([x for x, _ in ds.as_numpy_iterator()])
    evaluator = choose_evaluator("auto", info.source, info.shape, info.class_names)
    if evaluator is None:
        p.error(f"no evaluator fits {args.dataset}")
    results = {}
    for r, (_, generator, snaps) in trained.items():
        for b in budgets:
            if 60 * b not in snaps:
                continue
            weights, step, seconds = snaps[60 * b]
            generator.set_weights(weights)
            fake, _ = generate(generator, args.num_samples, 0, progress=False)
            m = image_metrics(fake, real, evaluator)
            results.setdefault(r, {})[b] = {
                "step": step, "seconds": round(seconds, 1), "fd": m["fd"], "score": m["score"],
                "kid": m["kid"], "precision": m["precision"], "recall": m["recall"],
                "min_class": m["class_coverage"]["min_fraction"],
                "class_kl": m["class_coverage"]["kl_to_uniform"], "class_tv": m["class_tv"],
                "class_fractions": m["class_coverage"]["fractions"], "reference": m["reference"]}
            if args.grids and args.out:
                out = Path(args.out)
                _grid(out.with_name(f"{out.stem}_{_slug(r)}_{b:g}min.png"), generator)
            print(r, b, results[r][b]["step"], f"FD {m['fd']:.2f} score {m['score']:.2f}",
                  flush=True)
    kept = {}
    for keep in args.keep:
        import json

        earlier = json.loads(Path(keep).read_text())
        for r, rows in earlier["results"].items():
            if r not in results:
                kept[r] = earlier.get("provenance", {}).get(r) or keep
                results[r] = {float(b): x for b, x in rows.items()}
                recipes.append(r)
    if not args.keep:
        recipes = [r for r in [*RECIPES, *recipes] if r in results]
    recipes = list(dict.fromkeys(recipes))
    ref = next(iter(next(iter(results.values())).values()))["reference"]
    name = evaluator.name
    clock_text = ("CPU seconds of the training process (one TensorFlow thread: its time "
                  "alone on one core)" if args.clock == "cpu" else "wall-clock seconds")
    lines = [
        f"# Time to quality on {args.dataset}"
        f"{f' at {args.image_size} px' if args.image_size else ''} ({name} FD, score, "
        "precision / recall, class coverage)",
        "",
        f"- Command: `python benchmarks/time_to_quality.py "
        f"{' '.join(shlex.quote(a) for a in (sys.argv[1:] if argv is None else argv))}`",
        f"- Date: {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M UTC}",
        f"- Machine: {len(os.sched_getaffinity(0))} CPUs usable, "
        f"{args.threads or 'TensorFlow default'} thread(s); training seed {args.seed}; "
        f"Python {platform.python_version()}, tensorflow {tf.__version__}, "
        f"keras {keras.__version__}",
        f"- Budgets in {clock_text}, counted from the call of `train` (data loading, "
        "k-means, building and tracing included).",
        f"- Scores: {args.num_samples:,} samples (latents of seed 0) vs the {len(real):,} real "
        f"images, in the shipped {name} classifier's features ({_conventions(evaluator)}); "
        "reference = the same metric between two halves of the real images: "
        f"FD {ref['fd']:.2f}, score {ref['score']:.2f}, precision {ref['precision']:.2f}, "
        f"recall {ref['recall']:.2f}, smallest class {ref['class_coverage']['min_fraction']:.3f}"
        + (f", class TV {ref['class_tv']:.3f}" if "class_tv" in ref else "") + ". Class TV: "
        "total variation between the generated and the real class proportions (0: alike); "
        "the smallest class share says little where classes are unbalanced (emoji).",
        "- Recipes: " + "; ".join(
            f"`{r}`: " + (", ".join(f"{k} {v}" for k, v in recipe_settings(r).items())
                          if not r.startswith("yaml:") else f"the preset file {r[5:]}")
            if (r in RECIPES or r.startswith("yaml:")) else f"`{r}`" for r in recipes),
        *[f"- `{r}` rows: not retrained here; from {src}" for r, src in kept.items()],
        "",
        "| recipe | budget (min) | steps | FD | score | precision | recall | smallest class "
        "| class TV |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in recipes:
        for b in budgets:
            x = results.get(r, {}).get(b)
            if x is None:
                continue
            pr = (f"{x['precision']:.2f} | {x['recall']:.2f}" if "precision" in x else " | ")
            lines.append(f"| {r} | {b:g} | {x['step']} | {x['fd']:.2f} | {x['score']:.2f} | "
                         f"{pr} | {x['min_class']:.3f} | "
                         + (f"{x['class_tv']:.3f} |" if "class_tv" in x else "- |"))
    if args.baseline and args.baseline in results:
        base = results[args.baseline]
        lines += ["", f"FD as a fraction of `{args.baseline}`'s at the same budget:", ""]
        for r in recipes:
            if r == args.baseline:
                continue
            parts = [f"{b:g} min {results[r][b]['fd'] / base[b]['fd']:.2f}"
                     for b in budgets if b in results[r] and b in base]
            lines.append(f"- `{r}`: " + ", ".join(parts))
    if {"tutorial", "default"} <= set(results):
        lines += ["", "Goals (issue 6) for `default`: score >= 90% of the real data's "
                  f"({0.9 * ref['score']:.2f}) within 5 minutes, every class >= 5%, FD at most "
                  "a fifth of the tutorial's at every budget:", ""]
        for b in budgets:
            t, d = results["tutorial"].get(b), results["default"].get(b)
            if t and d:
                met = "met" if d["fd"] <= t["fd"] / 5 else "NOT met"
                lines.append(f"- {b:g} min: FD ratio default / tutorial "
                             f"{d['fd'] / t['fd']:.3f} ({met}); "
                             f"score {d['score']:.2f} ({100 * d['score'] / ref['score']:.0f}% "
                             f"of real); smallest class {d['min_class']:.3f}")
    text = "\n".join(lines) + "\n"
    stamp = f"this script's run of {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M UTC}"
    provenance = {r: kept.get(r, stamp) for r in recipes}
    publish(text, {"recipes": {r: recipe_settings(r) for r in recipes
                               if r in RECIPES or r.startswith("yaml:")},
                   "dataset": args.dataset, "image_size": args.image_size,
                   "clock": args.clock, "evaluator": name, "results": results,
                   "provenance": provenance}, args.out)
    return 0


def _slug(recipe: str) -> str:
    return Path(recipe[5:]).stem if recipe.startswith("yaml:") else recipe


def _conventions(evaluator) -> str:
    c = evaluator.conventions()
    return f"{c['quantize']}; resize: {c['resize']}"


if __name__ == "__main__":
    sys.exit(main())
