"""saved_models/: every shipped generator exists, loads and keeps its card,
and loads with Keras alone."""

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import keras
import numpy as np
import pytest

from export.runtime import OnnxGenerator, sample_latents

ROOT = Path(__file__).resolve().parents[1] / "saved_models"
# Generators only: digit-classifier/ has a card too, but no generator.onnx.
MODELS = sorted(p.parent for p in ROOT.glob("*/generator.onnx"))


def test_there_are_shipped_models():
    assert "mnist-dcgan" in {m.name for m in MODELS}


@pytest.mark.parametrize("folder", MODELS, ids=lambda p: p.name)
def test_shipped_model_matches_its_card(folder):
    card = json.loads((folder / "model.json").read_text())
    for key in ("name", "kind", "latent_dim", "image_shape", "training_config", "files"):
        assert key in card, key
    for name in card["files"].values():
        assert (folder / name).exists(), name
    gen = OnnxGenerator(folder / "generator.onnx")
    assert gen.latent_dim == card["latent_dim"]
    assert list(gen.output_shape) == card["image_shape"]
    assert gen.num_classes == card["num_classes"]
    images = gen.sample(4, seed=7, as_uint8=False)
    assert images.shape == (4, *card["image_shape"])
    # Loaded in this process, where other test modules may have imported
    # keras_gan (registering its classes): the file must not need them.
    with zipfile.ZipFile(folder / "generator.keras") as archive:
        assert "keras_gan" not in archive.read("config.json").decode()
    model = keras.saving.load_model(folder / "generator.keras", safe_mode=True)
    z = sample_latents(4, card["latent_dim"], seed=7)
    inputs = [z, np.arange(4) % gen.num_classes] if gen.conditional else z
    np.testing.assert_allclose(model(inputs, training=False).numpy(), images, atol=1e-5)


# A fresh process that never imports keras_gan: each folder's generator.keras
# in Keras safe mode against its generator.onnx in onnxruntime, on fixed latents.
KERAS_ALONE = r"""
import json, sys
from pathlib import Path
import keras, numpy as np, onnxruntime as ort

errors = {}
for folder in map(Path, sys.argv[2:]):
    card = json.loads((folder / "model.json").read_text())
    model = keras.saving.load_model(folder / "generator.keras", safe_mode=True)
    z = np.random.default_rng(7).standard_normal((64, card["latent_dim"])).astype("float32")
    feed = {"z": z}
    if card["num_classes"]:
        feed["labels"] = np.arange(64, dtype=np.int64) % card["num_classes"]
    out = model(list(feed.values()) if len(feed) == 2 else z, training=False)
    session = ort.InferenceSession(str(folder / "generator.onnx"),
                                   providers=["CPUExecutionProvider"])
    (onnx_out,) = session.run(["images"], feed)
    errors[folder.name] = float(np.abs(keras.ops.convert_to_numpy(out) - onnx_out).max())
    if (folder / "encoder.keras").exists():  # the encoder: Keras alone vs its ONNX
        encoder = keras.saving.load_model(folder / "encoder.keras", safe_mode=True)
        x = np.random.default_rng(7).uniform(-1, 1, (16, *card["image_shape"]))
        x = x.astype("float32")
        want = keras.ops.convert_to_numpy(encoder(x, training=False)[0]
                                          if card["num_classes"] else encoder(x))
        session = ort.InferenceSession(str(folder / "encoder.onnx"),
                                       providers=["CPUExecutionProvider"])
        errors["encoder " + folder.name] = float(np.abs(
            session.run(["z"], {"images": x})[0] - want).max())
classifier = keras.saving.load_model(sys.argv[1], safe_mode=True)
print(json.dumps({"errors": errors, "classifier": list(classifier.output_shape),
                  "keras_gan": sorted(m for m in sys.modules
                                      if m == "keras_gan" or m.startswith("keras_gan."))}))
"""


def test_every_generator_loads_with_keras_alone(tmp_path):
    """Every shipped generator.keras and a freshly exported clustered one (its
    cluster draw built from Keras's own operations) load in safe mode in a
    process that never imports keras_gan, and match their ONNX files."""
    from keras_gan.models.clusters import unconditional_sampler
    from keras_gan.models.networks import build_networks
    from keras_gan.training.run_folder import export_run

    g, _ = build_networks("dcgan", 7, (28, 28, 1), 4, num_classes=5)
    unconditional_sampler(g, [0.1, 0.2, 0.3, 0.2, 0.2]).save(tmp_path / "clustered.keras")
    export_run(tmp_path / "clustered.keras", tmp_path / "clustered")
    folders = [*MODELS, tmp_path / "clustered"]
    for folder in folders:  # no keras-gan class named in any config
        with zipfile.ZipFile(folder / "generator.keras") as z:
            assert "keras_gan" not in z.read("config.json").decode(), folder
    classifier = ROOT / "digit-classifier" / "classifier.keras"
    proc = subprocess.run([sys.executable, "-c", KERAS_ALONE, str(classifier),
                           *map(str, folders)], cwd=tmp_path, capture_output=True,
                          text=True, timeout=600,
                          env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["keras_gan"] == []
    assert result["classifier"] == [None, 10]
    encoders = {f"encoder {f.name}" for f in folders if (f / "encoder.keras").exists()}
    assert set(result["errors"]) == {f.name for f in folders} | encoders
    assert len(encoders) == len(IMAGE_MODELS)
    assert max(result["errors"].values()) < 1e-4, result["errors"]


IMAGE_MODELS = [f for f in MODELS
                if len(json.loads((f / "model.json").read_text())["image_shape"]) == 3]


@pytest.mark.parametrize("folder", IMAGE_MODELS, ids=lambda p: p.name)
def test_shipped_image_models_carry_an_encoder_and_projectors(folder):
    """benchmarks/ship_encoders.py: encoder.onnx, projector.onnx (and the
    features one) beside the generator, recorded on the card; the runtime
    projects the generator's own samples back to a closer picture."""
    from export.runtime import OnnxGenerator

    card = json.loads((folder / "model.json").read_text())
    entry = card["encoder"]
    for name in entry["files"].values():
        assert (folder / name).is_file(), name
    assert "projector_features" in entry["files"]  # every shipped model has an evaluator
    assert entry["projector"]["parity_max_rel_error"] < 1e-3  # float32 through G, F and back
    assert entry["command"].startswith("python benchmarks/ship_encoders.py")
    gen = OnnxGenerator(folder / "generator.onnx")
    target = gen.sample(4, seed=11, as_uint8=False)
    # lr 0.01: the default 0.1 was tuned on digits; on emoji-32's own samples,
    # whose encoder is already close, its 20 steps found no better latent.
    start = gen.project(target, steps=0, features=False)
    refined = gen.project(target, steps=20, features=False, learning_rate=0.01)
    assert refined.error.mean() < start.error.mean()


@pytest.mark.parametrize("folder", MODELS, ids=lambda p: p.name)
def test_models_trained_on_emoji_carry_the_attribution(folder):
    """Twemoji is CC-BY 4.0: a model trained on it says so on its card (which
    the demo shows)."""
    card = json.loads((folder / "model.json").read_text())
    if "emoji" not in str(card.get("dataset")):
        assert "attribution" not in card
        return
    for credit in ("Twemoji", "Twitter, Inc. and other contributors", "CC-BY 4.0",
                   "Noto Emoji", "Google", "Apache 2.0"):
        assert credit in card["attribution"], credit


CLASSIFIER_MODELS = [f for f in MODELS if (f / "classifier.onnx").exists()]


def test_a_shipped_model_carries_a_classifier():
    assert "mnist-ssgan" in {f.name for f in CLASSIFIER_MODELS}  # the demo's guess


@pytest.mark.parametrize("folder", CLASSIFIER_MODELS, ids=lambda p: p.name)
def test_a_shipped_classifier_scores_what_its_card_says(folder):
    """A semi-supervised GAN's classifier.onnx and classifier.keras, on the
    held-out rows its card names, give the card's accuracy to the digit."""
    from export.classifier_runtime import OnnxClassifier
    from keras_gan.evaluation.classifiers import HELD_OUT, MNIST_SAMPLE

    entry = json.loads((folder / "model.json").read_text())["classifier"]
    assert entry["held_out"] == f"the last {HELD_OUT} digits"
    with np.load(MNIST_SAMPLE) as data:
        x, y = data["x"][-HELD_OUT:], data["y"][-HELD_OUT:]
    x = (x.astype(np.float32) / 127.5 - 1.0).reshape(len(x), *entry["image_shape"])
    onnx = np.concatenate([OnnxClassifier(folder / "classifier.onnx").predict(x[i:i + 500])
                           for i in range(0, len(x), 500)])
    plain = keras.saving.load_model(folder / "classifier.keras", safe_mode=True)
    np.testing.assert_allclose(onnx, plain.predict(x, verbose=0), atol=1e-5)
    assert np.mean(onnx.argmax(-1) == y) == pytest.approx(entry["test_accuracy"], abs=1e-9)
    assert entry["labelled_examples"] == 10 * entry["labels_per_class"]


# Run bookkeeping that cannot change the weights: where the run was written,
# how much it printed, how often it saved checkpoints and how many it kept.
BOOKKEEPING = {"out", "verbose", "checkpoint_every", "keep_checkpoints"}


@pytest.mark.parametrize("model", ["dcgan", "cgan"])
def test_shipped_digit_models_are_what_their_ship_command_trains(model):
    """The card's command (benchmarks/ship_mnist_models.py) trains the card's
    recipe: a recipe changed in the script without re-shipping the model, or a
    model shipped from a run of another recipe, fails here. A key the card
    lacks (a field added after the model shipped) must be at its default."""
    sys.path.insert(0, str(ROOT.parent / "benchmarks"))
    import ship_mnist_models

    from keras_gan.config import TrainConfig

    card = json.loads((ROOT / f"mnist-{model}" / "model.json").read_text())
    trained = card["training_config"]
    assert card["metrics"]["command"] == (f"python benchmarks/ship_mnist_models.py "
                                          f"--models {model} --epochs {trained['epochs']}")
    defaults = TrainConfig().to_dict()
    want = ship_mnist_models.ship_config(model, trained["epochs"], Path("runs")).to_dict()
    diff = {k: (trained.get(k, defaults[k]), v) for k, v in want.items()
            if k not in BOOKKEEPING and trained.get(k, defaults[k]) != v}
    assert not diff, f"card vs ship_mnist_models.py: {diff}"
