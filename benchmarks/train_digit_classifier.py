"""Train the digit classifier that scores generated MNIST digits (FD and digit score).

    python benchmarks/train_digit_classifier.py [--epochs 15] [--out saved_models/digit-classifier]

Trains `keras_gan.evaluation.classifiers.build_digit_classifier` on the first 8,000 rows of
the embedded digits (keras_gan/assets/mnist10k.npz), with small random shifts,
rotations and zooms applied in the tf.data pipeline (so the saved model holds no
augmentation layers), and evaluates it on the last 2,000. Writes
`classifier.keras` and the card `model.json`, which also holds the real-data
reference of the "MNIST-style image metrics" protocol: the digit score of the
held-out and of all 10,000 real digits, the Frechet distance between two
disjoint halves (5,000 vs 5,000) of the real digits, and the class coverage of
the real digits.
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
    p.add_argument("--epochs", type=int, default=15, help="training epochs")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--lr", type=float, default=2e-3, help="peak Adam learning rate")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--feature-dim", type=int, default=128, help="width of the features layer")
    p.add_argument("--out", default="saved_models/digit-classifier", help="output folder")
    args = p.parse_args(argv)
    if min(args.epochs, args.batch_size, args.feature_dim) < 1 or args.lr <= 0:
        p.error("--epochs, --batch-size, --feature-dim and --lr must be positive")
    return args


def augmenter(seed):
    """Random shifts (2-3 px), rotations (+-10 degrees) and zooms (+-10%), background -1."""
    import keras

    fill = {"fill_mode": "constant", "fill_value": -1.0}
    return keras.Sequential([
        keras.layers.RandomRotation(10 / 360, seed=seed, **fill),
        keras.layers.RandomZoom(0.1, seed=seed + 1, **fill),
        keras.layers.RandomTranslation(0.1, 0.1, seed=seed + 2, **fill),
    ], name="augment")


def main(argv=None) -> int:
    args = parse_args(argv)
    import keras
    import numpy as np
    import tensorflow as tf

    from keras_gan.evaluation import metrics
    from keras_gan.evaluation.classifiers import HELD_OUT, build_digit_classifier, mnist_splits
    from keras_gan.evaluation.evaluator import DigitEvaluator

    keras.utils.set_random_seed(args.seed)
    (x_train, y_train), (x_test, y_test) = mnist_splits()
    augment = augmenter(args.seed)
    train = (
        tf.data.Dataset.from_tensor_slices((x_train, y_train))
        .shuffle(len(x_train), seed=args.seed)
        .batch(args.batch_size)
        .map(lambda x, y: (augment(x, training=True), y), num_parallel_calls=tf.data.AUTOTUNE)
        .prefetch(tf.data.AUTOTUNE)
    )
    steps = args.epochs * -(-len(x_train) // args.batch_size)
    # Cosine decay to 0: the last epochs settle the weights, which helps held-out accuracy.
    schedule = keras.optimizers.schedules.CosineDecay(args.lr, steps)
    model = build_digit_classifier(args.feature_dim)
    model.compile(
        keras.optimizers.Adam(schedule),
        keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    start, cpu_start = time.perf_counter(), time.process_time()
    model.fit(train, epochs=args.epochs, validation_data=(x_test, y_test), verbose=2)
    train_seconds = time.perf_counter() - start
    # CPU time as well: wall time on a shared machine says more about the neighbours.
    train_cpu_seconds = time.process_time() - cpu_start

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    # A fresh, uncompiled copy: the saved file then holds no optimizer state (half its size).
    shipped = build_digit_classifier(args.feature_dim)
    shipped.set_weights(model.get_weights())
    shipped.save(out / "classifier.keras")
    # Score through the saved file, as users will.
    evaluator = DigitEvaluator(out / "classifier.keras")
    x_all = np.concatenate([x_train, x_test])
    features, probs = evaluator.features_and_probs(x_all)
    test_probs = probs[-HELD_OUT:]
    accuracy = float(np.mean(np.argmax(test_probs, 1) == y_test))
    half = len(x_all) // 2
    coverage = metrics.class_coverage(probs, evaluator.num_classes)
    reference = {
        "digit_score_held_out": metrics.inception_score(test_probs)[0],
        "digit_score_all": metrics.inception_score(probs)[0],
        "frechet_distance_real_halves": metrics.frechet_distance_from_features(
            features[:half], features[half:]
        ),
        "class_kl_to_uniform_all": coverage["kl_to_uniform"],
        "min_class_fraction_all": coverage["min_fraction"],
        "notes": (
            f"digit score = exp(E KL(p(y|x) || p(y))), max 10, on the last {HELD_OUT:,} rows "
            f"(held out) and on all {len(x_all):,}; Frechet distance on the "
            f"{evaluator.feature_dim}-d 'features' layer between rows [0, {half:,}) and "
            f"[{half:,}, {len(x_all):,}) of mnist10k.npz (the first half holds only training "
            "rows); class coverage from the argmax of all rows. Compare a generator's "
            "5,000-sample FD with frechet_distance_real_halves: the estimate grows as N falls."
        ),
    }
    card = {
        "name": "digit-classifier",
        "what": (
            "CNN digit classifier for the MNIST-style image metrics (TF-GAN mnist_score / "
            "mnist_frechet_distance style): input (28, 28, 1) float in [-1, 1], outputs logits; "
            "the 'features' layer gives the Frechet distance features"
        ),
        "dataset": "keras_gan/assets/mnist10k.npz",
        "train_rows": len(x_train),
        "held_out_rows": len(x_test),
        "held_out_accuracy": accuracy,
        "epochs": args.epochs,
        "batch_size": args.batch_size,
        "learning_rate": args.lr,
        "seed": args.seed,
        "train_seconds": round(train_seconds, 1),
        "train_cpu_seconds": round(train_cpu_seconds, 1),
        "cpu_threads": len(os.sched_getaffinity(0)),
        "params": model.count_params(),
        "command": shlex.join(["python", *sys.argv]),
        "feature_dim": evaluator.feature_dim,
        "real_data_reference": reference,
        "versions": {"keras": keras.__version__, "tensorflow": tf.__version__},
    }
    (out / "model.json").write_text(json.dumps(card, indent=2) + "\n")
    print(json.dumps(reference, indent=2))
    print(f"held-out accuracy {accuracy:.2%} on {len(x_test):,} digits; "
          f"trained in {train_seconds:.0f} s ({train_cpu_seconds:.0f} s CPU); wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
