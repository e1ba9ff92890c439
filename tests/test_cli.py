"""keras_gan/cli.py: flags generated from the config, precedence, errors."""

import json
import subprocess
import sys
import time

import pytest

from keras_gan.cli import build_parser, main, resolve_config
from keras_gan.config import TrainConfig


def resolved(*argv):
    return resolve_config(build_parser().parse_args(["train", *argv]))


def test_flags_come_from_the_dataclass():
    cfg = resolved("--batch-size", "16", "--d-steps", "3", "--image-size", "32",
                   "--no-tensorboard", "--jit-compile", "--steps-per-epoch", "none")
    assert (cfg.batch_size, cfg.d_steps, cfg.image_size) == (16, 3, 32)
    assert cfg.tensorboard is False and cfg.jit_compile is True
    assert cfg.steps_per_epoch is None
    assert resolved() == TrainConfig()


def test_precedence_defaults_yaml_flags(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("batch_size: 8\nepochs: 4\n")
    cfg = resolved("--config", str(path), "--epochs", "2")
    assert (cfg.batch_size, cfg.epochs) == (8, 2)


def test_resume_takes_the_saved_config(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    saved = TrainConfig(out=str(run), batch_size=8, gan="lsgan")
    (run / "config.json").write_text(json.dumps(saved.to_dict()))
    cfg = resolved("--out", str(run), "--resume", "--epochs", "7")
    assert (cfg.batch_size, cfg.gan, cfg.epochs, cfg.resume) == (8, "lsgan", 7, True)


def test_dry_run_prints_the_resolved_config(capsys):
    assert main(["train", "--dry-run", "--latent-dim", "12"]) == 0
    assert json.loads(capsys.readouterr().out)["latent_dim"] == 12


def test_help_explains_every_flag(capsys):
    with pytest.raises(SystemExit):
        main(["train", "--help"])
    out = capsys.readouterr().out
    for flag in ("--dataset", "--gan", "--epochs", "--batch-size", "--latent-dim",
                 "--seed", "--out", "--resume", "--config", "--d-steps"):
        assert flag in out


@pytest.mark.parametrize("argv, message", [
    (["--batch-size", "0"], "batch_size must be >= 1"),
    (["--dataset", "nowhere"], "Data sources"),
    (["--dataset", "folder:/no/such/dir"], "/no/such/dir"),
    (["--gan", "nope"], "unknown GAN variant"),
])
def test_bad_input_is_one_clear_line(argv, message, capsys, tmp_path):
    code = main(["train", "--out", str(tmp_path / "r"), *argv])
    err = capsys.readouterr().err
    assert code == 2 and message in err and "Traceback" not in err


def test_bad_flag_types_are_argparse_errors(capsys):
    with pytest.raises(SystemExit) as e:
        main(["train", "--epochs", "many"])
    assert e.value.code == 2 and "invalid int value" in capsys.readouterr().err


def test_list_gans(capsys):
    assert main(["train", "--list-gans"]) == 0
    out = capsys.readouterr().out
    assert "dcgan" in out and "minimax" in out


def test_help_is_fast_because_tensorflow_is_not_imported():
    code = ("import sys, keras_gan.cli as c; c.build_parser(); "
            "print('tensorflow' in sys.modules)")
    start = time.time()
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "False"
    assert time.time() - start < 5
