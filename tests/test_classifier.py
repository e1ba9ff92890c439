"""export/classifier.py, and `keras-gan export` of a semi-supervised run
(keras_gan.training.run_folder.export_run): the classifier is written beside
the generator, its entry on the card, Keras and ONNX agree.

The run is a tiny `--gan ssgan` one (3 steps, 16 px wide), trained once for
the module; its accuracy is chance, which is all an export test needs.
"""

import contextlib
import io
import json
import shutil

import keras
import numpy as np
import onnx
import pytest

from export.classifier import export_classifier
from export.classifier_runtime import OnnxClassifier
from export.runtime import OnnxGenerator
from export.writer import ExportError
from keras_gan.cli import main
from keras_gan.training.run_folder import export_run

TOLERANCE = 1e-4
CLASSIFIER_FIELDS = ("test_accuracy", "held_out", "held_out_examples", "labels_per_class",
                     "seed")


def train_tiny_ssgan(out) -> None:
    """A `keras-gan train --gan ssgan` run folder at `out` (a few seconds)."""
    from keras_gan.config import TrainConfig
    from keras_gan.training.trainer import train

    train(TrainConfig(gan="ssgan", labels_per_class=2, epochs=1, steps_per_epoch=3, width=16,
                      gan_options={"d_width": 16}, latent_dim=8, batch_size=16, fd_every=0,
                      num_samples=4, verbose=0, tensorboard=False, out=str(out)))


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp("ssgan") / "run"
    train_tiny_ssgan(out)
    return out


@pytest.fixture(scope="module")
def exported(run, tmp_path_factory):
    """(model folder, card, what `keras-gan export` printed)."""
    out = tmp_path_factory.mktemp("ssgan-export") / "model"
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        assert main(["export", str(run), "--out", str(out)]) == 0
    return out, json.loads((out / "model.json").read_text()), printed.getvalue()


def random_images(n, shape=(28, 28, 1), seed=1):
    return np.random.default_rng(seed).uniform(-1, 1, (n, *shape)).astype(np.float32)


def test_export_writes_the_classifier_beside_the_generator(run, exported):
    out, card, printed = exported
    for f in ("generator.keras", "generator.onnx", "saved_model", "classifier.keras",
              "classifier.onnx", "model.json"):
        assert (out / f).exists(), f
    assert printed.startswith(f"Exported model (image, latent_dim 8, output [28, 28, 1]) "
                              f"to {out}/: ")
    assert "classifier.keras, classifier.onnx, model.json" in printed
    assert card["gan"] == "ssgan" and card["num_classes"] is None  # G is unconditional
    assert card["files"]["classifier_onnx"] == "classifier.onnx"
    entry = card["classifier"]
    assert entry["file"] == "classifier.onnx" and entry["keras_file"] == "classifier.keras"
    assert entry["num_classes"] == 10 and entry["image_shape"] == [28, 28, 1]
    labels = json.loads((run / "labels.json").read_text())
    data = json.loads((run / "data.json").read_text())
    for key in CLASSIFIER_FIELDS:
        assert entry[key] == labels[key], key
    assert entry["labelled_examples"] == len(labels["labelled_rows"]) == 20
    assert entry["class_names"] == data["class_names"]
    assert set(entry["parity_max_abs_error"]) == {"keras", "onnx"}
    assert max(entry["parity_max_abs_error"].values()) <= TOLERANCE


def test_keras_and_onnx_give_the_same_probabilities(run, exported):
    out, _, _ = exported
    x = random_images(5)  # not the export's batch (2) nor its check's (3): N is dynamic
    trained = keras.saving.load_model(run / "classifier.keras", safe_mode=True, compile=False)
    want = np.asarray(trained(x, training=False))
    written = keras.saving.load_model(out / "classifier.keras", safe_mode=True, compile=False)
    onnx_out = OnnxClassifier(out / "classifier.onnx").predict(x)
    assert onnx_out.shape == (5, 10) and onnx_out.dtype == np.float32
    np.testing.assert_allclose(np.asarray(written(x, training=False)), want, atol=TOLERANCE)
    np.testing.assert_allclose(onnx_out, want, atol=TOLERANCE, rtol=0)
    np.testing.assert_allclose(onnx_out.sum(axis=1), 1, atol=1e-5)
    # The generator's images go in as they come out: one contract for both.
    images = OnnxGenerator(out / "generator.onnx").sample(4, seed=0, as_uint8=False)
    np.testing.assert_allclose(OnnxClassifier(out / "classifier.onnx").predict(images),
                               np.asarray(trained(images, training=False)), atol=TOLERANCE)


def test_the_onnx_file_carries_the_card(run, exported):
    out, card, _ = exported
    proto = onnx.load(str(out / "classifier.onnx"))
    assert [i.name for i in proto.graph.input] == ["images"]
    assert [o.name for o in proto.graph.output] == ["probabilities"]
    meta = {p.key: p.value for p in proto.metadata_props}
    assert meta["kind"] == "classifier" and meta["keras_gan_contract"] == "1"
    assert json.loads(meta["test_accuracy"]) == card["classifier"]["test_accuracy"]
    assert json.loads(meta["class_names"]) == card["classifier"]["class_names"]
    assert json.loads(meta["image_shape"]) == [28, 28, 1]
    assert json.loads(meta["value_range"]) == [-1, 1]


def test_reexport_keeps_the_classifier_and_a_plain_one_drops_it(exported, tmp_path):
    out, card, _ = exported
    again = export_run(out, tmp_path / "again")  # an export is a source too
    assert again["classifier"]["test_accuracy"] == card["classifier"]["test_accuracy"]
    assert again["classifier"]["labelled_examples"] == 20
    x = random_images(3)
    np.testing.assert_array_equal(OnnxClassifier(tmp_path / "again" / "classifier.onnx")
                                  .predict(x), OnnxClassifier(out / "classifier.onnx").predict(x))
    # A generator without a classifier over it (--overwrite): no stale classifier stays.
    shutil.copy(out / "generator.keras", tmp_path / "g.keras")
    plain = export_run(tmp_path / "g.keras", tmp_path / "again", overwrite=True)
    assert "classifier" not in plain and "classifier_onnx" not in plain["files"]
    assert not (tmp_path / "again" / "classifier.onnx").exists()
    assert not (tmp_path / "again" / "classifier.keras").exists()
    assert "classifier" not in json.loads((tmp_path / "again" / "model.json").read_text())


def small_classifier(name="x", softmax=True, classes=3, shape=(8, 8, 1)):
    keras.utils.set_random_seed(0)
    x = keras.Input(shape, name=name)
    y = keras.layers.Dense(classes)(keras.layers.Flatten()(x))
    if softmax:
        y = keras.layers.Softmax()(y)
    return keras.Model(x, y, name="small")


def test_a_classifier_built_elsewhere_gets_the_contracts_input_name(tmp_path):
    model = small_classifier("picture")
    entry = export_classifier(model, tmp_path / "m", {"class_names": ["a", "b", "c"]})
    assert entry["class_names"] == ["a", "b", "c"] and entry["test_accuracy"] is None
    runtime = OnnxClassifier(tmp_path / "m" / "classifier.onnx")
    assert runtime.class_names == ["a", "b", "c"] and runtime.image_shape == (8, 8, 1)
    assert "test_accuracy" not in runtime.metadata  # unknown: left out, not "null"
    x = random_images(3, (8, 8, 1))
    np.testing.assert_allclose(runtime.predict(x), np.asarray(model(x)), atol=TOLERANCE)
    loaded = keras.saving.load_model(tmp_path / "m" / "classifier.keras", safe_mode=True)
    assert loaded.inputs[0].name == "images"


def test_export_classifier_refuses(tmp_path, exported):
    def message(model, fields=None, out="m"):
        with pytest.raises(ExportError) as e:
            export_classifier(model, tmp_path / out, fields)
        return str(e.value)

    assert message(small_classifier(softmax=False)).startswith(
        "small's outputs are not probabilities: rows sum to [")
    assert list((tmp_path / "m").iterdir()) == []  # checked after writing: both removed
    assert message(small_classifier(), {"class_names": ["a", "b"]}) == (
        "2 class names for a classifier of 3 classes")
    assert message(small_classifier(), {"accuracy": 1}) == (
        "unknown classifier card field(s) ['accuracy']; known: ['class_names', "
        "'test_accuracy', 'held_out', 'held_out_examples', 'labels_per_class', "
        "'labelled_examples', 'seed']")
    generator = keras.saving.load_model(exported[0] / "generator.keras", safe_mode=True)
    assert message(generator) == (
        "generator is not an image classifier: it maps (8,) -> (28, 28, 1), expected "
        "(H, W, C) -> (K,), K >= 2")
    assert message("model.keras") == "not an image classifier (one input, one output): " \
                                     "'model.keras'"
    (tmp_path / "file").write_text("")
    assert message(small_classifier(), out="file") == (
        f"{tmp_path}/file is a file, not a folder: give a model folder to write")
