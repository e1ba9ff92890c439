"""saved_models/: every shipped generator exists, loads and keeps its card."""

import json
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
    model = keras.saving.load_model(folder / "generator.keras", safe_mode=True)
    z = sample_latents(4, card["latent_dim"], seed=7)
    inputs = [z, np.arange(4) % gen.num_classes] if gen.conditional else z
    np.testing.assert_allclose(model(inputs, training=False).numpy(), images, atol=1e-5)
