"""keras_gan/training/trainer.py: the run folder, resume (also after kill -9), failures."""

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import keras
import numpy as np
import pytest
from PIL import Image

from keras_gan.config import TrainConfig
from keras_gan.training.checkpoints import read_checkpoint_step, weights_name
from keras_gan.training.trainer import TrainError, build_model, train

TOY = dict(dataset="ring", width=16, latent_dim=4, batch_size=32, steps_per_epoch=10,
           epochs=2, checkpoint_every=5, num_samples=32, verbose=0, tensorboard=False)


def toy_cfg(tmp_path, name="run", **kw):
    return TrainConfig(**{**TOY, "out": str(tmp_path / name), **kw})


def weights_of(model):
    return [v.numpy().copy() for v in model.variables]


def test_a_run_leaves_its_folder_behind(tmp_path):
    cfg = toy_cfg(tmp_path, tensorboard=True)
    result = train(cfg)
    run = result.run_dir
    assert result.step == 20
    assert json.loads((run / "config.json").read_text()) == cfg.to_dict()
    rows = (run / "metrics.csv").read_text().splitlines()
    assert rows[0].split(",")[:3] == ["epoch", "step", "seconds"]
    assert [r.split(",")[1] for r in rows[1:]] == ["10", "20"]
    assert (run / "samples" / "epoch_001.png").exists()
    assert (run / "samples" / "epoch_002.png").exists()
    assert read_checkpoint_step(run / "checkpoints") == 20
    assert list((run / "logs").rglob("events.out.tfevents*"))
    # A 2D run's TensorBoard images are its scatter plots (RGBA), at the epochs' steps.
    assert sorted(image_summaries(run)) == [0, 1]
    assert image_summaries(run)[1].shape[-1] == 4
    generator = keras.saving.load_model(run / "generator.keras")
    z = np.ones((2, 4), "float32")
    # generator.keras is what users sample from (the default, clustered, GAN's
    # sampler: z alone picks the cluster), built on the raw generator.
    raw = result.model.sampler(result.model.generator)
    np.testing.assert_allclose(generator(z).numpy(), raw(z).numpy())
    assert keras.saving.load_model(run / "gan.keras").d_steps == 1


def test_image_run_writes_a_sample_grid(tmp_path):
    cfg = TrainConfig(out=str(tmp_path / "img"), width=4, latent_dim=8, batch_size=16,
                      steps_per_epoch=2, epochs=1, num_samples=16, verbose=0,
                      tensorboard=False, fd_every=0)
    train(cfg)
    grid = Image.open(tmp_path / "img" / "samples" / "epoch_001.png")
    assert grid.size == (2 * (4 * 30 + 2),) * 2  # 4x4 digits of 28 px, 2 px pads, x2
    assert grid.mode == "L"
    assert not (tmp_path / "img" / "logs").exists()  # --no-tensorboard: no summaries


def image_summaries(run, tag="samples") -> dict:
    """The TensorBoard image summaries under RUN/logs/samples: step -> the
    decoded image (H, W, C) uint8, read back from the event files."""
    import io

    import tensorflow as tf

    found = {}
    for path in sorted((run / "logs" / "samples").glob("events.out.tfevents*")):
        for event in tf.compat.v1.train.summary_iterator(str(path)):
            for value in event.summary.value:
                if value.metadata.plugin_data.plugin_name == "images" and value.tag == tag:
                    width, height, png = tf.make_ndarray(value.tensor)  # one image each
                    image = np.asarray(Image.open(io.BytesIO(png)))
                    image = image[..., None] if image.ndim == 2 else image
                    assert image.shape[:2] == (int(height), int(width))
                    found[event.step] = image
    return found


def test_tensorboard_shows_each_epochs_sample_grid(tmp_path):
    """Each epoch's grid reaches TensorBoard's Images tab as the very pixels of
    samples/epoch_NNN.png, at the step Keras logs that epoch's losses at."""
    import tensorflow as tf

    cfg = TrainConfig(out=str(tmp_path / "img"), width=4, latent_dim=8, batch_size=8,
                      steps_per_epoch=2, epochs=2, num_samples=16, verbose=0,
                      tensorboard=True, fd_every=0)
    run = train(cfg).run_dir
    images = image_summaries(run)
    assert sorted(images) == [0, 1]
    for step, image in images.items():
        png = np.asarray(Image.open(run / "samples" / f"epoch_{step + 1:03d}.png"))
        assert image.shape == (244, 244, 1)  # 4x4 digits of 28 px, 2 px pads, x2
        np.testing.assert_array_equal(image[..., 0], png)
        assert image.std() > 0
    assert not np.array_equal(images[0], images[1])  # training moved the generator
    losses = [event.step for path in (run / "logs" / "train").glob("events.out.tfevents*")
              for event in tf.compat.v1.train.summary_iterator(str(path))
              for value in event.summary.value if value.tag == "epoch_d_loss"]
    assert sorted(losses) == [0, 1]  # the same steps as the images


def test_an_existing_run_is_never_overwritten(tmp_path):
    train(toy_cfg(tmp_path, epochs=1))
    with pytest.raises(TrainError) as e:
        train(toy_cfg(tmp_path, epochs=1))
    assert str(e.value) == (f"{tmp_path}/run already holds a run; pass --resume to continue "
                            "it, or --out to start a new one")
    with pytest.raises(TrainError) as e:
        train(toy_cfg(tmp_path, epochs=2, batch_size=16, resume=True))
    assert str(e.value) == (f"cannot resume {tmp_path}/run with a different config "
                            "(batch_size: 32 -> 16); only these may change: checkpoint_every, "
                            "epochs, evaluator, fd_every, fd_samples, keep_checkpoints, strategy, "
                            "tensorboard, verbose")


class CrashAt(keras.callbacks.Callback):
    def __init__(self, step):
        super().__init__()
        self.step = step

    def on_train_batch_end(self, batch, logs=None):
        if int(self.model.optimizer.iterations) == self.step:
            raise KeyboardInterrupt("simulated crash")


def test_resume_mid_epoch_matches_an_uninterrupted_run(tmp_path):
    straight = train(toy_cfg(tmp_path, "straight"))
    with pytest.raises(KeyboardInterrupt):
        train(toy_cfg(tmp_path, "crashed"), callbacks=[CrashAt(13)])
    assert read_checkpoint_step(tmp_path / "crashed" / "checkpoints") == 10
    resumed = train(toy_cfg(tmp_path, "crashed", resume=True))
    assert resumed.step == straight.step == 20
    for a, b in zip(weights_of(straight.model), weights_of(resumed.model), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    for a, b in zip(straight.model.d_optimizer.variables, resumed.model.d_optimizer.variables,
                    strict=True):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-5, atol=1e-7)


def optimizer_state(model):
    return [v.numpy().copy() for v in model.d_optimizer.variables
            + model.g_optimizer.variables]


def network_weights(model):
    return [v.numpy().copy() for v in model.generator.weights + model.discriminator.weights]


class Probe(keras.callbacks.Callback):
    """Copies the optimizer state and the networks' weights as training
    (re)starts."""

    def on_train_begin(self, logs=None):
        if not hasattr(self, "state"):
            self.state = optimizer_state(self.model)
            self.weights = network_weights(self.model)


def test_kill_9_mid_epoch_then_resume_restores_optimizer_state(tmp_path):
    cfg = toy_cfg(tmp_path, "killed", steps_per_epoch=400, epochs=2, checkpoint_every=20)
    argv = [sys.executable, "-m", "keras_gan", "train", "--verbose", "0"]
    for key, value in cfg.to_dict().items():
        if value is not None and not isinstance(value, (bool, dict)):
            argv += ["--" + key.replace("_", "-"), str(value)]
    argv.append("--no-tensorboard")
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    ckpt = Path(cfg.out) / "checkpoints"
    deadline = time.time() + 120
    try:
        while (read_checkpoint_step(ckpt) or 0) < 60:
            assert proc.poll() is None, proc.stderr.read().decode()[-2000:]
            assert time.time() < deadline, "no checkpoint within 120 s"
            time.sleep(0.05)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    killed_at = read_checkpoint_step(ckpt)
    assert 60 <= killed_at < 800  # mid-training, not at the end
    # The committed checkpoint the resume must start from; the resumed run
    # deletes it once it commits a newer one, so keep a copy.
    on_disk = tmp_path / "killed_at.weights.h5"
    shutil.copyfile(ckpt / weights_name(killed_at), on_disk)

    probe = Probe()
    result = train(cfg.replace(resume=True), callbacks=[probe])
    assert result.step == 800  # the step count went on from the checkpoint

    # What the resumed run started from is exactly what was on disk when it
    # was killed: that checkpoint loaded into a fresh model.
    saved = build_model(cfg, (2,))
    assert int(saved.optimizer.iterations) == 0
    saved.load_weights(on_disk)
    expected = optimizer_state(saved)
    iterations = [s for s in expected if s.shape == ()]
    assert killed_at in {int(s) for s in iterations}
    moments = [s for s in expected if s.ndim > 0]
    assert moments and all(np.abs(m).sum() > 0 for m in moments)  # not a fresh optimizer
    assert len(probe.state) == len(expected)
    for got, want in zip(probe.state, expected, strict=True):
        np.testing.assert_array_equal(got, want)
    for got, want in zip(probe.weights, network_weights(saved), strict=True):
        np.testing.assert_array_equal(got, want)
    fresh = build_model(cfg, (2,))
    fresh.load_weights(ckpt / weights_name(800))  # the final checkpoint, step 800
    assert int(fresh.optimizer.iterations) == 800
    steps = [int(r.split(",")[1]) for r in
             (Path(cfg.out) / "metrics.csv").read_text().splitlines()[1:]]
    assert steps[-1] == 800


def test_non_finite_loss_stops_and_keeps_the_last_good_checkpoint(tmp_path):
    class Poison(keras.callbacks.Callback):
        def on_train_batch_begin(self, batch, logs=None):
            if int(self.model.optimizer.iterations) == 12:
                for v in self.model.discriminator.trainable_variables:
                    v.assign(np.full(v.shape, np.nan, "float32"))

    with pytest.raises(TrainError, match="non-finite loss at step 13"):
        train(toy_cfg(tmp_path), callbacks=[Poison()])
    ckpt = tmp_path / "run" / "checkpoints"
    assert read_checkpoint_step(ckpt) == 10
    model = build_model(toy_cfg(tmp_path), (2,))
    model.load_weights(ckpt / weights_name(10))
    assert all(np.isfinite(v.numpy()).all() for v in model.discriminator.variables)
    assert not (tmp_path / "run" / "generator.keras").exists()


def test_unwritable_run_folder_fails_before_training(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(TrainError) as e:
        train(toy_cfg(tmp_path).replace(out=str(blocker / "run")))
    assert str(e.value) == f"cannot write to run folder {tmp_path}/file/run: Not a directory"


def test_conditional_run_on_the_embedded_digits(tmp_path):
    cfg = TrainConfig(gan="cgan", out=str(tmp_path / "c"), width=4, latent_dim=8,
                      batch_size=16, steps_per_epoch=2, epochs=1, num_samples=20,
                      verbose=0, tensorboard=False, fd_every=0)
    result = train(cfg)
    assert result.model.num_classes == 10
    data = json.loads((tmp_path / "c" / "data.json").read_text())
    assert data["class_names"] == [str(i) for i in range(10)] and data["num_classes"] == 10
    assert (tmp_path / "c" / "samples" / "epoch_001.png").exists()


def test_conditional_variant_refuses_unlabelled_data(tmp_path):
    from keras_gan.data.pipeline import DataError

    np.savez(tmp_path / "x.npz", x=np.zeros((8, 2), np.float32))
    with pytest.raises(DataError, match="no labels"):
        train(toy_cfg(tmp_path, gan="cgan", dataset=f"npz:{tmp_path / 'x.npz'}"))
    assert not (tmp_path / "run").exists()  # nothing left behind


@pytest.mark.parametrize("gan", ["pacgan", "wgan-gp", "unrolled"])
def test_variants_train_from_the_cli_glue(tmp_path, gan):
    result = train(toy_cfg(tmp_path, gan=gan, epochs=1, steps_per_epoch=4))
    assert result.step == 4
    assert all(np.isfinite(v).all() for v in result.history.values())


def test_the_vae_baseline_trains_through_the_same_glue(tmp_path):
    cfg = TrainConfig(gan="vae", out=str(tmp_path / "vae"), width=4, latent_dim=8,
                      batch_size=16, steps_per_epoch=3, epochs=1, num_samples=16,
                      verbose=0, tensorboard=False, fd_every=0)
    result = train(cfg)
    assert result.step == 3 and set(result.history) >= {"loss", "recon", "kl"}
    generator = keras.saving.load_model(tmp_path / "vae" / "generator.keras")
    assert generator.inputs[0].name == "z" and generator.outputs[0].shape[1:] == (28, 28, 1)
    assert read_checkpoint_step(tmp_path / "vae" / "checkpoints") == 3


@pytest.mark.parametrize("schedule", ["linear", "cosine"])
def test_lr_schedule_decays_to_zero_over_the_run(schedule):
    cfg = TrainConfig(dataset="ring", gan="nsgan", lr_schedule=schedule, d_steps=2,
                      d_lr=1e-3, g_lr=2e-3, width=8)
    gan = build_model(cfg, (2,), total_steps=100)
    # .learning_rate is the current value; the schedule itself is _learning_rate
    g_lr, d_lr = gan.g_optimizer._learning_rate, gan.d_optimizer._learning_rate
    assert isinstance(g_lr, keras.optimizers.schedules.LearningRateSchedule)
    assert float(g_lr(0)) == pytest.approx(2e-3)
    half = 1e-3 if schedule == "linear" else 2e-3 * 0.5 * (1 + np.cos(np.pi / 2))
    assert float(g_lr(50)) == pytest.approx(half, rel=1e-5)
    assert float(g_lr(100)) == pytest.approx(0.0, abs=1e-9)
    # the discriminator takes d_steps = 2 updates per step: it decays over 200
    assert float(d_lr(100)) == pytest.approx(float(g_lr(50)) / 2, rel=1e-5)
    assert float(d_lr(200)) == pytest.approx(0.0, abs=1e-9)
    constant = build_model(cfg.replace(lr_schedule="constant"), (2,), total_steps=100)
    assert float(constant.g_optimizer.learning_rate) == pytest.approx(2e-3)


def test_steps_per_execution_trains_the_same_steps_and_checkpoints(tmp_path):
    # 10 steps per epoch, 4 per execution: checkpoints at the first call past
    # each multiple of checkpoint_every (5), and the same weights as 1 per call.
    one = train(toy_cfg(tmp_path, "one"))
    many = train(toy_cfg(tmp_path, "many", steps_per_execution=4))
    assert many.step == one.step == 20
    assert read_checkpoint_step(tmp_path / "many" / "checkpoints") == 20
    for a, b in zip(weights_of(one.model), weights_of(many.model), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("options, message", [
    (dict(augment="translation"), "--gan clustered on ring: --augment translation needs "
                                  "image data; the generator makes samples of shape (2,)"),
    (dict(gan="hinge", label_smoothing=0.1),
     "--gan hinge on ring: --label-smoothing / --label-noise need a loss with targets "
     "(minimax, non_saturating, least_squares); this model uses hinge"),
])
def test_trick_options_that_do_not_fit_the_run_fail_before_writing(tmp_path, options, message):
    from keras_gan.config import ConfigError

    with pytest.raises(ConfigError) as e:
        train(toy_cfg(tmp_path, **options))
    assert str(e.value) == message
    assert not (tmp_path / "run").exists()


@pytest.fixture
def mock_fashion(tmp_path):
    tfds = pytest.importorskip("tensorflow_datasets")
    with tfds.testing.mock_data(num_examples=16, data_dir=str(tmp_path / "tfds")):
        yield


def test_no_digit_fd_on_images_that_are_not_digits(tmp_path, mock_fashion, capsys):
    """28x28 grey Fashion-MNIST gets no digit FD by default, and naming the
    digit classifier for it is refused before the run folder is written."""
    cfg = TrainConfig(dataset="tfds:fashion_mnist", gan="dcgan", width=4, latent_dim=4,
                      batch_size=8, steps_per_epoch=1, epochs=1, num_samples=4, verbose=0,
                      tensorboard=False, fd_samples=8, out=str(tmp_path / "run"))
    train(cfg)
    header = (tmp_path / "run" / "metrics.csv").read_text().splitlines()[0].split(",")
    assert not [k for k in header if k.endswith("_fd")]
    with pytest.raises(ValueError, match="the digit classifier scores MNIST digits; "
                                         "tfds:fashion_mnist is not digits"):
        train(cfg.replace(evaluator="digit", out=str(tmp_path / "named")))
    assert not (tmp_path / "named").exists()


def test_a_run_no_evaluator_knows_says_so_once(tmp_path, capsys):
    """The user's own images (neither digits nor emoji) get no FD under auto:
    the run says so once, at its start, naming how to get one."""
    data = tmp_path / "clothes.npz"
    np.savez(data, x=np.random.default_rng(0).integers(0, 256, (32, 28, 28), np.uint8))
    cfg = TrainConfig(dataset=f"npz:{data}", gan="dcgan", width=4, latent_dim=8, batch_size=8,
                      steps_per_epoch=1, epochs=2, num_samples=4, verbose=0,
                      tensorboard=False, fd_samples=8, out=str(tmp_path / "run"))
    train(cfg)
    err = capsys.readouterr().err
    note = (f"note: FD not logged: no evaluator knows npz:{tmp_path}/clothes.npz (28x28x1 "
            "images); pass --evaluator inception to log inception_fd (ImageNet InceptionV3 "
            "features; Keras downloads the weights once), or --evaluator none to silence this")
    assert note in err.splitlines()
    assert err.count("FD not logged") == 1  # once, not per epoch
    header = (tmp_path / "run" / "metrics.csv").read_text().splitlines()[0].split(",")
    assert not [k for k in header if k.endswith("_fd")]
    train(cfg.replace(evaluator="none", out=str(tmp_path / "quiet")))
    assert "FD not logged" not in capsys.readouterr().err  # asked for none: nothing to say
