"""Ships the emoji translators: saved_models/emoji-sketch and emoji-styles.

    keras-gan train --gan pix2pix --dataset emoji64:sketch --image-size 32 --width 32 \\
        --batch-size 16 --epochs 40 --seed 1 --no-tensorboard --out runs/emoji-sketch
    python benchmarks/ship_translators.py --run runs/emoji-sketch --name emoji-sketch

    keras-gan train --gan cyclegan --dataset emoji64:styles --image-size 32 --width 32 \\
        --batch-size 16 --epochs 30 --seed 1 --no-tensorboard --out runs/emoji-styles
    python benchmarks/ship_translators.py --run runs/emoji-styles --name emoji-styles

For each direction of the run's translator: `keras-gan eval`'s translator
mode on the 608 held-out pairs of the shipped split
(`keras_gan.evaluation.translation`: L1 and emoji-feature distance per
pair, FD / KID to the real targets, style and content shares, beside the
identity and truth references), the report to
`benchmarks/results/eval/NAME[-ab|-ba]/`, then `keras-gan export` with
those figures and the images' attribution on the card, and the report's
grid (source, translation, truth) as `samples.png`.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout

from ship_emoji_models import ATTRIBUTION  # noqa: E402

from keras_gan.evaluation.translation import (  # noqa: E402
    evaluate_translator,
    write_translation_report,
)
from keras_gan.training import run_folder as rf  # noqa: E402
from keras_gan.training.translate_export import export_translator_run  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
KEYS = ("l1", "feature_distance", "fd", "kid", "style_share", "content_share")


def card_metrics(result: dict, command: str) -> dict:
    """The held-out figures a card carries, with their references."""
    m = result["metrics"]
    metrics = {f"test_{k}": m["translation"][k] for k in KEYS if k in m["translation"]}
    metrics["reference"] = {ref: {k: m[ref].get(k) for k in KEYS}
                            for ref in ("identity", "truth") if ref in m}
    metrics["extractor"] = m.get("extractor")
    metrics["protocol"] = (f"keras-gan eval: the {result['num_pairs']} pairs of the "
                           f"{result['split']} split of {result['dataset']} "
                           f"({' -> '.join(result['domains'])}); identity = the sources as "
                           "they are, truth = the real targets (FD/KID between two halves)")
    metrics["command"] = command
    return metrics


def ship(run_dir: Path, name: str, command: str) -> dict:
    directions = ("ab", "ba") if (run_dir / "translator_ba.keras").exists() else ("ab",)
    metrics, reports = {}, {}
    for d in directions:
        result = evaluate_translator(run_dir, direction=d)
        label = name if len(directions) == 1 else f"{name}-{d}"
        reports[d] = write_translation_report(result, ROOT / "benchmarks" / "results" / "eval"
                                              / label)
        metrics[d] = card_metrics(result, command)
        t = result["metrics"]["translation"]
        print(f"{label}: " + ", ".join(f"{k} {t[k]:.4g}" for k in KEYS
                                       if t.get(k) is not None), flush=True)
    out = ROOT / "saved_models" / name
    cards = export_translator_run(run_dir, out, name=name, overwrite=True,
                                  attribution=ATTRIBUTION, metrics=metrics)
    for d in directions:
        folder = out if len(directions) == 1 else out / d
        shutil.copy(reports[d] / "grid.png", folder / "samples.png")
    return cards


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--run", required=True, help="the trained translator's run folder")
    p.add_argument("--name", required=True, help="saved_models/NAME")
    args = p.parse_args(argv)
    if rf.read_config(args.run) is None:
        p.error(f"no run folder at {args.run}")
    command = "python benchmarks/ship_translators.py " + " ".join(argv or sys.argv[1:])
    ship(Path(args.run), args.name, command)
    return 0


if __name__ == "__main__":
    sys.exit(main())
