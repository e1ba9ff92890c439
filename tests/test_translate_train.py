"""keras_gan/training/translate.py: translators trained through `train(cfg)`
with the GAN runs' folder, checkpoints, resume and metrics (#29)."""

from __future__ import annotations

import csv

import keras
import numpy as np
import pytest
from conftest import needs_data

from keras_gan.cli import main
from keras_gan.config import ConfigError
from keras_gan.models.gans import configure
from keras_gan.models.translation.cyclegan import CycleGAN
from keras_gan.models.translation.pix2pix import Pix2Pix
from keras_gan.training.checkpoints import read_checkpoint_step
from keras_gan.training.trainer import train


@pytest.fixture(scope="module")
def npz(tmp_path_factory):
    """20 pairs of 8x8 images: a grey source, its colour target."""
    rng = np.random.default_rng(0)
    a = rng.uniform(0, 1, (20, 8, 8, 1)).astype("float32")
    b = np.concatenate([a, 1 - a, a * 0.5], axis=-1)
    path = tmp_path_factory.mktemp("data") / "pairs.npz"
    np.savez(path, a=a, b=b)
    return path


def tiny(tmp_path, gan, dataset, name="run", **fields):
    values = {**dict(gan=gan, dataset=dataset, width=4, batch_size=4, epochs=2,
                     steps_per_epoch=2, verbose=0, tensorboard=False, checkpoint_every=1000,
                     out=str(tmp_path / name)), **fields}
    return configure(values)


def metrics(run_dir):
    with open(run_dir / "metrics.csv") as f:
        return list(csv.DictReader(f))


def test_pix2pix_run_writes_its_folder(npz, tmp_path):
    result = train(tiny(tmp_path, "pix2pix", f"npz:{npz}"))
    run = result.run_dir
    assert result.step == 4 and isinstance(result.model, Pix2Pix)
    rows = metrics(run)
    assert [r["step"] for r in rows] == ["2", "4"]
    assert {"d_loss", "g_loss", "l1", "val_l1"} <= set(rows[0])
    assert sorted(p.name for p in (run / "samples").iterdir()) == ["epoch_001.png",
                                                                   "epoch_002.png"]
    assert (run / "config.json").is_file()
    # The papers' recipe: Adam 2e-4, beta_1 0.5.
    assert result.model.g_optimizer.learning_rate.numpy() == pytest.approx(2e-4)
    translator = keras.saving.load_model(run / "translator.keras", safe_mode=True)
    x = np.zeros((2, 8, 8, 1), "float32")
    np.testing.assert_allclose(translator(x), result.model.generator(x), atol=1e-6)
    assert isinstance(keras.saving.load_model(run / "gan.keras", safe_mode=True), Pix2Pix)


def test_resume_after_one_epoch_matches_an_uninterrupted_run(npz, tmp_path):
    # With the U-Net's dropout (the default): its masks come from seeded
    # generators whose state the checkpoint holds, so a resumed run draws the
    # masks an uninterrupted one would.
    opts = {}
    straight = train(tiny(tmp_path, "pix2pix", f"npz:{npz}", "straight", gan_options=opts))
    train(tiny(tmp_path, "pix2pix", f"npz:{npz}", "split", epochs=1, gan_options=opts))
    assert read_checkpoint_step(tmp_path / "split" / "checkpoints") == 2
    resumed = train(tiny(tmp_path, "pix2pix", f"npz:{npz}", "split", resume=True, gan_options=opts))
    assert resumed.step == straight.step == 4
    assert int(resumed.model.d_optimizer.iterations) == 4
    for a, b in zip(straight.model.weights, resumed.model.weights, strict=True):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-5, atol=1e-6)
    for a, b in zip(straight.model.g_optimizer.variables + straight.model.d_optimizer.variables,
                    resumed.model.g_optimizer.variables + resumed.model.d_optimizer.variables,
                    strict=True):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-5, atol=1e-7)
    assert [r["epoch"] for r in metrics(tmp_path / "split")] == ["1", "2"]


def test_cyclegan_on_unpaired_data_decays_its_rates(npz, tmp_path):
    result = train(tiny(tmp_path, "cyclegan", f"unpaired:{npz}",
                        gan_options={"history_size": 2}))
    run = result.run_dir
    assert isinstance(result.model, CycleGAN) and result.step == 4
    rows = metrics(run)
    assert {"g_loss", "d_a_loss", "d_b_loss", "cycle", "identity"} <= set(rows[0])
    assert "val_l1" not in rows[0]  # unpaired: nothing to compare with
    assert float(rows[0]["identity"]) == 0  # 1 channel -> 3: no identity terms
    # lr_decay 0.5: constant for 2 updates, then linear to 0 over the last 2.
    schedule = result.model.g_optimizer._learning_rate
    assert [float(schedule(s)) for s in (2, 3, 4)] == pytest.approx([2e-4, 1e-4, 0.0])
    for name in ("translator.keras", "translator_ba.keras", "gan.keras"):
        keras.saving.load_model(run / name, safe_mode=True)
    assert (run / "samples" / "epoch_002.png").is_file()


@pytest.mark.parametrize("changes, message", [
    (dict(gan="pix2pix", dataset="unpaired:{npz}"),
     "--gan pix2pix trains on pairs and unpaired:{npz} is unpaired; use pairs:/npz:/emoji64: "
     "data, or --gan cyclegan"),
    (dict(gan="unet-l1", r1=1.0),
     "--gan unet-l1 is a translator: --r1 1.0 does not apply to it; leave it unset"),
    (dict(gan="pix2pix", dataset="mnist-sample"), "Unknown pair source 'mnist-sample'"),
    (dict(gan="pix2pix", batch_size=64), "fewer than batch_size 64; lower --batch-size."),
])
def test_bad_combinations_say_so_in_one_line_and_write_nothing(npz, tmp_path, changes,
                                                              message):
    changes = {k: v.format(npz=npz) if isinstance(v, str) else v for k, v in changes.items()}
    fields = {"dataset": f"npz:{npz}", **changes}
    with pytest.raises(Exception) as e:
        train(tiny(tmp_path, **fields))
    assert message.format(npz=npz) in str(e.value) and "\n" not in str(e.value)
    assert not (tmp_path / "run").exists()


def test_option_of_another_translator_is_refused():
    with pytest.raises(ConfigError, match="--gan unet-l1 has no option n_layers"):
        configure({"gan": "unet-l1", "gan_options": {"n_layers": 2}})


@needs_data("emoji64")
def test_cli_trains_pix2pix_on_emoji_sketches(tmp_path, capsys):
    assert main(["train", "--gan", "pix2pix", "--dataset", "emoji64:sketch", "--image-size",
                 "16", "--width", "4", "--batch-size", "4", "--epochs", "1",
                 "--steps-per-epoch", "2", "--no-tensorboard", "--verbose", "0",
                 "--out", str(tmp_path / "run")]) == 0
    assert "translator.keras" in capsys.readouterr().out
    model = keras.saving.load_model(tmp_path / "run" / "translator.keras", safe_mode=True)
    assert model.inputs[0].shape[-1] == 1 and model.outputs[0].shape[-1] == 3
