"""Training throughput: the project's `GAN.fit` vs a bare tf.function loop vs PyTorch.

    python benchmarks/train_throughput.py --repeats 5 \
        --out benchmarks/results/train_throughput.md

All rows train the TensorFlow DCGAN tutorial's networks (tensorflow.org/
tutorials/generative/dcgan: z 100, batch 256, Adam 1e-4) on the embedded
MNIST digits, on CPU, and report images/s of training (real images consumed
per second: batch 256 per step, one D update and one G update per step):

- `GAN.fit`: `keras_gan.GAN` (arch `tutorial`) trained with `model.fit` on the
  `make_dataset("mnist-sample")` pipeline, as `keras-gan train --arch
  tutorial` does; timed from the end of each fit call's first step to its
  last (a run makes one fit call; the call's setup is reported apart);
- bare `tf.function` loop: the same algorithm (D update on real + fakes of
  fresh z, then G update on fresh z, non-saturating loss) written as one
  `tf.function` step over the same dataset, no Keras `fit`: the difference
  to the first row is the framework's overhead;
- PyTorch: the same networks and algorithm in `torch==2.13.0` (CPU, NCHW),
  installed only for this benchmark (`pip install torch==2.13.0`);
- (reference) the tutorial's own fused step (one G forward shared by both
  tapes, the tutorial's `train_step`), in TensorFlow.

Each figure is the median (min-max) of --repeats timed runs of --steps steps
after --warmup untimed steps; the backends take turns within each repeat so
slow drifts of the shared machine hit them alike. Achieved GFLOP/s counts
the multiply-adds of the convolutions and dense layers (x2 FLOPs, backward
passes as 2x forward for each gradient taken) against the median of a
measured float32 matmul peak (`tf.linalg.matmul` 2048^3 in the same
process, TensorFlow's default threads).
"""

from __future__ import annotations

import argparse
import datetime
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

from keras_gan.data.pipeline import make_dataset  # noqa: E402
from keras_gan.models.gans import build_gan  # noqa: E402
from keras_gan.models.networks import build_networks  # noqa: E402

LATENT, BATCH, LR, WIDTH = 100, 256, 1e-4, 64
SHAPE = (28, 28, 1)


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--steps", type=int, default=8, help="timed steps per run")
    p.add_argument("--warmup", type=int, default=3, help="untimed steps per backend")
    p.add_argument("--no-torch", action="store_true", help="skip the PyTorch row")
    p.add_argument("--out", help="write the markdown report here (and .json beside it)")
    return p.parse_args(argv)


# -- FLOPs ----------------------------------------------------------------------


def forward_macs(model: keras.Model) -> int:
    """Multiply-adds of one example through the model's Dense and conv layers."""
    macs = 0
    for layer in model.layers:
        if isinstance(layer, keras.layers.Dense):
            macs += int(np.prod(layer.kernel.shape))
        elif isinstance(layer, keras.layers.Conv2DTranspose):
            h, w, cin = layer.input.shape[1:]
            macs += h * w * cin * layer.filters * int(np.prod(layer.kernel_size))
        elif isinstance(layer, keras.layers.Conv2D):
            h, w, cout = layer.output.shape[1:]
            macs += h * w * layer.input.shape[-1] * cout * int(np.prod(layer.kernel_size))
    return macs


def step_flops_per_image(g_macs: int, d_macs: int) -> float:
    """FLOPs per real image of one D update and one G update (Algorithm 1).

    D update: G forward (fakes), D forward+backward on real and fake
    (backward = 2x forward: input and weight gradients). G update: G
    forward+backward, D forward+backward for the input gradient only (1x).
    """
    d_update = g_macs + 2 * 3 * d_macs
    g_update = 3 * g_macs + 2 * d_macs
    return 2.0 * (d_update + g_update)


def matmul_peak(n=2048, repeats=5) -> list[float]:
    a = tf.random.normal((n, n))
    b = tf.random.normal((n, n))
    f = tf.function(lambda: tf.linalg.matmul(a, b))
    f().numpy()
    out = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(5):
            f().numpy()
        out.append(5 * 2 * n**3 / (time.perf_counter() - t0) / 1e9)
    return out


# -- the TensorFlow rows -------------------------------------------------------


def tutorial_networks(seed=0):
    keras.utils.set_random_seed(seed)
    return build_networks("tutorial", LATENT, SHAPE, WIDTH)


def dataset():
    ds, _ = make_dataset("mnist-sample", BATCH, seed=0)
    return ds


class _StepClock(keras.callbacks.Callback):
    """Times fit's steady state: from the end of its first batch to the end of
    its last, so the once-per-`fit()` setup (iterator, callbacks) is left out
    of the per-step rate and reported on its own."""

    def on_train_batch_end(self, batch, logs=None):
        self.times.append(time.perf_counter())

    def on_train_begin(self, logs=None):
        self.times = []


class FitRunner:
    name = "`GAN.fit` (keras-gan)"

    def __init__(self):
        g, d = tutorial_networks()
        self.gan = build_gan("dcgan", g, d, seed=0)
        self.gan.compile(keras.optimizers.Adam(LR), keras.optimizers.Adam(LR))
        self.ds = dataset()
        self.clock = _StepClock()
        self.setup_s = []  # per fit() call: its time beyond the steps it ran

    def run(self, steps):
        """Runs `steps` timed steps (one more, untimed, opens the fit call);
        returns their seconds."""
        t0 = time.perf_counter()
        self.gan.fit(self.ds, epochs=1, steps_per_epoch=steps + 1, verbose=0,
                     callbacks=[self.clock])
        total = time.perf_counter() - t0
        seconds = self.clock.times[-1] - self.clock.times[0]
        self.setup_s.append(total - seconds * (steps + 1) / steps)
        return seconds


def _bce_logits(labels, logits):
    return tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(labels, logits))


class BareRunner:
    """Algorithm 1 as one tf.function step, no fit."""

    name = "bare `tf.function` loop"

    def __init__(self, fused=False):
        self.g, self.d = tutorial_networks()
        self.g_opt, self.d_opt = keras.optimizers.Adam(LR), keras.optimizers.Adam(LR)
        self.it = iter(dataset())
        self.fused = fused
        if fused:
            self.name = "(reference) the tutorial's fused step, TensorFlow"
        self.step = tf.function(self._fused if fused else self._step)

    def _step(self, real):
        g, d = self.g, self.d
        fake = g(tf.random.normal((BATCH, LATENT)), training=True)
        with tf.GradientTape() as tape:
            r, f = d(real, training=True), d(fake, training=True)
            d_loss = _bce_logits(tf.ones_like(r), r) + _bce_logits(tf.zeros_like(f), f)
        grads = tape.gradient(d_loss, d.trainable_variables)
        self.d_opt.apply_gradients(zip(grads, d.trainable_variables, strict=True))
        with tf.GradientTape() as tape:
            f = d(g(tf.random.normal((BATCH, LATENT)), training=True), training=True)
            g_loss = _bce_logits(tf.ones_like(f), f)
        grads = tape.gradient(g_loss, g.trainable_variables)
        self.g_opt.apply_gradients(zip(grads, g.trainable_variables, strict=True))
        return d_loss, g_loss

    def _fused(self, real):
        g, d = self.g, self.d
        with tf.GradientTape() as g_tape, tf.GradientTape() as d_tape:
            fake = g(tf.random.normal((BATCH, LATENT)), training=True)
            r, f = d(real, training=True), d(fake, training=True)
            g_loss = _bce_logits(tf.ones_like(f), f)
            d_loss = _bce_logits(tf.ones_like(r), r) + _bce_logits(tf.zeros_like(f), f)
        self.g_opt.apply_gradients(zip(g_tape.gradient(g_loss, g.trainable_variables),
                                       g.trainable_variables, strict=True))
        self.d_opt.apply_gradients(zip(d_tape.gradient(d_loss, d.trainable_variables),
                                       d.trainable_variables, strict=True))
        return d_loss, g_loss

    def run(self, steps):
        t0 = time.perf_counter()
        for _ in range(steps):
            out = self.step(next(self.it))
        float(out[0])  # wait for the last step
        return time.perf_counter() - t0


# -- PyTorch -------------------------------------------------------------------


class TorchRunner:
    name = "PyTorch (same networks and algorithm)"

    def __init__(self):
        import torch
        from torch import nn

        self.torch = torch
        torch.manual_seed(0)
        torch.set_num_threads(len(os.sched_getaffinity(0)))

        class G(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc = nn.Sequential(nn.Linear(LATENT, 7 * 7 * 256, bias=False),
                                        nn.BatchNorm1d(7 * 7 * 256), nn.LeakyReLU(0.3))
                self.net = nn.Sequential(
                    nn.ConvTranspose2d(256, 128, 5, 1, 2, bias=False), nn.BatchNorm2d(128),
                    nn.LeakyReLU(0.3),
                    nn.ConvTranspose2d(128, 64, 5, 2, 2, output_padding=1, bias=False),
                    nn.BatchNorm2d(64), nn.LeakyReLU(0.3),
                    nn.ConvTranspose2d(64, 1, 5, 2, 2, output_padding=1, bias=False),
                    nn.Tanh())

            def forward(self, z):
                return self.net(self.fc(z).view(-1, 256, 7, 7))

        self.g = G()
        self.d = nn.Sequential(nn.Conv2d(1, 64, 5, 2, 2), nn.LeakyReLU(0.3), nn.Dropout(0.3),
                               nn.Conv2d(64, 128, 5, 2, 2), nn.LeakyReLU(0.3),
                               nn.Dropout(0.3), nn.Flatten(), nn.Linear(7 * 7 * 128, 1))
        self.g_opt = torch.optim.Adam(self.g.parameters(), LR)
        self.d_opt = torch.optim.Adam(self.d.parameters(), LR)
        x = np.load(Path(__file__).resolve().parents[1] / "keras_gan/assets/mnist10k.npz")["x"]
        x = x.reshape(-1, 1, 28, 28).astype("float32") / 127.5 - 1.0
        self.x = torch.from_numpy(x)
        self.gen = torch.Generator().manual_seed(0)
        self.loss = nn.BCEWithLogitsLoss()

    def run(self, steps):
        torch = self.torch
        t0 = time.perf_counter()
        for _ in range(steps):
            idx = torch.randint(0, len(self.x), (BATCH,), generator=self.gen)
            real = self.x[idx]
            with torch.no_grad():
                fake = self.g(torch.randn(BATCH, LATENT))
            r, f = self.d(real), self.d(fake)
            d_loss = self.loss(r, torch.ones_like(r)) + self.loss(f, torch.zeros_like(f))
            self.d_opt.zero_grad(set_to_none=True)
            d_loss.backward()
            self.d_opt.step()
            f = self.d(self.g(torch.randn(BATCH, LATENT)))
            g_loss = self.loss(f, torch.ones_like(f))
            self.g_opt.zero_grad(set_to_none=True)
            g_loss.backward()
            self.g_opt.step()
        return time.perf_counter() - t0


# -- report --------------------------------------------------------------------


def fmt(values, digits=0):
    med = statistics.median(values)
    return f"{med:,.{digits}f} ({min(values):,.{digits}f}-{max(values):,.{digits}f})"


def main(argv=None) -> int:
    args = parse_args(argv)
    assert (Path(__file__).resolve().parents[1] / "keras_gan/assets/mnist10k.npz").exists()
    runners = [FitRunner(), BareRunner(), BareRunner(fused=True)]
    torch_version = None
    if not args.no_torch:
        runners.append(TorchRunner())
        torch_version = runners[-1].torch.__version__
    for r in runners:
        r.run(args.warmup)
    rates = {r.name: [] for r in runners}
    for i in range(args.repeats):
        for r in runners:
            rates[r.name].append(args.steps * BATCH / r.run(args.steps))
        print(f"repeat {i + 1}: " + ", ".join(f"{k} {v[-1]:.0f}" for k, v in rates.items()),
              flush=True)
    peak = matmul_peak()
    g, d = tutorial_networks()
    flops = step_flops_per_image(forward_macs(g), forward_macs(d))
    fit, bare = rates[runners[0].name], rates[runners[1].name]
    ratios = [a / b for a, b in zip(fit, bare, strict=True)]
    lines = [
        "# Training throughput: `GAN.fit` vs bare TensorFlow vs PyTorch",
        "",
        f"- Command: `python benchmarks/train_throughput.py "
        f"{' '.join(shlex.quote(a) for a in (sys.argv[1:] if argv is None else argv))}`",
        f"- Date: {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M UTC}",
        f"- Machine: {platform.processor() or platform.machine()}, "
        f"{len(os.sched_getaffinity(0))} CPUs usable; shared with other jobs "
        f"(1-minute load at the end: {os.getloadavg()[0]:.1f})",
        f"- Versions: Python {platform.python_version()}, tensorflow {tf.__version__}, "
        f"keras {keras.__version__}, torch {torch_version or 'not run'}",
        f"- Networks: the TensorFlow DCGAN tutorial's (z {LATENT}, batch {BATCH}, Adam "
        f"{LR:g}); {forward_macs(g) / 1e6:.1f} M multiply-adds per generated image, "
        f"{forward_macs(d) / 1e6:.1f} M per discriminated image; one training step = "
        f"{flops / 1e6:.0f} MFLOP per real image (Algorithm 1: D update, then G update).",
        f"- Each figure: median (min-max) of {args.repeats} runs of {args.steps} steps "
        f"after {args.warmup} warm-up steps, backends taking turns.",
        "",
        "| training loop | images/s | achieved GFLOP/s | % of matmul peak |",
        "|---|---|---|---|",
    ]
    peak_med = statistics.median(peak)
    for name, v in rates.items():
        med = statistics.median(v)
        gflops = med * flops / 1e9
        if "fused" in name:  # one G forward fewer per step: fewer FLOPs per image
            gflops = med * (flops - 2 * forward_macs(g)) / 1e9
        lines.append(f"| {name} | {fmt(v)} | {gflops:.1f} | {100 * gflops / peak_med:.0f}% |")
    lines += [
        "",
        f"- `GAN.fit` / bare loop, per repeat then median: {statistics.median(ratios):.3f} "
        f"({', '.join(f'{x:.3f}' for x in ratios)}); the goal is >= 0.95. Each `fit()` "
        f"call also spends {fmt(runners[0].setup_s[1:] or runners[0].setup_s, 2)} s once "
        f"(iterator over the shuffled data, callbacks), outside the per-step rate: "
        f"a training run makes one such call.",
        f"- Measured float32 matmul peak (2048^3, TensorFlow): {fmt(peak, 1)} GFLOP/s.",
        "",
    ]
    text = "\n".join(lines)
    publish(text,
            {"images_per_s": rates, "fit_over_bare": ratios, "matmul_gflops": peak,
             "flops_per_image": flops, "steps": args.steps, "batch": BATCH,
             "torch": torch_version}, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
