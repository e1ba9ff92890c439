"""Ships a semi-supervised GAN run as saved_models/mnist-ssgan (issue 30).

    python benchmarks/semi_supervised.py --labels-per-class 100 --seed 3 --budget 10 \\
        --lr 3e-3 --classifier-average 0.999 --keep runs/ssgan-1000-seed3 \\
        --out benchmarks/results/semi_supervised_1000_seed3.md
    python benchmarks/ship_ssgan.py --run runs/ssgan-1000-seed3
    python benchmarks/ship_encoders.py --models mnist-ssgan

The run is one of benchmarks/semi_supervised.py's reporting runs (kept with
--keep): its classifier is what the demo's From your image tab guesses with,
and its held-out error is that run's row in the table. Which run: the
1,000-label one of seed 3, the lowest held-out error of the three seeds at
1,000 labels (picked from the table, then run again with --keep, which
rewrote that seed's row: a CPU-minute budget does not give the same step
count twice; the table reports all three; a shipped model is one of
them, and the card says which and how it scored). Its generator is
scored like every shipped digit model (`keras-gan eval`: 10,000 samples
from seed 0, the digit evaluator; report in
benchmarks/results/eval/mnist-ssgan/), then `keras-gan export --fp16`
writes the generator, the classifier (classifier.onnx, its held-out accuracy
and labels on the card) and the card.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout

ROOT = Path(__file__).resolve().parents[1]
NAME = "mnist-ssgan"


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--run", required=True, help="a run folder kept by semi_supervised.py")
    p.add_argument("--name", default=NAME)
    args = p.parse_args(argv)
    from ship_mnist_models import card_metrics  # benchmarks/, beside this file

    from keras_gan.evaluation.evaluate import evaluate, write_report
    from keras_gan.training.run_folder import export_run

    run = Path(args.run)
    labels = json.loads((run / "labels.json").read_text())
    result = evaluate(run, progress=False)
    report = write_report(result, ROOT / "benchmarks" / "results" / "eval" / args.name, run)
    m = result["metrics"]
    command = "python benchmarks/ship_ssgan.py " + " ".join(
        shlex.quote(a) for a in (sys.argv[1:] if argv is None else argv))
    # The card's figures as every shipped digit model's (its command is this one).
    metrics = {**card_metrics(result, args.name, None), "command": command}
    metrics["trained_by"] = (f"python benchmarks/semi_supervised.py --labels-per-class "
                             f"{labels['labels_per_class']} --seed {labels['seed']} "
                             "(its ssgan row, kept with --keep)")
    out = ROOT / "saved_models" / args.name
    card = export_run(run, out, name=args.name, metrics=metrics, overwrite=True, fp16=True)
    shutil.copy(report / "samples.png", out / "samples.png")
    clf = card["classifier"]
    print(f"{args.name}: digit FD {m['fd']:.3f}, score {m['score']:.2f}; classifier "
          f"held-out accuracy {clf['test_accuracy']:.4f} on {clf['held_out_examples']} "
          f"digits, {clf['labelled_examples']} labels", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
