"""keras_gan/training/checkpoints.py: the small rules of writing and reading
checkpoints. The whole-run behaviour (kill -9, disk full, fallback to an
older checkpoint) is tested in tests/test_faults.py and tests/test_run_folder.py."""

import json

import keras
import numpy as np
import pytest
import tensorflow as tf
from conftest import tiny_points_gan

from keras_gan.training import checkpoints
from keras_gan.training.checkpoints import (
    STATE_FILE,
    TMP_WEIGHTS,
    Checkpoint,
    CheckpointError,
    read_checkpoint_step,
    restore_checkpoint,
    weights_name,
)


def test_an_oserror_without_errno_is_one_line_of_at_most_200_characters():
    assert checkpoints._reason(OSError(2, "No such file or directory")) == (
        "No such file or directory")
    long = OSError("x" * 300 + "\nsecond line")  # h5py's kind: no errno, long text
    assert checkpoints._reason(long) == "x" * 200


def test_a_temporary_file_left_by_a_failed_save_is_written_over(tmp_path):
    """A save that failed (disk full) leaves its temporary file; the next save
    replaces it, without asking (Keras asks on stdin unless overwrite=True)."""
    gan = tiny_points_gan()
    directory = tmp_path / "checkpoints"
    directory.mkdir()
    (directory / TMP_WEIGHTS).write_bytes(b"half a file")
    callback = Checkpoint(directory, every_steps=1)
    callback.set_model(gan)
    assert callback.save() == 0
    state = json.loads((directory / STATE_FILE).read_text())
    assert state["step"] == 0 and state["weights"] == weights_name(0)
    assert not (directory / TMP_WEIGHTS).exists()
    fresh = tiny_points_gan(seed=1)
    fresh.load_weights(directory / weights_name(0))
    for a, b in zip(gan.weights, fresh.weights, strict=True):
        np.testing.assert_array_equal(keras.ops.convert_to_numpy(a),
                                      keras.ops.convert_to_numpy(b))


def test_a_state_naming_a_missing_file_is_read_twice_then_refused(tmp_path, monkeypatch):
    """One re-read covers a save that commits and removes the old file between
    the reads (the second read sees the new state); a state that still names a
    missing file after that is an error, not a loop."""
    reads = []

    def read_state(directory):
        reads.append(directory)
        return 5, tmp_path / weights_name(5)  # never there

    monkeypatch.setattr(checkpoints, "_read_state", read_state)
    with pytest.raises(CheckpointError, match="names ckpt-000000005.weights.h5, which is "
                                              "missing; delete the checkpoints folder"):
        read_checkpoint_step(tmp_path)
    assert len(reads) == 2
    (tmp_path / weights_name(5)).write_bytes(b"")
    assert read_checkpoint_step(tmp_path) == 5


def test_restoring_from_a_folder_without_checkpoints_starts_at_step_0(tmp_path):
    gan = tiny_points_gan()
    before = [keras.ops.convert_to_numpy(w).copy() for w in gan.weights]
    for directory in (tmp_path / "missing", tmp_path):  # absent, or empty
        assert restore_checkpoint(gan, directory) == 0
    for a, b in zip(before, gan.weights, strict=True):
        np.testing.assert_array_equal(a, keras.ops.convert_to_numpy(b))


def test_a_checkpoint_of_another_optimizer_is_refused_not_half_loaded(tmp_path):
    """Keras skips an optimizer whose variables do not match with a warning
    only; the run would go on with fresh moments. Here D's optimizer differs
    (SGD has 2 variables where the saved Adam has 14): refused, in one line."""
    x = np.random.default_rng(0).normal(size=(64, 2)).astype("float32")
    data = tf.data.Dataset.from_tensor_slices(x).batch(32)
    saved = tiny_points_gan()
    saved.fit(data, epochs=1, verbose=0)
    callback = Checkpoint(tmp_path, every_steps=1)
    callback.set_model(saved)
    assert callback.save() == 2
    other = tiny_points_gan()
    # Named: Keras numbers unnamed optimizers per process (sgd_43, ...).
    other.compile(keras.optimizers.SGD(0.1, name="sgd"), keras.optimizers.Adam(1e-3))
    other.fit(data, epochs=1, verbose=0)  # builds the optimizers' variables
    with pytest.raises(CheckpointError) as e:
        restore_checkpoint(other, tmp_path)
    assert str(e.value) == (
        f"cannot load checkpoint {tmp_path}/{weights_name(2)}: Keras: Skipping variable "
        "loading for optimizer 'sgd', because it has 2 variables whereas the saved optimizer "
        "has 14 variables. It does not match this model (different config?) or is corrupt; "
        "move it away to start over.")
