"""Ships a colour emoji generator: saved_models/emoji-32 from a trained run folder.

    python benchmarks/ship_emoji_models.py --run RUN_DIR [--name emoji-32]

The run is the colour preset's own time-to-quality run, kept with `--runs`
(so the shipped model is the one whose figures the benchmark reports, not a
second training):

    python benchmarks/time_to_quality.py --dataset emoji64 \\
        --image-size 32 --recipes yaml:presets/emoji-32.yaml --clock cpu --threads 1 \\
        --seed 1 --budgets 5,15,30,60 --grids --runs runs/emoji32-ttq60 \\
        --out benchmarks/results/emoji32_preset.md

    python benchmarks/ship_emoji_models.py --run runs/emoji32-ttq60/emoji-32

(the run folder holds the model at its last budget, 60 CPU minutes).

Then, as `benchmarks/ship_mnist_models.py` does for digits: `keras-gan eval`
(10,000 samples from seed 0 against the 7,572 real emoji, in the shipped emoji
classifier's features, beside the real-halves reference), the report to
`benchmarks/results/eval/NAME/`, and `keras-gan export` (Keras, SavedModel,
ONNX and fp16 ONNX) with those figures and the images' attribution on the
card, and the report's sample grid as `samples.png`.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout

from keras_gan.evaluation.evaluate import evaluate, write_report  # noqa: E402
from keras_gan.training.run_folder import export_run  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
ATTRIBUTION = (
    "Trained on emoji64.npz: Twemoji graphics by Twitter, Inc. and other contributors, "
    "CC-BY 4.0 (https://creativecommons.org/licenses/by/4.0/), from the npm package "
    "emoji-datasource-twitter 16.0.0; Noto Emoji images by Google, Apache 2.0, from "
    "emoji-datasource-google 16.0.0. Generated images derive from these works."
)


def ship(run_dir: Path, name: str, command: str) -> dict:
    result = evaluate(run_dir, progress=False)
    report = write_report(result, ROOT / "benchmarks" / "results" / "eval" / name, run_dir)
    m = result["metrics"]
    metrics = {k: m[k] for k in ("fd", "score", "kid", "precision", "recall")}
    metrics["extractor"] = m["extractor"]
    metrics["min_class_fraction"] = m["class_coverage"]["min_fraction"]
    metrics["class_kl_to_uniform"] = m["class_coverage"]["kl_to_uniform"]
    ref = m["reference"]
    metrics["reference"] = {k: ref[k] for k in ("fd", "score", "kid", "precision", "recall")}
    metrics["reference"]["min_class_fraction"] = ref["class_coverage"]["min_fraction"]
    metrics["reference"]["class_kl_to_uniform"] = ref["class_coverage"]["kl_to_uniform"]
    metrics["protocol"] = (f"keras-gan eval: {result['num_samples']:,} samples from seed 0 vs "
                           f"the {m['num_real']:,} real emoji (on white), shipped emoji "
                           "classifier's features; reference = two halves of the real emoji")
    metrics["conventions"] = m["conventions"]
    metrics["command"] = command
    out = ROOT / "saved_models" / name
    card = export_run(run_dir, out, name=name, metrics=metrics, overwrite=True, fp16=True,
                      attribution=ATTRIBUTION)
    shutil.copy(report / "samples.png", out / "samples.png")
    print(f"{name}: " + ", ".join(f"{k} {v:.4g}" for k, v in metrics.items()
                                  if isinstance(v, float)), flush=True)
    return card


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--run", required=True, help="the trained run folder")
    p.add_argument("--name", default="emoji-32", help="saved_models/NAME (emoji-32)")
    args = p.parse_args(argv)
    if not Path(args.run).is_dir():
        p.error(f"no run folder at {args.run}")
    command = "python benchmarks/ship_emoji_models.py " + " ".join(argv or sys.argv[1:])
    ship(Path(args.run), args.name, command)
    return 0


if __name__ == "__main__":
    sys.exit(main())
