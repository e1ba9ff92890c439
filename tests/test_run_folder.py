"""Run folders that travel and heal (issue 19).

- A run folder moved or copied elsewhere resumes where it is now (where a
  run lives is not part of what it trains), and its card names that place.
- The last --keep-checkpoints (>= 2) checkpoints are kept; --resume passes
  over a newest one that cannot be loaded (truncated, random bytes, a file
  of another config) or holds another step, says so in one line on stderr,
  and goes on from the previous good one: the run ends with the weights an
  uninterrupted run from that checkpoint gives.
- Before training, what the run will write (checkpoints, sample grids,
  final models) is compared with the free space on its disk.

The runs are tiny (4 steps an epoch, checkpoints at steps 2 and 4) and the
module shares one of them and its reference continuation.
"""

import json
import os
import shutil

import keras
import numpy as np
import pytest

from keras_gan.cli import main
from keras_gan.config import ConfigError, TrainConfig
from keras_gan.training.checkpoints import (
    STATE_FILE,
    CheckpointError,
    CorruptState,
    read_checkpoint_step,
    restore_checkpoint,
    weights_name,
)
from keras_gan.training.disk import disk_needs
from keras_gan.training.run_folder import export_run, human_bytes, read_config
from keras_gan.training.trainer import TrainError, build_model, train

# nsgan: the default (clustered) variant first clusters the data, which is
# most of a tiny run's time.
TOY = dict(dataset="ring", gan="nsgan", width=16, latent_dim=4, batch_size=32,
           steps_per_epoch=4, epochs=1, checkpoint_every=2, num_samples=8, verbose=0,
           tensorboard=False)


def variables(model):
    """What a checkpoint holds: both networks, both optimizers, the RNG."""
    found = (model.weights + model.d_optimizer.variables + model.g_optimizer.variables
             + [model.seed_generator.state])
    return [keras.ops.convert_to_numpy(v).copy() for v in found]


def assert_same(a, b, exact=False):
    assert len(a) == len(b)
    for x, y in zip(a, b, strict=True):
        if exact:
            np.testing.assert_array_equal(x, y)
        else:  # as the other resume tests: float sums in another order
            np.testing.assert_allclose(x, y, rtol=1e-5, atol=1e-6)


class Probe(keras.callbacks.Callback):
    """The step and the whole state training (re)started from."""

    def on_train_begin(self, logs=None):
        if not hasattr(self, "step"):
            self.step = int(self.model.optimizer.iterations)
            self.state = variables(self.model)


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """A run of one epoch (checkpoints of steps 2 and 4, both kept) in
    ROOT/base, and the reference: a copy of it continued to two epochs from
    its older checkpoint (step 2), nothing wrong. Returns (root, config,
    the reference's Probe, its final state)."""
    root = tmp_path_factory.mktemp("runs")
    cfg = TrainConfig(**TOY, out=str(root / "base"))
    train(cfg)
    assert sorted(os.listdir(root / "base" / "checkpoints")) == [
        weights_name(2), weights_name(4), STATE_FILE]
    older = root / "older"
    shutil.copytree(root / "base", older)
    (older / "checkpoints" / weights_name(4)).unlink()
    (older / "checkpoints" / STATE_FILE).write_text(
        json.dumps({"step": 2, "weights": weights_name(2)}))
    probe = Probe()
    reference = train(cfg.replace(out=str(older), resume=True, epochs=2), callbacks=[probe])
    assert probe.step == 2 and reference.step == 8
    return root, cfg, probe, variables(reference.model)


def copy_run(runs, to):
    shutil.copytree(runs[0] / "base", to)
    return to


# -- a moved or copied run folder ------------------------------------------------------


def test_a_copied_run_folder_resumes_where_it_is_now(runs, tmp_path, capsys):
    root, cfg, _, reference = runs
    copy = copy_run(runs, tmp_path / "elsewhere" / "copy")
    assert read_config(copy)["out"] == str(root / "base")  # where it was trained
    # Its card names where it is now, not where it was.
    card = export_run(copy, tmp_path / "export")
    assert card["training_config"]["out"] == str(copy)
    assert card["training_config"] == {**cfg.to_dict(), "out": str(copy)}
    # Resumed from the command line (and --keep-checkpoints may change).
    assert main(["train", "--out", str(copy), "--resume", "--epochs", "2",
                 "--keep-checkpoints", "3"]) == 0
    assert f"Trained to step 8. Results in {copy}/" in capsys.readouterr().out
    saved = read_config(copy)
    assert (saved["out"], saved["epochs"], saved["keep_checkpoints"]) == (str(copy), 2, 3)
    assert sorted(os.listdir(copy / "checkpoints")) == [
        weights_name(4), weights_name(6), weights_name(8), STATE_FILE]
    resumed = build_model(cfg, (2,))
    assert restore_checkpoint(resumed, copy / "checkpoints") == 8
    assert_same(variables(resumed), reference)  # the same weights as the run resumed in place
    # The original was neither read for its config nor written.
    assert read_checkpoint_step(root / "base" / "checkpoints") == 4
    assert read_config(root / "base")["out"] == str(root / "base")


def test_resume_without_out_continues_the_run_found_not_the_one_its_config_names(
        tmp_path, monkeypatch, capsys):
    """A run copied to the default folder (runs/GAN-DATASET): its config.json
    still names where it was trained, and --resume must not go there."""
    run = tmp_path / "runs" / "nsgan-ring"
    run.mkdir(parents=True)
    (run / "config.json").write_text(json.dumps(
        TrainConfig(**TOY, out="/somewhere/else").to_dict()))
    monkeypatch.chdir(tmp_path)
    assert main(["train", "--gan", "nsgan", "--dataset", "ring", "--resume", "--epochs", "2",
                 "--dry-run"]) == 0
    resolved = json.loads(capsys.readouterr().out)
    assert (resolved["out"], resolved["epochs"], resolved["width"]) == (
        "runs/nsgan-ring", 2, 16)


# -- keeping checkpoints, falling back past a bad one ------------------------------------


def test_keep_checkpoints_is_at_least_two():
    with pytest.raises(ConfigError) as e:
        TrainConfig(keep_checkpoints=1)
    assert str(e.value) == "keep_checkpoints must be >= 2, got 1"


def damage(path, how, cfg):
    size = path.stat().st_size
    if how == "truncated":
        with open(path, "r+b") as f:
            f.truncate(size // 2)
    elif how == "random bytes":
        path.write_bytes(np.random.default_rng(0).bytes(size))
    else:  # a checkpoint of another config (narrower networks)
        build_model(cfg.replace(width=8), (2,)).save_weights(path)
    return size


@pytest.mark.parametrize("how", ["truncated", "random bytes", "other config"])
def test_a_bad_newest_checkpoint_falls_back_to_the_previous_one(runs, tmp_path, capsys, how):
    _, cfg, reference_probe, reference = runs
    run = copy_run(runs, tmp_path / "run")
    newest = run / "checkpoints" / weights_name(4)
    size = damage(newest, how, cfg)
    capsys.readouterr()
    probe = Probe()
    result = train(cfg.replace(out=str(run), resume=True, epochs=2), callbacks=[probe])
    warnings = [line for line in capsys.readouterr().err.splitlines()
                if line.startswith("warning:")]
    reasons = {
        "random bytes": "OSError: Unable to synchronously open file (file signature not found)",
        "truncated": f"OSError: Unable to synchronously open file (truncated file: eof = "
                     f"{size // 2}, sblock->base_addr = 0, stored_eof = {size})",
        # Keras's count of what did not fit varies with how the model was built.
        "other config": "ValueError: A total of ",
    }
    assert len(warnings) == 1  # one line, and never silent
    assert warnings[0].startswith(f"warning: cannot load checkpoint {newest} (step 4): "
                                  f"{reasons[how]}")
    if how == "other config":
        assert " objects could not be loaded. Example error message for object " in warnings[0]
        assert "must match. variable.shape=" in warnings[0] and " at 0x" not in warnings[0]
    assert warnings[0].endswith("; resuming from the previous good one, "
                                "ckpt-000000002.weights.h5 (step 2)")
    if how == "random bytes":  # the message in docs/robustness.md
        assert warnings[0] == (
            f"warning: cannot load checkpoint {tmp_path}/run/checkpoints/"
            "ckpt-000000004.weights.h5 (step 4): OSError: Unable to synchronously open file "
            "(file signature not found); resuming from the previous good one, "
            "ckpt-000000002.weights.h5 (step 2)")
    # It went on from exactly the older checkpoint, as the reference did,
    # and ended where an uninterrupted run from there ends.
    assert probe.step == reference_probe.step == 2
    assert_same(probe.state, reference_probe.state, exact=True)
    assert result.step == 8
    assert_same(variables(result.model), reference)
    # The bad file was rewritten by the run's own step 4, then let go.
    assert sorted(os.listdir(run / "checkpoints")) == [
        weights_name(6), weights_name(8), STATE_FILE]


def test_a_mismatching_or_missing_checkpoint_and_a_corrupt_state_fall_back(
        runs, tmp_path, capsys):
    """Restores alone (no training): a newest file of the right shapes but
    another step, a newest file gone, a state.json that does not parse; and
    every checkpoint bad, which is refused."""
    _, cfg, reference_probe, _ = runs
    run = copy_run(runs, tmp_path / "run")
    ckpt = run / "checkpoints"
    good = {s: (ckpt / weights_name(s)).read_bytes() for s in (2, 4)}

    def restore():
        capsys.readouterr()
        model = build_model(cfg, (2,))
        step = restore_checkpoint(model, ckpt)
        return step, variables(model), capsys.readouterr().err

    shutil.copyfile(ckpt / weights_name(2), ckpt / weights_name(4))  # step 2's, named step 4
    step, state, err = restore()
    assert step == 2 and err == (
        f"warning: cannot load checkpoint {tmp_path}/run/checkpoints/ckpt-000000004.weights.h5 "
        "(step 4): it holds step 2, not 4; resuming from the previous good one, "
        "ckpt-000000002.weights.h5 (step 2)\n")
    assert_same(state, reference_probe.state, exact=True)

    (ckpt / weights_name(4)).unlink()
    step, _, err = restore()
    assert step == 2 and err == (
        f"warning: cannot load checkpoint {tmp_path}/run/checkpoints/ckpt-000000004.weights.h5 "
        "(step 4): the file is missing; resuming from the previous good one, "
        "ckpt-000000002.weights.h5 (step 2)\n")

    (ckpt / weights_name(4)).write_bytes(good[4])
    (ckpt / STATE_FILE).write_text("{half")
    step, _, err = restore()
    assert step == 4 and err == (
        f"warning: checkpoint state {tmp_path}/run/checkpoints/state.json is corrupt "
        "(Expecting property name enclosed in double quotes: line 1 column 2 (char 1)); "
        "resuming from the newest checkpoint that loads, ckpt-000000004.weights.h5 (step 4)\n")

    (ckpt / STATE_FILE).write_text(json.dumps({"step": 4, "weights": weights_name(4)}))
    for s in (2, 4):
        (ckpt / weights_name(s)).write_bytes(b"not hdf5")
    with pytest.raises(CheckpointError) as e:
        restore()
    assert str(e.value) == (
        f"cannot load checkpoint {tmp_path}/run/checkpoints/ckpt-000000004.weights.h5: OSError: "
        "Unable to synchronously open file (file signature not found), nor the older one kept "
        "(ckpt-000000002.weights.h5: OSError: Unable to synchronously open file (file signature "
        "not found)). They do not match this model (different config?) or are corrupt; move "
        f"{tmp_path}/run/checkpoints away to start over.")
    (ckpt / weights_name(1)).write_bytes(b"not hdf5")  # two older ones, both bad
    with pytest.raises(CheckpointError, match=r", nor any of the 2 older ones kept "
                       r"\(ckpt-000000002.weights.h5: .*; ckpt-000000001.weights.h5: "):
        restore()
    (ckpt / STATE_FILE).write_text("{half")  # and no file to fall back on
    with pytest.raises(CorruptState):
        restore()


# -- room on the disk ---------------------------------------------------------------


def test_a_run_that_will_not_fit_on_its_disk_is_refused_before_it_starts(
        tmp_path, monkeypatch, capsys):
    cfg = TrainConfig(**TOY, out=str(tmp_path / "new" / "run"))
    needs = disk_needs(cfg, build_model(cfg, (2,)), (2,))
    assert (needs.checkpoints, needs.keep, needs.grids) == (3, 2, 1)
    usage = shutil.disk_usage(tmp_path)
    monkeypatch.setattr(shutil, "disk_usage", lambda path: usage._replace(free=100_000))
    with pytest.raises(TrainError) as e:
        train(cfg)
    h = human_bytes
    assert str(e.value) == (
        f"not enough free disk for run folder {tmp_path}/new/run: the run will write about "
        f"{h(needs.total)} (checkpoints 3 x {h(needs.checkpoint)}: --keep-checkpoints 2 and the "
        f"one being written; sample grids 1 x {h(needs.grid)}; final models {h(needs.models)}) "
        "and 100.0 kB is free there; free space, lower --keep-checkpoints or --num-samples, or "
        "pass --out on another disk")
    assert str(e.value).startswith(f"not enough free disk for run folder {tmp_path}/new/run: "
                                   "the run will write about ")
    assert not (tmp_path / "new").exists()  # nothing left behind
    assert [human_bytes(n) for n in (999, 1000, 1_234_567, 5e9)] == [
        "999 bytes", "1.0 kB", "1.2 MB", "5.0 GB"]


class Stop(keras.callbacks.Callback):
    def on_train_begin(self, logs=None):
        raise KeyboardInterrupt("stopped where training starts")


def test_a_run_that_takes_most_of_the_free_disk_warns(tmp_path, monkeypatch, capsys):
    cfg = TrainConfig(**TOY, out=str(tmp_path / "run"))
    needs = disk_needs(cfg, build_model(cfg, (2,)), (2,))
    usage = shutil.disk_usage(tmp_path)
    free = needs.total * 3 // 2
    monkeypatch.setattr(shutil, "disk_usage", lambda path: usage._replace(free=free))
    capsys.readouterr()
    with pytest.raises(KeyboardInterrupt):  # the check is done: no need to train
        train(cfg, callbacks=[Stop()])
    h = human_bytes
    assert capsys.readouterr().err == (
        f"warning: run folder {tmp_path}/run: the run will write about {h(needs.total)} "
        f"(checkpoints 3 x {h(needs.checkpoint)}: --keep-checkpoints 2 and the one being "
        f"written; sample grids 1 x {h(needs.grid)}; final models {h(needs.models)}), more "
        f"than half of the {h(free)} free there\n")


def test_the_disk_estimate_counts_the_tensorboard_sample_images(tmp_path):
    """With --tensorboard each sample grid is written again, as an image
    summary under logs/samples: one per epoch to come."""
    cfg = TrainConfig(**{**TOY, "tensorboard": True, "epochs": 3}, out=str(tmp_path / "run"))
    model = build_model(cfg, (2,))
    needs, without = disk_needs(cfg, model, (2,)), disk_needs(
        cfg.replace(tensorboard=False), model, (2,))
    assert (needs.summaries, without.summaries) == (3, 0)
    assert needs.summary >= needs.grid
    assert needs.total == without.total + 3 * needs.summary
    assert f"; TensorBoard sample images 3 x {human_bytes(needs.summary)}; " in needs.describe()
    assert "TensorBoard" not in without.describe()


def test_the_disk_estimate_is_from_above_and_not_wildly_so(runs):
    """The module's finished run (1 epoch) against its estimate."""
    root, cfg, _, _ = runs
    needs = disk_needs(cfg.replace(resume=False), build_model(cfg, (2,)), (2,))
    run = root / "base"
    one = (run / "checkpoints" / weights_name(4)).stat().st_size
    assert one <= needs.checkpoint <= 3 * one
    models = sum((run / f).stat().st_size for f in ("gan.keras", "generator.keras",
                                                    "generator_ema.keras"))
    assert models <= needs.models <= 3 * models
    grid = (run / "samples" / "epoch_001.png").stat().st_size
    assert grid <= needs.grid
    # The folder at its fullest: what it holds now and the checkpoint being written.
    written = sum(f.stat().st_size for f in run.rglob("*") if f.is_file())
    assert written + one <= needs.total
    # --resume to 2 epochs: the 2 checkpoints and the grid there are not counted again.
    more = disk_needs(cfg.replace(resume=True, epochs=2), build_model(cfg, (2,)), (2,))
    assert (more.checkpoints, more.held, more.grids) == (1, 2, 1)
    assert "--keep-checkpoints 2 and the one being written, less the 2 already there;" in (
        more.describe())
