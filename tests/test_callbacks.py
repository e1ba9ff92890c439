"""keras_gan/training/callbacks.py's MetricsCSV and the metrics.csv it writes
(keras_gan/training/run_folder.py): a column that appears on --resume widens the
header, and the readers take the empty cells."""

import math
from types import SimpleNamespace

import numpy as np
import pytest

from keras_gan.evaluation.evaluate import write_report
from keras_gan.training import run_folder
from keras_gan.training.callbacks import MetricsCSV


def run(path, epochs, logs, step):
    """One training session's epochs through a MetricsCSV, on a stand-in model
    whose generator step advances by 10 an epoch (`step[0]` carries it on)."""
    model = SimpleNamespace(optimizer=SimpleNamespace(iterations=np.int64(step[0])))
    callback = MetricsCSV(path)
    callback.set_model(model)
    callback.on_train_begin()
    for epoch in epochs:
        step[0] += 10
        model.optimizer.iterations = np.int64(step[0])
        callback.on_epoch_end(epoch, dict(logs))


def test_a_column_that_appears_on_resume_widens_the_header(tmp_path):
    path, step = tmp_path / "metrics.csv", [0]
    run(path, [0, 1], {"g_loss": 2.0, "d_loss": 1.0}, step)  # --fd-every 0
    assert path.read_text().splitlines()[0] == "epoch,step,seconds,d_loss,g_loss"
    run(path, [2], {"g_loss": 2.5, "d_loss": 1.5, "digit_fd": 0.5, "fd_seconds": 3.0},
        step)  # --resume --fd-every 1
    run(path, [3], {"g_loss": 3.0, "d_loss": 2.0}, step)  # --resume --fd-every 0 again
    lines = path.read_text().splitlines()
    assert lines[0] == "epoch,step,seconds,d_loss,g_loss,digit_fd,fd_seconds"
    assert [len(line.split(",")) for line in lines] == [7] * 5
    assert lines[1].startswith("1,10,") and lines[1].endswith(",1.0,2.0,,")
    assert lines[3].startswith("3,30,") and lines[3].endswith(",1.5,2.5,0.5,3.0")
    assert lines[4].endswith(",2.0,3.0,,")
    assert not list(tmp_path.glob("*.tmp"))  # rewritten through a temporary file

    rows = run_folder.read_metrics(tmp_path)  # a run folder or the file
    assert [r["epoch"] for r in rows] == [1, 2, 3, 4]
    assert [r["step"] for r in rows] == [10, 20, 30, 40]
    assert math.isnan(rows[0]["digit_fd"]) and rows[2]["digit_fd"] == 0.5
    assert math.isnan(rows[3]["fd_seconds"]) and rows[3]["g_loss"] == 3.0
    assert run_folder.run_summary(tmp_path)["steps"] == 40

    # keras-gan eval's report draws the loss curves from it.
    means = np.array([[1.0, 0.0], [-1.0, 0.0]])
    result = {"source": "run", "num_samples": 4, "seed": 0, "real": "ring",
              "eval_seconds": 0.1, "gan": "gan", "kind": "points",
              "_samples": np.zeros((4, 2)), "_centres": means,
              "modes": {"modes": 1, "num_modes": 2, "high_quality": 0.5, "reverse_kl": 0.1}}
    out = write_report(result, tmp_path / "eval", run_dir=tmp_path)
    assert (out / "losses.png").stat().st_size > 1000
    assert "![losses](losses.png)" in (out / "report.md").read_text()


def test_older_ragged_files_keep_their_index_columns(tmp_path):
    """Before the header could widen, a resume that added columns appended
    longer rows whose cells cannot be matched to columns: readers and the
    next append keep their epoch, step and seconds, the rest empty."""
    path = tmp_path / "metrics.csv"
    path.write_text("epoch,step,seconds,d_loss,g_loss\n1,10,1.5,0.7,0.8\n"
                    "2,20,3.0,0.6,0.5,0.9,0.4\n")
    rows = run_folder.read_metrics(path)
    assert rows[1]["step"] == 20 and rows[1]["seconds"] == 3.0
    assert math.isnan(rows[1]["d_loss"]) and rows[0]["g_loss"] == 0.8
    run_folder.append_metrics(path, {"epoch": 3, "step": 30, "seconds": 4.0, "d_loss": 0.5,
                                     "digit_fd": 2.0})
    assert path.read_text().splitlines() == [
        "epoch,step,seconds,d_loss,g_loss,digit_fd", "1,10,1.5,0.7,0.8,", "2,20,3.0,,,",
        "3,30,4.0,0.5,,2.0"]
    assert run_folder.run_summary(tmp_path) == {"steps": 30, "train_seconds": 4.0}
    assert run_folder.read_metrics(tmp_path / "missing.csv") == []
    assert run_folder.run_summary(tmp_path / "nowhere") == {}


def test_frechet_distance_names_its_extractor_and_refuses_unfit_data():
    """The logged key says which features measured the FD; an extractor that
    cannot score the data is refused when the callback is made."""
    from keras_gan.evaluation.evaluator import DigitEvaluator, EmojiEvaluator, EvaluatorError
    from keras_gan.training.callbacks import FrechetDistance

    colour = np.zeros((4, 32, 32, 3), np.float32)
    with pytest.raises(EvaluatorError) as info:
        FrechetDistance(DigitEvaluator(), colour)
    assert str(info.value) == ("FrechetDistance: the digit classifier scores 28x28x1 images, "
                               "not (32, 32, 3).")
    assert FrechetDistance(EmojiEvaluator(), colour, num_samples=4).key == "emoji_fd"
