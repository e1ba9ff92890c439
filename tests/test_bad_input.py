"""Bad input that no other test file tried: each gives one clear line (rows of
docs/robustness.md; the rest are tested next to their code)."""

import json
import shutil
from argparse import Namespace
from pathlib import Path

import numpy as np
import pytest

from keras_gan.cli import main
from keras_gan.config import ConfigError, TrainConfig

REPO = Path(__file__).resolve().parents[1]
TOY_RING = REPO / "saved_models" / "toy-ring"


# -- flags ---------------------------------------------------------------------------


@pytest.mark.parametrize("argv, message", [
    (["--ema-decay", "1.5"], "keras-gan train: error: ema_decay must be in [0, 1), got 1.5"),
    (["--label-smoothing", "0.5", "--label-noise", "0.5"],
     "keras-gan train: error: label_smoothing + label_noise must be < 1, got 0.5 + 0.5"),
    (["--precision", "fp8"], "keras-gan train: error: argument --precision: invalid choice: "
                             "'fp8' (choose from"),
    (["--arch", "resnet"], "keras-gan train: error: argument --arch: invalid choice: "
                           "'resnet' (choose from"),
])
def test_bad_flag_values(capsys, argv, message):
    try:
        code = main(["train", *argv, "--dry-run"])
    except SystemExit as e:  # argparse's own errors
        code = e.code
    err = capsys.readouterr().err
    assert code == 2 and message in err and "Traceback" not in err


# -- YAML config: values of the wrong type -------------------------------------------


@pytest.mark.parametrize("text, message", [
    ("batch_size: big\n", "batch_size must be an integer, got 'big'"),
    ("epochs: 2.5\n", "epochs must be an integer, got 2.5"),
    ("tensorboard: sometimes\n", "tensorboard must be true or false, got 'sometimes'"),
    ("batch_size: true\n", "batch_size must be an integer, got True"),
    ("d_lr: fast\n", "d_lr must be a number, got 'fast'"),
    ("gan: [dcgan]\n", "gan must be a string, got ['dcgan']"),
])
def test_yaml_values_of_the_wrong_type(tmp_path, capsys, text, message):
    path = tmp_path / "c.yaml"
    path.write_text(text)
    assert main(["train", "--config", str(path), "--dry-run"]) == 2
    err = capsys.readouterr().err
    assert err == f"keras-gan train: error: {message}\n"


def test_invalid_yaml_is_one_line_with_the_place(tmp_path, capsys):
    path = tmp_path / "c.yaml"
    path.write_text("epochs: 3\nbatch_size: [unclosed\n")
    assert main(["train", "--config", str(path), "--dry-run"]) == 2
    assert capsys.readouterr().err == (f"keras-gan train: error: {path} is not valid YAML at "
                                       "line 3, column 1: expected ',' or ']', but got "
                                       "'<stream end>'\n")


def test_yaml_exponent_without_a_dot_is_a_number(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("d_lr: 1e-4\n")  # PyYAML (YAML 1.1) reads this as a string
    assert TrainConfig.from_yaml(path).d_lr == 1e-4
    with pytest.raises(ConfigError, match="d_lr must be > 0, got -0.001"):
        TrainConfig(d_lr="-1e-3")


# -- data files ------------------------------------------------------------------------


def test_npz_with_nan_or_pickled_objects(tmp_path):
    from keras_gan.data import DataError, load_dataset

    x = np.zeros((5, 2), np.float32)
    x[3, 1] = np.nan
    np.savez(tmp_path / "nan.npz", x=x)
    with pytest.raises(DataError, match=r"x holds 1 NaN or infinite values, the first at "
                                        r"index \(3, 1\)\."):
        load_dataset(f"npz:{tmp_path / 'nan.npz'}")
    np.savez(tmp_path / "objects.npz", x=np.array([{"a": 1}, None], dtype=object))
    with pytest.raises(DataError, match="Object arrays cannot be loaded when "
                                        "allow_pickle=False"):  # no unpickling: no code
        load_dataset(f"npz:{tmp_path / 'objects.npz'}")
    (tmp_path / "junk.npz").write_bytes(b"not a zip")
    with pytest.raises(DataError, match=r"Could not read npz file .*junk\.npz': it is not a "
                                        r"zip of \.npy arrays; write one with np\.savez"):
        load_dataset(f"npz:{tmp_path / 'junk.npz'}")
    np.savez(tmp_path / "complex.npz", x=np.ones((4, 2), np.complex64))
    with pytest.raises(DataError, match="x must be non-empty and numeric, got complex64"):
        load_dataset(f"npz:{tmp_path / 'complex.npz'}")


# -- export --------------------------------------------------------------------------


def test_export_source_and_target_mistakes(tmp_path):
    from export.writer import ExportError
    from keras_gan.run_folder import export_run

    (tmp_path / "corrupt.keras").write_bytes(b"not a zip file")
    with pytest.raises(ExportError, match=r"cannot load .*corrupt\.keras: it is not a zip "
                                          r"archive, so not a \.keras file \(corrupt, or "
                                          r"another format renamed\)"):
        export_run(tmp_path / "corrupt.keras", tmp_path / "out")
    shutil.copy(TOY_RING / "model.json", tmp_path / "model.json")
    with pytest.raises(ExportError, match=r"model\.json is not a \.keras file"):
        export_run(tmp_path / "model.json", tmp_path / "out")
    with pytest.raises(ExportError, match=r"model\.json is a file, not a folder: give --out "
                                          "a folder to write"):
        export_run(TOY_RING / "generator.keras", tmp_path / "model.json")


def test_eval_refuses_too_few_samples(capsys):
    assert main(["eval", str(TOY_RING), "--num-samples", "1"]) == 2
    assert "keras-gan eval: error: --num-samples must be >= 2, got 1" in capsys.readouterr().err


# -- runtime and demo requests --------------------------------------------------------


@pytest.fixture(scope="module")
def ring():
    from export.runtime import OnnxGenerator

    return OnnxGenerator(TOY_RING / "generator.onnx")


@pytest.mark.parametrize("z, message", [
    (np.full((2, 2), 1e39), "z must be finite in float32"),
    (np.zeros((2, 2), np.complex64), "z must hold real numbers, got dtype complex64"),
    (np.array([["a"] * 2]), "z must hold real numbers, got dtype <U1"),
    ([[0.0] * 2, [0.0] * 3], "z must be an array of numbers, got"),  # ragged
])
def test_runtime_refuses_latents_it_cannot_use(ring, z, message):
    from export.runtime import GeneratorError

    with pytest.raises(GeneratorError, match=message.replace("(", r"\(").replace(")", r"\)")):
        ring.run(z)


def test_runtime_returns_no_non_finite_pictures(ring, monkeypatch):
    """Finite latents far outside N(0, I) can overflow inside a network (the
    fuzz test found 3.4e38 doing so in a tanh model); stand in such a model."""
    from export.runtime import GeneratorError

    monkeypatch.setattr(ring.session, "run", lambda names, feed: [
        np.full((len(feed["z"]), 2), np.nan, np.float32)])
    with pytest.raises(GeneratorError, match=r"the generator's output is not finite for "
                                             r"these latents; z should look like N\(0, I\) "
                                             "draws"):
        ring.run(np.full((1, 2), 3e38, np.float32))


def test_runtime_refuses_truncation_that_is_not_a_number(ring):
    from export.runtime import GeneratorError

    with pytest.raises(GeneratorError, match=r"truncation must be >= 0.1 \(or None\), got "
                                             "'0.5'"):
        ring.sample(4, truncation="0.5")


def test_messages_cut_what_was_sent_short(ring):
    from demo.models import DemoError
    from demo.service import check_seed
    from export.runtime import GeneratorError

    with pytest.raises(GeneratorError) as info:
        ring.sample("x" * 10_000)
    assert len(str(info.value)) < 120 and str(info.value).endswith("...")
    with pytest.raises(DemoError, match=r"seed must be a whole number, got 'xxxx.*\.\.\.$"):
        check_seed("x" * 10_000)


def test_demo_refuses_odd_request_values(tmp_path):
    from demo.models import DemoError
    from demo.service import Service, check_seed

    for bad, message in ((2**400, "seed must be between 0 and 4294967295, got 2582249878"),
                         ([1], "seed must be a whole number, got [1]")):
        with pytest.raises(DemoError, match=message.replace("[", r"\[").replace("]", r"\]")):
            check_seed(bad)
    folder = tmp_path / "models" / "ring"
    folder.mkdir(parents=True)
    shutil.copy(TOY_RING / "generator.onnx", folder)
    service = Service.from_folder(tmp_path / "models", outputs=tmp_path / "out")
    with pytest.raises(DemoError, match=r"unknown model \['ring'\]; this demo serves ring"):
        service.sample(["ring"], 0, 4)


def test_demo_card_that_is_not_json_skips_the_model(tmp_path):
    from demo.models import DemoError, load_models

    folder = tmp_path / "ring"
    folder.mkdir()
    shutil.copy(TOY_RING / "generator.onnx", folder)
    (folder / "model.json").write_text("{not json")
    with pytest.raises(DemoError, match=r"ring: .*model\.json is not a readable JSON card"):
        load_models(tmp_path, max_batch=8)
    (folder / "model.json").write_text(json.dumps([1, 2]))
    with pytest.raises(DemoError, match=r"ring: .*model\.json is not a JSON object"):
        load_models(tmp_path, max_batch=8)


def test_demo_port_in_use_is_one_line(monkeypatch, capsys):
    import demo.app

    def busy(*args, **kwargs):
        raise OSError("Cannot find empty port in range: 7860-7860.")

    monkeypatch.setattr(demo.app, "start", busy)
    args = Namespace(models=str(REPO / "saved_models"), host="127.0.0.1", port=7860,
                     max_images=4, max_points=8, max_steps=4, concurrency=1)
    assert demo.app.serve(args) == 2
    assert capsys.readouterr().err.endswith(
        "keras-gan demo: error: cannot serve on 127.0.0.1:7860: Cannot find empty port in "
        "range: 7860-7860.\n")
