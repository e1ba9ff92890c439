"""The shipped digit classifier and the evaluators built on it."""

import json

import numpy as np
import pytest

from keras_gan.evaluator import (
    DEFAULT_CLASSIFIER,
    HELD_OUT,
    MNIST_SAMPLE,
    DigitEvaluator,
    InceptionEvaluator,
    mnist_splits,
)
from keras_gan.metrics import inception_score

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


def test_inception_imagenet_weights_missing(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    with pytest.raises(ValueError, match="not found") as info:
        InceptionEvaluator()  # raises before building the network, so never downloads
    assert str(tmp_path / "models") in str(info.value)
    with pytest.raises(ValueError, match="No InceptionV3 weights file"):
        InceptionEvaluator(weights=tmp_path / "missing.h5")
