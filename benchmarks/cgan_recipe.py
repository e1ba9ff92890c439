"""Conditional-GAN recipes side by side on the digits (issue 30).

    python benchmarks/cgan_recipe.py FOLDER... --out benchmarks/results/cgan_recipe.md

Each FOLDER is a `--gan cgan` run on `mnist-sample` (or a model exported
from one); its recipe and seed are read from its own config, not given here.
Each is scored as every shipped digit model is (`keras-gan eval`: 10,000
samples from seed 0, the digit evaluator, the classification accuracy
score), and the rows are written as a table (markdown and JSON).

The committed table compares the preset (`keras-gan train --gan cgan
--epochs 60 --seed S`) with lazy R1 added (`... --r1 0.1 --reg-every 4`):
seed 0 chose R1, seed 1 was not tuned on. The seed-0 preset row is the
saved_models/mnist-cgan shipped before R1 (the preset at seed 0), taken out
of git as it was:

    git archive 06a96e9 saved_models/mnist-cgan | tar -x -C /tmp
    mkdir -p runs/cgan-recipe && mv /tmp/saved_models/mnist-cgan runs/cgan-recipe/preset-seed0

The seed-0 R1 row's run is the one saved_models/mnist-cgan now ships.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout

COLUMNS = ("recipe", "seed", "digit FD", "digit score", "precision", "recall",
           "CAS", "CAS / real", "asked class")


def training_config(folder: Path) -> dict:
    """A run's config.json, or an exported model's card's training_config."""
    if (folder / "config.json").exists():
        return json.loads((folder / "config.json").read_text())
    if (folder / "model.json").exists():
        return json.loads((folder / "model.json").read_text())["training_config"]
    raise SystemExit(f"{folder}: neither a run folder (config.json) nor an exported "
                     "model (model.json)")


def recipe(cfg: dict) -> str:
    if cfg.get("gan") != "cgan":
        raise SystemExit(f"a {cfg.get('gan')!r} run: this table compares cgan recipes")
    if cfg.get("dataset") != "mnist-sample":
        # The table's columns are the digit evaluator's: another data set's
        # figures would be printed under digit headings.
        raise SystemExit(f"a run on {cfg.get('dataset')!r}: this table scores runs on "
                         "mnist-sample with the digit evaluator")
    r1 = cfg.get("r1", 0.0)
    return f"R1 {r1:g} every {cfg.get('reg_every', 1)}" if r1 else "preset"


def score(folder: Path, cfg: dict) -> dict:
    """One table row: the run's recipe and seed, and the metrics a shipped
    digit model's card holds (ship_mnist_models.card_metrics), so that the
    rows and the cards are the same measurements."""
    from ship_mnist_models import card_metrics  # benchmarks/, beside this file

    from keras_gan.evaluation.evaluate import evaluate

    metrics = card_metrics(evaluate(folder, progress=False), "cgan", cfg["epochs"])
    del metrics["command"]  # the card's training command, not this run's
    return {"folder": str(folder), "recipe": recipe(cfg), "seed": cfg["seed"],
            "epochs": cfg["epochs"], **metrics}


def table(rows: list[dict], command: str) -> str:
    ref, cas = rows[0]["reference"], rows[0]["cas"]
    lines = ["# Conditional GAN recipes on mnist-sample", "",
             f"- Command: `{command}`",
             f"- Date: {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC",
             "- Each row: `keras-gan eval` (10,000 samples from seed 0 against the 10,000 "
             "digits, the digit evaluator) and the classification accuracy score (a fixed "
             f"classifier trained on {cas['examples_per_class']} generated digits per class, "
             f"tested on the {cas['num_test']:,} held-out digits, over the same trained on as "
             "many real ones).",
             f"- Real halves: digit FD {ref['fd']:.3f}, score {ref['score']:.2f}; the CAS "
             f"classifier on real digits: {cas['real_accuracy']:.4f}.",
             "- Seed 0 chose the recipe; seed 1 was not tuned on.", "",
             "| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    for r in sorted(rows, key=lambda r: (r["seed"], r["recipe"] != "preset")):
        lines.append(f"| {r['recipe']} | {r['seed']} | {r['fd']:.3f} | {r['score']:.2f} | "
                     f"{r['precision']:.3f} | {r['recall']:.3f} | {r['cas']['cas']:.4f} | "
                     f"{r['cas']['ratio']:.3f} | {r['conditional_accuracy']:.3f} |")
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("folders", nargs="+", type=Path, help="cgan run or exported model folders")
    p.add_argument("--out", type=Path, default=Path("benchmarks/results/cgan_recipe.md"))
    args = p.parse_args(argv)
    missing = [str(f) for f in args.folders if not f.is_dir()]
    if missing:
        p.error(f"no such folder: {', '.join(missing)}")
    # Every folder's config is read and checked before any is scored (about two
    # minutes each), so a wrong folder late in the list wastes nothing.
    configs = [training_config(f) for f in args.folders]
    for cfg in configs:
        recipe(cfg)
    rows = []
    for folder, cfg in zip(args.folders, configs, strict=True):
        rows.append(score(folder, cfg))
        print(f"{folder}: {rows[-1]['recipe']}, seed {rows[-1]['seed']}: FD "
              f"{rows[-1]['fd']:.3f}, recall {rows[-1]['recall']:.3f}, CAS "
              f"{rows[-1]['cas']['cas']:.4f}", flush=True)
    command = "python benchmarks/cgan_recipe.py " + " ".join(
        str(a) for a in (sys.argv[1:] if argv is None else argv))
    text = table(rows, command)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text)
    args.out.with_suffix(".json").write_text(json.dumps(
        {"command": command, "rows": rows}, indent=2) + "\n")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
