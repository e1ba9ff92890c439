"""Image evaluators: features and class probabilities for FD / score metrics.

Three feature extractors, each named by what it measures (`digit_fd`,
`emoji_fd`, `inception_fd`):

- `DigitEvaluator`: the project's digit classifier (28x28x1), as TF-GAN's
  `mnist_frechet_distance`;
- `EmojiEvaluator`: the project's colour emoji classifier (64x64x3, category x
  art style; 32 px images are resized to it);
- `InceptionEvaluator`: InceptionV3 pool_3 (2048-d) on ImageNet weights,
  which Keras downloads once into its cache (hash-checked) when first asked for.

Every evaluator follows clean-fid's conventions (Parmar et al. 2022), so the
same images give the same numbers whether they come from a folder of PNGs, an
npz or a generator in memory: images are first quantised to uint8 (what a
saved PNG holds), then resized, when the extractor's input size differs, with
PIL's antialiased bicubic filter on float32 channels (clean-fid's "clean"
mode). `conventions()` says so in every report.

`choose_evaluator` decides which extractor fits a data set, and refuses one
that does not: a digit classifier's FD on clothes or emoji measures nothing.
"""

import os
from pathlib import Path

import keras
import numpy as np

from keras_gan.config import EVALUATORS as CONFIG_EVALUATORS
from keras_gan.errors import UserError
from keras_gan.evaluation.classifiers import (  # noqa: F401  (re-exported: the evaluators' data)
    EMOJI_CATEGORIES,
    HELD_OUT,
    MNIST_SAMPLE,
    build_digit_classifier,
    mnist_splits,
)

_SAVED = Path(__file__).resolve().parents[2] / "saved_models"
DEFAULT_CLASSIFIER = _SAVED / "digit-classifier" / "classifier.keras"
DEFAULT_EMOJI_CLASSIFIER = _SAVED / "emoji-classifier" / "classifier.keras"
TRAIN_COMMAND = "python benchmarks/train_digit_classifier.py"
EMOJI_TRAIN_COMMAND = "python benchmarks/train_emoji_classifier.py"
INCEPTION_WEIGHTS = "inception_v3_weights_tf_dim_ordering_tf_kernels.h5"
# Where keras.applications.InceptionV3(weights="imagenet") fetches that file
# from, and its md5 (keras/src/applications/inception_v3.py: WEIGHTS_PATH, the
# model with its top, whose class softmax the Inception Score needs).
INCEPTION_URL = ("https://storage.googleapis.com/tensorflow/keras-applications/inception_v3/"
                 + INCEPTION_WEIGHTS)
INCEPTION_HASH = "9a0d58056eeedaa3f26cb7ebd46da564"
INCEPTION_SIZE = 299


def _tfds_name(source: str) -> str | None:
    """"tfds:fashion_mnist:train" -> "fashion_mnist"; None for other sources."""
    prefix, _, rest = source.partition(":")
    return rest.split(":")[0] if prefix == "tfds" else None


class EvaluatorError(UserError, ValueError):
    """Bad evaluator input or missing weights; the message says what and how to fix it."""


class MissingClassifierError(EvaluatorError):
    """The classifier file is not there (a checkout without saved_models/, say)."""


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


def clean_images(images, size: int | None = None) -> np.ndarray:
    """clean-fid's preprocessing: quantise to uint8, then (if `size` differs)
    resize with PIL's antialiased bicubic filter, per channel in float32.

    Returns float32 (N, size, size, C) in [-1, 1] (bicubic overshoot clipped).
    Quantising first is what makes a generator scored in memory equal to its
    samples saved as PNGs and read back from a folder.
    """
    x = to_unit_range(images)
    q = np.round((x + 1.0) * 127.5).astype(np.float32)  # the uint8 values, as floats
    if size is not None and q.shape[1:3] != (size, size):
        from PIL import Image

        out = np.empty((len(q), size, size, q.shape[-1]), np.float32)
        for i, image in enumerate(q):
            for c in range(q.shape[-1]):
                channel = Image.fromarray(image[..., c], mode="F")
                out[i, ..., c] = np.asarray(channel.resize((size, size), Image.BICUBIC))
        q = np.clip(out, 0.0, 255.0)
    return q / 127.5 - 1.0


def _softmax(logits: np.ndarray) -> np.ndarray:
    z = np.exp(logits - logits.max(axis=1, keepdims=True))
    return (z / z.sum(axis=1, keepdims=True)).astype(np.float32)


class Evaluator:
    """What every extractor has: `name` (the metrics' prefix: `digit_fd`),
    `feature_dim`, `num_classes`, `features_and_probs(images)`, and
    `fits(shape)` (None, or why images of that shape cannot be scored)."""

    name = "evaluator"
    feature_dim = num_classes = 0

    def fits(self, shape) -> str | None:
        raise NotImplementedError

    def features_and_probs(self, images, batch_size: int = 500):
        raise NotImplementedError

    def features(self, images, batch_size: int = 500) -> np.ndarray:
        """Returns the (N, feature_dim) features."""
        return self.features_and_probs(images, batch_size)[0]

    def probs(self, images, batch_size: int = 500) -> np.ndarray:
        """Returns the (N, num_classes) softmax class probabilities."""
        return self.features_and_probs(images, batch_size)[1]

    def conventions(self) -> dict:
        """How images were prepared: written into every report beside the numbers."""
        return {"extractor": self.name, "feature_dim": self.feature_dim,
                "quantize": "uint8 (round((x + 1) * 127.5)) before resizing",
                "resize": f"PIL bicubic, antialiased, float32 per channel (clean-fid 'clean') "
                          f"to {self.input_size}x{self.input_size} when sizes differ"}


class ClassifierEvaluator(Evaluator):
    """Features ("features" layer) and softmax probabilities of a shipped classifier.

    Args:
        path: The classifier's `.keras` file (safe mode: no Lambda code runs).
        sizes: Square image sizes it scores; others are refused. Images of a
            listed size other than the classifier's input are resized.
    """

    train_command = TRAIN_COMMAND
    sizes: tuple[int, ...] = ()

    def __init__(self, path):
        self.path = Path(path)
        if not self.path.is_file():
            raise MissingClassifierError(
                f"No {self.name} classifier at {self.path}; train one with "
                f"`{self.train_command}` (add --out DIR to write it elsewhere)."
            )
        try:
            classifier = keras.saving.load_model(self.path, safe_mode=True, compile=False)
        except Exception as e:  # a corrupt zip, a Lambda layer, not a model
            detail = (str(e).strip().splitlines() or [""])[0][:300]
            if "safe_mode" in detail:
                detail = "it holds Python code (a Lambda layer), refused in safe mode"
            raise EvaluatorError(f"cannot load the {self.name} classifier {self.path}: "
                                 f"{detail}") from None
        features = classifier.get_layer("features").output
        self.model = keras.Model(classifier.inputs, [features, classifier.outputs[0]])
        self.image_shape = tuple(classifier.inputs[0].shape[1:])
        self.input_size = int(self.image_shape[0])
        self.feature_dim = int(features.shape[-1])
        self.num_classes = int(classifier.outputs[0].shape[-1])

    def fits(self, shape) -> str | None:
        h, w, c = (tuple(shape) + (None, None, None))[:3]
        if c != self.image_shape[-1] or h != w or h not in (self.sizes or (self.input_size,)):
            sizes = " or ".join(f"{s}x{s}x{self.image_shape[-1]}"
                                for s in (self.sizes or (self.input_size,)))
            return f"the {self.name} classifier scores {sizes} images, not {tuple(shape)}"
        return None

    def features_and_probs(self, images, batch_size: int = 500) -> tuple[np.ndarray, np.ndarray]:
        """Returns features and probabilities from one pass over the images.

        Args:
            images: (N, H, W, C) (or grey (N, H, W)) images of a shape `fits`
                accepts, float in [-1, 1] or uint8 in [0, 255].
            batch_size: Images per forward pass.

        Raises:
            EvaluatorError: If the shape, dtype or range is wrong.
        """
        x = to_unit_range(images)
        problem = self.fits(x.shape[1:])
        if problem:
            raise EvaluatorError(f"{problem[0].upper()}{problem[1:]} (got a batch of shape "
                                 f"{np.shape(images)}).")
        if not len(x):
            return np.zeros((0, self.feature_dim), np.float32), np.zeros(
                (0, self.num_classes), np.float32
            )
        x = clean_images(x, self.input_size)
        features, logits = self.model.predict(x, batch_size=batch_size, verbose=0)
        return features.astype(np.float32), _softmax(logits)


class DigitEvaluator(ClassifierEvaluator):
    """The shipped digit classifier: (28, 28, 1) digits, 10 classes, 128-d features."""

    name = "digit"

    def __init__(self, path=DEFAULT_CLASSIFIER):
        super().__init__(path)


class EmojiEvaluator(ClassifierEvaluator):
    """The shipped emoji classifier: colour 64x64 (and 32x32, resized to 64)
    images, 20 classes (the 10 emoji categories x 2 art styles), 128-d features.
    Trained on emoji composited on random background colours, so any
    `--background` fits."""

    name = "emoji"
    train_command = EMOJI_TRAIN_COMMAND
    sizes = (32, 64)

    def __init__(self, path=DEFAULT_EMOJI_CLASSIFIER):
        super().__init__(path)


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


def fetch_inception_weights() -> Path:
    """The ImageNet weights file, downloaded first if it is not in Keras's cache.

    Through `keras.utils.get_file`, as `keras.applications.InceptionV3` does
    (same file, URL and hash, checked after the download), into the folder
    `inception_weights_path()` names, so either finds what the other fetched.

    Raises:
        EvaluatorError: If the file is missing and cannot be downloaded (offline).
    """
    path = inception_weights_path()
    if path.is_file():
        return path
    try:
        return Path(keras.utils.get_file(INCEPTION_WEIGHTS, INCEPTION_URL,
                                         file_hash=INCEPTION_HASH, cache_subdir="models",
                                         cache_dir=str(path.parents[1])))
    except Exception as e:  # urllib's errors, wrapped by Keras in a bare Exception
        # Keras's text repeats the URL, which the message names once.
        reason = (str(e).strip().splitlines() or [type(e).__name__])[0]
        reason = reason.replace(f" on {INCEPTION_URL}", "")[:200]
        raise EvaluatorError(
            f"cannot download the InceptionV3 ImageNet weights ({reason}); on a machine "
            f"without network, place {INCEPTION_WEIGHTS} (from {INCEPTION_URL}) in "
            f"{path.parent}, or pass --evaluator none") from None


class InceptionEvaluator(Evaluator):
    """Standard FID / IS features: InceptionV3 pool_3 (2048-d) and its class softmax.

    Uses `keras.applications.InceptionV3` with its 1000 ImageNet classes (TF-GAN's
    original graph has 1008 outputs, so Inception Scores differ slightly from
    papers that used it). Images go through `clean_images` to 299x299 (grey
    repeated to 3 channels).

    Args:
        weights: "imagenet" (the file Keras caches in `inception_weights_path()`,
            downloaded there once if missing: `fetch_inception_weights`), a path
            to a `.h5` / `.weights.h5` file of the full (with top) model, or
            None for random weights (tests only).

    Raises:
        EvaluatorError: If the weights file is not there and cannot be downloaded.
    """

    name = "inception"
    input_size = INCEPTION_SIZE

    def __init__(self, weights="imagenet"):
        if weights == "imagenet":
            weights = fetch_inception_weights()
        elif weights is not None and not Path(weights).is_file():
            raise EvaluatorError(f"No InceptionV3 weights file at {weights}.")
        # weights=None here, then load_weights: keras.applications would fetch
        # "imagenet" weights itself, into the cache Keras chose at import, and
        # offline fail with a traceback instead of `fetch_inception_weights`'s line.
        base = keras.applications.InceptionV3(include_top=True, weights=None)
        if weights is not None:
            base.load_weights(str(weights))
        self.model = keras.Model(base.inputs, [base.get_layer("avg_pool").output, base.outputs[0]])
        self.feature_dim = int(self.model.outputs[0].shape[-1])
        self.num_classes = int(self.model.outputs[1].shape[-1])

    def fits(self, shape) -> str | None:
        if len(shape) != 3 or shape[-1] not in (1, 3):
            return f"InceptionV3 scores grey or RGB images, not shape {tuple(shape)}"
        return None

    def features_and_probs(self, images, batch_size: int = 32) -> tuple[np.ndarray, np.ndarray]:
        """Returns pool_3 features (N, 2048) and class probabilities (N, 1000).

        Args:
            images: (N, H, W, C) images with C in {1, 3} (or grey (N, H, W)),
                float in [-1, 1] or uint8. InceptionV3 takes [-1, 1] as it is.
            batch_size: Images per forward pass (each is 299x299x3 inside).

        Raises:
            EvaluatorError: If the shape, dtype or range is wrong.
        """
        x = to_unit_range(images)
        if self.fits(x.shape[1:]):
            raise EvaluatorError(f"Expected 1 or 3 channels, got images of shape {x.shape}.")
        features, probs = [], []
        # A batch at a time: the whole set at 299x299 may not fit in memory.
        for start in range(0, len(x), batch_size):
            batch = clean_images(x[start : start + batch_size], INCEPTION_SIZE)
            if x.shape[-1] == 1:
                batch = np.repeat(batch, 3, axis=-1)
            f, p = self.model.predict_on_batch(batch)
            features.append(np.asarray(f, np.float32))
            probs.append(np.asarray(p, np.float32))
        if not features:
            return np.zeros((0, self.feature_dim), np.float32), np.zeros(
                (0, self.num_classes), np.float32
            )
        return np.concatenate(features), np.concatenate(probs)


EVALUATORS = {"digit": DigitEvaluator, "emoji": EmojiEvaluator, "inception": InceptionEvaluator}
# What --evaluator takes, defined once in the config (which imports no Keras).
EVALUATOR_CHOICES = CONFIG_EVALUATORS
assert set(EVALUATOR_CHOICES) == {"auto", "none", *EVALUATORS}, "config.EVALUATORS drifted"


def auto_evaluator(source: str, shape, class_names=None) -> str | None:
    """The extractor whose training data this is, or None.

    digit for the MNIST sources; emoji for data whose class names are the
    emoji64 categories (emoji64.npz at any size: its `class_names` travel with
    it). InceptionV3 is never automatic: its weights are a download away.
    """
    shape = tuple(shape)
    if shape == (28, 28, 1) and (source == "mnist-sample" or _tfds_name(source) == "mnist"):
        return "digit"
    if class_names is not None and tuple(class_names) == EMOJI_CATEGORIES:
        return "emoji"
    return None


def choose_evaluator(name: str, source: str, shape, class_names=None, path=None):
    """Returns the evaluator `name` asks for on this data, or None for none.

    Args:
        name: "auto" (see `auto_evaluator`), "none", or an `EVALUATORS` key,
            the user's choice for data the project cannot recognise (their own
            digits, say): it must still fit the images' shape.
        source, shape, class_names: the data set's (`keras_gan.data.sources.DataInfo`).
        path: the classifier file (default: the shipped one).

    Raises:
        EvaluatorError: If the named extractor cannot score this data.
    """
    if name not in EVALUATOR_CHOICES:
        raise EvaluatorError(f"Unknown evaluator {name!r}; choose from "
                             f"{', '.join(EVALUATOR_CHOICES)}.")
    if name == "none" or len(tuple(shape)) != 3:
        return None
    chosen = auto_evaluator(source, shape, class_names) if name == "auto" else name
    if chosen is None:
        return None
    cls = EVALUATORS[chosen]
    # A TFDS name says what the images are: a named digit classifier on
    # another catalogue's images (fashion_mnist, kmnist) is refused.
    if chosen == "digit" and _tfds_name(source) not in (None, "mnist"):
        raise EvaluatorError(f"the digit classifier scores MNIST digits; {source} is not "
                             "digits (its FD would measure nothing); pass --evaluator none")
    evaluator = cls(path) if path else cls()
    problem = evaluator.fits(shape)
    if problem:
        raise EvaluatorError(f"{problem}; pass --evaluator none or another extractor")
    return evaluator
