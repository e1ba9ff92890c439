"""The pix2pix ablation on emoji64 (Isola et al. 2017, Table 1), at equal CPU budgets.

    python benchmarks/translation_ablation.py --task styles --budget 8 --seed 1 \\
        --out benchmarks/results/translation_ablation_styles_seed1.md
    python benchmarks/translation_ablation.py --combine \\
        benchmarks/results/translation_ablation_styles_seed*.json \\
        --out benchmarks/results/translation_ablation_styles.md \\
        --figure docs/figures/translation_ablation_styles.png

One run trains each row for `--budget` CPU minutes of one TensorFlow thread
(the training process's CPU time, so two runs side by side on two cores do
not slow each other's budget) and scores it on `--split` of the shipped
emoji64 split with `keras_gan.evaluation.translation` (the protocol of
protocols.md): L1 and emoji-feature distance per pair, FD / KID against the
real targets, style and content shares. Rows:

- unet-l1: the U-Net regressed on L1 alone (no D);
- pix2pix-adv: the conditional adversarial loss alone;
- pix2pix: L1 (weight 100) + the conditional adversarial loss;
- cyclegan: two U-Nets and two PatchGANs on unpaired images (the pairing of
  the training side is not used);
- identity and truth: the sources themselves and the real targets.

Every row is stopped by the budget, not by a step count, so the learning rate
is constant (`lr_decay=0`; CycleGAN's paper decays over a run length fixed
beforehand, which an equal-time comparison does not have). A run writes a
grid of held-out emoji beside its report: source, each row, truth.
`--combine` turns several seeds' JSON into one table of means and spreads.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
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
from report import publish  # noqa: E402  (benchmarks/report.py)

ROWS = ("unet-l1", "pix2pix-adv", "pix2pix", "cyclegan")
METRICS = (("l1", "L1", "{:.4f}"), ("feature_distance", "feature dist.", "{:.2f}"),
           ("fd", "FD", "{:.2f}"), ("kid", "KID", "{:.3f}"),
           ("style_share", "style share", "{:.3f}"), ("content_share", "content share",
                                                      "{:.3f}"))


class CPUBudget(keras.callbacks.Callback):
    """Stops training once this process has used `seconds` of CPU time."""

    def __init__(self, seconds: float):
        super().__init__()
        self.seconds, self.used, self.steps = seconds, 0.0, 0

    def on_train_begin(self, logs=None):
        self.t0 = time.process_time()

    def on_train_batch_end(self, batch, logs=None):
        self.steps += 1
        self.used = time.process_time() - self.t0
        if self.used >= self.seconds:
            self.model.stop_training = True


def run_row(row: str, args, tmp: Path) -> dict:
    from keras_gan.evaluation.translation import evaluate_translator
    from keras_gan.models.gans import configure
    from keras_gan.training.trainer import train

    dataset = f"emoji64:{args.task}"
    cfg = configure(dict(gan=row, dataset=dataset, image_size=args.image_size,
                         width=args.width, batch_size=args.batch_size, seed=args.seed,
                         epochs=1000, steps_per_epoch=500, gan_options={"lr_decay": 0.0},
                         tensorboard=False, verbose=0, checkpoint_every=10**9,
                         out=str(tmp / row)))
    budget = CPUBudget(60 * args.budget)
    start = time.time()
    result = train(cfg, callbacks=[budget])
    wall = time.time() - start
    scored = evaluate_translator(result.run_dir, split=args.split, seed=args.seed)
    keras.backend.clear_session(free_memory=False)
    return {"steps": int(result.step), "cpu_seconds": round(budget.used, 1),
            "wall_seconds": round(wall, 1), "metrics": scored["metrics"],
            "grid": scored["_grid"], "num_pairs": scored["num_pairs"],
            "domains": scored["domains"]}


def table(results: dict, seeds: list[int]) -> list[str]:
    """Markdown rows: mean (and spread over seeds) of each metric per row."""
    lines = ["| row | steps | " + " | ".join(m[1] for m in METRICS) + " |",
             "|---" * (len(METRICS) + 2) + "|"]
    for row, runs in results.items():
        steps = [r["steps"] for r in runs if r.get("steps") is not None]
        cells = []
        for key, _, fmt in METRICS:
            values = [r["metrics"][key] for r in runs if r["metrics"].get(key) is not None]
            if not values:
                cells.append("-")
                continue
            text = fmt.format(np.mean(values))
            if len(values) > 1:
                text += " ± " + fmt.format(np.std(values, ddof=1))
            cells.append(text)
        steps_text = f"{np.mean(steps):.0f}" if steps else "-"
        lines.append(f"| {row} | {steps_text} | " + " | ".join(cells) + " |")
    lines += ["", f"Seeds: {', '.join(map(str, seeds))} (mean ± sample standard deviation "
              "where there are several)."]
    return lines


def combine(paths: list[str], out: str | None, figure: str | None = None) -> int:
    runs = [json.loads(Path(p).read_text()) for p in paths]
    first = runs[0]
    results = {}
    for run in runs:
        for row, entry in run["results"].items():
            results.setdefault(row, []).append(entry)
    seeds = [r["settings"]["seed"] for r in runs]
    s = first["settings"]
    lines = [f"# The pix2pix ablation on emoji64:{s['task']} ({first['domains'][0]} -> "
             f"{first['domains'][1]}), {s['image_size']} px",
             "", f"- Command: `python benchmarks/translation_ablation.py --combine "
             f"{' '.join(paths)}`",
             f"- Each row: {s['budget']:g} CPU minutes of one TensorFlow thread, width "
             f"{s['width']}, batch {s['batch_size']}, Adam 2e-4 (beta_1 0.5), constant rate; "
             f"scored on the {first['num_pairs']} pairs of the {s['split']} split (runs: "
             f"{', '.join(r['date'] for r in runs)}).", ""]
    lines += table(results, seeds)
    data = {"runs": paths, "seeds": seeds, "settings": {k: v for k, v in s.items() if k != "seed"},
            "domains": first["domains"], "num_pairs": first["num_pairs"],
            "dates": [r["date"] for r in runs], "results": results}
    if figure:  # the first seed's grid, where the documentation can show it
        grid = Path(paths[0]).with_suffix("")
        shutil.copyfile(grid.with_name(f"{grid.name}_grid.png"), figure)
        data["figure"] = str(figure)
    publish("\n".join(lines) + "\n", data, out)
    return 0


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--task", default="styles", choices=("styles", "sketch"))
    p.add_argument("--image-size", type=int, default=32)
    p.add_argument("--width", type=int, default=32)
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--budget", type=float, default=8.0, help="CPU minutes per row")
    p.add_argument("--seed", type=int, default=1, help="training seed (0 was used to tune)")
    p.add_argument("--split", default="test", choices=("test", "val"))
    p.add_argument("--rows", default=",".join(ROWS))
    p.add_argument("--combine", nargs="+", metavar="JSON", help="seeds' results to combine")
    p.add_argument("--out", help="markdown report (.json and _grid.png beside it)")
    p.add_argument("--figure", help="--combine: copy the first run's grid here")
    args = p.parse_args(argv)
    if args.combine:
        return combine(args.combine, args.out, args.figure)
    rows = [r for r in args.rows.split(",") if r]
    if unknown := [r for r in rows if r not in ROWS]:
        p.error(f"unknown rows {unknown}; choose from {', '.join(ROWS)}")
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(1)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    tmp = Path(tempfile.mkdtemp(prefix="translation_ablation_"))
    results, grids = {}, {}
    for row in rows:
        entry = run_row(row, args, tmp)
        grids[row] = entry.pop("grid")
        results[row] = entry
        print(row, json.dumps({k: v for k, v in entry.items() if k != "metrics"}),
              json.dumps(entry["metrics"]["translation"]), flush=True)
    any_row = results[rows[0]]
    for name in ("identity", "truth"):
        if name in any_row["metrics"]:
            results[name] = {"steps": None, "metrics": any_row["metrics"][name]}
    for entry in results.values():
        if "translation" in entry["metrics"]:
            entry["metrics"] = entry["metrics"]["translation"]
    settings = {k: getattr(args, k) for k in ("task", "image_size", "width", "batch_size",
                                              "budget", "seed", "split")}
    date = f"{datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M UTC}"
    command = " ".join(shlex.quote(a) for a in (sys.argv[1:] if argv is None else argv))
    domains = any_row["domains"]
    lines = [f"# Translation ablation, emoji64:{args.task} ({domains[0]} -> {domains[1]}), "
             f"seed {args.seed}", "", f"- Command: `python benchmarks/translation_ablation.py "
             f"{command}`", f"- Date: {date}; tensorflow {tf.__version__}, keras "
             f"{keras.__version__}; {args.budget:g} CPU minutes per row, one thread.", ""]
    lines += table({r: [e] for r, e in results.items()}, [args.seed])
    if args.out:
        from keras_gan.data.images import save_grid

        # Rows: held-out emoji spread over the split; columns: source, each model, truth.
        first = grids[rows[0]]
        columns = [first[:, 0]] + [grids[r][:, 1] for r in rows] + [first[:, 2]]
        grid = np.stack(columns, axis=1)
        out = Path(args.out)
        save_grid(out.with_name(f"{out.stem}_grid.png"), grid.reshape(-1, *grid.shape[2:]),
                  cols=grid.shape[1], scale=2)
        lines += ["", f"Grid: `{out.stem}_grid.png`, columns source, "
                  f"{', '.join(rows)}, truth."]
    publish("\n".join(lines) + "\n", {"settings": settings, "date": date, "command": command,
                                      "domains": domains, "num_pairs": any_row["num_pairs"],
                                      "results": results}, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
