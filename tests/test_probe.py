"""keras_gan/evaluation/probe.py and `keras-gan probe`: the linear classifier,
the discriminator's features and the table."""

import json

import numpy as np
import pytest

from keras_gan.cli import main
from keras_gan.evaluation.probe import (
    ROWS,
    ProbeError,
    discriminator_of,
    feature_model,
    features,
    fit_logistic,
    linear_probe_accuracy,
)


def _blobs(rng, n_per_class, k=3, d=20, spread=0.0):
    """k Gaussian classes in d dimensions, their means `spread` apart (0: one class)."""
    means = rng.normal(0, 1, (k, d)) * spread
    y = np.repeat(np.arange(k), n_per_class)
    return (means[y] + rng.normal(0, 1, (len(y), d))).astype(np.float32), y


def test_a_linear_probe_reads_separable_classes_and_not_random_labels(rng):
    x, y = _blobs(rng, 330, spread=6.0)
    train = np.concatenate([np.arange(c * 330, c * 330 + 30) for c in range(3)])  # 30 a class
    test = np.setdiff1d(np.arange(len(y)), train)
    assert linear_probe_accuracy(x[train], y[train], x[test], y[test], 3) > 0.99
    # the same features with labels that say nothing about them: chance, 1/3
    noise = rng.integers(0, 3, len(y))
    acc = linear_probe_accuracy(x[train], noise[train], x[test], noise[test], 3)
    assert 0.25 < acc < 0.42


def test_the_fit_is_the_regularized_optimum(rng):
    """At (W, b) the gradient of the summed cross-entropy + |W|^2 / 2C,
    computed here by hand, is zero: the fit converged to the optimum."""
    x, y = _blobs(rng, 40, spread=1.0)
    c = 0.5
    w, b = fit_logistic(x, y, 3, c=c)
    logits = x @ w + b
    p = np.exp(logits - logits.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    residual = p - np.eye(3)[y]
    grad_w, grad_b = x.T @ residual + w / c, residual.sum(0)
    assert np.abs(grad_w).max() < 1e-2 and np.abs(grad_b).max() < 1e-2
    assert np.abs(w).max() > 0.1  # not the zero start


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    """A 1-epoch DCGAN run on 3 classes of 8x8 noisy prototypes (a pixel-level
    task a linear classifier solves in part, so its accuracy varies by draw)."""
    from keras_gan.config import TrainConfig
    from keras_gan.training.trainer import train

    root = tmp_path_factory.mktemp("probe")
    rng = np.random.default_rng(0)
    protos = rng.uniform(0, 255, (3, 8, 8))
    y = np.repeat(np.arange(3), 50)
    x = np.clip(protos[y] + rng.normal(0, 150, (len(y), 8, 8)), 0, 255).astype(np.uint8)
    np.savez(root / "toy.npz", x=x, y=y)
    cfg = TrainConfig(dataset=f"npz:{root / 'toy.npz'}", gan="dcgan", width=4, latent_dim=4,
                      batch_size=8, steps_per_epoch=2, epochs=1, fd_every=0, num_samples=4,
                      verbose=0, tensorboard=False, out=str(root / "run"))
    train(cfg)
    return root


def test_the_cli_writes_the_table_and_the_raw_pixel_row_checks_by_hand(tiny_run, capsys):
    from keras_gan.data.labelled import load_labelled, select_labelled

    out = tiny_run / "report" / "probe.md"
    argv = ["probe", str(tiny_run / "run"), "--labels-per-class", "5",
            "--labels-per-class", "1000", "--seeds", "0,1,2", "--out", str(out)]
    assert main(argv) == 0
    assert "| raw pixels | 64 |" in capsys.readouterr().out
    text = out.read_text()
    result = json.loads(out.with_suffix(".json").read_text())
    # 40 training rows per class (10 of the 50 held out): 1000 capped to 40
    assert result["labels_per_class"] == [5, 40] and result["requested"] == [5, 1000]
    assert "| features | dim | 5 per class | 40 per class (all) |" in text
    for row in ROWS:
        assert f"| {row} |" in text
    assert (f"Made by `keras-gan probe {tiny_run / 'run'} --labels-per-class 5,1000 "
            f"--seeds 0,1,2 --out {out}`") in text
    assert result["command"].startswith("keras-gan probe ")
    # The raw-pixel row, by hand: the same held-out split and labelled draws,
    # standardized here, the logistic fit, the accuracy, mean and sample sd.
    data = load_labelled(f"npz:{tiny_run / 'toy.npz'}", image_size=8)
    accs = []
    for seed in (0, 1, 2):
        rows = select_labelled(data.y_train, 5, seed)
        f = data.x_train[rows].reshape(len(rows), -1)
        mean, std = f.mean(0), f.std(0)
        w, b = fit_logistic((f - mean) / std, data.y_train[rows], 3)
        pred = (((data.x_test.reshape(len(data.x_test), -1) - mean) / std) @ w + b).argmax(1)
        accs.append(float((pred == data.y_test).mean()))
    cell = result["rows"]["raw pixels"]["5"]
    np.testing.assert_allclose(cell["accuracies"], accs, atol=1e-9)
    assert cell["mean"] == pytest.approx(np.mean(accs))
    assert cell["sd"] == pytest.approx(np.std(accs, ddof=1))
    assert len(set(accs)) > 1  # the draws differ: the sd is not trivially 0
    assert f"| raw pixels | 64 | {np.mean(accs):.3f} ± {np.std(accs, ddof=1):.3f} |" in text
    # Every training row labelled: the three seeds draw the same rows.
    assert result["rows"]["raw pixels"]["40"]["sd"] == 0.0
    # D's features: DCGAN width 4 at 8 px, one conv of 4 filters to 4x4, flattened.
    assert result["features"]["D trained"] == result["features"]["D random init"] == 64


@pytest.mark.parametrize("argv, message", [
    (["<tmp>/nowhere"], "no run folder at <tmp>/nowhere: give the folder of a "
                        "`keras-gan train` run"),
    (["<tmp>"], "<tmp> holds no gan.keras: probe needs the whole GAN of a finished "
                "`keras-gan train` run (an export keeps only the generator)"),
    (["<tmp>", "--out", "<tmp>/table.txt"], "--out must name a .md file, got <tmp>/table.txt"),
])
def test_a_bad_run_is_one_line(argv, message, tmp_path, capsys):
    argv = [a.replace("<tmp>", str(tmp_path)) for a in argv]
    assert main(["probe", *argv]) == 2
    assert capsys.readouterr().err == (
        f"keras-gan probe: error: {message.replace('<tmp>', str(tmp_path))}\n")


def test_conditional_d_is_probed_without_labels_and_packed_d_is_refused():
    import keras

    from keras_gan.models.gans import build_gan
    from keras_gan.models.networks import build_networks

    keras.utils.set_random_seed(0)
    _, d = build_networks("dcgan", 4, (8, 8, 1), 4, num_classes=5)
    model = feature_model(d)  # the projection head: features of the image alone
    assert len(model.inputs) == 1
    x = np.random.default_rng(0).uniform(-1, 1, (3, 8, 8, 1)).astype(np.float32)
    got = features(model, x)
    head_input = keras.Model(d.inputs, d.get_layer("logits").input)
    for label in (0, 4):
        want = head_input([x, np.full(3, label, np.int64)], training=False)
        np.testing.assert_allclose(got, keras.ops.convert_to_numpy(want), atol=1e-6)

    g, d = build_networks("dcgan", 4, (8, 8, 2), 4)  # a pack of 2 grey images
    g, _ = build_networks("dcgan", 4, (8, 8, 1), 4)
    with pytest.raises(ProbeError, match=r"^a packed discriminator \(PacGAN, pack=2\)"):
        discriminator_of(build_gan("pacgan", g, d, pack=2))
