"""Bad input that no other test file tried: each gives one clear line (rows of
docs/robustness.md; the rest are tested next to their code)."""

import json
import shutil
import socket
from argparse import Namespace
from pathlib import Path

import numpy as np
import pytest

from keras_gan.cli import main
from keras_gan.config import ConfigError, TrainConfig

REPO = Path(__file__).resolve().parents[1]
TOY_RING = REPO / "saved_models" / "toy-ring"


# -- flags ---------------------------------------------------------------------------


@pytest.mark.parametrize("argv, line", [
    (["--ema-decay", "1.5"], "keras-gan train: error: ema_decay must be in [0, 1), got 1.5"),
    (["--label-smoothing", "0.5", "--label-noise", "0.5"],
     "keras-gan train: error: label_smoothing + label_noise must be < 1, got 0.5 + 0.5"),
    (["--precision", "fp8"], "keras-gan train: error: argument --precision: invalid choice: "
                             "'fp8' (choose from 'float32', 'mixed_float16', 'mixed_bfloat16')"),
    (["--arch", "resnet50"], "keras-gan train: error: argument --arch: invalid choice: "
                             "'resnet50' (choose from 'auto', 'dcgan', 'resnet', 'tutorial', "
                             "'mlp')"),
])
def test_bad_flag_values(capsys, argv, line):
    """Ours are the one line on stderr; argparse's own errors print their usage
    block first and the error line last."""
    try:
        code = main(["train", *argv, "--dry-run"])
    except SystemExit as e:  # argparse's own errors
        code = e.code
    err = capsys.readouterr().err
    assert code == 2 and err.splitlines()[-1] == line
    assert err == line + "\n" or (err.startswith("usage: keras-gan train ")
                                  and "argument --" in line)


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
    assert capsys.readouterr().err == (f"keras-gan train: error: {tmp_path}/c.yaml is not valid "
                                       "YAML at line 3, column 1: expected ',' or ']', but got "
                                       "'<stream end>'\n")


def test_yaml_exponent_without_a_dot_is_a_number(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("d_lr: 1e-4\n")  # PyYAML (YAML 1.1) reads this as a string
    assert TrainConfig.from_yaml(path).d_lr == 1e-4
    with pytest.raises(ConfigError, match="d_lr must be > 0, got -0.001"):
        TrainConfig(d_lr="-1e-3")


# -- data files ------------------------------------------------------------------------


def test_npz_with_nan_or_pickled_objects(tmp_path):
    from keras_gan.data.pipeline import DataError, load_dataset

    def message(name):
        with pytest.raises(DataError) as e:
            load_dataset(f"npz:{tmp_path / name}")
        return str(e.value)

    x = np.zeros((5, 2), np.float32)
    x[3, 1] = np.nan
    np.savez(tmp_path / "nan.npz", x=x)
    assert message("nan.npz") == (f"npz:{tmp_path}/nan.npz: x holds 1 NaN or infinite values, "
                                  "the first at index (3, 1).")
    np.savez(tmp_path / "obj.npz", x=np.array([{"a": 1}, None], dtype=object))
    assert message("obj.npz") == (  # no unpickling: no code runs
        f"Could not read npz file '{tmp_path}/obj.npz': Object arrays cannot be loaded when "
        "allow_pickle=False")
    (tmp_path / "junk.npz").write_bytes(b"not a zip")
    assert message("junk.npz") == (f"Could not read npz file '{tmp_path}/junk.npz': it is not "
                                   "a zip of .npy arrays; write one with np.savez(path, x=x[, "
                                   "y=y]).")
    np.savez(tmp_path / "complex.npz", x=np.ones((4, 2), np.complex64))
    assert message("complex.npz") == (f"npz:{tmp_path}/complex.npz: x must be non-empty and "
                                      "numeric, got complex64.")


# -- export --------------------------------------------------------------------------


def test_export_source_and_target_mistakes(tmp_path):
    from export.writer import ExportError
    from keras_gan.training.run_folder import export_run

    def message(source, out):
        with pytest.raises(ExportError) as e:
            export_run(source, out)
        return str(e.value)

    (tmp_path / "corrupt.keras").write_bytes(b"not a zip file")
    assert message(tmp_path / "corrupt.keras", tmp_path / "out") == (
        f"cannot load {tmp_path}/corrupt.keras: it is not a zip archive, so not a .keras file "
        "(corrupt, or another format renamed)")
    assert message(TOY_RING / "model.json", tmp_path / "out") == (
        f"{REPO}/saved_models/toy-ring/model.json is not a .keras file")
    (tmp_path / "file").write_text("a file")
    assert message(TOY_RING / "generator.keras", tmp_path / "file") == (
        f"{tmp_path}/file is a file, not a folder: give --out a folder to write")
    assert not (tmp_path / "out").exists()


def test_eval_refuses_too_few_samples(capsys):
    assert main(["eval", str(TOY_RING), "--num-samples", "1"]) == 2
    assert capsys.readouterr().err == "keras-gan eval: error: --num-samples must be >= 2, got 1\n"


# -- runtime and demo requests --------------------------------------------------------


@pytest.fixture(scope="module")
def ring():
    from export.runtime import OnnxGenerator

    return OnnxGenerator(TOY_RING / "generator.onnx")


@pytest.mark.parametrize("z, message", [
    (np.full((2, 2), 1e39), "z must be finite in float32"),
    (np.zeros((2, 2), np.complex64), "z must hold real numbers, got dtype complex64"),
    (np.array([["a"] * 2]), "z must hold real numbers, got dtype <U1"),
    ([[0.0, 0.0], [0.0]], "z must be an array of numbers, got [[0.0, 0.0], [0.0]]"),  # ragged
])
def test_runtime_refuses_latents_it_cannot_use(ring, z, message):
    from export.runtime import GeneratorError

    with pytest.raises(GeneratorError) as e:
        ring.run(z)
    assert str(e.value) == message


def test_runtime_returns_no_non_finite_pictures(ring, monkeypatch):
    """Finite latents far outside N(0, I) can overflow inside a network (the
    fuzz test found 3.4e38 doing so in a tanh model); stand in such a model."""
    from export.runtime import GeneratorError

    monkeypatch.setattr(ring.session, "run", lambda names, feed: [
        np.full((len(feed["z"]), 2), np.nan, np.float32)])
    with pytest.raises(GeneratorError) as e:
        ring.run(np.full((1, 2), 3e38, np.float32))
    assert str(e.value) == ("the generator's output is not finite for these latents; z should "
                            "look like N(0, I) draws")


def test_runtime_refuses_truncation_that_is_not_a_number(ring):
    from export.runtime import GeneratorError

    with pytest.raises(GeneratorError) as e:
        ring.sample(4, truncation="0.5")
    assert str(e.value) == "truncation must be >= 0.1 (or None), got '0.5'"
    with pytest.raises(GeneratorError) as e:
        ring.sample(4, truncation=float("nan"))
    assert str(e.value) == "truncation must be >= 0.1 (or None), got nan"


def test_messages_cut_what_was_sent_short(ring):
    from demo.models import DemoError
    from demo.service import check_seed
    from export.runtime import GeneratorError

    with pytest.raises(GeneratorError) as info:  # what was sent, cut to 60 characters
        ring.sample("x" * 10_000)
    assert str(info.value) == "n must be an integer, got 'xxxxxxxx" + "x" * 48 + "..."
    with pytest.raises(DemoError) as info:
        check_seed("x" * 10_000)
    assert str(info.value) == "seed must be a whole number, got 'xxxxxxxx" + "x" * 48 + "..."


def test_demo_refuses_odd_request_values(tmp_path):
    from demo.models import DemoError
    from demo.service import Service, check_seed

    for bad, message in ((2**400, "seed must be between 0 and 4294967295, got "
                                  "258224987808690858965591917200301187432970579282922351283..."),
                         ([1], "seed must be a whole number, got [1]")):
        with pytest.raises(DemoError) as e:
            check_seed(bad)
        assert str(e.value) == message
    folder = tmp_path / "models" / "ring"
    folder.mkdir(parents=True)
    shutil.copy(TOY_RING / "generator.onnx", folder)
    service = Service.from_folder(tmp_path / "models", outputs=tmp_path / "out")
    with pytest.raises(DemoError) as e:
        service.sample(["ring"], 0, 4)
    assert str(e.value) == "unknown model ['ring']; this demo serves ring"


def test_demo_card_that_is_not_json_skips_the_model(tmp_path):
    from demo.models import DemoError, load_models

    folder = tmp_path / "ring"
    folder.mkdir()
    shutil.copy(TOY_RING / "generator.onnx", folder)
    (folder / "model.json").write_text("{not json")
    with pytest.raises(DemoError) as e:  # the only model: nothing to serve, in one line
        load_models(tmp_path, max_batch=8)
    assert f"; skipped ring: {tmp_path}/ring/model.json is not a readable JSON card: " in str(
        e.value) and "\n" not in str(e.value)
    (folder / "model.json").write_text(json.dumps([1, 2]))
    with pytest.raises(DemoError) as e:
        load_models(tmp_path, max_batch=8)
    assert str(e.value).endswith(f"; skipped ring: {tmp_path}/ring/model.json is not a JSON "
                                 "object")


def test_demo_port_in_use_is_one_line(tmp_path, capfd):
    """A real port in use (a socket listens on it) and a --host that names no
    address: the one line on stderr, before the page is built."""
    import demo.app

    shutil.copytree(TOY_RING, tmp_path / "models" / "ring")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        for host, line in (
                ("127.0.0.1", "keras-gan demo: error: cannot serve on 127.0.0.1:{port}: "
                              "Address already in use"),
                ("no-such-host.invalid", "keras-gan demo: error: cannot serve on "
                                         "no-such-host.invalid:{port}: Name or service not "
                                         "known")):
            args = Namespace(models=str(tmp_path / "models"), host=host, port=port,
                             max_images=4, max_points=8, max_steps=4, concurrency=1)
            assert demo.app.serve(args) == 2
            out, err = capfd.readouterr()
            assert err == line.format(port=port) + "\n"
            assert "Serving" not in out
