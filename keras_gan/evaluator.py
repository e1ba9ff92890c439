"""Image evaluators: features and class probabilities for FD / score metrics.

Inception weights cannot be downloaded everywhere, so, as TF-GAN does for
MNIST (`mnist_score`, `mnist_frechet_distance`), digit images are scored with a
small classifier that the project trains itself on the embedded digits
(`benchmarks/train_digit_classifier.py` writes `saved_models/digit-classifier/`).
`DigitEvaluator` gives its penultimate features and softmax probabilities.
`InceptionEvaluator` gives the standard FID / Inception Score features
(InceptionV3 pool_3, 2048-d, and its 1000-class softmax) for colour or larger
data when the ImageNet weights are already on the user's machine.
"""

import os
from pathlib import Path

import keras
import numpy as np

from keras_gan.errors import UserError

HELD_OUT = 2000
# The embedded digits' rows are already shuffled: the first 8,000 train the
# classifier and the last HELD_OUT are its held-out test split.
MNIST_SAMPLE = Path(__file__).parent / "assets" / "mnist10k.npz"
DEFAULT_CLASSIFIER = (
    Path(__file__).resolve().parents[1] / "saved_models" / "digit-classifier" / "classifier.keras"
)
TRAIN_COMMAND = "python benchmarks/train_digit_classifier.py"
INCEPTION_WEIGHTS = "inception_v3_weights_tf_dim_ordering_tf_kernels.h5"
INCEPTION_SIZE = 299


class EvaluatorError(UserError, ValueError):
    """Bad evaluator input or missing weights; the message says what and how to fix it."""


def mnist_splits() -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """Returns the classifier's train and held-out splits of the embedded digits.

    Returns:
        `((x_train, y_train), (x_test, y_test))`: x float32 (N, 28, 28, 1) in
        [-1, 1], y int64 (N,); 8,000 train rows and the last `HELD_OUT` rows.
    """
    with np.load(MNIST_SAMPLE) as data:
        x, y = to_unit_range(data["x"]), data["y"].astype(np.int64)
    return (x[:-HELD_OUT], y[:-HELD_OUT]), (x[-HELD_OUT:], y[-HELD_OUT:])


def to_unit_range(images) -> np.ndarray:
    """Checks images and returns them as float32 (N, H, W, C) in [-1, 1].

    Args:
        images: (N, H, W, C) or grey (N, H, W) images; uint8 in [0, 255]
            (converted with x / 127.5 - 1) or floats in [-1, 1].

    Raises:
        EvaluatorError: If the rank, dtype or range is wrong.
    """
    x = np.asarray(images)
    if x.ndim == 3:
        x = x[..., None]
    if x.ndim != 4:
        raise EvaluatorError(
            f"Expected images of shape (N, H, W, C) or (N, H, W), got shape {x.shape}."
        )
    if x.dtype == np.uint8:
        return x.astype(np.float32) / 127.5 - 1.0
    if not np.issubdtype(x.dtype, np.floating):
        raise EvaluatorError(
            f"Expected uint8 images in [0, 255] or float images in [-1, 1], got dtype {x.dtype}."
        )
    x = x.astype(np.float32)
    if x.size:
        lo, hi = float(x.min()), float(x.max())
        # A small slack lets float16 or rounded tanh outputs through.
        if not (np.isfinite(lo) and np.isfinite(hi) and lo >= -1.001 and hi <= 1.001):
            raise EvaluatorError(
                f"Expected float images in [-1, 1], got values in [{lo:.4g}, {hi:.4g}]; "
                "scale [0, 1] images with x * 2 - 1 and [0, 255] ones with x / 127.5 - 1."
            )
    return np.clip(x, -1.0, 1.0)


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
    inputs = keras.Input((28, 28, 1), name="images")
    x = inputs
    for filters in (32, "pool", 64, 64, "pool", 128, "pool"):
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
    logits = keras.layers.Dense(10, name="logits", dtype="float32")(x)
    return keras.Model(inputs, logits, name="digit_classifier")


def _softmax(logits: np.ndarray) -> np.ndarray:
    z = np.exp(logits - logits.max(axis=1, keepdims=True))
    return (z / z.sum(axis=1, keepdims=True)).astype(np.float32)


class DigitEvaluator:
    """Features and class probabilities of images in [-1, 1] from the shipped classifier.

    Args:
        path: The classifier's `.keras` file, by default the shipped
            `saved_models/digit-classifier/classifier.keras`.

    Raises:
        EvaluatorError: If the file does not exist.
    """

    def __init__(self, path=DEFAULT_CLASSIFIER):
        self.path = Path(path)
        if not self.path.is_file():
            raise EvaluatorError(
                f"No digit classifier at {self.path}; train one with `{TRAIN_COMMAND}` "
                f"(add --out DIR to write it elsewhere)."
            )
        try:
            # Safe mode: --classifier may name anyone's file; no Lambda code runs.
            classifier = keras.saving.load_model(self.path, safe_mode=True, compile=False)
        except Exception as e:  # a corrupt zip, a Lambda layer, not a model
            detail = (str(e).strip().splitlines() or [""])[0][:300]
            if "safe_mode" in detail:
                detail = "it holds Python code (a Lambda layer), refused in safe mode"
            raise EvaluatorError(f"cannot load the digit classifier {self.path}: "
                                 f"{detail}") from None
        features = classifier.get_layer("features").output
        self.model = keras.Model(classifier.inputs, [features, classifier.outputs[0]])
        self.image_shape = tuple(classifier.inputs[0].shape[1:])
        self.feature_dim = int(features.shape[-1])
        self.num_classes = int(classifier.outputs[0].shape[-1])

    def features(self, images, batch_size: int = 500) -> np.ndarray:
        """Returns the (N, feature_dim) penultimate ("features" layer) activations."""
        return self.features_and_probs(images, batch_size)[0]

    def probs(self, images, batch_size: int = 500) -> np.ndarray:
        """Returns the (N, num_classes) softmax class probabilities."""
        return self.features_and_probs(images, batch_size)[1]

    def features_and_probs(self, images, batch_size: int = 500) -> tuple[np.ndarray, np.ndarray]:
        """Returns features and probabilities from one pass over the images.

        Args:
            images: (N, 28, 28, 1) or (N, 28, 28) images, float in [-1, 1] or
                uint8 in [0, 255].
            batch_size: Images per forward pass.

        Raises:
            EvaluatorError: If the shape, dtype or range is wrong.
        """
        x = to_unit_range(images)
        if x.shape[1:] != self.image_shape:
            raise EvaluatorError(
                f"The digit classifier takes images of shape (N, 28, 28, 1) or (N, 28, 28), "
                f"got {np.shape(images)}."
            )
        if not len(x):
            return np.zeros((0, self.feature_dim), np.float32), np.zeros(
                (0, self.num_classes), np.float32
            )
        features, logits = self.model.predict(x, batch_size=batch_size, verbose=0)
        return features.astype(np.float32), _softmax(logits)


def inception_weights_path() -> Path:
    """Where `keras.applications.InceptionV3(weights="imagenet")` caches its weights.

    Read from KERAS_HOME at call time (Keras itself reads it once, at import).
    """
    home = os.environ.get("KERAS_HOME")
    if home is None:
        home = Path("~").expanduser()
        # Keras falls back to /tmp when the home folder is read-only.
        home = home / ".keras" if os.access(home, os.W_OK) else Path("/tmp/.keras")
    return Path(home).expanduser() / "models" / INCEPTION_WEIGHTS


class InceptionEvaluator:
    """Standard FID / IS features: InceptionV3 pool_3 (2048-d) and its class softmax.

    Uses `keras.applications.InceptionV3` with its 1000 ImageNet classes (TF-GAN's
    original graph has 1008 outputs, so Inception Scores differ slightly from
    papers that used it). Never downloads anything.

    Args:
        weights: "imagenet" (the file Keras caches in `inception_weights_path()`),
            a path to a `.h5` / `.weights.h5` file of the full (with top) model,
            or None for random weights (tests only).

    Raises:
        EvaluatorError: If the weights file is not on this machine.
    """

    def __init__(self, weights="imagenet"):
        if weights == "imagenet":
            path = inception_weights_path()
            if not path.is_file():
                raise EvaluatorError(
                    f"InceptionV3 ImageNet weights not found at {path} (Keras's cache: "
                    "$KERAS_HOME/models, default ~/.keras/models). This evaluator does not "
                    "download them; copy the file there from a machine with network access "
                    "(keras.applications.InceptionV3(weights='imagenet') fetches it), or pass "
                    "weights=PATH. Digit data can use DigitEvaluator instead."
                )
            weights = path
        elif weights is not None and not Path(weights).is_file():
            raise EvaluatorError(f"No InceptionV3 weights file at {weights}.")
        # weights=None here, then load_weights: keras.applications would try to
        # download "imagenet" weights itself.
        base = keras.applications.InceptionV3(include_top=True, weights=None)
        if weights is not None:
            base.load_weights(str(weights))
        self.model = keras.Model(base.inputs, [base.get_layer("avg_pool").output, base.outputs[0]])
        self.feature_dim = int(self.model.outputs[0].shape[-1])
        self.num_classes = int(self.model.outputs[1].shape[-1])

    def features_and_probs(self, images, batch_size: int = 32) -> tuple[np.ndarray, np.ndarray]:
        """Returns pool_3 features (N, 2048) and class probabilities (N, 1000).

        Args:
            images: (N, H, W, C) images with C in {1, 3} (or grey (N, H, W)),
                float in [-1, 1] or uint8; resized (bilinear) to 299x299, grey
                repeated to 3 channels. InceptionV3 takes [-1, 1] as it is.
            batch_size: Images per forward pass (each is 299x299x3 inside).

        Raises:
            EvaluatorError: If the shape, dtype or range is wrong.
        """
        x = to_unit_range(images)
        if x.shape[-1] not in (1, 3):
            raise EvaluatorError(f"Expected 1 or 3 channels, got images of shape {x.shape}.")
        features, probs = [], []
        # Resize a batch at a time: the whole set at 299x299 may not fit in memory.
        for start in range(0, len(x), batch_size):
            batch = keras.ops.image.resize(
                x[start : start + batch_size], (INCEPTION_SIZE, INCEPTION_SIZE)
            )
            if x.shape[-1] == 1:
                batch = keras.ops.repeat(batch, 3, axis=-1)
            f, p = self.model.predict_on_batch(batch)
            features.append(np.asarray(f, np.float32))
            probs.append(np.asarray(p, np.float32))
        if not features:
            return np.zeros((0, self.feature_dim), np.float32), np.zeros(
                (0, self.num_classes), np.float32
            )
        return np.concatenate(features), np.concatenate(probs)
