"""keras_gan/cli/: flags generated from the config, precedence, errors."""

import json
import re
import subprocess
import sys
import time

import pytest

from keras_gan.cli import build_parser, main
from keras_gan.cli.flags import resolve_config
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


def help_entries(text):
    """argparse help -> {flag: its entry's help text, whitespace collapsed}."""
    entries, current = {}, None
    for line in text.splitlines():
        if line.startswith("  -"):  # an entry: its flags, then (maybe) its help
            header, _, rest = line.strip().partition("  ")
            current = [rest]
            for flag in re.findall(r"(?<![\w-])--?[a-z][\w-]*", header):
                entries[flag] = current
        elif current is not None and line.startswith("   "):
            current.append(line)
        else:
            current = None
    return {flag: " ".join(" ".join(parts).split()) for flag, parts in entries.items()}


def test_help_explains_every_flag(capsys, monkeypatch):
    """Every TrainConfig field has its flag in `keras-gan train --help`, with
    the field's help text (and --no-X for booleans)."""
    import dataclasses

    monkeypatch.setenv("COLUMNS", "1000")  # no wrapping inside the help texts
    with pytest.raises(SystemExit):
        main(["train", "--help"])
    entries = help_entries(capsys.readouterr().out)
    fields = dataclasses.fields(TrainConfig)
    assert len(fields) > 40
    for f in fields:
        flag = "--gan-option" if f.name == "gan_options" else "--" + f.name.replace("_", "-")
        assert flag in entries, flag
        help_text = " ".join(f.metadata["help"].split())
        assert help_text and help_text in entries[flag], (flag, entries[flag])
        if f.type == "bool":
            assert entries["--no-" + flag[2:]] == entries[flag], flag  # one entry
    for flag in ("--config", "--dry-run", "--list-gans"):
        assert entries[flag], flag


@pytest.mark.parametrize("argv, message", [  # <tmp>: the test's folder
    (["--batch-size", "0"], "batch_size must be >= 1, got 0"),
    (["--gan", "nope"], "unknown GAN variant 'nope'; registered: cgan, clustered, dcgan, gan, "
                        "hinge, lsgan, nsgan, pacgan, rpgan, unrolled, vae, wgan, wgan-gp"),
    (["--dataset", "nowhere"],
     "Unknown data source 'nowhere'; see `keras-gan train --help` for the sources."),
    (["--dataset", "csv:data.csv"],
     "Unknown data source 'csv:data.csv'; see `keras-gan train --help` for the sources."),
    (["--dataset", "folder:/no/such/dir"], "Path '/no/such/dir' does not exist."),
    (["--dataset", "folder:<tmp>/file"],
     "'<tmp>/file' is a file, not a folder. For a .npz file use npz:PATH."),
    (["--out", "<tmp>/file/run"], "cannot write to run folder <tmp>/file/run: Not a directory"),
    (["--config", "<tmp>/missing.yaml"], "config file not found: <tmp>/missing.yaml"),
])
def test_bad_input_is_one_clear_line(argv, message, capfd, tmp_path):
    """The whole of stderr (file descriptor 2: TensorFlow's own logging too) is
    the one error line."""
    (tmp_path / "file").write_text("not a folder")
    argv = [arg.replace("<tmp>", str(tmp_path)) for arg in argv]
    code = main(["train", "--out", str(tmp_path / "r"), *argv, "--epochs", "1"])
    err = capfd.readouterr().err
    assert code == 2
    assert err == f"keras-gan train: error: {message.replace('<tmp>', str(tmp_path))}\n"


def test_the_command_prints_one_line_on_stderr(tmp_path):
    """The real command, TensorFlow's start-up included: one line on stderr."""
    proc = subprocess.run([sys.executable, "-m", "keras_gan", "train", "--dataset", "nowhere",
                           "--out", str(tmp_path / "r")], capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 2
    assert proc.stderr == ("keras-gan train: error: Unknown data source 'nowhere'; "
                           "see `keras-gan train --help` for the sources.\n")
    assert not (tmp_path / "r").exists()


def test_train_help_lists_the_sources(capsys):
    """Where the error line points: the sources, laid out as written."""
    from keras_gan.config import SOURCES_HELP

    with pytest.raises(SystemExit):
        main(["train", "--help"])
    assert SOURCES_HELP in capsys.readouterr().out


def test_bad_flag_types_are_argparse_errors(capsys):
    """argparse's own errors: a usage block, then the one error line, last."""
    with pytest.raises(SystemExit) as e:
        main(["train", "--epochs", "many"])
    lines = capsys.readouterr().err.splitlines()
    assert e.value.code == 2 and lines[0].startswith("usage: keras-gan train ")
    assert lines[-1] == "keras-gan train: error: argument --epochs: invalid int value: 'many'"
    assert not any("error" in line for line in lines[:-1])


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
