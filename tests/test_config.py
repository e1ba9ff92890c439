"""keras_gan/config.py: the frozen TrainConfig, YAML, validation."""

import dataclasses
import re
from pathlib import Path

import pytest

from keras_gan.config import ConfigError, TrainConfig


def test_every_field_has_a_default_and_help():
    cfg = TrainConfig()
    for f in dataclasses.fields(TrainConfig):
        assert f.metadata.get("help"), f.name
        default = f.default_factory() if f.default is dataclasses.MISSING else f.default
        assert getattr(cfg, f.name) == default
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.epochs = 3


def test_default_run_dir_and_replace():
    cfg = TrainConfig()
    assert cfg.run_dir == Path("runs/clustered-mnist-sample")
    assert TrainConfig(dataset="folder:/data/My Pics").run_dir == Path(
        "runs/clustered-folder--data-My-Pics")
    assert cfg.replace(out="x").run_dir == Path("x")
    assert TrainConfig.from_dict(cfg.to_dict()) == cfg


@pytest.mark.parametrize("bad, message", [
    ({"batch_size": 0}, "batch_size must be >= 1, got 0"),
    ({"d_steps": -1}, "d_steps must be >= 1, got -1"),
    ({"d_lr": 0.0}, "d_lr must be > 0, got 0.0"),
    ({"precision": "fp8"}, "precision must be one of "),
    ({"image_size": 0}, "image_size must be >= 1 (or unset), got 0"),
    ({"optimizer": "lion"}, "optimizer must be one of "),
])
def test_bad_values_name_the_field(bad, message):
    with pytest.raises(ConfigError, match=re.escape(message)):
        TrainConfig(**bad)


def test_yaml_accepts_both_spellings_and_rejects_unknown(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("batch-size: 32\nd_steps: 2\ngan: lsgan\n")
    cfg = TrainConfig.from_yaml(path, epochs=3)
    assert (cfg.batch_size, cfg.d_steps, cfg.gan, cfg.epochs) == (32, 2, "lsgan", 3)
    path.write_text("batch_sise: 32\n")
    with pytest.raises(ConfigError) as e:
        TrainConfig.from_yaml(path)
    assert str(e.value).startswith(f"{tmp_path}/c.yaml: unknown option(s) batch_sise; known "
                                   "options are: ada_interval, ada_kimg, ")
    path.write_text("- a list\n")
    with pytest.raises(ConfigError) as e:
        TrainConfig.from_yaml(path)
    assert str(e.value) == f"{tmp_path}/c.yaml must hold a mapping of option: value, got list"
    path.write_text("a: [unclosed\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        TrainConfig.from_yaml(path)
    with pytest.raises(ConfigError) as e:
        TrainConfig.from_yaml(tmp_path / "missing.yaml")
    assert str(e.value) == f"config file not found: {tmp_path}/missing.yaml"


def test_background_option():
    """--background: what transparent images are composited onto; one clear line if bad."""
    import argparse

    from keras_gan.cli.flags import add_config_flags

    assert TrainConfig().background == "white"
    for good in ("black", "WHITE", "#ff0000", "#A0b1C2"):
        assert TrainConfig(background=good).background == good
    with pytest.raises(ConfigError) as e:
        TrainConfig(background="blue")
    assert str(e.value) == "background must be 'white', 'black' or '#RRGGBB', got 'blue'"
    with pytest.raises(ConfigError, match=re.escape("background must be 'white', 'black' or "
                                                    "'#RRGGBB', got '#fff'")):
        TrainConfig.from_dict({"background": "#fff"})
    parser = argparse.ArgumentParser()
    add_config_flags(parser)
    assert parser.parse_args(["--background", "#102030"]).background == "#102030"
