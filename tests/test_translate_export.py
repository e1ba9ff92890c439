"""keras_gan/training/translate_export.py: `keras-gan export` of a
translator's run folder, one direction (pix2pix) or both (CycleGAN)."""

from __future__ import annotations

import json

import keras
import numpy as np
from PIL import Image
from test_translate_train import npz, tiny  # noqa: F401  (npz: the module's fixture)

from export.translator_runtime import OnnxTranslator
from keras_gan.cli import main
from keras_gan.training.trainer import train
from keras_gan.training.translate_export import export_translator_run


def test_a_pix2pix_run_exports_its_translator_with_the_runs_domains(tmp_path, capsys):
    # Paired folders: the domains are the folders' names.
    rng = np.random.default_rng(0)
    for i in range(12):
        grey = rng.integers(0, 256, (8, 8), dtype=np.uint8)
        for folder, picture in (("edges", grey), ("photos", np.stack([grey] * 3, -1))):
            (tmp_path / folder).mkdir(exist_ok=True)
            Image.fromarray(picture).save(tmp_path / folder / f"{i:02d}.png")
    dataset = f"pairs:{tmp_path / 'edges'},{tmp_path / 'photos'}"
    run = train(tiny(tmp_path, "pix2pix", dataset, epochs=1)).run_dir
    out = tmp_path / "out"
    assert main(["export", str(run), "--out", str(out)]) == 0
    assert f"Exported out (translator edges -> photos, [8, 8, 1] -> [8, 8, 3]) to {out}/" in (
        capsys.readouterr().out)
    card = json.loads((out / "model.json").read_text())
    assert (card["kind"], card["translator"], card["steps"]) == ("translator", "pix2pix", 2)
    assert (card["source_domain"], card["target_domain"]) == ("edges", "photos")
    assert card["dataset"] == dataset and "val_l1" in card["metrics"]
    x = np.random.default_rng(0).uniform(-1, 1, (3, 8, 8, 1)).astype("float32")
    trained = keras.saving.load_model(run / "translator.keras", safe_mode=True)
    np.testing.assert_allclose(OnnxTranslator(out / "translator.onnx").translate(x),
                               keras.ops.convert_to_numpy(trained(x)), atol=1e-5)
    assert main(["export", str(run), "--out", str(out)]) == 2  # not empty: refused
    assert "is not empty; pass --overwrite" in capsys.readouterr().err


def test_a_cyclegan_run_exports_both_directions(npz, tmp_path):  # noqa: F811
    run = train(tiny(tmp_path, "cyclegan", f"unpaired:{npz}", epochs=1)).run_dir
    out = tmp_path / "out"
    assert main(["export", str(run), "--out", str(out)]) == 0
    x = {"ab": np.zeros((1, 8, 8, 1), "float32"), "ba": np.zeros((1, 8, 8, 3), "float32")}
    for direction, shape in (("ab", (1, 8, 8, 3)), ("ba", (1, 8, 8, 1))):
        card = json.loads((out / direction / "model.json").read_text())
        assert card["direction"] == direction and card["name"] == f"out-{direction}"
        assert OnnxTranslator(out / direction / "translator.onnx").translate(
            x[direction]).shape == shape
    # Held-out figures reach each direction's own card, beside the run's val_l1.
    cards = export_translator_run(run, tmp_path / "scored", metrics={
        "ab": {"test_l1": 0.25}, "ba": {"test_l1": 0.5}})
    for direction, value in (("ab", 0.25), ("ba", 0.5)):
        card = json.loads((tmp_path / "scored" / direction / "model.json").read_text())
        assert card["metrics"]["test_l1"] == value == cards[direction]["metrics"]["test_l1"]
        assert card["name"] == f"scored-{direction}"
