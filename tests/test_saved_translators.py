"""saved_models/: every shipped translator (one folder per direction, a
CycleGAN's under ab/ and ba/) loads, keeps its card with its held-out
scores and attribution, and gives its ONNX file's images in Keras alone."""

import json
import zipfile
from pathlib import Path

import keras
import numpy as np
import pytest

from export.translator_runtime import OnnxTranslator

ROOT = Path(__file__).resolve().parents[1] / "saved_models"
TRANSLATORS = sorted(p.parent for p in ROOT.glob("**/translator.onnx"))
SHIPPED = {"emoji-sketch": ("sketch", "twitter"), "emoji-styles/ab": ("twitter", "google"),
           "emoji-styles/ba": ("google", "twitter")}


def test_the_emoji_translators_are_shipped():
    found = {p.relative_to(ROOT).as_posix() for p in TRANSLATORS}
    assert set(SHIPPED) <= found


@pytest.mark.parametrize("folder", TRANSLATORS, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_shipped_translator_matches_its_card(folder):
    card = json.loads((folder / "model.json").read_text())
    assert card["kind"] == "translator"
    for name in card["files"].values():
        assert (folder / name).exists(), name
    domains = SHIPPED.get(folder.relative_to(ROOT).as_posix())
    if domains:  # the emoji ones: their domains, held-out scores and the images' licences
        assert (card["source_domain"], card["target_domain"]) == domains
        m = card["metrics"]
        assert {"test_l1", "test_fd", "test_style_share", "reference"} <= set(m)
        # Better than translating nothing, in the protocol's own figures.
        assert m["test_fd"] < m["reference"]["identity"]["fd"]
        assert "CC-BY 4.0" in card["attribution"] and (folder / "samples.png").is_file()
    with zipfile.ZipFile(folder / "translator.keras") as archive:
        assert "keras_gan" not in archive.read("config.json").decode()
    model = keras.saving.load_model(folder / "translator.keras", safe_mode=True)
    onnx = OnnxTranslator(folder / "translator.onnx")
    shape = tuple(model.inputs[0].shape[1:])
    x = np.random.default_rng(7).uniform(-1, 1, (4, *shape)).astype("float32")
    want = keras.ops.convert_to_numpy(model(x, training=False))
    np.testing.assert_allclose(onnx.translate(x), want, atol=1e-4)
