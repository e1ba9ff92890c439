"""Small data: how D overfits 1,000 emoji, and what ADA and DiffAugment change.

    python benchmarks/small_data.py --preset presets/emoji-32.yaml --subset 1000 \\
        --budget 24 --every 6 --seed 1 --out benchmarks/results/small_data.md

Karras et al. (2020) show a discriminator overfitting a small training set:
its outputs on the training images drift positive while those on held-out
real images fall toward the generated ones, and FD turns upward. This script
trains the preset's settings (unconditional, `--gan nsgan`: a held-out image
has no cluster label to give a conditional D) on `--subset` emoji (a seeded
subset of emoji64.npz at `--image-size` px) for `--budget` CPU minutes of one
thread, three times: with no augmentation, with DiffAugment (`--augment
color,translation,cutout`) and with ADA (`--ada-target 0.6`). Every `--every`
CPU minutes it copies G and D, and afterwards scores each copy:

- FD (emoji classifier features) of 5,000 samples against all 7,572 emoji:
  quality beyond the 1,000 it saw;
- r_t = E[sign(D(x))] on the training subset, on `--subset` held-out emoji,
  and on generated samples: the overfitting heuristic ADA steers by. A gap
  between train and held-out r_t is D memorising its training set.
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
import tensorflow as tf  # noqa: E402
from report import publish  # noqa: E402  (benchmarks/report.py)
from time_to_quality import RUN_KEYS  # noqa: E402

from keras_gan.config import TrainConfig, read_yaml  # noqa: E402
from keras_gan.data.pipeline import load_dataset  # noqa: E402
from keras_gan.evaluation.evaluate import generate  # noqa: E402
from keras_gan.evaluation.evaluator import EmojiEvaluator  # noqa: E402
from keras_gan.evaluation.metrics import frechet_distance_from_features  # noqa: E402
from keras_gan.training.trainer import train  # noqa: E402

ROWS = {
    "none": {},
    "diffaugment": {"augment": "color,translation,cutout"},
    "ada": {"ada_target": 0.6},
}


class Snapshots(keras.callbacks.Callback):
    """Copies G (the sampling one) and D every `every_s` CPU seconds of this
    process (copy time excluded) until `budget_s`, then stops training."""

    def __init__(self, every_s: float, budget_s: float):
        super().__init__()
        self.marks = list(np.arange(every_s, budget_s + 1e-9, every_s))
        self.snapshots = []  # (cpu seconds, step, G weights, D weights, ada_p)
        self.t0, self.paused = time.process_time(), 0.0

    def on_train_batch_end(self, batch, logs=None):
        elapsed = time.process_time() - self.t0 - self.paused
        while self.marks and elapsed >= self.marks[0]:
            t = time.process_time()
            m = self.model
            p = float(keras.ops.convert_to_numpy(m.ada_p)) if m.ada_target else None
            step = int(keras.ops.convert_to_numpy(m.g_optimizer.iterations))
            self.snapshots.append((self.marks.pop(0), step,
                                   [w.copy() for w in m.sampling_generator.get_weights()],
                                   [w.copy() for w in m.discriminator.get_weights()], p))
            self.paused += time.process_time() - t
        if not self.marks:
            self.model.stop_training = True


def images_of(source: str, size: int) -> np.ndarray:
    ds, _ = load_dataset(source, image_size=size)
    return np.stack([x for x, _ in ds.as_numpy_iterator()])


def sign_mean(discriminator, x) -> float:
    logits = discriminator.predict(x, batch_size=500, verbose=0)
    return float(np.mean(np.sign(np.asarray(logits, np.float32))))


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--data", default=None,
                   help="an emoji64.npz (default: the emoji64 data set, `keras-gan data emoji64`)")
    p.add_argument("--preset", default="presets/emoji-32.yaml",
                   help="settings to train with (run keys ignored; gan set to nsgan)")
    p.add_argument("--subset", type=int, default=1000, help="training images (1000)")
    p.add_argument("--image-size", type=int, default=32)
    p.add_argument("--budget", type=float, default=8.0, help="CPU minutes per row")
    p.add_argument("--every", type=float, default=2.0, help="CPU minutes between copies")
    p.add_argument("--rows", default=",".join(ROWS), help=f"from {', '.join(ROWS)}")
    p.add_argument("--seed", type=int, default=1, help="training seed (the subset's is 0)")
    p.add_argument("--ada-target", type=float, default=ROWS["ada"]["ada_target"],
                   help="the ada row's target r_t (Karras et al.'s 0.6 by default)")
    p.add_argument("--num-samples", type=int, default=5000)
    p.add_argument("--out", help="markdown report (.json beside it)")
    args = p.parse_args(argv)
    rows = [r.strip() for r in args.rows.split(",") if r.strip()]
    if unknown := [r for r in rows if r not in ROWS]:
        p.error(f"unknown rows {unknown}; choose from {', '.join(ROWS)}")
    # Checked here, not when the ada row's config is built: that comes after the other
    # rows' training, which a bad value would otherwise throw away.
    if not 0.0 < args.ada_target < 1.0:
        p.error(f"--ada-target must be in (0, 1) (the ada row runs ADA), got {args.ada_target}")
    row_settings = {**ROWS, "ada": {"ada_target": args.ada_target}}
    if args.data is None:
        from keras_gan.data.named import find

        args.data = str(find("emoji64"))  # a one-line DataError naming the command when absent
    tf.config.threading.set_intra_op_parallelism_threads(1)
    tf.config.threading.set_inter_op_parallelism_threads(1)

    with np.load(args.data) as data:
        arrays = {k: data[k] for k in data.files}
    order = np.random.default_rng(0).permutation(len(arrays["x"]))
    train_idx, held_idx = order[:args.subset], order[args.subset:2 * args.subset]
    tmp = Path(tempfile.mkdtemp(prefix="small_data_"))
    for name, idx in (("train", train_idx), ("held", held_idx)):
        np.savez(tmp / f"{name}.npz", x=arrays["x"][idx], y=arrays["y"][idx],
                 class_names=arrays["class_names"])
    x_train = images_of(f"npz:{tmp / 'train.npz'}", args.image_size)
    x_held = images_of(f"npz:{tmp / 'held.npz'}", args.image_size)
    x_all = images_of(f"npz:{args.data}", args.image_size)
    settings = {k: v for k, v in read_yaml(args.preset).items() if k not in RUN_KEYS}
    settings.update(gan="nsgan", clusters=TrainConfig().clusters)

    evaluator = EmojiEvaluator()
    real_features = evaluator.features(x_all)
    results = {}
    for row in rows:
        cfg = TrainConfig(**{**settings, **row_settings[row]}, dataset=f"npz:{tmp / 'train.npz'}",
                          image_size=args.image_size, seed=args.seed, out=str(tmp / row),
                          epochs=2_000, fd_every=0, tensorboard=False, verbose=0,
                          checkpoint_every=10**9)
        snap = Snapshots(60 * args.every, 60 * args.budget)
        model = train(cfg, callbacks=[snap]).model
        for cpu_s, step, g_weights, d_weights, ada_p in snap.snapshots:
            model.sampling_generator.set_weights(g_weights)
            model.discriminator.set_weights(d_weights)
            fake, _ = generate(model.sampling_generator, args.num_samples, 0, progress=False)
            entry = {
                "step": step, "cpu_seconds": round(float(cpu_s), 1),
                "fd": frechet_distance_from_features(evaluator.features(fake), real_features),
                "r_train": sign_mean(model.discriminator, x_train),
                "r_held_out": sign_mean(model.discriminator, x_held),
                "r_fake": sign_mean(model.discriminator, fake[:args.subset]),
                "ada_p": ada_p,
            }
            results.setdefault(row, []).append(entry)
            print(row, json_line(entry), flush=True)
        if args.out:
            from keras_gan.data.images import save_grid

            out = Path(args.out)
            save_grid(out.with_name(f"{out.stem}_{row}.png"), fake[:64], cols=8, scale=2)
        keras.backend.clear_session(free_memory=False)

    lines = [
        f"# Small data: {args.subset:,} emoji at {args.image_size} px, with and without "
        "augmentation",
        "",
        f"- Command: `python benchmarks/small_data.py "
        f"{' '.join(shlex.quote(a) for a in (sys.argv[1:] if argv is None else argv))}`",
        f"- Date: {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M UTC}; "
        f"tensorflow {tf.__version__}, keras {keras.__version__}; one TensorFlow thread; "
        f"budgets in CPU minutes of the training process",
        f"- Training: `{args.preset}` settings with `gan: nsgan`, seed {args.seed}, on "
        f"{args.subset:,} emoji (rows of a seed-0 permutation of emoji64.npz); held out: the "
        f"next {args.subset:,}.",
        f"- FD: {args.num_samples:,} samples vs all {len(x_all):,} emoji, emoji classifier "
        "features. r = E[sign(D(x))] on the training subset, the held-out emoji and "
        f"{args.subset:,} generated samples.",
        "",
        "| augmentation | CPU min | steps | FD | r train | r held-out | r fake | ADA p |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        for e in results[row]:
            p_text = "" if e["ada_p"] is None else f"{e['ada_p']:.3f}"
            lines.append(f"| {row} | {e['cpu_seconds'] / 60:g} | {e['step']} | {e['fd']:.2f} | "
                         f"{e['r_train']:+.2f} | {e['r_held_out']:+.2f} | {e['r_fake']:+.2f} | "
                         f"{p_text} |")
    publish("\n".join(lines) + "\n", {"settings": settings,
                                      "rows": {r: row_settings[r] for r in rows},
                                      "results": results}, args.out)
    return 0


def json_line(entry: dict) -> str:
    return ", ".join(f"{k} {v:.3f}" if isinstance(v, float) else f"{k} {v}"
                     for k, v in entry.items())


if __name__ == "__main__":
    sys.exit(main())
