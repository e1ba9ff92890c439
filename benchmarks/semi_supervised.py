"""Semi-supervised GAN vs the same labels alone, on mnist-sample (issue 30).

    # tuning: seed 0, 10 labels per class, a validation carve of the 8,000
    # training digits (20% of each class); the 2,000 held-out digits unseen
    python benchmarks/semi_supervised.py --tune --budget 12 --lr 3e-3 \\
        --out benchmarks/results/semi_supervised_tune_lr3e-3.md
    # reporting: seeds that chose nothing, scored on the 2,000 held-out digits
    python benchmarks/semi_supervised.py --labels-per-class 10 --seed 1 --budget 30 \\
        --out benchmarks/results/semi_supervised_100_seed1.md
    python benchmarks/semi_supervised.py --out benchmarks/results/semi_supervised.md \\
        --combine benchmarks/results/semi_supervised_*_seed*.json

Rows, each from the same N labelled digits per class (`select_labelled`
with the run's seed) and scored on the same held-out digits:

- ssgan: `keras-gan train --gan ssgan` (Salimans et al. 2016's MNIST
  networks and losses) on all training digits, N per class labelled, for
  `--budget` CPU minutes of one TensorFlow thread (this process's CPU time,
  so runs side by side on two cores keep their budgets);
- d-supervised: the same discriminator (weight norm, the same noise, the
  same data-dependent init and optimiser) trained on the labelled digits
  alone with cross-entropy: what the unlabelled digits and G add;
- cnn-supervised: the small CNN of the CAS classifier
  (`keras_gan.evaluation.cas`) on the labelled digits alone, the issue's
  "CNN trained on the same labels".

The anchor, from the paper: 93 errors in 10,000 MNIST test digits (0.93%)
with 100 labels and 60,000 unlabelled digits, 300 epochs (180,000 updates).
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
from translation_ablation import CPUBudget  # noqa: E402

ROWS = ("ssgan", "d-supervised", "cnn-supervised")
SUPERVISED_STEPS = 2000  # both baselines fit their labelled rows long before this
ANCHOR = "Salimans et al. 2016: 0.93% error with 100 labels (60,000 unlabelled MNIST digits)"


def tuning_source(tmp: Path) -> str:
    """mnist-sample's 8,000 training digits as an npz: `load_labelled` then
    holds out 20% of each class of them, the validation rows."""
    from keras_gan.evaluation.classifiers import HELD_OUT, MNIST_SAMPLE

    with np.load(MNIST_SAMPLE) as data:
        x, y = data["x"][:-HELD_OUT], data["y"][:-HELD_OUT]
    path = tmp / "mnist_train8000.npz"
    np.savez(path, x=x, y=y)
    return f"npz:{path}"


def _options(args) -> dict:
    """The ssgan options this script varies (the rest: the variant's defaults)."""
    from keras_gan.models.gans import get_gan

    return get_gan("ssgan").resolve_options({
        "input_noise": args.input_noise, "classifier_average": args.classifier_average,
        "d_arch": args.d_arch})


def run_ssgan(source: str, args, tmp: Path) -> dict:
    from keras_gan.models.gans import configure
    from keras_gan.training.trainer import train

    cfg = configure(dict(gan="ssgan", dataset=source, labels_per_class=args.labels_per_class,
                         seed=args.seed, d_lr=args.lr, g_lr=args.lr, lr_schedule="constant",
                         epochs=100_000, gan_options=_options(args),
                         augment=args.augment,
                         tensorboard=False, verbose=0, fd_every=0, checkpoint_every=10**9,
                         out=args.keep or str(tmp / "ssgan")))
    budget = CPUBudget(60 * args.budget)
    start = time.time()
    result = train(cfg, callbacks=[budget])
    labels = json.loads((result.run_dir / "labels.json").read_text())
    curve = [float(r["test_error"]) for r in _csv(result.run_dir / "metrics.csv")]
    return {"error": labels["test_error"], "steps": int(result.step),
            "cpu_seconds": round(budget.used, 1), "wall_seconds": round(time.time() - start, 1),
            "error_per_epoch": curve, "held_out_examples": labels["held_out_examples"]}


def _csv(path: Path) -> list[dict]:
    import csv

    with open(path) as f:
        return list(csv.DictReader(f))


def _labelled(source: str, args):
    from keras_gan.data.labelled import load_labelled, select_labelled

    data = load_labelled(source)
    rows = select_labelled(data.y_train, args.labels_per_class, args.seed, data.class_names)
    return data, data.x_train[rows], data.y_train[rows]


def _error(model, x, y) -> float:
    from keras_gan.evaluation.cas import accuracy

    return 1.0 - accuracy(model, x, y)


def run_d_supervised(source: str, args) -> dict:
    from keras_gan.models.semi_supervised.networks import (
        build_discriminator,
        init_from_data,
    )

    data, x, y = _labelled(source, args)
    keras.utils.set_random_seed(args.seed)
    d = build_discriminator(x.shape[1:], data.num_classes, _options(args))
    init_from_data(d, data.x_train[:500])
    logits = keras.Model(d.inputs, d.outputs[0])
    logits.compile(keras.optimizers.Adam(args.lr, beta_1=0.5),
                   keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    return _fit_and_score(logits, x, y, data, batch=100)


def run_cnn_supervised(source: str, args) -> dict:
    from keras_gan.evaluation.cas import BATCH_SIZE, LEARNING_RATE, build_cas_classifier

    data, x, y = _labelled(source, args)
    keras.utils.set_random_seed(args.seed)
    model = build_cas_classifier(x.shape[1:], data.num_classes)
    model.compile(keras.optimizers.Adam(LEARNING_RATE),
                  keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    return _fit_and_score(model, x, y, data, batch=BATCH_SIZE)


def fit_for_steps(model, x, y, batch: int) -> None:
    """`model.fit` on (x, y) for whole shuffled passes, at least
    `SUPERVISED_STEPS` updates: the baselines' (and augmentation.py's) budget."""
    batch = min(batch, len(x))
    epochs = math.ceil(SUPERVISED_STEPS / math.ceil(len(x) / batch))
    model.fit(x, y, batch_size=batch, epochs=epochs, shuffle=True, verbose=0)


def _fit_and_score(model, x, y, data, batch: int) -> dict:
    start, cpu = time.time(), time.process_time()
    fit_for_steps(model, x, y, batch)
    return {"error": _error(model, data.x_test, data.y_test), "steps": SUPERVISED_STEPS,
            "cpu_seconds": round(time.process_time() - cpu, 1),
            "wall_seconds": round(time.time() - start, 1),
            "held_out_examples": len(data.x_test)}


def combine(paths: list[str], out: str | None) -> int:
    runs = [json.loads(Path(p).read_text()) for p in paths]
    groups: dict[int, list] = {}
    for run in runs:
        groups.setdefault(run["settings"]["labels_per_class"], []).append(run)
    lines = ["# Semi-supervised GAN vs the same labels alone, mnist-sample",
             "", f"- Command: `python benchmarks/semi_supervised.py --combine {' '.join(paths)}`",
             "- Trained on the 8,000 digits outside the 2,000 held out, N labelled per class; "
             "error on the 2,000 held-out digits; mean ± sample standard deviation over seeds.",
             f"- Anchor: {ANCHOR}.", "",
             "| labels | row | held-out error | seeds | steps | CPU min |",
             "|---|---|---|---|---|---|"]
    table = {}
    for per_class, group in sorted(groups.items()):
        for row in ROWS:
            entries = [g["results"][row] for g in group if row in g["results"]]
            if not entries:
                continue
            errors = [e["error"] for e in entries]
            text = f"{100 * np.mean(errors):.2f}%"
            if len(errors) > 1:
                text += f" ± {100 * np.std(errors, ddof=1):.2f}"
            steps = np.mean([e["steps"] for e in entries])
            cpu = np.mean([e["cpu_seconds"] for e in entries]) / 60
            seeds = ", ".join(str(g["settings"]["seed"]) for g in group if row in g["results"])
            lines.append(f"| {10 * per_class if per_class else '-'} | {row} | {text} | {seeds} "
                         f"| {steps:.0f} | {cpu:.1f} |")
            table.setdefault(str(per_class), {})[row] = {"errors": errors,
                                                        "mean": float(np.mean(errors))}
    publish("\n".join(lines) + "\n", {"runs": paths, "table": table, "anchor": ANCHOR}, out)
    return 0


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--labels-per-class", type=int, default=10)
    p.add_argument("--seed", type=int, default=1, help="0 was used to tune")
    p.add_argument("--budget", type=float, default=30.0, help="CPU minutes for the ssgan row")
    p.add_argument("--lr", type=float, default=3e-3, help="Adam rate, both nets (constant)")
    p.add_argument("--input-noise", type=float, default=0.3)
    p.add_argument("--classifier-average", type=float, default=0.999,
                   help="decay of the running average of D's weights the classifier uses "
                        "(0: none; benchmarks/ssgan_weight_average.py)")
    p.add_argument("--d-arch", default="mlp", choices=("mlp", "conv"),
                   help="D's network, for the ssgan and d-supervised rows")
    p.add_argument("--augment", default="",
                   help="DiffAugment policy for what D sees, labelled rows included "
                        "(e.g. translation); the ssgan row only")
    p.add_argument("--tune", action="store_true",
                   help="seed 0 on a validation carve of the training digits")
    p.add_argument("--rows", default=",".join(ROWS))
    p.add_argument("--keep", metavar="DIR",
                   help="the ssgan run folder (G and the classifier, for augmentation.py)")
    p.add_argument("--combine", nargs="+", metavar="JSON")
    p.add_argument("--out", help="markdown report (.json beside it)")
    args = p.parse_args(argv)
    if args.combine:
        return combine(args.combine, args.out)
    rows = [r for r in args.rows.split(",") if r]
    if unknown := [r for r in rows if r not in ROWS]:
        p.error(f"unknown rows {unknown}; choose from {', '.join(ROWS)}")
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(1)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    tmp = Path(tempfile.mkdtemp(prefix="semi_supervised_"))
    if args.tune:
        args.seed = 0
    source = tuning_source(tmp) if args.tune else "mnist-sample"
    runners = {"ssgan": lambda: run_ssgan(source, args, tmp),
               "d-supervised": lambda: run_d_supervised(source, args),
               "cnn-supervised": lambda: run_cnn_supervised(source, args)}
    results = {}
    for row in rows:
        results[row] = runners[row]()
        keras.backend.clear_session(free_memory=False)
        print(row, json.dumps({k: v for k, v in results[row].items()
                               if k != "error_per_epoch"}), flush=True)
    settings = {k: getattr(args, k) for k in ("labels_per_class", "seed", "budget", "lr",
                                              "input_noise", "classifier_average", "augment",
                                              "d_arch", "tune")}
    date = f"{datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M UTC}"
    command = " ".join(shlex.quote(a) for a in (sys.argv[1:] if argv is None else argv))
    what = "validation carve (tuning)" if args.tune else "2,000 held-out digits"
    lines = [f"# Semi-supervised, {10 * args.labels_per_class} labels, seed {args.seed}", "",
             f"- Command: `python benchmarks/semi_supervised.py {command}`",
             f"- Date: {date}; tensorflow {tf.__version__}, keras {keras.__version__}; "
             f"scored on the {what}.", "", "| row | error | steps | CPU min |", "|---|---|---|---|"]
    for row, r in results.items():
        lines.append(f"| {row} | {100 * r['error']:.2f}% | {r['steps']} | "
                     f"{r['cpu_seconds'] / 60:.1f} |")
    publish("\n".join(lines) + "\n", {"settings": settings, "date": date, "source": source,
                                      "results": results}, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
