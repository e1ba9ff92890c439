"""The scripts in examples/ run, at tiny scale (their --tiny flag), in-process:
each in seconds, through the public API only."""

import importlib.util
import re
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def _load(name):
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_example_is_tested():
    scripts = sorted(p.stem for p in EXAMPLES.glob("*.py"))
    tested = set(re.findall(r'_load\("(\w+)"\)', Path(__file__).read_text()))
    assert scripts and set(scripts) == tested


def test_image_folder_gan(tmp_path):
    gan = _load("gan_image_folder").main(["--tiny", "--out", str(tmp_path)])
    assert (tmp_path / "generator.keras").exists()
    assert sorted(p.name for p in (tmp_path / "samples").iterdir()) == [
        "epoch_001.png", "epoch_002.png"]
    assert len((tmp_path / "metrics.csv").read_text().splitlines()) == 3  # header + 2 epochs
    assert int(gan.optimizer.iterations.numpy()) == 4


def test_conditional_gan(tmp_path):
    images = _load("conditional_gan").main(["--tiny", "--out", str(tmp_path)])
    assert tuple(images.shape) == (80, 28, 28, 1)
    assert (tmp_path / "by_class.png").exists()


def test_onnx_export_and_run(tmp_path, capsys):
    error = _load("onnx_generator").main(["--tiny", "--out", str(tmp_path)])
    assert error < 1e-4
    for name in ("generator.onnx", "onnx_samples.png", "onnx_interpolation.png"):
        assert (tmp_path / "model" / name).exists(), name
    assert "largest difference from Keras" in capsys.readouterr().out


def test_pix2pix_on_pairs(tmp_path, capsys):
    import keras

    error = _load("pix2pix_pairs").main(["--tiny", "--out", str(tmp_path)])
    assert error < 1e-4  # ONNX vs Keras on the held-out sources
    assert len((tmp_path / "metrics.csv").read_text().splitlines()) == 3  # header + 2 epochs
    assert (tmp_path / "held_out.png").exists()
    assert "held-out L1:" in capsys.readouterr().out
    translator = keras.saving.load_model(tmp_path / "export" / "translator.keras")
    assert tuple(translator.inputs[0].shape) == (None, 16, 16, 1)
    assert tuple(translator.outputs[0].shape) == (None, 16, 16, 3)


def test_semi_supervised_gan(tmp_path, capsys):
    accuracy, onnx = _load("semi_supervised_gan").main(["--tiny", "--out", str(tmp_path)])
    assert 0.0 <= accuracy <= 1.0
    assert (tmp_path / "classifier.onnx").exists() and (tmp_path / "classifier.keras").exists()
    assert onnx.metadata["test_accuracy"] == pytest.approx(accuracy)
    assert onnx.metadata["labels_per_class"] == 10
    printed = capsys.readouterr().out
    assert "100 labelled of 8000 training images" in printed
    assert "ONNX Runtime on the first held-out image" in printed


@pytest.mark.parametrize("name", ["gan_image_folder", "conditional_gan", "onnx_generator",
                                  "pix2pix_pairs", "semi_supervised_gan"])
def test_examples_use_only_public_names(name):
    text = (EXAMPLES / f"{name}.py").read_text()
    imported = re.findall(r"^\s*from (\S+) import (.+)$", text, flags=re.MULTILINE)
    for module, names in imported:
        assert not any(n.strip().startswith("_") for n in names.split(",")), (module, names)
