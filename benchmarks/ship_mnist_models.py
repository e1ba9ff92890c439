"""Trains and ships the MNIST generators: saved_models/mnist-dcgan and mnist-cgan.

Each is the default preset of `keras-gan train` (the `TrainConfig` defaults)
on the embedded `mnist-sample` digits, trained for --epochs: `mnist-dcgan` is
the preset as it is (DCGAN networks, `--gan clustered`: conditioned on k-means
clusters found without labels, sampled from z alone), `mnist-cgan` the same
recipe with `--gan cgan` (conditioned on the digit labels). Then,
for each: `keras-gan eval` (10,000 samples from seed 0 against the 10,000
real digits; for cgan, labels cycling through the classes and the share
classified as the asked class), the report to
`benchmarks/results/eval/NAME/`, and `keras-gan export` with those figures
on the card and the report's sample grid as `samples.png`. Run from the
repository root:

    python benchmarks/ship_mnist_models.py [--models dcgan,cgan] [--epochs 80] [--no-train]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout

from export.writer import export_generator  # noqa: E402
from keras_gan.config import TrainConfig  # noqa: E402
from keras_gan.evaluate import evaluate, write_report  # noqa: E402
from keras_gan.train import train  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


# Model name -> variant: the unconditional model is the default preset's.
VARIANTS = {"dcgan": TrainConfig().gan, "cgan": "cgan"}


def train_run(model: str, epochs: int, run_dir: Path) -> None:
    shutil.rmtree(run_dir, ignore_errors=True)  # a fresh run, not a resume
    cfg = TrainConfig(gan=VARIANTS[model], epochs=epochs, out=str(run_dir), verbose=2,
                      fd_every=0, tensorboard=False, checkpoint_every=1000)
    t0 = time.perf_counter()
    train(cfg)
    print(f"{run_dir.name}: trained in {time.perf_counter() - t0:.0f} s", flush=True)


def ship(model: str, epochs: int, runs: Path, retrain: bool = True) -> dict:
    """Trains (unless `retrain` is False: the run folder is reused), evaluates,
    reports and exports `mnist-MODEL`; returns its card."""
    name = f"mnist-{model}"
    run_dir = runs / name
    if retrain:
        train_run(model, epochs, run_dir)
    result = evaluate(run_dir, progress=False)
    report = write_report(result, ROOT / "benchmarks" / "results" / "eval" / name, run_dir)
    m = result["metrics"]
    metrics = {k: m[k] for k in ("fd", "score", "kid", "precision", "recall")}
    metrics["min_class_fraction"] = m["class_coverage"]["min_fraction"]
    if "conditional_accuracy" in m:
        metrics["conditional_accuracy"] = m["conditional_accuracy"]
    metrics["reference"] = {"fd": m["reference"]["fd"], "score": m["reference"]["score"],
                            "min_class_fraction":
                                m["reference"]["class_coverage"]["min_fraction"]}
    metrics["protocol"] = ("keras-gan eval: 10,000 samples from seed 0 vs the 10,000 "
                           "mnist-sample digits, shipped digit classifier; reference = "
                           "two halves of the real digits")
    metrics["command"] = f"python benchmarks/ship_mnist_models.py --models {model} " \
                         f"--epochs {epochs}"
    out = ROOT / "saved_models" / name
    card = export_generator(run_dir, out, name=name, metrics=metrics, overwrite=True,
                            fp16=True)
    shutil.copy(report / "samples.png", out / "samples.png")
    print(f"{name}: " + ", ".join(f"{k} {v:.4g}" for k, v in metrics.items()
                                  if isinstance(v, float)), flush=True)
    return card


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--models", default="dcgan,cgan", help="dcgan and/or cgan")
    p.add_argument("--epochs", type=int, default=80, help="passes over the 10,000 digits")
    p.add_argument("--runs", default="runs", help="parent of the run folders (runs)")
    p.add_argument("--no-train", action="store_true",
                   help="evaluate and export the existing run folders (after a failed "
                        "export, say) instead of training afresh")
    args = p.parse_args(argv)
    for gan in [g.strip() for g in args.models.split(",") if g.strip()]:
        if gan not in VARIANTS:
            p.error(f"unknown model {gan!r}: dcgan or cgan")
        ship(gan, args.epochs, Path(args.runs), retrain=not args.no_train)
    return 0


if __name__ == "__main__":
    sys.exit(main())
