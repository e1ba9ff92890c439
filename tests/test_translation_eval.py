"""keras_gan/evaluation/translation.py: the translation protocol's figures
(per pair, per set, style and content shares) and `keras-gan eval RUN` of a
translator's run folder (#29)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import needs_data
from test_translate_train import npz, tiny  # noqa: F401  (npz: the module's fixture)

from keras_gan.cli import main
from keras_gan.evaluation import metrics as M
from keras_gan.evaluation.translation import style_and_category, translation_metrics
from keras_gan.training.trainer import train


class ColourMeans:
    """A stand-in evaluator: an image's features are its mean colour; its
    style is whether red > 0 and its category whether green > 0 (classes
    category * 2 + style, as the emoji classifier's)."""

    name = "means"

    def features_and_probs(self, images):
        f = np.asarray(images, np.float64).mean(axis=(1, 2))
        cls = (f[:, 1] > 0).astype(int) * 2 + (f[:, 0] > 0).astype(int)
        p = np.full((len(f), 4), 0.1)
        p[np.arange(len(f)), cls] = 0.7
        return f, p


def flat(colours, size=2):
    """Images of one colour each: (N, size, size, C)."""
    c = np.asarray(colours, np.float32)
    return np.broadcast_to(c[:, None, None, :], (len(c), size, size, c.shape[1])).copy()


def test_style_and_category_sum_the_class_probabilities():
    # Classes (cat 0, style 0), (0, 1), (1, 0), (1, 1). The argmax class is
    # (1, 0) but style 1 holds more in all (0.35 + 0.3 > 0.35).
    # Row 2: style 1 (0.6) but category 0 (0.55).
    probs = np.array([[0.0, 0.3, 0.35, 0.35], [0.1, 0.45, 0.3, 0.15], [0.5, 0.1, 0.2, 0.2]])
    style, category = style_and_category(probs)
    assert style.tolist() == [1, 1, 0] and category.tolist() == [1, 0, 0]


def test_translation_figures_against_hand_values():
    targets = flat([(0.5, 0.5, 0), (0.5, -0.5, 0)] * 2)
    # Pair 1: blue off by 0.3; pair 2: red off by 1 (so it leaves the style).
    translated = flat([(0.5, 0.5, 0.3), (-0.5, -0.5, 0)] * 2)
    sources = flat([(0.5,), (-0.5,)] * 2)  # grey, as a sketch
    m = translation_metrics(translated, sources, targets, ColourMeans(), target_style=1,
                            categories=np.array([1, 0, 1, 0]), seed=3)
    t = m["translation"]
    assert t["l1"] == pytest.approx((0.3 / 3 + 1 / 3) / 2)
    assert t["feature_distance"] == pytest.approx((0.3 + 1.0) / 2)
    assert (t["style_share"], t["content_share"]) == (0.5, 1.0)
    f_t, f_y = translated.mean(axis=(1, 2)), targets.mean(axis=(1, 2))
    assert t["fd"] == pytest.approx(M.frechet_distance_from_features(f_t, f_y))
    # Identity: the grey source tiled to RGB, (0.5, 0.5, 0.5) and (-0.5, -0.5, -0.5).
    i = m["identity"]
    assert i["l1"] == pytest.approx((0.5 / 3 + 1.5 / 3) / 2)
    assert i["feature_distance"] == pytest.approx((0.5 + np.sqrt(1.25)) / 2)
    assert (i["style_share"], i["content_share"]) == (0.5, 1.0)
    # Truth: zero per pair, the evaluator's own accuracy, FD between halves.
    y = m["truth"]
    assert (y["l1"], y["feature_distance"], y["style_share"], y["content_share"]) == (
        0.0, 0.0, 1.0, 1.0)
    order = np.random.default_rng(3).permutation(4)
    assert y["fd"] == pytest.approx(
        M.frechet_distance_from_features(f_y[order[:2]], f_y[order[2:]]))


def test_without_an_evaluator_or_a_style_only_what_applies():
    targets = flat([(0.5, 0.5, 0), (0.5, -0.5, 0)])
    m = translation_metrics(targets + 0.25, targets, targets)
    assert m["translation"] == {"l1": pytest.approx(0.25)} and m["identity"] == {"l1": 0.0}
    four = np.concatenate([targets, targets])
    m = translation_metrics(four, four, four, ColourMeans())
    assert m["translation"]["style_share"] is None and m["translation"]["content_share"] is None
    three = translation_metrics(four[:3], four[:3], four[:3], ColourMeans())["truth"]
    assert three["fd"] is None and three["kid"] is None  # halves of one row
    with pytest.raises(ValueError, match="must be N pairs of one shape"):
        translation_metrics(targets[:1], targets, targets)


def test_cli_eval_of_a_translator_run_on_your_own_pairs(npz, tmp_path, capsys):  # noqa: F811
    run = train(tiny(tmp_path, "pix2pix", f"npz:{npz}", epochs=1)).run_dir
    assert main(["eval", str(run), "--split", "train", "--evaluator", "none"]) == 0
    assert "| L1 per pair (lower is better) |" in capsys.readouterr().out
    result = json.loads((run / "eval" / "eval.json").read_text())
    assert (result["kind"], result["num_pairs"], result["split"]) == ("translation", 20, "train")
    with np.load(npz) as data:  # identity: the grey source tiled to RGB vs its target
        a, b = data["a"] * 2 - 1, data["b"] * 2 - 1
    assert result["metrics"]["identity"]["l1"] == pytest.approx(
        np.abs(np.repeat(a, 3, -1) - b).mean(), abs=1e-5)
    assert (run / "eval" / "grid.png").is_file()
    assert main(["eval", str(run)]) == 2  # your own data has no test split
    assert "has no 'test' split" in capsys.readouterr().err


@needs_data("emoji64")
def test_cli_eval_of_a_cyclegan_on_the_held_out_emoji(tmp_path, capsys):
    run = tmp_path / "run"
    assert main(["train", "--gan", "cyclegan", "--dataset", "emoji64:styles", "--image-size",
                 "32", "--width", "4", "--batch-size", "4", "--epochs", "1",
                 "--steps-per-epoch", "1", "--no-tensorboard", "--verbose", "0",
                 "--out", str(run)]) == 0
    assert main(["eval", str(run), "--direction", "ba", "--out", str(tmp_path / "e")]) == 0
    capsys.readouterr()
    result = json.loads((tmp_path / "e" / "eval.json").read_text())
    assert result["num_pairs"] == 608 and result["domains"] == ["google", "twitter"]
    m = result["metrics"]
    assert m["extractor"] == "emoji" and set(m) == {"extractor", "translation", "identity",
                                                   "truth"}
    # The shipped classifier tells the styles apart on held-out emoji, and an
    # untrained translator is far from the truth in its features.
    assert m["truth"]["style_share"] > 0.9 and m["truth"]["content_share"] > 0.5
    assert m["translation"]["feature_distance"] > m["truth"]["feature_distance"] == 0.0
