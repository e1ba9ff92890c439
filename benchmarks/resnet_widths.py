"""Training step time of the ResNet pair by width, on this machine's CPU.

    python benchmarks/resnet_widths.py --out benchmarks/results/resnet_widths.md

For each image shape and `width` (the config's; the ResNet blocks nearest
the image have width // 2 filters, `resnet_filters`): `keras_gan.GAN` (non-saturating loss, one D
and one G update per step, Adam) on the ResNet pair (`build_networks("resnet",
...)`, spectral norm in D, latent 64), trained with `model.fit` on random
images, batch 64. A warm-up fit call traces the step; the figure is the median
time per step of the timed call (--steps steps, timed between consecutive
batch ends), with the DCGAN pair of the same width as a reference row. Used to
pick what `width` means for `--arch resnet` (keras_gan/models/networks.py).
"""

from __future__ import annotations

import argparse
import os
import platform
import shlex
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from report import publish  # noqa: E402  (benchmarks/report.py)

from keras_gan.models.gan import GAN  # noqa: E402
from keras_gan.models.networks import build_networks, resnet_filters  # noqa: E402

LATENT, BATCH = 64, 64


class _StepTimes(keras.callbacks.Callback):
    def on_train_begin(self, logs=None):
        self.ends = []

    def on_train_batch_end(self, batch, logs=None):
        self.ends.append(time.perf_counter())


def time_step(arch: str, shape, width: int, steps: int) -> dict:
    keras.utils.set_random_seed(0)
    g, d = build_networks(arch, LATENT, shape, width, spectral_norm=True)
    model = GAN(g, d, latent_dim=LATENT, seed=0)
    model.compile(d_optimizer=keras.optimizers.Adam(2e-4, beta_1=0.0, beta_2=0.9),
                  g_optimizer=keras.optimizers.Adam(2e-4, beta_1=0.0, beta_2=0.9))
    images = np.random.default_rng(0).uniform(-1, 1, (BATCH * 4, *shape)).astype("float32")
    data = tf.data.Dataset.from_tensor_slices(images).repeat().batch(BATCH, drop_remainder=True)
    model.fit(data, steps_per_epoch=2, epochs=1, verbose=0)  # trace
    timer = _StepTimes()
    model.fit(data, steps_per_epoch=steps + 1, epochs=1, verbose=0, callbacks=[timer])
    gaps = np.diff(timer.ends)
    base = resnet_filters(width) if arch == "resnet" else width
    return {"arch": arch, "shape": list(shape), "width": width, "base_filters": base,
            "g_params": int(g.count_params()), "d_params": int(d.count_params()),
            "step_s": float(statistics.median(gaps)),
            "step_s_min": float(gaps.min()), "step_s_max": float(gaps.max())}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--widths32", type=int, nargs="+", default=[32, 64, 128])
    parser.add_argument("--widths64", type=int, nargs="+", default=[16, 32, 64])
    parser.add_argument("--steps", type=int, default=6)
    parser.add_argument("--out", default=None)
    args = parser.parse_args(argv)
    rows = []
    for shape, widths in (((32, 32, 3), args.widths32), ((64, 64, 3), args.widths64)):
        for width in widths:
            rows.append(time_step("resnet", shape, width, args.steps))
            print(rows[-1], flush=True)
        rows.append(time_step("dcgan", shape, 32, args.steps))
        print(rows[-1], flush=True)
    lines = [
        "# ResNet pair: training step time by width (CPU)",
        "",
        f"`python benchmarks/resnet_widths.py {shlex.join(argv or sys.argv[1:])}`; "
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPU cores, "
        f"TensorFlow {tf.__version__}, Keras {keras.__version__}. GAN.fit, batch {BATCH}, "
        f"latent {LATENT}, spectral norm in D, one D + one G update per step; median "
        f"(min-max) of {args.steps} steps after a traced warm-up. The machine is shared, "
        "so figures are indicative.",
        "",
        "| arch | image | width | base filters | G params | D params | s / step | images / s |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        h, w, c = r["shape"]
        lines.append(f"| {r['arch']} | {h}x{w}x{c} | {r['width']} | {r['base_filters']} | "
                     f"{r['g_params']:,} | {r['d_params']:,} | {r['step_s']:.3f} "
                     f"({r['step_s_min']:.3f}-"
                     f"{r['step_s_max']:.3f}) | {BATCH / r['step_s']:.0f} |")
    publish("\n".join(lines), {"batch": BATCH, "latent_dim": LATENT, "steps": args.steps,
                               "cpu_count": os.cpu_count(), "rows": rows}, args.out)


if __name__ == "__main__":
    main()
