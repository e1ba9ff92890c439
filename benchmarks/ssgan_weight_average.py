"""Does a running average of D's weights make a better classifier? (issue 30)

    python benchmarks/ssgan_weight_average.py --budget 12 \\
        --out benchmarks/results/ssgan_weight_average_tune.md

Salimans et al.'s code tests its semi-supervised classifier with an
exponential moving average of D's parameters, which `--gan ssgan` does not
keep yet. This screening trains the shipped recipe (benchmarks/
semi_supervised.py's ssgan row: Adam 3e-3, constant) on the tuning rows
only (seed 0, 10 labels per class, the validation carve of the 8,000
training digits; the 2,000 held-out digits are never read) and, beside it,
keeps averages of all of D's weights with several decays, from a callback
(numpy, after every update; its cost counts against the CPU budget). Each
epoch it scores the raw D and each average on the validation rows. It is a
tuning measurement: what it shows decides whether the model gets the
average, which the reporting seeds then measure.
"""

from __future__ import annotations

import argparse
import datetime
import os
import shlex
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout

import keras  # noqa: E402
import numpy as np  # noqa: E402
from report import publish  # noqa: E402  (benchmarks/report.py)
from semi_supervised import tuning_source  # noqa: E402


class AveragedD(keras.callbacks.Callback):
    """Keeps w_avg <- d w_avg + (1 - d) w for each decay d after every update,
    scores the raw D and each average on (x, y) at each epoch end, and stops
    the fit after `budget` CPU seconds of this process."""

    def __init__(self, decays, x, y, budget: float):
        super().__init__()
        self.decays, self.x, self.y, self.budget = decays, x, y, budget
        self.shadow = None
        self.rows = []
        self.start = time.process_time()

    def on_train_batch_end(self, batch, logs=None):
        weights = self.model.discriminator.get_weights()
        if self.shadow is None:
            self.shadow = {d: [w.copy() for w in weights] for d in self.decays}
            return
        for d, shadow in self.shadow.items():
            for s, w in zip(shadow, weights, strict=True):
                s *= d
                s += (1.0 - d) * w

    def _error(self) -> float:
        from keras_gan.training.semi import classifier_error

        return classifier_error(self.model.classifier, self.x, self.y)

    def on_epoch_end(self, epoch, logs=None):
        d = self.model.discriminator
        current = d.get_weights()
        row = {"epoch": epoch + 1, "steps": int(self.model.g_optimizer.iterations),
               "cpu_seconds": round(time.process_time() - self.start, 1), "raw": self._error()}
        for decay, shadow in self.shadow.items():
            d.set_weights(shadow)
            row[str(decay)] = self._error()
        d.set_weights(current)
        self.rows.append(row)
        print(row, flush=True)
        if time.process_time() - self.start > self.budget:
            self.model.stop_training = True


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--budget", type=float, default=12.0, help="CPU minutes")
    p.add_argument("--decays", default="0.99,0.999,0.9999")
    p.add_argument("--lr", type=float, default=3e-3)
    p.add_argument("--out", help="markdown report (.json beside it)")
    args = p.parse_args(argv)
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(1)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    from keras_gan.data.labelled import load_labelled
    from keras_gan.models.gans import configure
    from keras_gan.training.trainer import train

    tmp = Path(tempfile.mkdtemp(prefix="ssgan_average_"))
    source = tuning_source(tmp)
    data = load_labelled(source)  # its held-out rows: the validation carve
    decays = [float(d) for d in args.decays.split(",")]
    averaged = AveragedD(decays, data.x_test, data.y_test, 60 * args.budget)
    cfg = configure(dict(gan="ssgan", dataset=source, labels_per_class=10, seed=0,
                         d_lr=args.lr, g_lr=args.lr, lr_schedule="constant", epochs=100_000,
                         tensorboard=False, verbose=0, fd_every=0, checkpoint_every=10**9,
                         out=str(tmp / "ssgan")))
    train(cfg, callbacks=[averaged])
    rows = averaged.rows
    last = rows[-5:]  # the last five epochs: one epoch's error swings by points
    columns = ["raw", *map(str, decays)]
    command = " ".join(shlex.quote(a) for a in (sys.argv[1:] if argv is None else argv))
    date = f"{datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M UTC}"
    lines = ["# A running average of D's weights for the semi-supervised classifier", "",
             f"- Command: `python benchmarks/ssgan_weight_average.py {command}`",
             f"- Date: {date}; tensorflow {tf.__version__}, keras {keras.__version__}",
             "- Tuning rows only: seed 0, 100 labels, error on the validation carve "
             f"({len(data.x_test)} of the 8,000 training digits); {rows[-1]['steps']} "
             f"steps in {rows[-1]['cpu_seconds'] / 60:.1f} CPU minutes.", "",
             "| D's weights | error, last epoch | mean of the last 5 epochs | "
             "spread of the last 5 (max - min) |", "|---|---|---|---|"]
    for c in columns:
        values = [r[c] for r in last]
        name = "raw (as trained)" if c == "raw" else f"average, decay {c}"
        lines.append(f"| {name} | {100 * rows[-1][c]:.2f}% | {100 * np.mean(values):.2f}% | "
                     f"{100 * (max(values) - min(values)):.2f} |")
    publish("\n".join(lines) + "\n", {"settings": vars(args), "date": date, "rows": rows},
            args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
