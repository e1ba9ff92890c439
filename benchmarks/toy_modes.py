"""2D mode-collapse benchmark: GAN variants on the ring and grid mixtures.

Trains each variant on each 2D mixture for several seeds and scores 2,500
samples with the VEEGAN / PacGAN protocol (`shared/protocols.md`): modes
covered, % high-quality samples and reverse KL, mean and standard error over
seeds, next to the published numbers. Run from the repository root:

    python benchmarks/toy_modes.py [--seeds 5] [--first-seed 0]
        [--variants gan,nsgan,wgan-gp,unrolled,pacgan,preset]
        [--datasets ring,grid] [--out benchmarks/results] [--baseline-steps 1500]
        [--report toy_modes]

Rows:
- the plain variants (gan, nsgan, wgan-gp, unrolled, pacgan, ...: any
  registered name) all train with ONE common setting, `BASELINE` below: the
  VEEGAN / Unrolled-GAN setting of the protocol (MLP G and D with two hidden
  layers of 128 units, z in R^256, Adam beta_1 0.5, lr D 1e-4 / G 1e-3, batch
  512) for a fixed number of steps scaled to this benchmark's time budget, no
  weight averaging;
- `preset` trains `presets/toy-ring.yaml` / `presets/toy-grid.yaml` with their
  real settings: only the seed, the run folder and the console output change,
  so its times are those of `keras-gan train --config presets/toy-*.yaml`;
- `NAME[key=value;...]` is row NAME (a variant or `preset`) with those config
  fields changed (values read as YAML), e.g.
  `preset[gan=rpgan;loss=null;r1=0.1;r2=0.1]`: the preset with the
  relativistic pairing loss and R1 / R2 in place of its variant.

Seeds: `--first-seed F --seeds N` trains seeds F..F+N-1. The presets were
chosen on seeds 0-4; seeds 5-9 were used for no choice (report those).

Every run evaluates the generator it samples from (the EMA generator when
the config keeps one) on `sample_latents(2500, latent_dim, seed=1000 + seed)`.
Runs go to temporary folders that are removed afterwards. Writes
`REPORT.md` (the table), `REPORT.json` (per-seed raw numbers) and one
scatter plot per variant x dataset (first seed) to --out. The hand-written section
of an existing `toy_modes.md` that starts at `NOTES_MARKER` is kept.
"""

from __future__ import annotations

import argparse
import datetime
import gc
import json
import math
import os
import platform
import resource
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

from export.runtime import sample_latents  # noqa: E402
from keras_gan.config import TrainConfig  # noqa: E402
from keras_gan.data.images import save_scatter  # noqa: E402
from keras_gan.data.sources import toy_mixture  # noqa: E402
from keras_gan.evaluation.metrics import mode_metrics  # noqa: E402
from keras_gan.models.gans import get_gan  # noqa: E402
from keras_gan.training.trainer import train  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
PRESETS = ROOT / "presets"
NUM_SAMPLES = 2500
EVAL_SEED_OFFSET = 1000  # latents of seed s are sample_latents(2500, d, 1000 + s)
NOTES_MARKER = "## What we tried"
SEED_NOTE = (" (seeds used for no choice: the presets were tuned on seeds 0-4, and any "
             "option of a bracketed row on seed 0)")
DEFAULT_VARIANTS = "gan,nsgan,wgan-gp,unrolled,pacgan,preset"

# The one setting of every plain variant: VEEGAN / Unrolled GAN's (protocols.md),
# with our MLPs (ReLU G, LeakyReLU D; the papers used tanh) and a fixed step
# count that keeps the whole benchmark near 45 minutes on a 2-core CPU.
BASELINE = dict(arch="mlp", width=128, depth=2, latent_dim=256, batch_size=512,
                d_steps=1, optimizer="adam", d_lr=1e-4, g_lr=1e-3, beta_1=0.5,
                beta_2=0.999, ema_decay=0.0, epochs=1, steps_per_epoch=1500)
# The baseline runs also skip TensorBoard, the digit FD and periodic checkpoints.
BASELINE_IO = dict(tensorboard=False, fd_every=0, checkpoint_every=10**9, verbose=0)

# shared/protocols.md: (modes, % high quality, reverse KL or None), source.
PUBLISHED = [
    ("GAN", (1, 99.3, None), (3.3, 0.5, None), "VEEGAN Table 1"),
    ("Unrolled GAN", (7.6, 35.6, None), (23.6, 16, None), "VEEGAN Table 1"),
    ("VEEGAN", (8, 52.9, None), (24.6, 40, None), "VEEGAN Table 1"),
    ("WGAN-GP", (6.8, 59.6, None), (24.2, 28.7, None), "GDPP arXiv 1812.00068"),
    ("GDPP-GAN", (8.0, 71.7, None), (24.8, 68.5, None), "GDPP Table 1"),
    ("GAN", (6.3, 98.2, 0.45), (17.3, 94.8, 0.70), "PacGAN Table 1"),
    ("PacGAN2", (7.9, 95.6, 0.07), (23.8, 91.3, 0.13), "PacGAN Table 1"),
    ("PacGAN4", (7.8, 95.9, 0.07), (24.8, 93.6, 0.04), "PacGAN Table 1"),
]
TARGETS = {"ring": (8, 98.0, 0.02), "grid": (25, 95.0, 0.03)}  # issue 5


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--seeds", type=int, default=5, help="number of training seeds (5)")
    p.add_argument("--first-seed", type=int, default=0,
                   help="first training seed (0); 5: the seeds no preset was chosen on")
    p.add_argument("--report", default="toy_modes",
                   help="name of the report files in --out (toy_modes: .md, .json)")
    p.add_argument("--variants", default=DEFAULT_VARIANTS,
                   help=f"comma-separated registered variants and/or preset "
                        f"({DEFAULT_VARIANTS})")
    p.add_argument("--datasets", default="ring,grid", help="ring,grid")
    p.add_argument("--out", default="benchmarks/results", help="output folder")
    p.add_argument("--baseline-steps", type=int, default=BASELINE["steps_per_epoch"],
                   help=f"training steps of the plain variants "
                        f"({BASELINE['steps_per_epoch']})")
    p.add_argument("--merge", action="store_true",
                   help="keep the other rows of an existing toy_modes.json in --out and "
                        "replace only the variant x dataset rows this run trains")
    p.add_argument("--threads", type=int, default=1,
                   help="TensorFlow intra- and inter-op threads (1; 0: TensorFlow's "
                        "defaults). These MLPs run as fast on one thread as on two, and "
                        "one thread keeps a seed's time steady when another job shares "
                        "the 2-core CPU (two threads wait on each other)")
    args = p.parse_args(argv)
    args.variants = [v.strip() for v in args.variants.split(",") if v.strip()]
    args.datasets = [d.strip() for d in args.datasets.split(",") if d.strip()]
    for d in args.datasets:
        if d not in ("ring", "grid"):
            p.error(f"unknown dataset {d!r}: use ring and/or grid")
    for v in args.variants:
        name, _ = parse_variant(v)
        if name != "preset":
            get_gan(name)  # raises ConfigError naming the registered variants
    if args.seeds < 1 or args.baseline_steps < 1 or args.first_seed < 0:
        p.error("--seeds and --baseline-steps must be >= 1, --first-seed >= 0")
    return args


def parse_variant(spec: str) -> tuple[str, dict]:
    """'preset[gan=rpgan;r1=0.1]' -> ('preset', {'gan': 'rpgan', 'r1': 0.1})."""
    import yaml

    name, _, rest = spec.partition("[")
    overrides = {}
    for pair in filter(None, rest.rstrip("]").split(";")):
        key, _, value = pair.partition("=")
        overrides[key.strip().replace("-", "_")] = yaml.safe_load(value)
    return name.strip(), overrides


def preset_config(dataset: str) -> TrainConfig:
    cfg = TrainConfig.from_yaml(PRESETS / f"toy-{dataset}.yaml")
    if cfg.dataset != dataset:
        raise SystemExit(f"presets/toy-{dataset}.yaml trains {cfg.dataset!r}, not {dataset}")
    return cfg


def config_for(variant: str, dataset: str, seed: int, baseline_steps: int, out: str
               ) -> TrainConfig:
    name, overrides = parse_variant(variant)
    if name == "preset":
        cfg = preset_config(dataset).replace(seed=seed, out=out, verbose=0)
    else:
        cfg = TrainConfig(dataset=dataset, gan=name, seed=seed, out=out,
                          **{**BASELINE, "steps_per_epoch": baseline_steps}, **BASELINE_IO)
    # Through from_dict: a mistyped field is named, not a dataclass TypeError.
    return TrainConfig.from_dict({**cfg.to_dict(), **overrides}, source=variant)


def cpu_seconds() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def run_one(cfg: TrainConfig) -> tuple[dict, np.ndarray]:
    """Trains `cfg`; returns its scores and timings, and the 2,500 samples."""
    load = os.getloadavg()[0]
    c0, t0 = cpu_seconds(), time.perf_counter()
    result = train(cfg)
    seconds = time.perf_counter() - t0
    cpu = cpu_seconds() - c0
    generator = result.model.sampling_generator  # the EMA generator when kept
    z = sample_latents(NUM_SAMPLES, cfg.latent_dim, seed=EVAL_SEED_OFFSET + cfg.seed)
    samples = np.asarray(generator(z, training=False))
    means, std = toy_mixture(cfg.dataset)
    m = mode_metrics(samples, means, std)
    row = {"seed": cfg.seed, "modes": m["modes"], "high_quality": m["high_quality"],
           # None (JSON null) where no sample is high quality: the KL is undefined
           "reverse_kl": m["reverse_kl"] if math.isfinite(m["reverse_kl"]) else None,
           "train_seconds": round(seconds, 2), "cpu_seconds": round(cpu, 2),
           "load_avg_1min": round(load, 2), "steps": int(result.step),
           "ema": bool(cfg.ema_decay)}
    return row, samples


def mean_se(values) -> tuple[float | None, float | None, int]:
    """Mean and standard error of the finite values, and how many there were."""
    v = np.asarray([x for x in values if x is not None and math.isfinite(x)], float)
    if len(v) == 0:
        return None, None, 0
    se = float(v.std(ddof=1) / math.sqrt(len(v))) if len(v) > 1 else 0.0
    return float(v.mean()), se, len(v)


def summarise(rows: list[dict]) -> dict:
    out = {}
    for key, scale in (("modes", 1), ("high_quality", 100), ("reverse_kl", 1),
                       ("train_seconds", 1), ("cpu_seconds", 1)):
        mean, se, n = mean_se([None if r[key] is None else r[key] * scale for r in rows])
        out[key] = {"mean": mean, "se": se, "n": n}
    out["seeds"] = len(rows)
    out["max_train_seconds"] = max(r["train_seconds"] for r in rows)
    return out


def fmt(stat: dict, digits: int, seeds: int) -> str:
    if stat["n"] == 0:
        return "n/a"
    text = f"{stat['mean']:.{digits}f} ± {stat['se']:.{digits}f}"
    return text if stat["n"] == seeds else f"{text} ({stat['n']}/{seeds} seeds)"


def pub(value, digits: int) -> str:
    return "-" if value is None else f"{value:.{digits}f}" if digits else f"{value:g}"


def machine() -> str:
    model = platform.processor() or "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    affinity = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else "?"
    return f"{model}; `nproc` {affinity}, `os.cpu_count()` {os.cpu_count()}"


def versions() -> str:
    return (f"Python {platform.python_version()}, tensorflow {tf.__version__}, "
            f"keras {keras.__version__}, numpy {np.__version__}")


def settings_line(cfg: dict) -> str:
    keys = ("gan", "loss", "arch", "width", "depth", "latent_dim", "batch_size", "d_steps",
            "optimizer", "d_lr", "g_lr", "beta_1", "beta_2", "ema_decay", "epochs",
            "steps_per_epoch")
    return ", ".join(f"{k} {cfg[k]}" for k in keys if cfg.get(k) is not None)


def threads_note(runs: dict) -> str:
    """Which TensorFlow thread settings the rows ran with (merged reports mix them)."""
    rows = [r for by_ds in runs.values() for rs in by_ds.values() for r in rs]
    kinds = sorted({str(r.get("threads", "default")) for r in rows})
    if kinds == ["default"]:
        return "threads at TensorFlow's defaults"
    return ("TensorFlow intra/inter-op threads: " + " or ".join(kinds)
            + " (each run's `threads` in the JSON; none given: the defaults)")


def write_markdown(path: Path, report: dict) -> str:
    seeds = report["seeds"]
    lo, hi = report["load_range"]
    lines = [
        "# 2D mode collapse: ring (8 modes) and grid (25 modes)",
        "",
        f"- Command: `{report['command']}`",
        f"- Date: {report['date']}",
        f"- Machine: {report['machine']}; {threads_note(report['runs'])}; runs one "
        f"after another in one process. The CPU was shared with other jobs (1-minute load "
        f"average at the start of the runs: {lo:.1f} to {hi:.1f}), so the seconds are noisy; "
        "the JSON also has each run's CPU seconds and load.",
        f"- Versions: {report['versions']}",
        "- Protocol (`shared/protocols.md`): 2,500 samples from the trained generator (the "
        "EMA generator for configs with `ema_decay`), latents "
        "`sample_latents(2500, latent_dim, seed=1000 + seed)`, scored with "
        "`keras_gan.evaluation.metrics.mode_metrics`; mean ± standard error over training seeds "
        f"{report.get('first_seed', 0)}..{report.get('first_seed', 0) + seeds - 1}"
        f"{SEED_NOTE if report.get('first_seed', 0) >= 5 else ''}. Train s: wall-clock "
        "seconds of `train(cfg)`, mean (max), with graph tracing and the run folder's files.",
        "- Plain variants, one common setting (the VEEGAN / Unrolled setting of the "
        f"protocol, with fewer steps to fit the time budget): "
        f"{settings_line(report['baseline'])}; G ReLU / D LeakyReLU(0.2) hidden layers "
        "(the papers used tanh); each variant's own additions at their defaults "
        "(wgan-gp: penalty 10, unrolled: 5 SGD steps, pacgan: packs of 2); no TensorBoard, "
        "no periodic checkpoints.",
    ]
    for ds, cfg in report["presets"].items():
        lines.append(f"- `preset` on {ds}: `presets/toy-{ds}.yaml` as it is (only seed, "
                     f"run folder and verbosity changed): {settings_line(cfg)}")
    lines += ["", "## Results", ""]
    header, rule = "| variant |", "|---|"
    for ds in report["datasets"]:
        k = len(toy_mixture(ds)[0])
        header += f" {ds}: modes (of {k}) | {ds}: % HQ | {ds}: reverse KL | {ds}: train s |"
        rule += "---|---|---|---|"
    lines += [header, rule]
    for variant, by_ds in report["summary"].items():
        row = f"| {variant} |"
        for ds in report["datasets"]:
            s = by_ds.get(ds)
            if s is None:
                row += " | | | |"
                continue
            row += (f" {fmt(s['modes'], 1, seeds)} | {fmt(s['high_quality'], 1, seeds)} | "
                    f"{fmt(s['reverse_kl'], 3, seeds)} | "
                    f"{s['train_seconds']['mean']:.0f} ({s['max_train_seconds']:.0f}) |")
        lines.append(row)
    targets = "; ".join(f"{ds} {t[0]} modes, >= {t[1]:g}% HQ, reverse KL <= {t[2]:g}"
                        for ds, t in TARGETS.items())
    lines += ["", f"Targets (issue 5: means over 5 seeds, each seed under 2 minutes): "
              f"{targets}.",
              "A reverse KL is undefined for a seed without any high-quality sample; such "
              "seeds are left out of its mean, and the count says how many are in.", "",
              f"Per-seed train seconds, wall / CPU (seeds {report.get('first_seed', 0)}, "
              f"{report.get('first_seed', 0) + 1}, ...; a wall time well "
              "above the CPU time of a one-thread run means it waited for the CPU):", ""]
    for variant, by_ds in report["runs"].items():
        parts = [f"{ds} " + ", ".join(f"{r['train_seconds']:.0f} / {r['cpu_seconds']:.0f}"
                                      for r in rows)
                 for ds, rows in by_ds.items()]
        lines.append(f"- {variant}: " + "; ".join(parts))
    lines += ["", "## Published (shared/protocols.md)", "",
              "| model | ring modes | ring % HQ | ring reverse KL | grid modes | grid % HQ | "
              "grid reverse KL | source |", "|---|---|---|---|---|---|---|---|"]
    for name, ring, grid, src in PUBLISHED:
        lines.append(f"| {name} | {pub(ring[0], 0)} | {pub(ring[1], 0)} | {pub(ring[2], 2)} "
                     f"| {pub(grid[0], 0)} | {pub(grid[1], 0)} | {pub(grid[2], 2)} | {src} |")
    lines += ["| perfect sampler (the limit) | 8 | 98.89 | 0.0015 | 25 | 98.89 | 0.0053 | "
              "protocols.md |", ""]
    plots = [f"[{v} {ds}]({plot_name(report, v, ds)})"
             for v in report["runs"] for ds in report["runs"][v]]
    lines += [f"Scatter plots, seed {report.get('first_seed', 0)}, 2,500 samples over the "
              "mode centres (red crosses): "
              + ", ".join(plots) + ".", ""]
    text = "\n".join(lines)
    if path.exists():  # keep the hand-written notes
        old = path.read_text()
        if NOTES_MARKER in old:
            text += "\n" + old[old.index(NOTES_MARKER):]
    if not text.endswith("\n"):
        text += "\n"
    path.write_text(text)
    return text


def plot_name(report: dict, variant: str, dataset: str) -> str:
    """The scatter plot's file name: report name, variant (brackets spelled
    out as a slug), dataset."""
    slug = "".join(c if c.isalnum() or c in "-_." else "_" for c in variant).strip("_")
    prefix = report.get("report", "toy_modes")
    return f"{prefix}_{slug}_{dataset}.png"


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.threads:  # before the first TensorFlow op fixes the thread pools
        tf.config.threading.set_intra_op_parallelism_threads(args.threads)
        tf.config.threading.set_inter_op_parallelism_threads(args.threads)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    command = "python benchmarks/toy_modes.py " + " ".join(
        shlex.quote(a) for a in (sys.argv[1:] if argv is None else argv))
    runs: dict = {}
    loads = []
    tmp_root = Path(tempfile.mkdtemp(prefix="toy_modes_"))
    try:
        for variant in args.variants:
            for ds in args.datasets:
                for seed in range(args.first_seed, args.first_seed + args.seeds):
                    run_dir = tmp_root / f"{variant}-{ds}-{seed}"
                    cfg = config_for(variant, ds, seed, args.baseline_steps, str(run_dir))
                    row, samples = run_one(cfg)
                    row["threads"] = args.threads or "default"
                    shutil.rmtree(run_dir, ignore_errors=True)
                    runs.setdefault(variant, {}).setdefault(ds, []).append(row)
                    loads.append(row["load_avg_1min"])
                    print(f"{variant:9s} {ds} seed {seed}: {row['modes']} modes, "
                          f"{100 * row['high_quality']:.1f}% HQ, reverse KL "
                          f"{row['reverse_kl']}, {row['train_seconds']:.0f} s "
                          f"(cpu {row['cpu_seconds']:.0f} s, load {row['load_avg_1min']:.1f})",
                          flush=True)
                    if seed == args.first_seed:
                        means, _ = toy_mixture(ds)
                        title = (f"{variant} on {ds}, seed {seed}: {row['modes']} modes, "
                                 f"{100 * row['high_quality']:.1f}% HQ")
                        plot = plot_name({"report": args.report}, variant, ds)
                        save_scatter(out / plot, samples, means, title=title)
                    keras.backend.clear_session()
                    gc.collect()
    finally:
        shutil.rmtree(tmp_root, ignore_errors=True)

    previous = out / f"{args.report}.json"
    if args.merge and previous.exists():
        old = json.loads(previous.read_text())
        for variant, by_ds in old["runs"].items():
            for ds, rows in by_ds.items():
                runs.setdefault(variant, {}).setdefault(ds, rows)
        loads += old["load_range"]
        command = f"{old['command']}, then {command}"
        args.datasets = list(dict.fromkeys(old["datasets"] + args.datasets))
    report = {
        "command": command,
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine(),
        "versions": versions(),
        "report": args.report,
        "seeds": args.seeds,
        "first_seed": args.first_seed,
        "datasets": args.datasets,
        "num_samples": NUM_SAMPLES,
        "eval_latents": "sample_latents(2500, latent_dim, seed=1000 + seed)",
        "baseline": {**BASELINE, "steps_per_epoch": args.baseline_steps},
        "presets": ({ds: preset_config(ds).to_dict() for ds in args.datasets}
                    if "preset" in runs else {}),
        "load_range": [min(loads), max(loads)],
        "targets": TARGETS,
        "summary": {v: {ds: summarise(rows) for ds, rows in by_ds.items()}
                    for v, by_ds in runs.items()},
        "runs": runs,
    }
    (out / f"{args.report}.json").write_text(json.dumps(report, indent=2, allow_nan=False)
                                             + "\n")
    print(write_markdown(out / f"{args.report}.md", report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
