"""The shipped digit and emoji classifiers and the evaluators built on them."""

import json

import numpy as np
import pytest
from conftest import named_data, needs_data

from keras_gan.evaluation.classifiers import emoji_class_names, emoji_splits
from keras_gan.evaluation.evaluator import (
    DEFAULT_CLASSIFIER,
    DEFAULT_EMOJI_CLASSIFIER,
    EMOJI_CATEGORIES,
    HELD_OUT,
    INCEPTION_HASH,
    INCEPTION_URL,
    INCEPTION_WEIGHTS,
    MNIST_SAMPLE,
    DigitEvaluator,
    EmojiEvaluator,
    EvaluatorError,
    InceptionEvaluator,
    auto_evaluator,
    choose_evaluator,
    clean_images,
    fetch_inception_weights,
    inception_weights_path,
    mnist_splits,
)
from keras_gan.evaluation.metrics import inception_score

CARD = json.loads((DEFAULT_CLASSIFIER.parent / "model.json").read_text())


@pytest.fixture(scope="module")
def evaluator():
    return DigitEvaluator()


@pytest.fixture(scope="module")
def held_out():
    return mnist_splits()[1]


@pytest.fixture(scope="module")
def held_out_outputs(evaluator, held_out):
    return evaluator.features_and_probs(held_out[0])


@pytest.fixture(scope="module")
def held_out_probs(held_out_outputs):
    return held_out_outputs[1]


def test_splits():
    (x_train, y_train), (x_test, y_test) = mnist_splits()
    assert x_train.shape == (8000, 28, 28, 1) and x_test.shape == (HELD_OUT, 28, 28, 1)
    assert x_train.dtype == np.float32 and x_train.min() == -1 and x_train.max() == 1
    assert set(np.unique(y_test)) == set(range(10)) and len(y_train) == 8000


def test_held_out_accuracy(held_out, held_out_probs):
    accuracy = np.mean(np.argmax(held_out_probs, 1) == held_out[1])
    assert accuracy >= 0.985
    assert abs(accuracy - CARD["held_out_accuracy"]) <= 0.001
    assert CARD["train_rows"] == 8000 and CARD["held_out_rows"] == HELD_OUT


def test_digit_score_of_real_digits(held_out_probs):
    score = inception_score(held_out_probs)[0]  # the digit score of the protocol
    assert 8 < score <= 10
    assert score == pytest.approx(CARD["real_data_reference"]["digit_score_held_out"], rel=1e-3)


def test_features_are_not_degenerate(held_out_outputs):
    # Units that never fire on real digits are lost dimensions for the Frechet distance.
    features = held_out_outputs[0]
    assert np.count_nonzero(features.max(axis=0) > 0) >= 0.9 * features.shape[1]


def test_features_and_probs(evaluator, held_out):
    x = held_out[0][:16]
    features, probs = evaluator.features_and_probs(x, batch_size=5)
    assert evaluator.feature_dim == CARD["feature_dim"] == 128 and evaluator.num_classes == 10
    assert features.shape == (16, 128) and probs.shape == (16, 10)
    assert features.dtype == probs.dtype == np.float32
    np.testing.assert_allclose(probs.sum(1), 1, atol=1e-5)
    np.testing.assert_allclose(evaluator.features(x), features, atol=1e-4)
    np.testing.assert_allclose(evaluator.probs(x[..., 0]), probs, atol=1e-5)  # (N, 28, 28)
    assert evaluator.features(x[:0]).shape == (0, 128)


def test_uint8_input_equals_float(evaluator):
    with np.load(MNIST_SAMPLE) as data:
        raw = data["x"][-8:]
    as_float = raw[..., None].astype(np.float32) / 127.5 - 1
    np.testing.assert_allclose(evaluator.probs(raw), evaluator.probs(as_float), atol=1e-6)


@pytest.mark.parametrize(
    "images",
    [
        np.zeros((2, 32, 32, 1), np.float32),  # wrong size
        np.zeros((2, 28, 28, 3), np.float32),  # colour
        np.zeros((2, 1, 28, 28), np.float32),  # channels first
        np.zeros((28,), np.float32),
        np.full((2, 28, 28, 1), 2.0, np.float32),  # [0, 255]-style floats
        np.full((2, 28, 28, 1), np.nan, np.float32),
        np.zeros((2, 28, 28, 1), np.int64),
    ],
)
def test_bad_images_raise(evaluator, images):
    with pytest.raises(ValueError):
        evaluator.features_and_probs(images)


def test_missing_classifier_names_the_script(tmp_path):
    path = tmp_path / "nowhere" / "classifier.keras"
    with pytest.raises(ValueError) as info:
        DigitEvaluator(path)
    assert str(info.value) == (f"No digit classifier at {tmp_path}/nowhere/classifier.keras; "
                               "train one with `python benchmarks/train_digit_classifier.py` "
                               "(add --out DIR to write it elsewhere).")


def test_inception_random_weights():
    evaluator = InceptionEvaluator(weights=None)
    rng = np.random.default_rng(0)
    for images in (rng.uniform(-1, 1, (2, 32, 32, 3)), rng.uniform(-1, 1, (2, 28, 28, 1))):
        features, probs = evaluator.features_and_probs(images.astype(np.float32))
        assert features.shape == (2, 2048) and probs.shape == (2, 1000)
        np.testing.assert_allclose(probs.sum(1), 1, atol=1e-4)


@pytest.fixture
def fake_get_file(tmp_path, monkeypatch):
    """Keras's download, faked (never the network): records each call and
    writes a stand-in file where Keras would, or raises `fake_get_file.error`."""
    from pathlib import Path

    import keras

    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    calls = []

    def get_file(fname, origin, file_hash=None, cache_subdir="datasets", cache_dir=None):
        calls.append(dict(fname=fname, origin=origin, file_hash=file_hash,
                          cache_subdir=cache_subdir, cache_dir=cache_dir))
        if get_file.error:
            raise get_file.error
        path = Path(cache_dir) / cache_subdir / fname
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"weights")
        return str(path)

    get_file.calls, get_file.error = calls, None
    monkeypatch.setattr(keras.utils, "get_file", get_file)
    return get_file


def test_inception_weights_are_fetched_once_through_keras(tmp_path, fake_get_file):
    """Missing ImageNet weights are fetched as keras.applications.InceptionV3
    fetches them (its URL and md5, the "models" cache) into the file
    `inception_weights_path()` names; once there, nothing is fetched."""
    import inspect

    from keras.src.applications import inception_v3

    assert INCEPTION_URL == inception_v3.WEIGHTS_PATH
    assert f'file_hash="{INCEPTION_HASH}"' in inspect.getsource(inception_v3)
    path = fetch_inception_weights()
    assert path == inception_weights_path() == tmp_path / "models" / INCEPTION_WEIGHTS
    assert path.read_bytes() == b"weights"
    assert fake_get_file.calls == [dict(
        fname=INCEPTION_WEIGHTS, origin=INCEPTION_URL, file_hash=INCEPTION_HASH,
        cache_subdir="models", cache_dir=str(tmp_path))]
    assert fetch_inception_weights() == path
    assert len(fake_get_file.calls) == 1  # already there: not fetched again


def test_inception_weights_offline_is_one_line(tmp_path, fake_get_file):
    fake_get_file.error = Exception(f"URL fetch failure on {INCEPTION_URL}: None -- "
                                    "[Errno -3] Temporary failure in name resolution")
    with pytest.raises(EvaluatorError) as info:
        InceptionEvaluator()  # fails before the network is built
    assert str(info.value) == (
        "cannot download the InceptionV3 ImageNet weights (URL fetch failure: None -- "
        "[Errno -3] Temporary failure in name resolution); on a "
        f"machine without network, place inception_v3_weights_tf_dim_ordering_tf_kernels.h5 "
        f"(from {INCEPTION_URL}) in {tmp_path}/models, or pass --evaluator none")
    assert len(fake_get_file.calls) == 1
    assert not (tmp_path / "models" / INCEPTION_WEIGHTS).exists()
    with pytest.raises(ValueError, match="No InceptionV3 weights file"):
        InceptionEvaluator(weights=tmp_path / "missing.h5")
    assert len(fake_get_file.calls) == 1  # a file named by the user is never fetched


# --- choosing an extractor, clean-fid conventions, the emoji classifier ---

EMOJI_DATA = named_data("emoji64")
EMOJI_CARD = json.loads((DEFAULT_EMOJI_CLASSIFIER.parent / "model.json").read_text())


@pytest.fixture(scope="module")
def emoji_evaluator():
    return EmojiEvaluator()


def test_auto_picks_the_extractor_trained_on_the_data(evaluator):
    assert auto_evaluator("mnist-sample", (28, 28, 1)) == "digit"
    assert auto_evaluator("tfds:mnist:test", (28, 28, 1)) == "digit"
    # 28x28 grey but not digits: no digit FD by default.
    assert auto_evaluator("tfds:fashion_mnist", (28, 28, 1)) is None
    assert auto_evaluator("npz:mine.npz", (28, 28, 1)) is None
    assert auto_evaluator("npz:e.npz", (32, 32, 3), EMOJI_CATEGORIES) == "emoji"
    assert auto_evaluator("folder:icons", (32, 32, 3)) is None
    assert isinstance(choose_evaluator("auto", "mnist-sample", (28, 28, 1)), DigitEvaluator)
    assert choose_evaluator("auto", "tfds:fashion_mnist", (28, 28, 1)) is None
    assert choose_evaluator("none", "mnist-sample", (28, 28, 1)) is None
    assert choose_evaluator("auto", "ring", (2,)) is None
    # The user's own digits: theirs to name.
    assert isinstance(choose_evaluator("digit", "npz:mine.npz", (28, 28, 1)), DigitEvaluator)


@pytest.mark.parametrize("name, source, shape, message", [
    ("digit", "tfds:fashion_mnist", (28, 28, 1),
     "the digit classifier scores MNIST digits; tfds:fashion_mnist is not digits (its FD "
     "would measure nothing); pass --evaluator none"),
    ("digit", "npz:icons.npz", (32, 32, 3),
     "the digit classifier scores 28x28x1 images, not (32, 32, 3); pass --evaluator none or "
     "another extractor"),
    ("emoji", "mnist-sample", (28, 28, 1),
     "the emoji classifier scores 32x32x3 or 64x64x3 images, not (28, 28, 1); pass "
     "--evaluator none or another extractor"),
    ("fid", "mnist-sample", (28, 28, 1),
     "Unknown evaluator 'fid'; choose from auto, none, digit, emoji, inception."),
])
def test_an_extractor_that_does_not_fit_is_refused(name, source, shape, message):
    with pytest.raises(EvaluatorError) as info:
        choose_evaluator(name, source, shape)
    assert str(info.value) == message


def test_clean_images_quantise_then_resize_bicubic():
    from PIL import Image

    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, (3, 8, 8, 3)).astype(np.float32)
    as_uint8 = np.round((x + 1) * 127.5).astype(np.uint8)
    np.testing.assert_array_equal(clean_images(x), clean_images(as_uint8))
    np.testing.assert_allclose(clean_images(x), as_uint8 / 127.5 - 1, atol=1e-6)
    big = clean_images(x, 16)
    assert big.shape == (3, 16, 16, 3) and big.min() >= -1 and big.max() <= 1
    channel = Image.fromarray(as_uint8[1, ..., 2].astype(np.float32), mode="F")
    want = np.clip(np.asarray(channel.resize((16, 16), Image.BICUBIC)), 0, 255) / 127.5 - 1
    np.testing.assert_allclose(big[1, ..., 2], want, atol=1e-6)


def test_same_numbers_from_a_generator_a_folder_and_an_npz(tmp_path, emoji_evaluator):
    """clean-fid's point: float samples in memory, the same samples saved as
    PNGs, and an npz of their uint8 values all give the same features."""
    from PIL import Image

    from keras_gan.data.pipeline import load_dataset

    rng = np.random.default_rng(1)
    fake = np.tanh(rng.normal(size=(6, 32, 32, 3))).astype(np.float32)
    pixels = np.round((fake + 1) * 127.5).astype(np.uint8)
    (tmp_path / "pngs").mkdir()
    for i, image in enumerate(pixels):
        Image.fromarray(image).save(tmp_path / "pngs" / f"{i}.png")
    np.savez(tmp_path / "fake.npz", x=pixels)
    loaded = {}
    for source in (f"folder:{tmp_path / 'pngs'}", f"npz:{tmp_path / 'fake.npz'}"):
        ds, _ = load_dataset(source)
        loaded[source] = np.stack([x for x, _ in ds.as_numpy_iterator()])
    want = emoji_evaluator.features(fake)
    for images in loaded.values():
        # A folder's files come back in name order, as written.
        np.testing.assert_allclose(emoji_evaluator.features(images), want, atol=1e-4)


@needs_data("emoji64")
def test_emoji_classifier_held_out_accuracy(emoji_evaluator):
    """The card's accuracy on the held-out emoji, reproduced from the data as
    `keras-gan train` loads it (on white)."""
    from keras_gan.data.pipeline import load_dataset

    split = emoji_splits(EMOJI_DATA)
    ds, _ = load_dataset("emoji64")
    x = np.stack([x for x, _ in ds.as_numpy_iterator()])[split["test"]]
    accuracy = np.mean(emoji_evaluator.probs(x).argmax(1) == split["y"][split["test"]])
    assert len(split["test"]) == EMOJI_CARD["held_out_rows"]
    assert accuracy == pytest.approx(EMOJI_CARD["held_out_accuracy"]["64px"], abs=0.002)
    assert accuracy > 0.75  # 20 classes: chance is 5%, the largest class ~30%


def test_emoji_classifier_card(emoji_evaluator):
    assert emoji_evaluator.name == "emoji" and emoji_evaluator.num_classes == 20
    assert emoji_evaluator.feature_dim == EMOJI_CARD["feature_dim"] == 128
    assert EMOJI_CARD["class_names"] == list(emoji_class_names())
    assert "Twemoji" in EMOJI_CARD["dataset"] and "Noto" in EMOJI_CARD["dataset"]
    conventions = emoji_evaluator.conventions()
    assert conventions["extractor"] == "emoji" and "bicubic" in conventions["resize"]
