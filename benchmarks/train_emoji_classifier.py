"""Train the emoji classifier that scores generated colour images (emoji FD, score).

    python benchmarks/train_emoji_classifier.py [--data PATH]
        [--epochs 12] [--out saved_models/emoji-classifier]

`--data` defaults to the emoji64 data set (`keras-gan data emoji64` gets it).

Trains `keras_gan.evaluation.classifiers.build_emoji_classifier` to tell the 20 classes
of emoji64.npz (10 Unicode categories x 2 art styles) on 85% of the emoji and
tests it on the other 15%, split by emoji (skin tones and styles of one emoji
stay together: `keras_gan.evaluation.classifiers.emoji_splits`). Augmented in the tf.data
pipeline, so the saved model holds none of it:

- each RGBA image is composited onto white (half the time) or a random colour,
  so the features fit data loaded with any `--background`;
- shifts of up to 4 px;
- half the images pass through 32 px (clean-fid resize down and up), so 32 px
  generators are scored by features that have seen 32 px detail.

Writes `classifier.keras` and the card `model.json`: held-out accuracy (at 64
and at 32 px, white background), and the real-data reference of the image
metrics: the FD between two disjoint halves of the emoji (white) at 64 and 32
px, the emoji score of the real images and their class coverage.
"""

import argparse
import json
import os
import shlex
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # before TensorFlow is imported
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # keras_gan from a checkout



def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--data", default=None,
                   help="an emoji64.npz (default: the emoji64 data set, `keras-gan data emoji64`)")
    p.add_argument("--epochs", type=int, default=12, help="training epochs")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--lr", type=float, default=2e-3, help="peak Adam learning rate")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default="saved_models/emoji-classifier", help="output folder")
    args = p.parse_args(argv)
    if min(args.epochs, args.batch_size) < 1 or args.lr <= 0:
        p.error("--epochs, --batch-size and --lr must be positive")
    if args.data is None:
        from keras_gan.data.named import find

        args.data = str(find("emoji64"))  # a one-line DataError naming the command when absent
    if not Path(args.data).is_file():
        p.error(f"no emoji data at {args.data} (see `keras-gan data emoji64 --help`)")
    return args


def white(path):
    """All images as `keras-gan train --dataset npz:PATH` loads them (RGB on
    white, float in [-1, 1]), in the file's order."""
    import numpy as np

    from keras_gan.data.pipeline import load_dataset

    ds, _ = load_dataset(f"npz:{path}", background="white")
    return np.stack([x for x, _ in ds.as_numpy_iterator()])


def pipeline(x, y, batch_size, seed):
    """Augmented batches: random background, shift, half through 32 px."""
    import keras
    import tensorflow as tf

    shift = keras.layers.RandomTranslation(4 / 64, 4 / 64, fill_mode="nearest", seed=seed)

    def augment(rgba, label):
        rgba = tf.cast(rgba, tf.float32) / 255.0
        alpha = rgba[..., 3:]
        keep_white = tf.random.uniform([]) < 0.5
        background = tf.where(keep_white, tf.ones([3]), tf.random.uniform([3]))
        rgb = rgba[..., :3] * alpha + background * (1 - alpha)
        small = tf.image.resize(rgb, (32, 32), "bicubic", antialias=True)
        small = tf.image.resize(small, (64, 64), "bicubic", antialias=True)
        rgb = tf.where(tf.random.uniform([]) < 0.5, small, rgb)
        return tf.clip_by_value(rgb, 0, 1) * 2 - 1, label

    return (tf.data.Dataset.from_tensor_slices((x, y))
            .shuffle(len(x), seed=seed)
            .map(augment, num_parallel_calls=tf.data.AUTOTUNE)
            .batch(batch_size)
            .map(lambda a, b: (shift(a, training=True), b))
            .prefetch(tf.data.AUTOTUNE))


def main(argv=None) -> int:
    args = parse_args(argv)
    import keras
    import numpy as np
    import tensorflow as tf

    from keras_gan.evaluation import metrics
    from keras_gan.evaluation.classifiers import build_emoji_classifier, emoji_splits
    from keras_gan.evaluation.evaluator import EmojiEvaluator, clean_images

    keras.utils.set_random_seed(args.seed)
    data = emoji_splits(args.data, seed=args.seed)
    x, y, train_idx, test_idx = data["x"], data["y"], data["train"], data["test"]
    x_all = white(args.data)
    x_test = x_all[test_idx]
    train = pipeline(x[train_idx], y[train_idx], args.batch_size, args.seed)
    steps = args.epochs * -(-len(train_idx) // args.batch_size)
    model = build_emoji_classifier()
    model.compile(keras.optimizers.Adam(keras.optimizers.schedules.CosineDecay(args.lr, steps)),
                  keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    start, cpu_start = time.perf_counter(), time.process_time()
    model.fit(train, epochs=args.epochs, validation_data=(x_test, y[test_idx]), verbose=2)
    train_seconds, train_cpu = time.perf_counter() - start, time.process_time() - cpu_start

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    shipped = build_emoji_classifier()  # uncompiled: no optimizer state in the file
    shipped.set_weights(model.get_weights())
    shipped.save(out / "classifier.keras")
    evaluator = EmojiEvaluator(out / "classifier.keras")  # scored through the saved file
    x_all32 = clean_images(x_all, 32)
    accuracy = {}
    for size, images in ((64, x_all), (32, x_all32)):
        probs = evaluator.probs(images[test_idx])
        accuracy[f"{size}px"] = float(np.mean(probs.argmax(1) == y[test_idx]))
    # Real halves: rows in a fixed shuffled order, so both halves hold both styles.
    order = np.random.default_rng(args.seed).permutation(len(x))
    half = len(x) // 2
    reference = {}
    for size, images in ((64, x_all), (32, x_all32)):
        features, probs = evaluator.features_and_probs(images[order])
        coverage = metrics.class_coverage(probs, evaluator.num_classes)
        reference[f"{size}px"] = {
            "fd_real_halves": metrics.frechet_distance_from_features(features[:half],
                                                                     features[half:]),
            "kid_real_halves": metrics.kernel_inception_distance(features[:half],
                                                                 features[half:])[0],
            "emoji_score_all": metrics.inception_score(probs)[0],
            "class_kl_to_uniform_all": coverage["kl_to_uniform"],
        }
    card = {
        "name": "emoji-classifier",
        "evaluator": "emoji",
        "what": ("CNN emoji classifier for the colour image metrics: input (64, 64, 3) float "
                 "in [-1, 1] (32 px images resized to it), logits over the 20 classes "
                 "category x art style; the 'features' layer gives the Frechet distance "
                 "features"),
        "dataset": "emoji64.npz (Twemoji CC-BY 4.0 by Twitter, Inc. and other contributors; "
                   "Noto Emoji Apache 2.0 by Google)",
        "class_names": list(data["class_names"]),
        "train_rows": int(len(train_idx)),
        "held_out_rows": int(len(test_idx)),
        "split": "15% of the emoji (base names, with their skin tones and both styles) held "
                 f"out, numpy seed {args.seed}",
        "held_out_accuracy": accuracy,
        "epochs": args.epochs, "batch_size": args.batch_size, "learning_rate": args.lr,
        "seed": args.seed,
        "train_seconds": round(train_seconds, 1), "train_cpu_seconds": round(train_cpu, 1),
        "cpu_threads": len(os.sched_getaffinity(0)),
        "params": model.count_params(),
        "command": shlex.join(["python", *sys.argv]),
        "feature_dim": evaluator.feature_dim,
        "real_data_reference": reference,
        "reference_notes": (f"all {len(x):,} emoji on white, in a seed-{args.seed} shuffled "
                            f"order, rows [0, {half:,}) vs [{half:,}, {2 * half:,}); 32px: the "
                            "same images resized down with clean-fid's bicubic (and up again "
                            "by the evaluator)"),
        "versions": {"keras": keras.__version__, "tensorflow": tf.__version__},
    }
    (out / "model.json").write_text(json.dumps(card, indent=2) + "\n")
    print(json.dumps({"held_out_accuracy": accuracy, "reference": reference}, indent=2))
    print(f"trained in {train_seconds:.0f} s ({train_cpu:.0f} s CPU); wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
