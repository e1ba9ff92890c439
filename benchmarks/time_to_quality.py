"""Time to quality on MNIST: digit FD / score / class coverage at wall-clock budgets.

    python benchmarks/time_to_quality.py --budgets 1,2,5,10,20 \
        --out benchmarks/results/time_to_quality.md

Trains each recipe once with `keras_gan.train.train` (what `keras-gan train`
runs) on the embedded `mnist-sample` digits and snapshots the generator it
would export (the EMA one when the recipe keeps one) when the wall clock
(from the call of `train`: data loading, the default preset's k-means,
model building, tracing, checkpoints and sample grids included) passes each
budget; training stops at the last
budget. Afterwards each snapshot is scored like `keras-gan eval` does: 10,000
samples from seed 0 against the 10,000 real digits, with the shipped digit
classifier (`keras_gan.evaluate.image_metrics`), beside the real-data
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

from keras_gan.config import TrainConfig  # noqa: E402
from keras_gan.data import load_dataset  # noqa: E402
from keras_gan.evaluate import generate, image_metrics  # noqa: E402
from keras_gan.evaluator import DigitEvaluator  # noqa: E402
from keras_gan.train import train  # noqa: E402

QUIET = dict(tensorboard=False, fd_every=0, verbose=0, epochs=100_000)
RECIPES = {
    "tutorial": dict(arch="tutorial", gan="dcgan", latent_dim=100, width=64, batch_size=256,
                     d_lr=1e-4, g_lr=1e-4, beta_1=0.9, beta_2=0.999, ema_decay=0.0),
    "default": {},
    "nsgan": dict(gan="nsgan"),
    "rpgan-r1r2": dict(gan="rpgan", r1=0.1, r2=0.1, reg_every=4),
    "clustered-rpgan-r1r2": dict(loss="relativistic_pairing", r1=0.1, r2=0.1, reg_every=4),
}


class WallClockSnapshots(keras.callbacks.Callback):
    """Copies the sampling generator's weights as training time passes each
    budget (seconds since `start`, a `time.perf_counter()` value, or else
    since the start of fit; minus the time spent copying); stops training
    after the last one."""

    def __init__(self, budgets_s, start: float | None = None):
        super().__init__()
        self.budgets = sorted(budgets_s)
        self.snapshots = {}  # budget -> (weights, step, seconds)
        self.t0 = start
        self.paused = 0.0

    def on_train_begin(self, logs=None):
        if self.t0 is None:
            self.t0 = time.perf_counter()

    def on_train_batch_end(self, batch, logs=None):
        elapsed = time.perf_counter() - self.t0 - self.paused
        while self.budgets and elapsed >= self.budgets[0]:
            t = time.perf_counter()
            gen = self.model.sampling_generator
            # Generator updates, also right with steps_per_execution > 1.
            step = int(keras.ops.convert_to_numpy(self.model.g_optimizer.iterations))
            self.snapshots[self.budgets.pop(0)] = ([w.copy() for w in gen.get_weights()],
                                                   step, elapsed)
            self.paused += time.perf_counter() - t
        if not self.budgets:
            self.model.stop_training = True


def run_recipe(name, budgets_s, root: Path, seed: int = 0):
    cfg = TrainConfig(out=str(root / name), seed=seed, **{**RECIPES[name], **QUIET})
    # The clock starts before train(): data loading, the default preset's
    # k-means clustering and model building count against the budget.
    snap = WallClockSnapshots(budgets_s, start=time.perf_counter())
    result = train(cfg, callbacks=[snap])
    return cfg, result.model.sampling_generator, snap.snapshots


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--budgets", default="1,2,5,10,20", help="minutes (1,2,5,10,20)")
    p.add_argument("--recipes", default="tutorial,default")
    p.add_argument("--num-samples", type=int, default=10_000)
    p.add_argument("--seed", type=int, default=0, help="training seed of every recipe (0)")
    p.add_argument("--threads", type=int, default=0,
                   help="TensorFlow intra- and inter-op threads (0: TensorFlow's defaults); "
                        "1 lets two of these runs share the 2-core CPU side by side")
    p.add_argument("--out", help="markdown report path (.json beside it)")
    p.add_argument("--keep", metavar="JSON",
                   help="an earlier report's .json: its recipes not trained now are "
                        "reported from it, marked as such (a 20-minute tutorial run "
                        "need not be repeated when only the default preset changed)")
    args = p.parse_args(argv)
    if args.threads:  # before the first TensorFlow op fixes the thread pools
        tf.config.threading.set_intra_op_parallelism_threads(args.threads)
        tf.config.threading.set_inter_op_parallelism_threads(args.threads)
    budgets = [float(b) for b in args.budgets.split(",")]
    recipes = [r.strip() for r in args.recipes.split(",") if r.strip()]
    for r in recipes:
        if r not in RECIPES:
            p.error(f"unknown recipe {r!r}; choose from {', '.join(RECIPES)}")
    root = Path(tempfile.mkdtemp(prefix="ttq_"))
    trained = {}
    try:
        for r in recipes:
            t0 = time.perf_counter()
            trained[r] = run_recipe(r, [60 * b for b in budgets], root, args.seed)
            print(f"{r}: trained in {time.perf_counter() - t0:.0f} s", flush=True)
            keras.backend.clear_session(free_memory=False)
    finally:
        shutil.rmtree(root, ignore_errors=True)

    evaluator = DigitEvaluator()
    ds, _ = load_dataset("mnist-sample")
    real = np.stack([x for x, _ in ds.as_numpy_iterator()])
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
                "min_class": m["class_coverage"]["min_fraction"],
                "class_kl": m["class_coverage"]["kl_to_uniform"], "reference": m["reference"]}
            print(r, b, results[r][b]["step"], f"FD {m['fd']:.2f} score {m['score']:.2f}",
                  flush=True)
    kept = {}
    if args.keep:
        import json

        earlier = json.loads(Path(args.keep).read_text())
        for r, rows in earlier["results"].items():
            if r not in results and r in RECIPES:
                kept[r] = earlier.get("provenance", {}).get(r) or args.keep
                results[r] = {float(b): x for b, x in rows.items()}
        recipes = [r for r in RECIPES if r in results]
    ref = next(iter(next(iter(results.values())).values()))["reference"]
    lines = [
        "# Time to quality on MNIST (digit FD, digit score, class coverage)",
        "",
        f"- Command: `python benchmarks/time_to_quality.py "
        f"{' '.join(shlex.quote(a) for a in (sys.argv[1:] if argv is None else argv))}`",
        f"- Date: {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M UTC}",
        f"- Machine: {len(os.sched_getaffinity(0))} CPUs usable, "
        f"{args.threads or 'TensorFlow default'} thread(s); training seed {args.seed}; "
        f"Python {platform.python_version()}, tensorflow {tf.__version__}, "
        f"keras {keras.__version__}",
        f"- Scores: {args.num_samples:,} samples (latents of seed 0) vs the 10,000 real "
        "digits, shipped digit classifier; reference = the same metric between the two "
        f"halves of the real digits: FD {ref['fd']:.2f}, score {ref['score']:.2f}, smallest "
        f"class {ref['class_coverage']['min_fraction']:.3f}.",
        "- Recipes: " + "; ".join(
            f"`{r}`: " + (", ".join(f"{k} {v}" for k, v in RECIPES[r].items())
                          or "`keras-gan train` defaults") for r in recipes),
        *[f"- `{r}` rows: not retrained here; from {src}" for r, src in kept.items()],
        "",
        "| budget (min) | " + " | ".join(
            f"{r}: steps | {r}: FD | {r}: score | {r}: smallest class" for r in recipes) + " |",
        "|---|" + "---|---|---|---|" * len(recipes),
    ]
    for b in budgets:
        row = f"| {b:g} |"
        for r in recipes:
            x = results.get(r, {}).get(b)
            row += (" | | | |" if x is None else
                    f" {x['step']} | {x['fd']:.2f} | {x['score']:.2f} | {x['min_class']:.3f} |")
        lines.append(row)
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
    publish(text, {"recipes": {r: RECIPES[r] for r in recipes}, "results": results,
                   "provenance": provenance}, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
