"""keras_gan/training/semi.py: `--gan ssgan` through `train(cfg)` and the
CLI, with the GAN runs' folder, checkpoints, resume, metrics and export (#30)."""

from __future__ import annotations

import csv
import json

import keras
import numpy as np
import pytest

from keras_gan.cli import main
from keras_gan.config import ConfigError
from keras_gan.errors import DataError
from keras_gan.models.gans import configure
from keras_gan.models.semi_supervised import SemiSupervisedGAN
from keras_gan.training.checkpoints import read_checkpoint_step
from keras_gan.training.semi import semi_stream
from keras_gan.training.trainer import train


def bands(path, size=8, step=3):
    """60 labelled size x size images, 3 classes: a bright band at rows
    step c, step c + 1; written to `path` (npz)."""
    rng = np.random.default_rng(0)
    y = np.arange(60) % 3
    x = rng.integers(0, 40, (60, size, size, 1))
    for i, c in enumerate(y):
        x[i, step * c:step * c + 2] = 255
    np.savez(path, x=x.astype(np.uint8), y=y)
    return path


@pytest.fixture(scope="module")
def npz(tmp_path_factory):
    return bands(tmp_path_factory.mktemp("data") / "bands.npz")


def tiny(tmp_path, dataset, name="run", **fields):
    values = {**dict(gan="ssgan", dataset=dataset, labels_per_class=2, width=8, batch_size=6,
                     epochs=2, steps_per_epoch=3, gan_options={"d_width": 16}, verbose=0,
                     tensorboard=False, checkpoint_every=1000, out=str(tmp_path / name)),
              **fields}
    return configure(values)


def metrics(run_dir):
    with open(run_dir / "metrics.csv") as f:
        return list(csv.DictReader(f))


def test_a_run_writes_its_classifier_and_the_labels_it_used(npz, tmp_path):
    result = train(tiny(tmp_path, f"npz:{npz}"))
    run = result.run_dir
    assert result.step == 6 and isinstance(result.model, SemiSupervisedGAN)
    rows = metrics(run)
    assert [r["step"] for r in rows] == ["3", "6"]
    assert {"d_loss", "g_loss", "supervised", "test_error"} <= set(rows[0])
    labels = json.loads((run / "labels.json").read_text())
    assert labels["labels_per_class"] == 2 and len(labels["labelled_rows"]) == 6
    assert labels["held_out_examples"] == 12  # 20% of each class of 60
    assert labels["test_error"] == pytest.approx(float(rows[-1]["test_error"]))
    # the recipe's rates and the paper's beta_1
    assert result.model.d_optimizer.beta_1 == pytest.approx(0.5)
    classifier = keras.saving.load_model(run / "classifier.keras", safe_mode=True)
    x = np.zeros((2, 8, 8, 1), "float32")
    # the recipe's classifier: the running average of D (0.999), not D itself
    assert result.model.classifier_decay == pytest.approx(0.999)
    expected = keras.ops.softmax(result.model.averaged_discriminator(x)[0])
    np.testing.assert_allclose(classifier(x), expected, atol=1e-5)
    assert (run / "generator.keras").is_file() and (run / "gan.keras").is_file()


def test_the_same_seed_picks_the_same_labels_and_another_seed_others(npz, tmp_path):
    a = train(tiny(tmp_path, f"npz:{npz}", "a", epochs=1, steps_per_epoch=1)).run_dir
    b = train(tiny(tmp_path, f"npz:{npz}", "b", epochs=1, steps_per_epoch=1)).run_dir
    c = train(tiny(tmp_path, f"npz:{npz}", "c", epochs=1, steps_per_epoch=1, seed=5)).run_dir
    rows = [json.loads((r / "labels.json").read_text())["labelled_rows"] for r in (a, b, c)]
    assert rows[0] == rows[1] and rows[0] != rows[2]


def test_resume_continues_with_the_optimizer_state(npz, tmp_path):
    cfg = tiny(tmp_path, f"npz:{npz}", checkpoint_every=3)
    train(configure({**cfg.to_dict(), "epochs": 1}))
    run = tmp_path / "run"
    assert read_checkpoint_step(run / "checkpoints") == 3
    resumed = train(configure({**cfg.to_dict(), "resume": True}))
    assert resumed.step == 6
    assert int(resumed.model.d_optimizer.iterations.numpy()) == 6
    assert [r["step"] for r in metrics(run)] == ["3", "6"]


class _StopAt(keras.callbacks.Callback):
    """Stops `fit` after `step` updates, as a crash would (the checkpoint at
    that step is written first: the Checkpoint callback runs before it)."""

    def __init__(self, step):
        super().__init__()
        self.step = step

    def on_train_batch_end(self, batch, logs=None):
        if int(self.model.d_optimizer.iterations.numpy()) >= self.step:
            self.model.stop_training = True


def test_an_interrupted_run_resumes_to_the_weights_of_an_uninterrupted_one(npz, tmp_path):
    # noise in D and the recipe's linear rate decay: both must resume in place
    options = {"d_width": 16, "input_noise": 0.3, "hidden_noise": 0.5}
    whole = train(tiny(tmp_path, f"npz:{npz}", name="whole", gan_options=options)).model
    cfg = tiny(tmp_path, f"npz:{npz}", name="cut", checkpoint_every=3, gan_options=options)
    assert cfg.lr_schedule == "linear"
    train(cfg, callbacks=[_StopAt(3)])
    assert read_checkpoint_step(tmp_path / "cut" / "checkpoints") == 3
    resumed = train(configure({**cfg.to_dict(), "resume": True})).model
    for net in ("discriminator", "generator", "averaged_discriminator"):
        for a, b in zip(getattr(whole, net).weights, getattr(resumed, net).weights,
                        strict=True):
            np.testing.assert_array_equal(np.asarray(a), np.asarray(b), err_msg=net)


def test_the_averaged_classifier_is_the_one_saved_and_its_checkpoint_restores_it(
        npz, tmp_path):
    from keras_gan.training.checkpoints import restore_checkpoint
    from keras_gan.training.semi import build_semi_model, check_settings

    options = {"d_width": 16, "classifier_average": 0.9}
    cfg = tiny(tmp_path, f"npz:{npz}", checkpoint_every=3, epochs=1, gan_options=options)
    model = train(cfg).model  # 3 steps, a checkpoint at step 3, the last
    assert model.classifier_decay == pytest.approx(0.9)
    x = np.zeros((2, 8, 8, 1), "float32")
    run = tmp_path / "run"
    classifier = keras.saving.load_model(run / "classifier.keras", safe_mode=True)
    np.testing.assert_allclose(classifier(x), model.classifier(x), atol=1e-5)
    assert not np.allclose(classifier(x), keras.ops.softmax(model.discriminator(x)[0]))
    # A resumed run gets the average back from the checkpoint, not D's weights.
    fresh = build_semi_model(cfg, check_settings(cfg), (8, 8, 1), 3, 3, 1)
    assert restore_checkpoint(fresh, run / "checkpoints") == 3
    for a, b in zip(model.averaged_discriminator.weights,
                    fresh.averaged_discriminator.weights, strict=True):
        np.testing.assert_allclose(np.array(a), np.array(b), rtol=1e-6)


def test_export_writes_a_classifier_onnx_that_matches_keras(npz, tmp_path):
    from export.classifier_runtime import OnnxClassifier

    run = train(tiny(tmp_path, f"npz:{npz}")).run_dir
    assert main(["export", str(run), "--out", str(tmp_path / "model")]) == 0
    onnx = OnnxClassifier(tmp_path / "model" / "classifier.onnx")
    classifier = keras.saving.load_model(run / "classifier.keras", safe_mode=True)
    x = np.random.default_rng(1).uniform(-1, 1, (4, 8, 8, 1)).astype("float32")
    np.testing.assert_allclose(onnx.predict(x), classifier(x), atol=1e-4)
    card = json.loads((tmp_path / "model" / "model.json").read_text())
    labels = json.loads((run / "labels.json").read_text())
    assert card["classifier"]["test_accuracy"] == pytest.approx(labels["test_accuracy"])
    assert card["classifier"]["labels_per_class"] == 2


def test_a_conv_d_run_exports_a_classifier_onnx_that_matches_keras(tmp_path):
    from export.classifier_runtime import OnnxClassifier

    source = f"npz:{bands(tmp_path / 'bands12.npz', size=12, step=4)}"
    cfg = tiny(tmp_path, source, gan_options={"d_arch": "conv", "d_channels": 4})
    run = train(cfg).run_dir
    classifier = keras.saving.load_model(run / "classifier.keras", safe_mode=True)
    assert any(isinstance(layer, keras.layers.Conv2D) for layer in classifier.layers)
    assert main(["export", str(run), "--out", str(tmp_path / "model")]) == 0
    onnx = OnnxClassifier(tmp_path / "model" / "classifier.onnx")
    x = np.random.default_rng(1).uniform(-1, 1, (4, 12, 12, 1)).astype("float32")
    np.testing.assert_allclose(onnx.predict(x), classifier(x), atol=1e-4)
    with pytest.raises(ConfigError, match="needs images of at least 9x9, got 8x8"):
        train(tiny(tmp_path, source, name="small", image_size=8,
                   gan_options={"d_arch": "conv"}))


def test_refusals_name_the_problem(npz, tmp_path):
    with pytest.raises(ConfigError, match="--labels-per-class is for --gan ssgan"):
        train(configure(dict(gan="dcgan", dataset=f"npz:{npz}", labels_per_class=2,
                             out=str(tmp_path / "x"))))
    with pytest.raises(ConfigError, match="needs --labels-per-class"):
        train(tiny(tmp_path, f"npz:{npz}", labels_per_class=None))
    with pytest.raises(DataError, match="class 0 .*has only 16"):
        train(tiny(tmp_path, f"npz:{npz}", labels_per_class=17))
    plain = tmp_path / "plain.npz"
    np.savez(plain, x=np.zeros((20, 8, 8, 1), np.uint8))
    with pytest.raises(DataError, match="label"):
        train(tiny(tmp_path, f"npz:{plain}"))
    assert not (tmp_path / "run").exists()  # nothing written before the refusal


def test_the_stream_pairs_unlabelled_and_labelled_batches_and_resumes_in_place():
    x = np.arange(10, dtype="float32").reshape(10, 1, 1, 1)
    xl, yl = x[:3], np.arange(3)
    whole = list(semi_stream(x, xl, yl, 4, seed=0).take(5).as_numpy_iterator())
    (u, (lab, y)) = whole[0]
    assert u.shape == (4, 1, 1, 1) and lab.shape == (4, 1, 1, 1) and y.shape == (4,)
    assert set(lab.ravel().tolist()) <= {0.0, 1.0, 2.0}
    np.testing.assert_array_equal(lab.ravel(), y)  # labels travel with their images
    skipped = list(semi_stream(x, xl, yl, 4, seed=0, skip_batches=3).take(2)
                   .as_numpy_iterator())
    for a, b in zip(whole[3:], skipped, strict=True):
        np.testing.assert_array_equal(a[0], b[0])
        np.testing.assert_array_equal(a[1][0], b[1][0])
    with pytest.raises(ConfigError, match="larger than the 10 training images"):
        semi_stream(x, xl, yl, 11, seed=0)
