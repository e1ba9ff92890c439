"""export/classifier_runtime.py: OnnxClassifier on a tiny semi-supervised
run's exported classifier: its attributes, predictions, picture
conversions, top classes, refusals, and that it runs without TensorFlow."""

import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from test_classifier import random_images, train_tiny_ssgan

from export.classifier import export_classifier
from export.classifier_runtime import ClassifierError, OnnxClassifier
from export.projection import to_model_input

REPO = Path(__file__).resolve().parents[1]
NAMES = [str(i) for i in range(10)]


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    import keras

    root = tmp_path_factory.mktemp("ssgan-runtime")
    train_tiny_ssgan(root / "run")
    classifier = keras.saving.load_model(root / "run" / "classifier.keras", safe_mode=True)
    export_classifier(classifier, root / "model", {"class_names": NAMES, "test_accuracy": 0.25,
                                                   "labels_per_class": 2})
    return root / "model"


@pytest.fixture(scope="module")
def clf(folder):
    return OnnxClassifier(folder / "classifier.onnx")


def test_what_it_knows(clf):
    assert clf.num_classes == 10 and clf.class_names == NAMES
    assert clf.image_shape == (28, 28, 1) and clf.test_accuracy == 0.25
    assert clf.metadata["labels_per_class"] == 2 and clf.metadata["kind"] == "classifier"
    assert clf.provider == "CPUExecutionProvider"


def test_predict_gives_probabilities(clf):
    p = clf.predict(random_images(4))
    assert p.shape == (4, 10) and p.dtype == np.float32
    assert (p >= 0).all()
    np.testing.assert_allclose(p.sum(axis=1), 1, atol=1e-5)
    # float64 and whole numbers in range are images too
    np.testing.assert_allclose(clf.predict(random_images(2).astype(np.float64)),
                               clf.predict(random_images(2)), atol=1e-6)


@pytest.mark.parametrize("images, message", [
    (np.zeros((28, 28, 1), np.float32), "images must have shape (N, 28, 28, 1), got (28, 28, 1)"),
    (np.zeros((2, 32, 32, 1), np.float32),
     "images must be 28x28 pixels, got 32x32; predict_uint8 resizes pictures"),
    (np.zeros((2, 28, 28, 3), np.float32),
     "images must have 1 channel(s), got 3; predict_uint8 converts grey and colour"),
    (np.zeros((1, 28, 28, 1), np.uint8),
     "images must be float in [-1, 1], got uint8; predict_uint8 takes uint8 pictures"),
    (np.full((1, 28, 28, 1), 2.0), "images must be in [-1, 1], got values in [2, 2]"),
    (np.full((1, 28, 28, 1), np.nan), "images must be finite"),
    (np.zeros((0, 28, 28, 1), np.float32), "between 1 and 1024 images, got 0"),
    ("digits", "images must hold real numbers, got dtype <U6"),
])
def test_predict_refuses_with_a_clear_message(clf, images, message):
    with pytest.raises(ClassifierError) as e:
        clf.predict(images)
    assert str(e.value) == message


def test_predict_uint8_takes_pictures_of_any_size(clf):
    rng = np.random.default_rng(0)
    rgb = rng.integers(0, 256, (100, 100, 3), dtype=np.uint8)
    p = clf.predict_uint8(rgb)
    assert p.shape == (10,) and p.dtype == np.float32
    np.testing.assert_allclose(p.sum(), 1, atol=1e-5)
    # the same conversion as the projection's (and the translators')
    x, _ = to_model_input(rgb, (28, 28, 1))
    np.testing.assert_allclose(p, clf.predict(x[None])[0], atol=1e-6)
    # a list of pictures of different sizes and kinds: grey, RGBA
    grey = rng.integers(0, 256, (50, 40), dtype=np.uint8)
    rgba = rng.integers(0, 256, (30, 30, 4), dtype=np.uint8)
    both = clf.predict_uint8([grey, rgba])
    assert both.shape == (2, 10)
    np.testing.assert_allclose(both[0], clf.predict_uint8(grey), atol=1e-6)
    assert clf.predict_uint8(np.stack([rgb, rgb])).shape == (2, 10)


def test_predict_uint8_inverts_a_drawing_like_the_projection(clf):
    drawing = np.full((200, 200), 255, np.uint8)  # dark strokes on white
    drawing[40:160, 95:105] = 0
    auto = clf.predict_uint8(drawing)
    inverted = clf.predict(to_model_input(drawing, (28, 28, 1), invert=True)[0][None])[0]
    np.testing.assert_allclose(auto, inverted, atol=1e-6)
    framed = to_model_input(drawing, (28, 28, 1), frame=0.71)[0]
    np.testing.assert_allclose(clf.predict_uint8(drawing, frame=0.71),
                               clf.predict(framed[None])[0], atol=1e-6)


@pytest.mark.parametrize("pictures, message", [
    (np.zeros((28, 28), np.float32), "pictures must be uint8, got dtype float32; predict "
                                     "takes floats in [-1, 1]"),
    (np.zeros((2, 2, 28, 28, 1), np.uint8), "pictures must be (H, W), (H, W, C), "
                                            "(N, H, W, C) or a list of pictures, got shape "
                                            "(2, 2, 28, 28, 1)"),
    (np.zeros((28, 28, 5), np.uint8), "an image must be (H, W) or (H, W, 1-4 channels), got "
                                      "shape (28, 28, 5)"),
    ([], "between 1 and 1024 images, got 0"),
])
def test_predict_uint8_refuses(clf, pictures, message):
    with pytest.raises(ClassifierError) as e:
        clf.predict_uint8(pictures)
    assert str(e.value) == message


def test_top_names_the_likeliest_classes(clf):
    x = random_images(3)
    p = clf.predict(x)
    top = clf.top(x[0])
    assert len(top) == 3 and [name for name, _ in top] == [
        NAMES[j] for j in np.argsort(-p[0], kind="stable")[:3]]
    assert [q for _, q in top] == sorted((q for _, q in top), reverse=True)
    np.testing.assert_allclose([q for _, q in top], np.sort(p[0])[::-1][:3], atol=1e-6)
    batch = clf.top(x, k=2)
    assert len(batch) == 3 and all(len(row) == 2 for row in batch) and batch[0] == top[:2]
    assert len(clf.top(x[0], k=50)) == 10  # k beyond K: every class
    for k in (0, 1.5, True):
        with pytest.raises(ClassifierError, match="k must be a positive integer"):
            clf.top(x[0], k=k)


def test_not_a_classifier_file(clf, folder, tmp_path, exported):
    with pytest.raises(ClassifierError, match="no classifier file at"):
        OnnxClassifier(tmp_path / "missing.onnx")
    (tmp_path / "bad.onnx").write_bytes(b"not onnx")
    with pytest.raises(ClassifierError, match="is not a loadable ONNX model"):
        OnnxClassifier(tmp_path / "bad.onnx")
    with pytest.raises(ClassifierError) as e:  # a generator is no classifier
        OnnxClassifier(exported("dcgan") / "generator.onnx")
    assert "is not a keras-gan classifier: it needs input 'images' float32 [N, H, W, C], " \
           "output 'probabilities' [N, K] and metadata kind=classifier; it has inputs " \
           "[('z', 'tensor(float)', [" in str(e.value)


NO_TF = textwrap.dedent("""
    import sys
    for name in ("tensorflow", "keras", "tf_keras"):
        sys.modules[name] = None  # `import tensorflow` now raises ImportError
    import numpy as np
    from export.classifier_runtime import OnnxClassifier
    clf = OnnxClassifier(sys.argv[1])
    p = clf.predict_uint8(np.full((100, 100, 3), 255, np.uint8))
    print("SUM", repr(float(p.sum())))
    print("TOP", clf.top(np.zeros((28, 28, 1), np.float32), k=1)[0][0])
    loaded = {m for m in sys.modules if sys.modules[m] is not None}
    print("TF", any(m == "tensorflow" or m.startswith("tensorflow.") for m in loaded))
    print("KERAS", any(m == "keras" or m.startswith("keras.") for m in loaded))
""")


def test_runtime_without_tensorflow(clf, folder):
    proc = subprocess.run([sys.executable, "-c", NO_TF, str(folder / "classifier.onnx")],
                          cwd=REPO, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    lines = dict(line.split(" ", 1) for line in proc.stdout.strip().splitlines())
    assert lines["TF"] == "False" and lines["KERAS"] == "False"
    assert abs(float(lines["SUM"]) - 1) < 1e-5
    assert lines["TOP"] == clf.top(np.zeros((28, 28, 1), np.float32), k=1)[0][0]
