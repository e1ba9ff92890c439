"""Faults during training: kill -9, a non-finite loss, float16 overflow, a full
disk, an unwritable run folder. Each must leave the last complete checkpoint
whole and say what happened in one line.

The kill test runs `keras-gan train` through WRAPPER, which adds test hooks
by monkeypatching (the library has none): it records what each checkpoint
holds as it is saved, and in the stall modes it stops *inside* the second
checkpoint write of the process and waits for the kill:
- stall-weights: `save_weights` has written the temporary weights file; it
  is cut to half its size (a write half done) and the process sleeps;
- stall-commit: the weights are renamed to their own name, state.json.tmp
  holds half the new state, state.json (the commit) is not yet replaced.
"""

import errno
import json
import os
import random
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import keras
import numpy as np
import pytest

from keras_gan.cli import main
from keras_gan.config import TrainConfig
from keras_gan.training import checkpoints
from keras_gan.training.checkpoints import (
    STATE_FILE,
    TMP_WEIGHTS,
    CheckpointError,
    read_checkpoint_step,
    restore_checkpoint,
    weights_name,
)
from keras_gan.training.trainer import TrainError, build_model, train

REPO = Path(__file__).resolve().parents[1]
TOY = dict(dataset="ring", width=16, latent_dim=4, batch_size=32, steps_per_epoch=100,
           epochs=4, checkpoint_every=20, num_samples=32, verbose=0, tensorboard=False)
# The kill points are random; the seed is in every failure message, and
# FAULT_SEED=N replays a run.
SEED = int(os.environ.get("FAULT_SEED", time.time_ns() % 100_000))

WRAPPER = textwrap.dedent('''
    import json, os, sys, time
    from pathlib import Path

    import keras
    import numpy as np

    from keras_gan.training import checkpoints
    from keras_gan.cli import main

    mode, log = sys.argv[1], Path(sys.argv[2])
    saves = 0

    def variables(model):
        found = (model.weights + model.d_optimizer.variables + model.g_optimizer.variables
                 + [model.seed_generator.state])
        return [keras.ops.convert_to_numpy(v) for v in found]

    def stall(what):
        (log / "stalled").write_text(what)
        time.sleep(600)  # kill -9 comes here

    real_save = checkpoints.Checkpoint.save

    def save(self):
        global saves
        saves += 1
        step = self._step()  # what this checkpoint will hold, for the test to compare
        np.savez(log / "record.tmp.npz", *variables(self.model))
        os.replace(log / "record.tmp.npz", log / f"record-{step}.npz")
        return real_save(self)

    real_save_weights = keras.Model.save_weights

    def save_weights(self, path, *args, **kwargs):
        real_save_weights(self, path, *args, **kwargs)
        if mode == "stall-weights" and saves == 2:
            with open(path, "r+b") as f:
                f.truncate(os.path.getsize(path) // 2)
            stall(str(path))

    real_atomic = checkpoints._atomic_write_text

    def atomic(path, text):
        if mode == "stall-commit" and saves == 2 and path.name == checkpoints.STATE_FILE:
            path.with_name(path.name + ".tmp").write_text(text[: len(text) // 2])
            stall(text)
        real_atomic(path, text)

    real_begin = checkpoints.Checkpoint.on_train_begin

    def begin(self, logs=None):
        path = log / f"begin-{os.getpid()}.json"
        if not path.exists():  # the first fit of the process: where it resumed
            path.write_text(json.dumps({"g": int(self.model.g_optimizer.iterations),
                                        "d": int(self.model.d_optimizer.iterations)}))
        real_begin(self, logs)

    checkpoints.Checkpoint.save = save
    checkpoints.Checkpoint.on_train_begin = begin
    checkpoints._atomic_write_text = atomic
    keras.Model.save_weights = save_weights
    sys.exit(main(sys.argv[3:]))
''')


def variables(model):
    """What a checkpoint holds, in WRAPPER's order."""
    found = (model.weights + model.d_optimizer.variables + model.g_optimizer.variables
             + [model.seed_generator.state])
    return [keras.ops.convert_to_numpy(v) for v in found]


def flags(cfg: TrainConfig) -> list[str]:
    argv = []
    for key, value in cfg.to_dict().items():
        if isinstance(value, bool):
            argv.append(("--" if value else "--no-") + key.replace("_", "-"))
        elif isinstance(value, dict):  # gan_options
            argv += [a for k, v in value.items() for a in ("--gan-option", f"{k}={v}")]
        elif value is not None:
            argv += ["--" + key.replace("_", "-"), str(value)]
    return argv


def launch(tmp_path, mode, cfg, log):
    script = tmp_path / "wrapper.py"
    script.write_text(WRAPPER)
    out = open(log / f"{mode}.out", "w")
    env = {**os.environ, "PYTHONPATH": str(REPO), "TF_CPP_MIN_LOG_LEVEL": "3"}
    proc = subprocess.Popen([sys.executable, str(script), mode, str(log), "train",
                             *flags(cfg)], cwd=REPO, env=env, stdout=out,
                            stderr=subprocess.STDOUT)
    out.close()
    return proc


def check_restores(cfg, ckpt, log):
    """A fresh model restores the committed checkpoint: the step state.json
    says, both optimizers' iterations, and exactly the values saved."""
    model = build_model(cfg, (2,))
    step = restore_checkpoint(model, ckpt)
    state = json.loads((ckpt / STATE_FILE).read_text())
    assert step == state["step"] == int(model.optimizer.iterations)
    assert int(model.d_optimizer.iterations) == step * cfg.d_steps
    saved = np.load(log / f"record-{step}.npz")
    got = variables(model)
    assert len(saved.files) == len(got)
    for i, value in enumerate(got):
        np.testing.assert_array_equal(value, saved[f"arr_{i}"])
    return step


def test_kill_9_at_random_points_then_resume(tmp_path):
    rng = random.Random(SEED)
    cfg = TrainConfig(**TOY, out=str(tmp_path / "run"))
    ckpt, log = tmp_path / "run" / "checkpoints", tmp_path / "log"
    log.mkdir()
    committed, kills = None, []
    for mode in ("random", "stall-weights", "stall-commit"):
        (log / "stalled").unlink(missing_ok=True)
        proc = launch(tmp_path, mode, cfg.replace(resume=committed is not None), log)
        deadline = time.monotonic() + 300  # a loaded machine starts TensorFlow slowly
        target = (committed or 0) + rng.randrange(2, 5) * cfg.checkpoint_every
        try:
            while not ((log / "stalled").exists() if mode != "random"
                       else (read_checkpoint_step(ckpt) or 0) >= target):
                assert proc.poll() is None, (log / f"{mode}.out").read_text()[-3000:]
                assert time.monotonic() < deadline, f"{mode}: no kill point in 300 s"
                time.sleep(0.02)
            if mode == "random":
                time.sleep(rng.uniform(0.0, 0.3))  # somewhere in the steps that follow
        finally:
            proc.kill()  # SIGKILL
            proc.wait()
        names = set(os.listdir(ckpt))
        state = json.loads((ckpt / STATE_FILE).read_text())
        kills.append((mode, state["step"]))
        where = f"seed {SEED}, kills {kills}, files {sorted(names)}"
        if committed is not None:  # the killed process had started from the checkpoint
            begin = json.loads((log / f"begin-{proc.pid}.json").read_text())
            assert begin == {"g": committed, "d": committed * cfg.d_steps}, where
        if mode == "stall-weights":  # killed mid-write: the half file was never committed
            assert TMP_WEIGHTS in names, where
            assert state["step"] == committed + cfg.checkpoint_every, where
        if mode == "stall-commit":  # killed between the weights' rename and the commit
            orphans = [n for n in names if n.startswith("ckpt-0") and n > state["weights"]]
            assert len(orphans) == 1, where  # renamed, never committed
            assert "state.json.tmp" in names, where  # the half-written commit
        committed = check_restores(cfg, ckpt, log)  # never the temporary/uncommitted files

    assert len(kills) == 3
    assert 0 < committed < 400

    class Probe(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            if not hasattr(self, "start"):
                self.start = int(self.model.optimizer.iterations)

    probe = Probe()
    resumed = train(cfg.replace(resume=True), callbacks=[probe])
    straight = train(cfg.replace(out=str(tmp_path / "straight")))
    assert probe.start == committed and resumed.step == straight.step == 400
    # Strays removed; the last --keep-checkpoints (2) checkpoints kept.
    assert set(os.listdir(ckpt)) == {STATE_FILE, weights_name(380), weights_name(400)}
    # Three kill -9s later, the same weights as an uninterrupted run.
    for a, b in zip(variables(straight.model), variables(resumed.model), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6, err_msg=f"seed {SEED}")


def small_cfg(tmp_path, **kw):
    return TrainConfig(**{**TOY, "steps_per_epoch": 10, "epochs": 2, "checkpoint_every": 5,
                          "out": str(tmp_path / "run"), **kw})


def test_non_finite_loss_stops_with_the_step_and_keeps_the_last_good_checkpoint(
        tmp_path, monkeypatch, capsys):
    from keras_gan.models.gan import GAN

    real = GAN.discriminator_loss

    def poisoned(self, *args, **kwargs):  # NaN from step 13 on (iterations 12 is step 13)
        loss = real(self, *args, **kwargs)
        return keras.ops.where(self.g_optimizer.iterations >= 12, float("nan"), loss)

    monkeypatch.setattr(GAN, "discriminator_loss", poisoned)
    cfg = small_cfg(tmp_path)
    assert main(["train", *flags(cfg)]) == 2
    err = capsys.readouterr().err
    assert err == ("keras-gan train: error: non-finite loss at step 13 ({'d_loss': nan}); "
                   "training stopped, the last good checkpoint is kept\n")
    ckpt = tmp_path / "run" / "checkpoints"
    assert read_checkpoint_step(ckpt) == 10  # saved before the NaN, not after
    model = build_model(cfg, (2,))
    assert restore_checkpoint(model, ckpt) == 10
    assert all(np.isfinite(v).all() for v in variables(model))
    assert not (tmp_path / "run" / "generator.keras").exists()


def test_mixed_float16_overflow_skips_and_counts_the_updates(tmp_path, capsys):
    class Overflow(keras.callbacks.Callback):
        """A loss scale far too large at step 6: float16 gradients overflow."""

        def on_train_batch_begin(self, batch, logs=None):
            if int(self.model.g_optimizer.iterations) == 5 and not hasattr(self, "done"):
                self.done = True
                for o in (self.model.g_optimizer, self.model.d_optimizer):
                    o.dynamic_scale.assign(2.0**30)

    result = train(small_cfg(tmp_path, precision="mixed_float16"), callbacks=[Overflow()])
    assert result.step == 20  # applied updates: extra fit batches made up the skipped ones
    assert isinstance(result.model.g_optimizer, keras.optimizers.LossScaleOptimizer)
    out = capsys.readouterr().out
    assert "mixed_float16 loss scaling skipped updates with non-finite gradients" in out
    rows = (tmp_path / "run" / "metrics.csv").read_text().splitlines()
    header = rows[0].split(",")
    skipped = [float(r.split(",")[header.index("skipped_steps")]) for r in rows[1:]]
    skipped_d = [float(r.split(",")[header.index("skipped_d_updates")]) for r in rows[1:]]
    assert sum(skipped) >= 1 and sum(skipped_d) >= 1
    assert float(result.model.g_optimizer.dynamic_scale) < 2.0**30  # halved per skip
    assert all(np.isfinite(v).all() for v in variables(result.model))
    assert read_checkpoint_step(tmp_path / "run" / "checkpoints") == 20


ENOSPC = OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


@pytest.mark.parametrize("where", ["weights", "state"])
def test_disk_full_during_a_checkpoint_keeps_the_last_one(tmp_path, monkeypatch, capsys, where):
    saved = {}
    real_save_weights, real_write = keras.Model.save_weights, Path.write_text

    def save_weights(self, path, *args, **kwargs):
        if "step" in saved and where == "weights":  # the second checkpoint: disk full
            Path(path).write_bytes(b"\x89HDF\r\n half a file")
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))
        real_save_weights(self, path, *args, **kwargs)
        if "step" not in saved:
            saved.update(step=int(self.optimizer.iterations), values=variables(self))

    def write_text(self, text, *args, **kwargs):
        if self.name == f"{STATE_FILE}.tmp" and "written" in saved and where == "state":
            real_write(self, text[:7])
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(self))
        if self.name == f"{STATE_FILE}.tmp":
            saved["written"] = True
        return real_write(self, text, *args, **kwargs)

    monkeypatch.setattr(keras.Model, "save_weights", save_weights)
    monkeypatch.setattr(Path, "write_text", write_text)
    cfg = small_cfg(tmp_path)
    assert main(["train", *flags(cfg)]) == 2
    err = capsys.readouterr().err.strip()
    assert err == (f"keras-gan train: error: cannot write the checkpoint of step 10 to "
                   f"{tmp_path}/run/checkpoints: No space left on device; the last complete "
                   "checkpoint (step 5) is kept")
    ckpt = tmp_path / "run" / "checkpoints"
    assert set(os.listdir(ckpt)) == {STATE_FILE, weights_name(5)}  # no half file left
    monkeypatch.undo()
    model = build_model(cfg, (2,))
    assert restore_checkpoint(model, ckpt) == saved["step"] == 5
    for a, b in zip(variables(model), saved["values"], strict=True):
        np.testing.assert_array_equal(a, b)


def test_disk_full_writing_the_final_models_leaves_no_half_file(tmp_path, monkeypatch):
    real_save = keras.Model.save

    def save(self, path, *args, **kwargs):
        Path(path).write_bytes(b"PK half a zip")
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))

    monkeypatch.setattr(keras.Model, "save", save)
    with pytest.raises(TrainError) as e:
        train(small_cfg(tmp_path, epochs=1))
    assert str(e.value) == (f"disk full writing {tmp_path}/run/generator-tmp.keras: No space "
                            "left on device; the last complete checkpoint is kept: free space, "
                            "then --resume")
    monkeypatch.setattr(keras.Model, "save", real_save)
    run = tmp_path / "run"
    assert not list(run.glob("*.keras"))  # neither the real name nor the temporary one
    assert read_checkpoint_step(run / "checkpoints") == 10


def test_disk_full_or_unwritable_run_folder_fails_before_training(tmp_path, monkeypatch):
    # /proc refuses new entries even to root: "No such file or directory".
    with pytest.raises(TrainError) as e:
        train(small_cfg(tmp_path).replace(out="/proc/keras-gan-run"))
    assert str(e.value) == ("cannot write to run folder /proc/keras-gan-run: No such file or "
                            "directory")
    real_write = Path.write_text

    def full(self, *args, **kwargs):
        if self.name == ".write-test":
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(self))
        return real_write(self, *args, **kwargs)

    monkeypatch.setattr(Path, "write_text", full)
    with pytest.raises(TrainError) as e:
        train(small_cfg(tmp_path))
    assert str(e.value) == f"cannot write to run folder {tmp_path}/run: No space left on device"
    assert not (tmp_path / "run" / "checkpoints").exists()


def test_read_only_run_folder_fails_before_training(tmp_path):
    """chmod does not stop root: as root, drop to nobody's uid for the check
    (seteuid, undone after); as anyone else, chmod is enough."""
    folder = Path(tempfile.mkdtemp(prefix="keras-gan-ro-"))  # not under root's 0700 tmp_path
    try:
        folder.chmod(0o555)
        as_root = os.geteuid() == 0
        for out in (folder, folder / "run"):  # an existing folder, and one to create in it
            if as_root:
                os.seteuid(65534)
            try:
                with pytest.raises(TrainError, match=f"cannot write to run folder {out}: "
                                                     "Permission denied"):
                    train(small_cfg(tmp_path).replace(out=str(out)))
            finally:
                if as_root:
                    os.seteuid(0)
    finally:
        folder.chmod(0o755)
        for f in folder.iterdir():
            f.unlink()
        folder.rmdir()


def test_corrupt_checkpoint_state_and_weights_are_refused_on_resume(tmp_path):
    # One checkpoint only (step 10): with an older one kept, --resume falls
    # back to it instead (tests/test_run_folder.py).
    cfg = small_cfg(tmp_path, epochs=1, checkpoint_every=10)
    train(cfg)
    ckpt = tmp_path / "run" / "checkpoints"
    (ckpt / weights_name(10)).write_bytes(b"not hdf5")
    assert weights_name(10) == "ckpt-000000010.weights.h5"
    with pytest.raises(CheckpointError) as e:
        train(cfg.replace(resume=True, epochs=2))
    assert str(e.value) == (f"cannot load checkpoint {tmp_path}/run/checkpoints/"
                            "ckpt-000000010.weights.h5: OSError: Unable to synchronously open "
                            "file (file signature not found). It does not match this model "
                            "(different config?) or is corrupt; move it away to start over.")
    (ckpt / STATE_FILE).write_text("{half")
    with pytest.raises(CheckpointError) as e:
        train(cfg.replace(resume=True, epochs=2))
    assert str(e.value) == (f"checkpoint state {tmp_path}/run/checkpoints/state.json is corrupt "
                            "(Expecting property name enclosed in double quotes: line 1 column 2 "
                            "(char 1)); delete the checkpoints folder to start over")
    assert checkpoints.STATE_FILE == STATE_FILE
