"""Generator inference speed: Keras vs SavedModel vs the ONNX runtime, one process.

    python benchmarks/inference.py --model saved_models/mnist-dcgan --repeats 7 \
        --out benchmarks/results/inference.md

For an exported model folder (generator.keras, saved_model/, generator.onnx)
it times, on CPU, latency at batch 1 (ms per call) and throughput at a large
batch (images/s) of:
    Keras `model.predict(z, verbose=0)`, a direct eager call
    `model(z, training=False)`, a `tf.function` of that call (extra row), the
    SavedModel signature `serve`, and `export.runtime.OnnxGenerator.run`.
Each figure is the median (min, max) of --repeats runs; a run is --calls
calls (batch 1) or --calls-large calls (large batch) after a warm-up. The
backends take turns within each repeat so slow drifts hit them alike.
Thread counts are left at each library's defaults.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import shlex
import statistics
import sys
import time
from pathlib import Path

os.environ["TF_CPP_MIN_LOG_LEVEL"] = "2"  # before TensorFlow is imported
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # `export` from a checkout


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--model", required=True, help="exported model folder")
    p.add_argument("--repeats", type=int, default=7, help="runs per figure (median)")
    p.add_argument("--calls", type=int, default=20, help="calls per run at batch 1")
    p.add_argument("--calls-large", type=int, default=4, help="calls per run, large batch")
    p.add_argument("--batch", type=int, default=256, help="the large batch size")
    p.add_argument("--warmup", type=int, default=3, help="untimed calls per backend")
    p.add_argument("--out", help="write the markdown report here too")
    args = p.parse_args(argv)
    if min(args.repeats, args.calls, args.calls_large, args.batch) < 1 or args.warmup < 0:
        p.error("--repeats, --calls, --calls-large and --batch must be >= 1")
    return args


def backends(folder: Path):
    """name -> f(z, labels) -> numpy images, all on CPU."""
    import keras
    import numpy as np
    import tensorflow as tf

    from export.runtime import OnnxGenerator

    model = keras.saving.load_model(folder / "generator.keras", safe_mode=True, compile=False)
    loaded = tf.saved_model.load(str(folder / "saved_model"))
    serve = loaded.signatures["serve"]
    onnx = OnnxGenerator(folder / "generator.onnx", providers=["CPUExecutionProvider"],
                         max_images=1 << 20)
    cond = len(model.inputs) == 2
    compiled = tf.function(lambda *x: model(list(x) if cond else x[0], training=False),
                           reduce_retracing=True)

    def keras_in(z, labels):
        return [z, labels] if cond else z

    def saved(z, labels):
        kw = {"z": tf.constant(z)} | ({"labels": tf.constant(labels)} if cond else {})
        return serve(**kw)["images"].numpy()

    runners = {
        "Keras `model.predict`": lambda z, y: model.predict(keras_in(z, y), verbose=0),
        "Keras direct call (eager)": lambda z, y: np.asarray(model(keras_in(z, y),
                                                                   training=False)),
        "(extra) `tf.function` call": lambda z, y: compiled(*([z, y] if cond else [z])).numpy(),
        "SavedModel `serve`": saved,
        "ONNX runtime (CPU)": lambda z, y: onnx.run(z, y if cond else None),
    }
    info = {"latent_dim": onnx.latent_dim, "output_shape": onnx.output_shape,
            "conditional": cond, "num_classes": onnx.num_classes,
            "params": model.count_params()}
    return runners, info


def time_runs(fn, z, labels, calls: int) -> float:
    """Seconds per call over `calls` calls."""
    start = time.perf_counter()
    for _ in range(calls):
        fn(z, labels)
    return (time.perf_counter() - start) / calls


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def main(argv=None) -> int:
    args = parse_args(argv)
    folder = Path(args.model)
    missing = [n for n in ("generator.keras", "saved_model", "generator.onnx")
               if not (folder / n).exists()]
    if missing:
        sys.exit(f"{folder} lacks {', '.join(missing)}: give a `keras-gan export` folder")
    import keras
    import numpy as np
    import onnxruntime
    import tensorflow as tf

    from export.runtime import sample_latents

    runners, info = backends(folder)
    inputs = {}
    for b in (1, args.batch):
        labels = np.arange(b, dtype=np.int64) % (info["num_classes"] or 1)
        inputs[b] = (sample_latents(b, info["latent_dim"], seed=0), labels)
    reference = runners["ONNX runtime (CPU)"](*inputs[args.batch])
    diffs = {name: float(np.abs(fn(*inputs[args.batch]) - reference).max())
             for name, fn in runners.items()}
    for fn in runners.values():
        for b in inputs:
            for _ in range(args.warmup):
                fn(*inputs[b])
    per_call = {(name, b): [] for name in runners for b in inputs}
    for _ in range(args.repeats):  # backends take turns within each repeat
        for name, fn in runners.items():
            for b, calls in ((1, args.calls), (args.batch, args.calls_large)):
                per_call[name, b].append(time_runs(fn, *inputs[b], calls))

    def stats(values):
        return statistics.median(values), min(values), max(values)

    onnx_ms = statistics.median(per_call["ONNX runtime (CPU)", 1]) * 1e3
    rows = []
    for name in runners:
        lat = stats([s * 1e3 for s in per_call[name, 1]])
        thr = stats([args.batch / s for s in per_call[name, args.batch]])
        rows.append(f"| {name} | {lat[0]:.2f} ({lat[1]:.2f}-{lat[2]:.2f}) "
                    f"| {thr[0]:,.0f} ({thr[1]:,.0f}-{thr[2]:,.0f}) "
                    f"| {lat[0] / onnx_ms:.1f}x | {diffs[name]:.1e} |")
    median_ms = {name: statistics.median(per_call[name, 1]) * 1e3 for name in runners}
    command = " ".join(shlex.quote(a) for a in ["python", *sys.argv])
    card = folder / "model.json"
    name = json.loads(card.read_text()).get("name") if card.exists() else folder.name
    affinity = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else "?"
    report = "\n".join([
        "# Generator inference: Keras vs SavedModel vs ONNX runtime (CPU)",
        "",
        f"- Command: `{command}`",
        f"- Date: {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC",
        f"- Model: `{folder}` ({name}): latent {info['latent_dim']}, output "
        f"{list(info['output_shape'])}, {info['params']:,} parameters"
        + (f", conditional ({info['num_classes']} classes)" if info["conditional"] else ""),
        f"- CPU: {cpu_model()}; `nproc` {affinity}, `os.cpu_count()` {os.cpu_count()}; "
        "threads at each library's defaults",
        f"- Versions: Python {platform.python_version()}, tensorflow {tf.__version__}, "
        f"keras {keras.__version__}, onnxruntime {onnxruntime.__version__}, "
        f"numpy {np.__version__}",
        f"- Method: median (min-max) of {args.repeats} runs; a run is {args.calls} calls at "
        f"batch 1 or {args.calls_large} at batch {args.batch}, after {args.warmup} warm-up "
        "calls; backends take turns within each run",
        "",
        f"| Backend | Batch 1 latency, ms/call | Batch {args.batch} throughput, images/s "
        f"| Batch-1 latency / ONNX | max abs diff vs ONNX |",
        "|---|---|---|---|---|",
        *rows,
        "",
        "Batch-1 latency ratios: Keras predict / ONNX runtime = "
        f"{median_ms['Keras `model.predict`'] / onnx_ms:.1f}x; direct call / ONNX runtime = "
        f"{median_ms['Keras direct call (eager)'] / onnx_ms:.1f}x.",
        "",
    ])
    print(report)
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(report)
        # The raw figures beside it (the README's table is made from them:
        # benchmarks/readme_figures.py).
        data = {"command": command, "model": str(folder), "name": name,
                "params": info["params"], "repeats": args.repeats, "batch": args.batch,
                "rows": {n: {"latency_ms": list(stats([s * 1e3 for s in per_call[n, 1]])),
                             "throughput": list(stats([args.batch / s
                                                       for s in per_call[n, args.batch]])),
                             "max_abs_diff_vs_onnx": diffs[n]} for n in runners}}
        Path(args.out).with_suffix(".json").write_text(json.dumps(data, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
