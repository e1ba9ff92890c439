"""export/projection.py, export/encoder.py and export/gradient_ops.py: the
encoder and projector files, gradient parity with TensorFlow for every image
architecture, refinement, conversions and errors, and no TensorFlow at run
time."""

import json
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import keras
import numpy as np
import pytest

from export.encoder import (
    ENCODER_ONNX,
    PROJECTOR_FEATURES_ONNX,
    PROJECTOR_ONNX,
    projector_function,
    write_projector,
)
from export.projection import ProjectionError, Projector, resize, to_model_input
from export.runtime import OnnxGenerator
from keras_gan.config import ARCHS
from keras_gan.evaluation.classifiers import _classifier
from keras_gan.models.clusters import unconditional_sampler
from keras_gan.models.encoder import encoder_for
from keras_gan.models.networks import build_networks

REPO = Path(__file__).resolve().parents[1]
IMAGE_ARCHS = [a for a in ARCHS if a not in ("auto", "mlp")]
SHAPES = {"dcgan": (28, 28, 1), "tutorial": (28, 28, 1), "resnet": (32, 32, 3)}


def tiny_features(shape):
    """A classifier-shaped feature model (conv, BN, ReLU, max pooling, dense)."""
    keras.utils.set_random_seed(1)
    model = _classifier(shape, (4, "pool", 4, "pool"), 8, 3, "tiny_classifier")
    return keras.Model(model.inputs, model.get_layer("features").output)


# -- the gradient graph: parity with TensorFlow for every architecture -------------


# Every architecture, and labels on some (each case is a conversion: seconds).
@pytest.mark.parametrize("arch", IMAGE_ARCHS)
def test_projector_matches_tensorflow_for_every_architecture(arch, tmp_path):
    conditional = arch != "dcgan"
    keras.utils.set_random_seed(0)
    g, _ = build_networks(arch, 8, SHAPES[arch], 4, num_classes=3 if conditional else None)
    # Features at twice the side exercise the up-sampling (a broadcast) in the loss;
    # resnet's G up-samples with UpSampling2D (the ResizeNearestNeighborGrad handler).
    side = SHAPES[arch][0] * (2 if arch == "resnet" else 1)
    features = tiny_features((side, side, SHAPES[arch][2]))
    error = write_projector(g, tmp_path / "p.onnx", batch=2, features=features,
                            feature_weight=0.5, prior_weight=0.1)
    assert error < 1e-4  # every output, relative: loss, grad, images, pixel_error


def test_projector_of_a_clustered_sampler_has_no_gradient_along_the_cluster(tmp_path):
    keras.utils.set_random_seed(0)
    inner, _ = build_networks("dcgan", 7, (28, 28, 1), 4, num_classes=2)
    sampler = unconditional_sampler(inner, [0.5, 0.5])
    assert write_projector(sampler, tmp_path / "p.onnx", batch=2) < 1e-4
    fn, _ = projector_function(sampler, 2)
    z = np.random.default_rng(0).standard_normal((2, 8)).astype("float32")
    grad = fn(z, np.zeros((2, 28, 28, 1), "float32"))["grad"].numpy()
    assert np.all(grad[:, 0] == 0) and np.abs(grad[:, 1:]).max() > 0


# factor 2: features at twice G's side, as the shipped emoji-32 projector (32 px
# into the 64 px emoji classifier): each pixel becomes a 2x2 block (nearest).
@pytest.mark.parametrize("factor", [1, 2])
def test_loss_is_pixels_plus_features_plus_prior_by_hand(factor):
    keras.utils.set_random_seed(0)
    g, _ = build_networks("dcgan", 8, (28, 28, 1), 4)
    features = tiny_features((28 * factor, 28 * factor, 1))
    rng = np.random.default_rng(0)
    z = rng.standard_normal((2, 8)).astype("float32")
    target = rng.uniform(-1, 1, (2, 28, 28, 1)).astype("float32")
    fn, _ = projector_function(g, 2, features, feature_weight=0.5, prior_weight=0.1)
    out = {k: v.numpy() for k, v in fn(z, target).items()}
    images = g(z, training=False).numpy()
    pixel = ((images - target) ** 2).mean(axis=(1, 2, 3))
    def up(x):
        return np.repeat(np.repeat(x, factor, axis=1), factor, axis=2)

    fa, fb = features(up(images)).numpy(), features(up(target)).numpy()
    feat = ((fa - fb) ** 2).sum(-1) / ((fb ** 2).sum(-1) + 1e-3)
    prior = ((z ** 2).mean(-1) - 1) ** 2
    np.testing.assert_allclose(out["pixel_error"], pixel, rtol=1e-5)
    np.testing.assert_allclose(out["loss"], pixel + 0.5 * feat + 0.1 * prior, rtol=1e-4)
    np.testing.assert_allclose(out["images"], images, atol=1e-6)


# -- an exported model with an encoder ---------------------------------------------


@pytest.fixture(scope="module")
def folder(exported, tmp_path_factory):
    """The tiny exported dcgan with a 60-step encoder (digit features)."""
    out = tmp_path_factory.mktemp("projection") / "model"
    shutil.copytree(exported("dcgan"), out)
    card = json.loads((out / "model.json").read_text())
    card["training_config"] = {"dataset": "mnist-sample"}
    (out / "model.json").write_text(json.dumps(card))
    encoder_for(out, steps=60, batch_size=32)
    return out


@pytest.fixture(scope="module")
def gen(folder):
    return OnnxGenerator(folder / "generator.onnx")


def test_encoder_writes_its_files_and_card(folder):
    for name in (ENCODER_ONNX, PROJECTOR_ONNX, PROJECTOR_FEATURES_ONNX, "encoder.keras"):
        assert (folder / name).is_file()
    entry = json.loads((folder / "model.json").read_text())["encoder"]
    assert entry["steps"] == 60 and entry["projector"]["features"] == "digit"
    assert "2000 held-out rows left out" in entry["real_images"]
    assert entry["projector"]["parity_max_rel_error"] < 1e-4


def test_encoder_onnx_matches_keras(folder):
    encoder = keras.saving.load_model(folder / "encoder.keras", safe_mode=True)
    x = np.random.default_rng(0).uniform(-1, 1, (5, 28, 28, 1)).astype("float32")
    import onnxruntime as ort

    got = ort.InferenceSession(str(folder / ENCODER_ONNX)).run(["z"], {"images": x})[0]
    np.testing.assert_allclose(got, encoder.predict(x, verbose=0), atol=1e-4)


def test_refinement_finds_the_latent_of_the_generators_own_image(gen):
    z_true = np.random.default_rng(3).standard_normal((4, gen.latent_dim)).astype("float32")
    target = gen.run(z_true)
    start = gen.project(target, steps=0)
    refined = gen.project(target, steps=150, learning_rate=0.05, features=False)
    assert refined.steps == 150
    assert np.all(refined.loss <= start.loss)  # the best latent is kept
    assert refined.error.mean() < 0.5 * start.error.mean()
    # The reconstruction is the generator's picture of the returned latent.
    np.testing.assert_allclose(refined.images, gen.run(refined.z), atol=1e-5)


def test_steps_zero_is_the_encoder_alone(gen, folder):
    x = np.random.default_rng(0).uniform(-1, 1, (3, 28, 28, 1)).astype("float32")
    p = gen.project(x, steps=0)
    z, labels = Projector(gen).encode(x)
    np.testing.assert_array_equal(p.z, z)
    assert labels is None and p.labels is None
    np.testing.assert_allclose(p.error, ((gen.run(z) - x) ** 2).mean(axis=(1, 2, 3)),
                               rtol=1e-5)


def test_iterate_yields_what_project_returns_at_each_step_count(gen):
    x = np.random.default_rng(2).uniform(-1, 1, (3, 28, 28, 1)).astype("float32")
    seen = list(Projector(gen).iterate(x, 6, features=False, at=(0, 2)))
    assert [p.steps for p in seen] == [0, 2, 6]
    for p in seen:
        again = gen.project(x, steps=p.steps, features=False)
        np.testing.assert_array_equal(p.z, again.z)
    assert np.all(seen[2].loss <= seen[1].loss) and np.all(seen[1].loss <= seen[0].loss)


def test_a_batch_not_a_multiple_of_the_projectors_is_padded(gen):
    x = np.random.default_rng(1).uniform(-1, 1, (11, 28, 28, 1)).astype("float32")
    whole = gen.project(x, steps=3)
    parts = [gen.project(x[i:i + 1], steps=3) for i in (0, 10)]
    np.testing.assert_allclose(whole.z[[0, 10]], np.concatenate([p.z for p in parts]),
                               atol=1e-5)


HINT = "; export.projection.to_model_input converts uint8, other sizes and channels"


@pytest.mark.parametrize("images, message", [
    (np.zeros((2, 32, 32, 1), "float32"), "images must be 28x28 pixels, got 32x32; export."
                                          "projection.to_model_input converts uint8, other "
                                          "sizes and channels"),
    (np.zeros((2, 28, 28, 3), "float32"), "images must have 1 channel(s), got 3" + HINT),
    (np.zeros((2, 28, 28), "float32"), "images must be (N, H, W, C) = (N, 28, 28, 1), got "
                                       "shape (2, 28, 28)" + HINT),
    (np.zeros((2, 28, 28, 1), "uint8"), "images must be float in [-1, 1], got uint8" + HINT),
    (np.full((1, 28, 28, 1), 255.0, "float32"),
     "images must be in [-1, 1], got values in [255, 255]" + HINT),
    (np.full((1, 28, 28, 1), np.nan, "float32"), "images must be finite"),
    (np.zeros((0, 28, 28, 1), "float32"), "between 1 and 1024 images, got 0"),
])
def test_project_refuses_images_it_cannot_take(gen, images, message):
    with pytest.raises(ProjectionError, match=re.escape(message)):
        gen.project(images)


@pytest.mark.parametrize("kwargs, message", [
    ({"steps": -1}, "steps must be an integer in [0, 2000], got -1"),
    ({"steps": 1.5}, "steps must be an integer in [0, 2000], got 1.5"),
    ({"learning_rate": 0}, "learning_rate must be in (0, 10], got 0"),
    ({"labels": 1}, "this generator is unconditional: labels must be None"),
])
def test_project_refuses_bad_requests(gen, kwargs, message):
    with pytest.raises(ProjectionError, match=re.escape(message)):
        gen.project(np.zeros((1, 28, 28, 1), "float32"), **kwargs)


def test_a_folder_without_an_encoder_says_how_to_make_one(exported):
    gen = OnnxGenerator(exported("dcgan") / "generator.onnx")
    with pytest.raises(ProjectionError, match=re.escape(
            "has no encoder.onnx or projector.onnx: make them with `keras-gan encoder ")):
        gen.project(np.zeros((1, 28, 28, 1), "float32"))


# -- the clustered and conditional encoders ----------------------------------------


def test_clustered_encoder_puts_the_cluster_code_first(tmp_path):
    from keras_gan.models.encoder import cluster_codes, clustered_parts, train_encoder

    keras.utils.set_random_seed(0)
    inner, _ = build_networks("dcgan", 7, (28, 28, 1), 4, num_classes=2)
    sampler = unconditional_sampler(inner, [0.25, 0.75])
    got_inner, draw = clustered_parts(sampler)
    assert got_inner is inner
    # Boundary at the 25% quantile; each code is its interval's median:
    # the 12.5% and 62.5% quantiles of N(0, 1).
    np.testing.assert_allclose(cluster_codes(draw, 2), [-1.150349, 0.318639], atol=1e-4)
    x = np.random.default_rng(0).uniform(-1, 1, (64, 28, 28, 1)).astype("float32")
    encoder, history = train_encoder(sampler, x, steps=10, batch_size=16)
    z = encoder.predict(x[:8], verbose=0)
    assert z.shape == (8, 8)
    codes = np.array([-1.150349, 0.318639])
    assert np.abs(z[:, :1] - codes).min(axis=1).max() < 1e-5
    assert "class_accuracy" in history


def test_conditional_encoder_returns_labels(exported, tmp_path):
    out = tmp_path / "cond"
    shutil.copytree(exported("dcgan", conditional=True), out)
    encoder_for(out, dataset="mnist-sample", steps=20, batch_size=16, feature_weight=0)
    assert not (out / PROJECTOR_FEATURES_ONNX).exists()
    gen = OnnxGenerator(out / "generator.onnx")
    x = np.random.default_rng(0).uniform(-1, 1, (3, 28, 28, 1)).astype("float32")
    p = gen.project(x, steps=2)
    assert p.labels.dtype == np.int64 and p.labels.shape == (3,)
    forced = gen.project(x, steps=2, labels=[4, 4, 4])
    np.testing.assert_array_equal(forced.labels, [4, 4, 4])
    np.testing.assert_allclose(forced.images, gen.run(forced.z, forced.labels), atol=1e-5)
    with pytest.raises(ProjectionError, match=re.escape(
            "no projector_features.onnx beside generator.onnx: no evaluator fits this "
            "model; project with features=False")):
        gen.project(x, features=True)


def test_encoder_training_lowers_its_losses():
    from keras_gan.models.encoder import train_encoder

    keras.utils.set_random_seed(0)
    g, _ = build_networks("dcgan", 8, (28, 28, 1), 4)
    x = g.predict(np.random.default_rng(0).standard_normal((256, 8)).astype("float32"),
                  verbose=0)
    _, history = train_encoder(g, x, steps=200, batch_size=32)
    assert history["latent_loss"][-1] < 0.8 * history["latent_loss"][0]
    assert history["image_loss"][-1] < history["image_loss"][0]


def test_latent_path_switches_a_clustered_models_cluster_halfway():
    from export.projection import latent_path
    from export.runtime import slerp

    rng = np.random.default_rng(0)
    a, b = rng.standard_normal(5).astype("float32"), rng.standard_normal(5).astype("float32")
    t = np.linspace(0, 1, 6)
    np.testing.assert_allclose(latent_path(a, b, 6), slerp(a, b, t))
    path = latent_path(a, b, 6, discrete_first=True)
    np.testing.assert_array_equal(path[:, 0], [a[0]] * 3 + [b[0]] * 3)
    np.testing.assert_allclose(path[:, 1:], slerp(a[1:], b[1:], t), atol=1e-6)


# -- conversions ---------------------------------------------------------------------


def test_to_model_input_converts_a_black_on_white_rgba_drawing():
    page = np.full((280, 280, 4), 255, np.uint8)
    page[60:220, 130:150, :3] = 0  # a black "1", off-centre to the right
    x, notes = to_model_input(page, (28, 28, 1), frame=0.71)
    assert x.shape == (28, 28, 1) and x.dtype == np.float32
    assert x[0, 0, 0] == -1.0 and x.max() > 0.9  # inverted: white ink on black
    ink_cols = np.flatnonzero((x[..., 0] > 0).any(axis=0))
    assert abs((ink_cols[0] + ink_cols[-1]) / 2 - 13.5) <= 1  # centred
    assert any("inverted" in n for n in notes) and any("alpha" in n for n in notes)


def test_to_model_input_colour_to_grey_is_luma_and_grey_to_colour_repeats():
    red = np.zeros((4, 4, 3), np.uint8)
    red[..., 0] = 255
    x, _ = to_model_input(red, (4, 4, 1), invert=False)
    np.testing.assert_allclose(x, 0.299 * 2 - 1, atol=1e-6)
    y, _ = to_model_input(np.full((4, 4), 0.5, np.float32), (4, 4, 3), invert=False)
    assert y.shape == (4, 4, 3) and np.allclose(y, 0.0)


def test_resize_averages_down_and_keeps_constants():
    x = np.arange(16, dtype=np.float32).reshape(4, 4, 1)
    np.testing.assert_allclose(resize(x, 2, 2)[..., 0], [[2.5, 4.5], [10.5, 12.5]])
    np.testing.assert_allclose(resize(np.full((3, 5, 2), 0.25, np.float32), 7, 9), 0.25,
                               atol=1e-6)


@pytest.mark.parametrize("image, message", [
    (np.zeros((4, 4, 5)), "an image must be (H, W) or (H, W, 1-4 channels), got shape "
                          "(4, 4, 5)"),
    (np.full((4, 4), 300.0), "pixel values must be in [0, 255], [0, 1] or [-1, 1], got "
                             "[300, 300]"),
    (np.full((4, 4), np.inf), "an image must hold finite numbers"),
    (np.array(["a"]), "an image must be (H, W) or (H, W, 1-4 channels), got shape (1,)"),
])
def test_to_model_input_refuses(image, message):
    with pytest.raises(ProjectionError, match=re.escape(message)):
        to_model_input(image, (28, 28, 1))


# -- the command and no TensorFlow at run time ---------------------------------------


def test_cli_encoder_needs_an_export_or_out(exported, tmp_path, capsys):
    from keras_gan.cli import main

    run = tmp_path / "g.keras"
    shutil.copy(exported("dcgan") / "generator.keras", run)
    assert main(["encoder", str(run), "--steps", "5"]) == 2
    assert (f"keras-gan encoder: error: {tmp_path}/g.keras is not an exported model folder: "
            "give --out DIR to export its generator there with the encoder"
            ) in capsys.readouterr().err
    assert main(["encoder", str(run), "--out", str(tmp_path / "m"), "--steps", "5",
                 "--dataset", "mnist-sample", "--feature-weight", "0"]) == 0
    assert (tmp_path / "m" / "generator.onnx").is_file()
    assert (tmp_path / "m" / PROJECTOR_ONNX).is_file()
    before = json.loads((tmp_path / "m" / "model.json").read_text())["encoder"]
    assert main(["encoder", str(tmp_path / "m"), "--reuse", "--prior-weight", "0.5",
                 "--dataset", "mnist-sample", "--feature-weight", "0"]) == 0
    after = json.loads((tmp_path / "m" / "model.json").read_text())["encoder"]
    assert after["projector"]["prior_weight"] == 0.5  # new projectors, nothing trained
    assert {k: after[k] for k in ("steps", "final", "train_seconds")} == {
        k: before[k] for k in ("steps", "final", "train_seconds")}
    assert main(["encoder", str(tmp_path / "m"), "--steps", "0"]) == 2
    assert "--steps must be >= 1, got 0" in capsys.readouterr().err


NO_TF = textwrap.dedent("""
    import sys
    for name in ("tensorflow", "keras", "tf_keras"):
        sys.modules[name] = None
    import numpy as np
    from export.runtime import OnnxGenerator
    gen = OnnxGenerator(sys.argv[1])
    p = gen.project(np.zeros((2, 28, 28, 1), np.float32), steps=3)
    print("ERR", float(p.error.sum()))
    loaded = {m for m in sys.modules if sys.modules[m] is not None}
    print("TF", any(m.split(".")[0] in ("tensorflow", "keras") for m in loaded))
""")


def test_projection_without_tensorflow(folder, gen):
    proc = subprocess.run([sys.executable, "-c", NO_TF, str(folder / "generator.onnx")],
                          cwd=REPO, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    lines = dict(line.split(" ", 1) for line in proc.stdout.strip().splitlines())
    assert lines["TF"] == "False"
    want = gen.project(np.zeros((2, 28, 28, 1), np.float32), steps=3).error.sum()
    assert float(lines["ERR"]) == pytest.approx(float(want), rel=1e-5)
