"""Trains and ships the MNIST generators: saved_models/mnist-dcgan and mnist-cgan.

Each is the default preset of `keras-gan train` (the `TrainConfig` defaults)
on the embedded `mnist-sample` digits, trained for --epochs: `mnist-dcgan` is
the preset as it is (DCGAN networks, `--gan clustered`: conditioned on k-means
clusters found without labels, sampled from z alone), `mnist-cgan` the same
recipe with `--gan cgan` (conditioned on the digit labels) and lazy R1
(`--r1 0.1 --reg-every 4`, chosen in benchmarks/cgan_recipe.py: better digit
FD, recall and classification accuracy score than the plain preset on the
tuning seed and on one it was not tuned on). Then,
for each: `keras-gan eval` (10,000 samples from seed 0 against the 10,000
real digits; for cgan, labels cycling through the classes and the share
classified as the asked class), the report to
`benchmarks/results/eval/NAME/`, and `keras-gan export` with those figures
on the card and the report's sample grid as `samples.png`. Run from the
repository root:

    python benchmarks/ship_mnist_models.py [--models dcgan,cgan] [--epochs 80] [--no-train]

`--reexport` trains and evaluates nothing: it rewrites the shipped files of
saved_models/mnist-MODEL from its own generator.keras and card, for a change
of the export format (e.g. the clustered sampler rebuilt from Keras's own
operations), and keeps them only if the new generator.onnx gives the old
one's images (max abs difference < 1e-5 on 256 seeds), so the card's metrics
stay valid; only what the export measures (the fp16 error) may change.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout

import numpy as np  # noqa: E402

from export.runtime import OnnxGenerator, sample_latents  # noqa: E402
from keras_gan.config import TrainConfig  # noqa: E402
from keras_gan.evaluation.evaluate import evaluate, write_report  # noqa: E402
from keras_gan.training.run_folder import export_run  # noqa: E402
from keras_gan.training.trainer import train  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


# Model name -> variant: the unconditional model is the default preset's.
VARIANTS = {"dcgan": TrainConfig().gan, "cgan": "cgan"}
# Model name -> TrainConfig fields on top of the preset (see the docstring).
RECIPES = {"dcgan": {}, "cgan": {"r1": 0.1, "reg_every": 4}}


def ship_config(model: str, epochs: int, run_dir: Path) -> TrainConfig:
    """The training config of saved_models/mnist-MODEL (tests/test_saved_models.py
    checks the shipped cards against it)."""
    return TrainConfig(gan=VARIANTS[model], epochs=epochs, out=str(run_dir), verbose=2,
                       fd_every=0, tensorboard=False, checkpoint_every=1000,
                       **RECIPES[model])


def train_run(model: str, epochs: int, run_dir: Path) -> None:
    shutil.rmtree(run_dir, ignore_errors=True)  # a fresh run, not a resume
    cfg = ship_config(model, epochs, run_dir)
    t0 = time.perf_counter()
    train(cfg)
    print(f"{run_dir.name}: trained in {time.perf_counter() - t0:.0f} s", flush=True)


def card_metrics(result: dict, model: str, epochs: int | None) -> dict:
    """The card's metrics from `keras-gan eval`'s result."""
    m = result["metrics"]
    metrics = {k: m[k] for k in ("fd", "score", "kid", "precision", "recall")}
    metrics["min_class_fraction"] = m["class_coverage"]["min_fraction"]
    if "conditional_accuracy" in m:
        metrics["conditional_accuracy"] = m["conditional_accuracy"]
    if result.get("cas") and "skipped" not in result["cas"]:
        metrics["cas"] = cas_metrics(result["cas"])
    metrics["reference"] = {"fd": m["reference"]["fd"], "score": m["reference"]["score"],
                            "min_class_fraction":
                                m["reference"]["class_coverage"]["min_fraction"]}
    metrics["protocol"] = ("keras-gan eval: 10,000 samples from seed 0 vs the 10,000 "
                           "mnist-sample digits, shipped digit classifier; reference = "
                           "two halves of the real digits")
    metrics["command"] = f"python benchmarks/ship_mnist_models.py --models {model} " \
                         f"--epochs {epochs}"
    return metrics


def ship(model: str, epochs: int, runs: Path, retrain: bool = True) -> dict:
    """Trains (unless `retrain` is False: the run folder is reused), evaluates,
    reports and exports `mnist-MODEL`; returns its card."""
    name = f"mnist-{model}"
    run_dir = runs / name
    if retrain:
        train_run(model, epochs, run_dir)
    result = evaluate(run_dir, progress=False)
    report = write_report(result, ROOT / "benchmarks" / "results" / "eval" / name, run_dir)
    metrics = card_metrics(result, model, epochs)
    out = ROOT / "saved_models" / name
    card = export_run(run_dir, out, name=name, metrics=metrics, overwrite=True, fp16=True)
    shutil.copy(report / "samples.png", out / "samples.png")
    print(f"{name}: " + ", ".join(f"{k} {v:.4g}" for k, v in metrics.items()
                                  if isinstance(v, float)), flush=True)
    return card


def cas_metrics(cas: dict) -> dict:
    """The card's classification accuracy score entry, from `keras-gan eval`'s."""
    return {k: cas[k] for k in ("cas", "real_accuracy", "ratio", "examples_per_class",
                                "num_test", "classifier", "epochs", "seed", "held_out")}


def rescore(model: str) -> dict:
    """Evaluates saved_models/mnist-MODEL as shipped (nothing trained or
    exported) and rewrites its card's metrics from that evaluation, the
    classification accuracy score included: for a metric added after the
    model shipped."""
    name = f"mnist-{model}"
    out = ROOT / "saved_models" / name
    result = evaluate(out, progress=False)
    write_report(result, ROOT / "benchmarks" / "results" / "eval" / name, out)
    cas = result.get("cas")
    if not cas or "skipped" in cas:
        raise SystemExit(f"{name}: no classification accuracy score ({cas})")
    card = json.loads((out / "model.json").read_text())
    # Every metric from this evaluation, so that the card and the eval report
    # agree; the training command stays the one that made the model.
    command = card["metrics"]["command"]
    card["metrics"] = {**card_metrics(result, model, None), "command": command}
    card["metrics"]["cas"]["command"] = (f"python benchmarks/ship_mnist_models.py --rescore "
                                         f"--models {model}")
    (out / "model.json").write_text(json.dumps(card, indent=2) + "\n")
    print(f"{name}: CAS {cas['cas']:.4f}, real {cas['real_accuracy']:.4f}, "
          f"ratio {cas['ratio']:.3f}", flush=True)
    return card


PARITY_SEEDS, PARITY_BATCH, PARITY_TOLERANCE = 256, 16, 1e-5


def onnx_difference(old, new) -> float:
    """Max abs difference of two generator.onnx files' images over
    `PARITY_SEEDS` seeds (`PARITY_BATCH` latents each, labels cycling)."""
    a = OnnxGenerator(old, providers=["CPUExecutionProvider"])
    b = OnnxGenerator(new, providers=["CPUExecutionProvider"])
    worst = 0.0
    for seed in range(PARITY_SEEDS):
        z = sample_latents(PARITY_BATCH, a.latent_dim, seed)
        labels = np.arange(PARITY_BATCH) % a.num_classes if a.conditional else None
        worst = max(worst, float(np.abs(a.run(z, labels) - b.run(z, labels)).max()))
    return worst


def reexport(model: str) -> dict:
    """Rewrites saved_models/mnist-MODEL from its own files (see the module's
    docstring); returns the new card."""
    name = f"mnist-{model}"
    out = ROOT / "saved_models" / name
    old_card = json.loads((out / "model.json").read_text())
    with tempfile.TemporaryDirectory() as tmp:
        new = Path(tmp) / name
        card = export_run(out, new, name=name, fp16=True)
        diff = onnx_difference(out / "generator.onnx", new / "generator.onnx")
        changed = sorted(k for k in {*card, *old_card} if card.get(k) != old_card.get(k))
        print(f"{name}: new vs old generator.onnx, {PARITY_SEEDS} seeds x {PARITY_BATCH}: "
              f"max abs difference {diff:.3g}; card fields changed: {changed or 'none'}"
              + "".join(f"\n  {k}: {old_card.get(k)!r} -> {card.get(k)!r}" for k in changed),
              flush=True)
        if diff >= PARITY_TOLERANCE:
            raise SystemExit(f"{name}: the re-export changes the images by {diff:.3g} "
                             f">= {PARITY_TOLERANCE}; the shipped files are kept")
        for file in [*card["files"].values(), "model.json"]:
            target = out / file
            if target.is_dir():
                shutil.rmtree(target)
            target.unlink(missing_ok=True)
            shutil.move(new / file, target)
    return card


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--models", default="dcgan,cgan", help="dcgan and/or cgan")
    p.add_argument("--epochs", type=int, default=80, help="passes over the 10,000 digits")
    p.add_argument("--runs", default="runs", help="parent of the run folders (runs)")
    p.add_argument("--no-train", action="store_true",
                   help="evaluate and export the existing run folders (after a failed "
                        "export, say) instead of training afresh")
    p.add_argument("--reexport", action="store_true",
                   help="train and evaluate nothing: rewrite the shipped files from "
                        "saved_models/mnist-MODEL itself (a new export format), kept only "
                        "if the images are unchanged")
    p.add_argument("--rescore", action="store_true",
                   help="train and export nothing: evaluate the shipped model again and add "
                        "the classification accuracy score (conditional models) to its card")
    args = p.parse_args(argv)
    for gan in [g.strip() for g in args.models.split(",") if g.strip()]:
        if gan not in VARIANTS:
            p.error(f"unknown model {gan!r}: dcgan or cgan")
        if args.reexport:
            reexport(gan)
        elif args.rescore:
            rescore(gan)
        else:
            ship(gan, args.epochs, Path(args.runs), retrain=not args.no_train)
    return 0


if __name__ == "__main__":
    sys.exit(main())
