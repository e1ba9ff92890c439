"""One 5-minute training of a `keras-gan train` variation, scored at wall-clock checkpoints.

    TF_NUM_INTRAOP_THREADS=1 TF_NUM_INTEROP_THREADS=1 \
        python benchmarks/preset_search.py TAG BUDGET_S EVERY_S [key=value ...]

Trains `TrainConfig()` (the default preset) with the given overrides (on the
embedded digits unless `dataset=...` is among them), copies the sampling
generator's weights every EVERY_S seconds of training (copy time excluded)
until BUDGET_S, then scores each copy on 5,000 samples (seed 0) with the
evaluator that fits the data (digit or emoji classifier) and prints one JSON
line per copy. With CLOCK=cpu in the environment the seconds are this
process's CPU time (one thread: its time alone on a core, however busy the
machine). The search of issue 6 ran two of these at a time, one TensorFlow
thread each; its lines are in benchmarks/results/preset_search.md.

    python benchmarks/preset_search.py --table LINES.jsonl

prints the markdown table of such JSON lines (collected from the runs' output).
"""
import json
import os
import shutil
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
from time_to_quality import WallClockSnapshots  # noqa: E402  (benchmarks/)

from keras_gan.config import TrainConfig  # noqa: E402
from keras_gan.data.pipeline import load_dataset  # noqa: E402
from keras_gan.evaluation.evaluate import generate, image_metrics  # noqa: E402
from keras_gan.evaluation.evaluator import choose_evaluator  # noqa: E402
from keras_gan.models.gans import configure  # noqa: E402
from keras_gan.training.trainer import train  # noqa: E402


def typed(base: TrainConfig, key: str, value: str):
    """`value` as the type of the config field `key` (None defaults: int or str)."""
    default = getattr(base, key)
    if isinstance(default, bool):
        return value.lower() == "true"
    if default is None:
        return int(value) if value.lstrip("-").isdigit() else value
    return type(default)(value)


def table(path) -> str:
    """The JSON lines of `path` as a markdown table, in their order."""
    rows = [json.loads(line) for line in open(path) if line.strip()]
    fixed = ("tag", "step", "sec", "fd", "score", "precision", "recall", "min_class")
    lines = ["| tag | overrides | step | CPU or wall s | FD | score | precision | recall | "
             "smallest class |", "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        over = " ".join(f"{k}={v}" for k, v in r.items()
                        if k not in fixed and k not in ("dataset", "image_size", "seed"))
        lines.append(f"| {r['tag']} | {over or '(none)'} | {r['step']} | {r['sec']} | "
                     f"{r['fd']} | {r['score']} | {r.get('precision', '')} | "
                     f"{r.get('recall', '')} | {r['min_class']} |")
    return "\n".join(lines)


def main() -> None:
    if sys.argv[1] == "--table":
        print(table(sys.argv[2]))
        return
    tag, budget, every = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
    base = TrainConfig()
    overrides = {k: typed(base, k, v) for k, v in (a.split("=", 1) for a in sys.argv[4:])}
    out = f"runs/preset-search/{tag}"
    shutil.rmtree(out, ignore_errors=True)
    # Through `configure`, as the CLI: a variant's recipe applies where the
    # overrides set nothing (gan=dcgan: Adam 2e-4, beta_1 0.5, no EMA).
    cfg = configure({**overrides, "out": out, "tensorboard": False, "fd_every": 0,
                     "verbose": 0, "epochs": 10_000, "checkpoint_every": 10**9})
    ds, info = load_dataset(cfg.dataset, image_size=cfg.image_size, background=cfg.background)
    real = np.stack([x for x, _ in ds.as_numpy_iterator()])
    # The budgets every, 2 * every, ... up to budget (time_to_quality.py's callback).
    clock = time.process_time if os.environ.get("CLOCK") == "cpu" else time.perf_counter
    snap = WallClockSnapshots([every * k for k in range(1, int(budget // every) + 1)],
                              start=clock(), clock=clock)  # k-means and building count
    gen = train(cfg, callbacks=[snap]).model.sampling_generator
    evaluator = choose_evaluator("auto", info.source, info.shape, info.class_names)
    for _, (weights, step, sec) in sorted(snap.snapshots.items()):
        gen.set_weights(weights)
        fake, _ = generate(gen, 5000, 0, progress=False)
        m = image_metrics(fake, real, evaluator)
        print(json.dumps({"tag": tag, **{k: str(v) for k, v in overrides.items()},
                          "step": step, "sec": round(sec, 1), "fd": round(m["fd"], 2),
                          "score": round(m["score"], 2), "precision": round(m["precision"], 3),
                          "recall": round(m["recall"], 3),
                          "min_class": m["class_coverage"]["min_fraction"]}), flush=True)


if __name__ == "__main__":
    main()
