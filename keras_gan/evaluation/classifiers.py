"""The evaluators' own classifiers: their networks and their data splits.

Inception weights cannot be downloaded everywhere, so, as TF-GAN does for
MNIST (`mnist_score`, `mnist_frechet_distance`), the project scores images
with small classifiers it trains itself on data it has: one for digits
(`benchmarks/train_digit_classifier.py` -> `saved_models/digit-classifier/`)
and one for colour emoji (`benchmarks/train_emoji_classifier.py` ->
`saved_models/emoji-classifier/`). `keras_gan.evaluation.evaluator` loads them.
"""

from pathlib import Path

import keras
import numpy as np

HELD_OUT = 2000
# The embedded digits' rows are already shuffled: the first 8,000 train the
# classifier and the last HELD_OUT are its held-out test split.
MNIST_SAMPLE = Path(__file__).parents[1] / "assets" / "mnist10k.npz"
# The Unicode categories of emoji64.npz's `y` (its `class_names`), in order.
EMOJI_CATEGORIES = (
    "Activities", "Animals & Nature", "Component", "Flags", "Food & Drink", "Objects",
    "People & Body", "Smileys & Emotion", "Symbols", "Travel & Places",
)
EMOJI_STYLES = ("twitter", "google")
EMOJI_SIZE = 64
# Skin-tone variants are the same drawing recoloured: "waving_hand_1F3FB".
_SKIN_TONE = "_1F3F"


def _unit(x: np.ndarray) -> np.ndarray:
    return x.astype(np.float32) / 127.5 - 1.0


def mnist_splits() -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """Returns the classifier's train and held-out splits of the embedded digits.

    Returns:
        `((x_train, y_train), (x_test, y_test))`: x float32 (N, 28, 28, 1) in
        [-1, 1], y int64 (N,); 8,000 train rows and the last `HELD_OUT` rows.
    """
    with np.load(MNIST_SAMPLE) as data:
        x, y = _unit(data["x"])[..., None], data["y"].astype(np.int64)
    return (x[:-HELD_OUT], y[:-HELD_OUT]), (x[-HELD_OUT:], y[-HELD_OUT:])


def build_digit_classifier(feature_dim: int = 128) -> keras.Model:
    """Builds the small CNN that scores (28, 28, 1) digits in [-1, 1].

    Conv32 - pool - Conv64 - Conv64 - pool - Conv128 - pool (3x3 convs with
    batch norm and ReLU) to 3x3x128, then Dropout - Dense(feature_dim) - batch
    norm - ReLU ("features") - Dropout - Dense(10, "logits"). One conv at full
    resolution keeps training to a few minutes on two CPU cores.

    Args:
        feature_dim: Width of the penultimate "features" layer, the
            Frechet distance's feature space.

    Returns:
        An uncompiled model named "digit_classifier" that outputs float32 logits.
    """
    return _classifier((28, 28, 1), (32, "pool", 64, 64, "pool", 128, "pool"), feature_dim,
                       10, "digit_classifier")


def _classifier(input_shape, stages, feature_dim: int, num_classes: int, name: str):
    """3x3 conv - batch norm - ReLU stages (an int: its filters) and max-pools
    ("pool"), then Dropout - Dense(feature_dim) - batch norm - ReLU
    ("features") - Dropout - Dense(num_classes, "logits")."""
    inputs = keras.Input(input_shape, name="images")
    x = inputs
    for filters in stages:
        if filters == "pool":
            x = keras.layers.MaxPooling2D()(x)
            continue
        # No conv bias: batch norm's offset takes its place.
        x = keras.layers.Conv2D(filters, 3, padding="same", use_bias=False)(x)
        x = keras.layers.BatchNormalization()(x)
        x = keras.layers.ReLU()(x)
    x = keras.layers.Flatten()(x)
    x = keras.layers.Dropout(0.3)(x)
    # Batch norm before this ReLU too: a plain Dense-ReLU on these non-negative
    # inputs left over half of its units dead on every digit, wasting FD features.
    x = keras.layers.Dense(feature_dim, use_bias=False)(x)
    x = keras.layers.BatchNormalization()(x)
    x = keras.layers.ReLU(name="features")(x)
    x = keras.layers.Dropout(0.3)(x)
    # float32 logits even under a mixed precision policy, so softmax stays exact.
    logits = keras.layers.Dense(num_classes, name="logits", dtype="float32")(x)
    return keras.Model(inputs, logits, name=name)


def emoji_classes(category: np.ndarray, style: np.ndarray) -> np.ndarray:
    """The emoji classifier's class of each image: category x art style (20)."""
    return np.asarray(category, np.int64) * len(EMOJI_STYLES) + np.asarray(style, np.int64)


def emoji_class_names() -> tuple[str, ...]:
    return tuple(f"{c} ({s})" for c in EMOJI_CATEGORIES for s in EMOJI_STYLES)


def emoji_splits(path, held_out: float = 0.15, seed: int = 0) -> dict:
    """Reads emoji64.npz and splits it into train and held-out rows by emoji.

    An emoji's skin-tone variants and its two art styles are near copies of
    one another, so rows are split by the emoji's base name (its name without
    the skin-tone suffix): every drawing of a held-out emoji is held out, and
    held-out accuracy measures recognising new emoji, not remembering these.

    Args:
        path: The emoji64.npz file (x uint8 (N, 64, 64, 4) RGBA, y category,
            style, name).
        held_out: Fraction of base names held out.
        seed: Seed of the split.

    Returns:
        A dict: `x` uint8 RGBA, `y` int64 classes (`emoji_classes`), `train`
        and `test` int index arrays, `class_names`.
    """
    with np.load(path) as data:
        x, category, style, name = data["x"], data["y"], data["style"], data["name"]
        names = tuple(str(n) for n in data["class_names"])
    if names != EMOJI_CATEGORIES:
        raise ValueError(f"{path} does not hold the emoji64 categories: {names}")
    base = np.array([str(n).split(_SKIN_TONE)[0] for n in name])
    groups = np.unique(base)
    rng = np.random.default_rng(seed)
    test_groups = rng.choice(groups, size=round(held_out * len(groups)), replace=False)
    is_test = np.isin(base, test_groups)
    return {"x": x, "y": emoji_classes(category, style), "train": np.flatnonzero(~is_test),
            "test": np.flatnonzero(is_test), "class_names": emoji_class_names()}


def build_emoji_classifier(feature_dim: int = 128) -> keras.Model:
    """Builds the CNN that scores (64, 64, 3) colour images in [-1, 1].

    Four 3x3 conv - batch norm - ReLU - max-pool stages (32, 64, 128, 128
    filters; 64 -> 4 px), then Dropout - Dense(feature_dim) - batch norm - ReLU
    ("features", the Frechet distance's space) - Dropout - Dense(20, "logits"):
    the emoji category x art style. The digit classifier's design at 64 px,
    with one more stage; a few minutes per epoch on two CPU cores.
    """
    return _classifier((EMOJI_SIZE, EMOJI_SIZE, 3),
                       (32, "pool", 64, "pool", 128, "pool", 128, "pool"), feature_dim,
                       len(EMOJI_CATEGORIES) * len(EMOJI_STYLES), "emoji_classifier")
