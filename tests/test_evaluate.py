"""keras_gan/evaluation/evaluate.py and `keras-gan eval`: scores, references, report files."""

import json
from pathlib import Path

import numpy as np
import pytest
from conftest import needs_data, tiny_generator

from keras_gan.cli import main
from keras_gan.config import TrainConfig
from keras_gan.evaluation.evaluate import EvalError, evaluate, nearest_real, write_report
from keras_gan.training.trainer import train


def test_nearest_real_finds_copies():
    real = np.random.default_rng(0).uniform(-1, 1, (50, 4, 4, 1)).astype(np.float32)
    fake = real[[3, 7]] + 0.001
    rows = nearest_real(fake, real, count=2, neighbours=3)
    assert rows.shape == (2, 4, 4, 4, 1)
    np.testing.assert_allclose(rows[0, 1], real[3])
    np.testing.assert_allclose(rows[1, 1], real[7])


def test_digit_evaluation_of_a_generator_and_its_report(tmp_path):
    path = tmp_path / "generator.keras"
    tiny_generator("dcgan").save(path)
    result = evaluate(path, num_samples=600, real="mnist-sample", progress=False)
    m = result["metrics"]
    ref = m["reference"]
    # an untrained generator is far from the digits; the real halves are close
    assert m["fd"] > 10 * ref["fd"] and ref["fd"] < 5
    assert ref["score"] > 8 and m["score"] < ref["score"]
    assert 0 <= m["precision"] <= 1 and ref["recall"] > 0.8
    assert len(m["class_coverage"]["fractions"]) == 10
    # real halves come in like proportions; an untrained generator's classes do not
    assert ref["class_tv"] < 0.05 and m["class_tv"] > 2 * ref["class_tv"]
    out = write_report(result, tmp_path / "eval")
    for name in ("eval.json", "report.md", "samples.png", "nearest.png", "classes.png"):
        assert (out / name).exists(), name
    saved = json.loads((out / "eval.json").read_text())
    assert saved["metrics"]["fd"] == pytest.approx(m["fd"])
    assert "real halves" in (out / "report.md").read_text()
    assert "TV to real" in (out / "report.md").read_text()


def test_eval_cli_on_a_toy_run(tmp_path, capsys):
    cfg = TrainConfig(dataset="ring", width=16, latent_dim=4, batch_size=32, steps_per_epoch=20,
                      epochs=2, verbose=0, tensorboard=False, out=str(tmp_path / "run"))
    train(cfg)
    assert main(["eval", str(tmp_path / "run"), "--num-samples", "500"]) == 0
    out = capsys.readouterr().out
    assert "modes covered" in out
    saved = json.loads((tmp_path / "run" / "eval" / "eval.json").read_text())
    assert 0 <= saved["modes"]["modes"] <= 8 and saved["gan"] == cfg.gan == "clustered"
    assert (tmp_path / "run" / "eval" / "losses.png").exists()


def test_eval_refuses_what_it_cannot_score(tmp_path, capsys):
    from keras_gan.models.networks import build_networks

    g, _ = build_networks("dcgan", 4, (32, 32, 3), 4)
    g.save(tmp_path / "colour.keras")
    with pytest.raises(EvalError) as info:
        evaluate(tmp_path / "colour.keras", num_samples=10, progress=False)
    assert str(info.value) == (
        "no evaluator fits mnist-sample (32x32x3 images): pass --evaluator digit, emoji or "
        "inception to choose the extractor (see `keras-gan eval --help`)")
    assert main(["eval", str(tmp_path / "missing")]) == 2
    assert "no model at" in capsys.readouterr().err


def test_eval_after_a_resume_that_adds_the_fd_column(tmp_path, capsys):
    """A run without the digit FD, resumed with it: metrics.csv widens its
    header (the first epoch's FD cells empty) and `keras-gan eval` reports
    on the run, loss curves included."""
    from keras_gan.data.sources import _MNIST_SAMPLE
    from keras_gan.training.run_folder import read_metrics

    # 400 of the embedded digits: the FD's and the report's real features
    # are computed on them (twice), not on all 10,000.
    with np.load(_MNIST_SAMPLE) as data:
        np.savez(tmp_path / "digits.npz", x=data["x"][:400], y=data["y"][:400])
    run = tmp_path / "run"
    cfg = TrainConfig(dataset=f"npz:{tmp_path / 'digits.npz'}", gan="dcgan", width=4,
                      latent_dim=8, batch_size=8, steps_per_epoch=2, epochs=1, fd_every=0,
                      fd_samples=64, num_samples=4, verbose=0, tensorboard=False,
                      out=str(run))
    train(cfg)
    assert "digit_fd" not in (run / "metrics.csv").read_text().splitlines()[0]
    # A user's own npz of digits: the digit classifier is theirs to name.
    train(cfg.replace(resume=True, epochs=2, fd_every=1, evaluator="digit"))
    header, *rows = (run / "metrics.csv").read_text().splitlines()
    assert "digit_fd" in header.split(",") and len({len(r.split(",")) for r in rows}) == 1
    fd = [r["digit_fd"] for r in read_metrics(run)]
    assert np.isnan(fd[0]) and fd[1] > 0
    assert main(["eval", str(run), "--num-samples", "200", "--evaluator", "digit"]) == 0
    assert "digit FD" in capsys.readouterr().out
    assert (run / "eval" / "losses.png").exists()


@needs_data("emoji64")
def test_eval_of_the_shipped_emoji_model_picks_the_emoji_features(tmp_path, monkeypatch,
                                                                  capsys):
    """An exported unconditional colour model's card names no classes; `auto`
    still knows emoji64 by the reference data's category names."""
    monkeypatch.chdir(Path(__file__).resolve().parents[1])  # its dataset path is relative
    shipped = Path("saved_models/emoji-32")
    assert main(["eval", str(shipped), "--num-samples", "100", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "emoji FD (lower is better)" in out and "Features: emoji" in out
    saved = json.loads((tmp_path / "eval.json").read_text())["metrics"]
    assert saved["extractor"] == "emoji" and saved["conventions"]["num_real"] == 7572
    assert saved["fd"] > saved["reference"]["fd"] > 0
