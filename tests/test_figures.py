"""The theory figures (keras_gan/figures, `keras-gan figures`) at tiny scale:
each makes its file, and the numbers behind it say what the theory says.

Tolerances are wide enough for any seed of these tiny runs and tight enough
to fail when the math is wrong (a swapped loss, a D that does not train, a
JSD off by a factor). The committed page, docs/theory.md, is checked to be
what keras_gan/figures/doc.py renders from the committed figures.json.
"""

import json
import math
from pathlib import Path

import numpy as np
import pytest
from conftest import needs_data

from keras_gan.figures import FIGURES, RESULTS_FILE, get_figure, list_figures

ROOT = Path(__file__).resolve().parents[1]
LOG2, LOG4 = math.log(2), math.log(4)


def _make(name, tmp_path, **overrides):
    result = get_figure(name).make(tmp_path, tiny=True, seed=0, progress=False, **overrides)
    for f in result["files"]:
        assert (tmp_path / f).stat().st_size > 1000, f
    json.dumps(result)  # what figures.json stores must be plain JSON
    return result["numbers"]


def test_registry_names_every_module():
    assert list_figures() == list(FIGURES)
    for name in FIGURES:
        module = get_figure(name)
        assert module.NAME == name and set(module.TINY) <= set(module.FULL) | {"dataset"}
    with pytest.raises(ValueError, match="unknown figure 'nope'"):
        get_figure("nope")


def test_optimal_discriminator_and_theorem_1(tmp_path):
    n = _make("optimal-d", tmp_path, snapshots=(0, 200), panels=(0, 200), d_converge=300)
    start, later = n["snapshots"]
    for snap in (start, later):
        # Proposition 1: the trained D is D* = p / (p + pg), where the densities are.
        assert snap["mean_gap"] < 0.06, snap
        # Theorem 1: V(D, G) -> 2 JSD - log 4 = C(G), and V <= C(G) for any D.
        assert abs(snap["value"] - snap["c_of_g"]) < 0.06, snap
        assert snap["value"] <= snap["c_of_g"] + 0.01, snap
        assert -LOG4 - 0.01 <= snap["c_of_g"] <= 0.0 + 1e-6
    # G starts far from N(2, 0.5) (C near 0: JSD near log 2) and moves toward it.
    assert start["c_of_g"] > -0.1 and start["g_mean"] < 0.5
    assert later["c_of_g"] < start["c_of_g"] - 0.3 and later["g_mean"] > 1.0


def test_disjoint_supports_jsd_stuck_at_log2_emd_linear(tmp_path):
    n = _make("disjoint", tmp_path)
    lines = n["lines"]
    for row in lines:
        assert abs(row["jsd_estimate"] - LOG2) < 0.02, row
        assert abs(row["emd_estimate"] - row["theta"]) < 0.2, row
    emd = [row["emd_estimate"] for row in lines]  # thetas 1, 0.5, 0.25
    assert emd[0] > emd[1] > emd[2] > 0
    assert (emd[0] - emd[1]) / (emd[1] - emd[2]) == pytest.approx(2, rel=0.35)
    g = n["gaussians"]
    assert g["d_at_fakes"] < 0.01 and g["d_slope_at_fakes"] < 0.01
    assert 0.7 < g["critic_slope_at_fakes"] < 1.6
    assert g["critic_linear_r2"] > 0.95


def test_instance_noise_restores_the_gradient(tmp_path):
    n = _make("noise", tmp_path)
    d = n["discriminator"]
    plain, noisy = d["instance noise 0"], d["instance noise 1"]
    assert noisy["d_at_fakes"] > 10 * plain["d_at_fakes"]
    assert noisy["g_loss_slope_at_fakes"] > 10 * plain["g_loss_slope_at_fakes"]
    # One-sided label noise leaves D saturated at the fakes.
    assert d["label noise 0.3"]["d_at_fakes"] < 0.05
    runs = n["runs"]
    run_plain = runs["plain"]
    run_noisy = next(v for k, v in runs.items() if k.startswith("instance"))
    assert run_noisy["median_g_grad_norm_first"] > 5 * run_plain["median_g_grad_norm_first"]
    assert run_noisy["g_mean_end"] > run_plain["g_mean_end"] + 0.5


@pytest.fixture
def snapshots(monkeypatch):
    """Every `SampleSnapshots` a figure makes, to recompute its numbers from."""
    import keras_gan.training.callbacks

    made = []

    class Recording(keras_gan.training.callbacks.SampleSnapshots):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            made.append(self)

    monkeypatch.setattr(keras_gan.training.callbacks, "SampleSnapshots", Recording)
    return made


def test_mode_collapse_grid_and_animation(tmp_path, snapshots):
    """The plain GAN of the benchmark setting collapses (at most 2 of the 8
    modes at any snapshot) while the preset covers all 8 within 500 steps
    (seeds 0-2 all do: 8 modes, 10-22% high quality at step 500; the full
    figure shows PacGAN getting there by step 1,750 in the plain setting)."""
    from PIL import Image

    from keras_gan.data.sources import toy_mixture
    from keras_gan.evaluation.metrics import mode_metrics

    n = _make("mode-collapse", tmp_path, rows=("gan", "preset"), steps=500, every=250,
              grid_steps=(0, 250, 500))
    assert list(n) == ["gan", "preset"]
    for row in n.values():
        assert list(row) == ["0", "250", "500"]
    assert max(m["modes"] for m in n["gan"].values()) <= 2
    assert n["preset"]["500"]["modes"] == 8 and n["preset"]["500"]["high_quality"] > 5
    # The numbers are the benchmark's metrics of the snapshots the grid draws.
    means, std = toy_mixture("ring")
    for row, snap in zip(n, snapshots, strict=True):
        assert sorted(snap.samples) == [0, 250, 500]
        for step, pts in snap.samples.items():
            m = mode_metrics(pts, means, std)
            assert n[row][str(step)] == dict(modes=int(m["modes"]), high_quality=round(
                100 * float(m["high_quality"]), 1))
    with Image.open(tmp_path / "mode_collapse.gif") as gif:
        assert gif.n_frames == 3
    # The plain rows: the benchmark's common setting, only the variant differs.
    from keras_gan.figures.mode_collapse import row_config

    cfgs = [row_config(row, 10, 0, str(tmp_path)) for row in ("gan", "unrolled", "pacgan")]
    assert [c.gan for c in cfgs] == ["gan", "unrolled", "pacgan"]
    for c in cfgs:
        assert (c.latent_dim, c.batch_size, c.d_lr, c.g_lr, c.ema_decay) == (
            256, 512, 1e-4, 1e-3, 0.0)
    assert row_config("preset", 10, 0, str(tmp_path)).gan == "pacgan"


def test_progression_scores_each_snapshot(tmp_path, snapshots):
    """Each snapshot's FD and score are the evaluator's, on that snapshot's
    images against the shuffled real digits; an untrained generator's are far
    from what real digits score."""
    from keras_gan.data.pipeline import first_examples, load_dataset
    from keras_gan.evaluation.evaluator import choose_evaluator
    from keras_gan.evaluation.metrics import frechet_distance_from_features, inception_score

    n = _make("progression", tmp_path, snapshots=(1, 3), scored=100)
    assert [s["step"] for s in n["snapshots"]] == [1, 3]
    ds, info = load_dataset("mnist-sample", seed=0)
    evaluator = choose_evaluator("auto", info.source, info.shape, info.class_names)
    real = first_examples(ds.shuffle(info.num_examples, seed=0), 200)
    real_features, real_probs = evaluator.features_and_probs(real[:100])
    (snap,) = snapshots
    for row in n["snapshots"]:
        feats, probs = evaluator.features_and_probs(snap.samples[row["step"]][:100])
        assert row["digit_fd"] == pytest.approx(
            frechet_distance_from_features(feats, real_features), abs=1e-3)
        assert row["digit_score"] == pytest.approx(float(inception_score(probs)[0]), abs=1e-3)
    other_features, _ = evaluator.features_and_probs(real[100:])
    real_fd = frechet_distance_from_features(other_features, real_features)
    real_score = float(inception_score(real_probs)[0])
    assert n["snapshots"][0]["digit_fd"] > 5 * real_fd
    assert n["snapshots"][0]["digit_score"] < real_score / 2
    assert (tmp_path / "progression_mnist-sample.png").exists()


def test_dataset_option_reaches_only_the_progression_figure(tmp_path, monkeypatch):
    """`--dataset` plugs another image source into figure 6 (emoji, once
    colour lands); the other figures do not take it."""
    import keras_gan.figures as figures
    from keras_gan.figures import progression

    seen = {}

    def fake_make(name):
        def make(out_dir, **kwargs):
            seen[name] = kwargs
            return {"files": [], "settings": {}, "numbers": {}}
        return make

    for name in ("progression", "saturation"):
        monkeypatch.setattr(get_figure(name), "make", fake_make(name))
    results = figures.make_figures(tmp_path, ["saturation", "progression"], tiny=True,
                                   dataset="npz:emoji64.npz", progress=False)
    assert seen["progression"]["dataset"] == "npz:emoji64.npz"
    assert "dataset" not in seen["saturation"]
    assert list(results["figures"]) == ["saturation", "progression"]  # the registry's order
    cfg = progression.run_config("npz:emoji64.npz", 7, 0, str(tmp_path))
    assert (cfg.dataset, cfg.steps_per_epoch, cfg.gan) == ("npz:emoji64.npz", 7, "clustered")


def test_gan_vs_vae_reads_the_committed_digit_reports(tmp_path):
    n = _make("gan-vs-vae", tmp_path, steps=10, samples=200)
    assert set(n["ring"]) == {"gan", "vae"}
    assert n["ring"]["gan"]["gan"] == "pacgan" and n["ring"]["vae"]["gan"] == "vae"
    vae = json.loads((ROOT / "benchmarks/results/eval/mnist-vae/eval.json").read_text())
    assert n["digits"]["VAE"]["fd"] == round(vae["metrics"]["fd"], 2)


def test_saturating_loss_gradient_vanishes_when_d_wins_via_cli(tmp_path):
    """Through `keras-gan figures` (results file and page), the saturation figure."""
    from keras_gan.cli import main
    from keras_gan.figures.doc import render

    out, doc = tmp_path / "figs", tmp_path / "theory.md"
    assert main(["figures", "--only", "saturation", "--tiny", "--out", str(out), "--quiet",
                 "--doc", str(doc)]) == 0
    results = json.loads((out / RESULTS_FILE).read_text())
    entry = results["figures"]["saturation"]
    assert entry["command"] == f"keras-gan figures --only saturation --out {out} --tiny"
    assert entry["seconds"] > 0 and entry["files"] == ["saturation.png"]
    text = doc.read_text()
    assert text == render(results, out, doc)
    assert "figs/saturation.png" in text and f"{entry['seconds']:.0f} s of wall time" in text

    n = entry["numbers"]
    assert n["curve_error"] < 1e-5  # autodiff of the library's losses: D and 1 - D
    sat, ns = n["saturating"], n["non_saturating"]
    assert sat["d_fake_start"] < 0.05  # D wins early
    assert n["grad_ratio_first"] > 5
    # With SGD, the minimax generator barely moves; the non-saturating one does.
    assert ns["g_mean_end"] - ns["g_mean_start"] > 3 * abs(sat["g_mean_end"]
                                                          - sat["g_mean_start"])


def test_committed_page_is_rendered_from_committed_results():
    from keras_gan.figures.doc import render

    out, doc = ROOT / "docs" / "figures", ROOT / "docs" / "theory.md"
    results = json.loads((out / RESULTS_FILE).read_text())
    assert not results["tiny"]
    assert list(results["figures"]) == list(FIGURES)  # every figure, full scale
    for entry in results["figures"].values():
        for f in entry["files"]:
            assert (out / f).exists(), f
    assert doc.read_text() == render(results, out, doc), (
        "docs/theory.md is stale: python -m keras_gan.figures.doc docs/figures docs/theory.md")
    assert "(docs/theory.md)" in (ROOT / "README.md").read_text()
    assert np.isfinite([e["seconds"] for e in results["figures"].values()]).all()


@needs_data("emoji64")
def test_progression_on_emoji_runs_the_colour_preset_and_scores_in_emoji_features(
        tmp_path, monkeypatch):
    from keras_gan.figures import progression
    from keras_gan.figures.progression_emoji import EMOJI

    monkeypatch.chdir(Path(__file__).resolve().parents[1])  # the preset's relative paths
    cfg = progression.run_config(EMOJI, 5, 0, str(tmp_path),
                                 "presets/emoji-32.yaml", 32)
    assert (cfg.arch, cfg.image_size, cfg.d_lr, cfg.steps_per_epoch) == ("dcgan", 32, 2e-4, 5)
    n = _make("progression-emoji", tmp_path, snapshots=(1, 2), scored=64, samples=4)
    for s in n["snapshots"]:
        assert math.isfinite(s["emoji_fd"]) and s["emoji_fd"] > 0 and "digit_fd" not in s
    assert (tmp_path / "progression_emoji64.png").exists()
