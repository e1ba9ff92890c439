"""keras_gan/models/semi_supervised/: the K-logit discriminator's losses by
hand, its network, and the hooks the model puts into the base loop."""

import math

import keras
import numpy as np
import pytest

from keras_gan.config import ConfigError
from keras_gan.models.gans import get_gan
from keras_gan.models.networks import build_mlp_generator
from keras_gan.models.semi_supervised import SemiSupervisedGAN, build_ssgan_discriminator, losses
from keras_gan.models.semi_supervised.networks import (
    WeightNormConv2D,
    WeightNormDense,
    build_discriminator,
    build_ssgan_conv_discriminator,
    init_from_data,
    plain_classifier,
)

LN3 = math.log(3.0)


def value(x):
    return float(np.asarray(x))


# -- losses ------------------------------------------------------------------


def test_real_probability_is_z_over_z_plus_one_by_hand():
    # Z = e^0 + e^0 = 2 -> 2/3; Z = 1 + 3 = 4 -> 4/5; Z = 3 e^0 -> 3/4.
    logits = np.array([[0.0, 0.0], [0.0, LN3], [0.0, 0.0]], np.float32)
    got = np.asarray(losses.real_probability(logits[:2]))
    np.testing.assert_allclose(got, [2 / 3, 4 / 5], rtol=1e-6)
    three = np.zeros((1, 3), np.float32)
    assert value(losses.real_probability(three)[0]) == pytest.approx(3 / 4, rel=1e-6)
    # the GAN logit is log Z
    np.testing.assert_allclose(np.asarray(losses.gan_logit(logits[:2]))[:, 0],
                               [math.log(2), math.log(4)], rtol=1e-6)


def test_losses_stay_finite_at_extreme_logits():
    big = np.array([[100.0, 100.0], [-100.0, -100.0]], np.float32)
    p = np.asarray(losses.real_probability(big))
    assert p[0] == pytest.approx(1.0) and p[1] == pytest.approx(0.0, abs=1e-30)
    for loss in (losses.ssgan_d_loss(big, big), losses.ssgan_supervised_loss(big, [0, 1])):
        assert np.isfinite(value(loss))


def test_unsupervised_d_loss_by_hand():
    # real: Z = 2, D = 2/3 -> -log(2/3); fake: Z = 4, D = 4/5 -> -log(1/5).
    real = np.array([[0.0, 0.0]], np.float32)
    fake = np.array([[0.0, LN3]], np.float32)
    expected = -math.log(2 / 3) - math.log(1 / 5)
    assert value(losses.ssgan_d_loss(real, fake)) == pytest.approx(expected, rel=1e-6)


def test_supervised_loss_is_the_softmax_over_the_real_classes_only():
    # softmax([0, ln 3]) = [1/4, 3/4]; the fake class (logit 0) does not enter.
    logits = np.array([[0.0, LN3], [0.0, LN3]], np.float32)
    expected = -(math.log(3 / 4) + math.log(1 / 4)) / 2
    got = value(losses.ssgan_supervised_loss(logits, np.array([1, 0])))
    assert got == pytest.approx(expected, rel=1e-6)


def test_feature_matching_by_hand():
    # batch means [2, 3] and [1, 1]: difference [1, 2], mean square 5 / 2.
    real = np.array([[1.0, 2.0], [3.0, 4.0]], np.float32)
    fake = np.array([[0.0, 0.0], [2.0, 2.0]], np.float32)
    assert value(losses.feature_matching_g_loss(real, fake)) == pytest.approx(2.5)
    # only the means count: a permuted fake batch gives the same loss
    assert value(losses.feature_matching_g_loss(real, fake[::-1])) == pytest.approx(2.5)


# -- network -----------------------------------------------------------------


def test_discriminator_outputs_k_logits_and_its_last_hidden_features():
    d = build_ssgan_discriminator((8, 8, 1), 3, width=16)
    logits, features = d(np.zeros((2, 8, 8, 1), np.float32))
    assert logits.shape == (2, 3) and features.shape == (2, 4)  # 16 / 4
    assert [layer.units for layer in d.layers if isinstance(layer, WeightNormDense)] == \
        [16, 8, 4, 4, 4, 3]
    # noise only in training: inference is deterministic, training is not
    x = np.random.default_rng(0).normal(size=(2, 8, 8, 1)).astype("float32")
    np.testing.assert_array_equal(np.asarray(d(x)[0]), np.asarray(d(x)[0]))
    assert not np.allclose(np.asarray(d(x, training=True)[0]),
                           np.asarray(d(x, training=True)[0]))
    with pytest.raises(ValueError, match="at least 2 classes"):
        build_ssgan_discriminator((8, 8, 1), 1)


def test_weight_norm_fixes_each_units_gain_and_the_init_whitens_its_input():
    keras.utils.set_random_seed(0)
    d = build_ssgan_discriminator((8, 8, 1), 3, width=16, input_noise=0, hidden_noise=0)
    first = d.get_layer("dense_0")
    assert not first.g.trainable and d.get_layer("logits").g.trainable  # the paper's choice
    norms = np.linalg.norm(np.asarray(first.kernel()), axis=0)
    np.testing.assert_allclose(norms, np.asarray(first.g), rtol=1e-5)  # ||W_j|| = g_j
    x = np.random.default_rng(1).uniform(-1, 1, (200, 8, 8, 1)).astype("float32")
    init_from_data(d, x)
    for name in ("dense_0", "dense_3", "logits"):
        layer = d.get_layer(name)
        inputs = keras.Model(d.inputs, layer.input)(x)
        pre = np.asarray(keras.ops.matmul(inputs, layer.kernel()) + layer.b)
        np.testing.assert_allclose(pre.mean(0), 0, atol=1e-4)
        np.testing.assert_allclose(pre.std(0), 1, atol=1e-3)


def test_the_conv_discriminator_pools_its_features_and_whitens_each_channel():
    keras.utils.set_random_seed(0)
    d = build_ssgan_conv_discriminator((12, 12, 1), 3, channels=4, input_noise=0, dropout=0)
    logits, features = d(np.zeros((2, 12, 12, 1), np.float32))
    assert logits.shape == (2, 3) and features.shape == (2, 8)  # 2 x channels, pooled
    convs = [layer for layer in d.layers if isinstance(layer, WeightNormConv2D)]
    assert [(c.units, c.strides, c.padding) for c in convs] == [
        (4, 1, "same"), (4, 2, "same"), (8, 1, "same"), (8, 2, "same"), (8, 1, "valid"),
        (8, 1, "same")]
    first = convs[0]
    norms = np.linalg.norm(np.asarray(first.kernel()).reshape(-1, 4), axis=0)
    np.testing.assert_allclose(norms, np.asarray(first.g), rtol=1e-5)  # per output channel
    x = np.random.default_rng(1).uniform(-1, 1, (100, 12, 12, 1)).astype("float32")
    init_from_data(d, x)
    for layer in (convs[0], convs[3], convs[5]):
        inputs = keras.Model(d.inputs, layer.input)(x)
        pre = np.asarray(keras.ops.conv(inputs, layer.kernel(), layer.strides, layer.padding)
                         + layer.b)
        np.testing.assert_allclose(pre.mean((0, 1, 2)), 0, atol=1e-4)
        np.testing.assert_allclose(pre.std((0, 1, 2)), 1, atol=1e-3)
    # dropout and noise only in training
    d = build_ssgan_conv_discriminator((12, 12, 1), 3, channels=4)
    np.testing.assert_array_equal(np.asarray(d(x)[0]), np.asarray(d(x)[0]))
    assert not np.allclose(np.asarray(d(x, training=True)[0]),
                           np.asarray(d(x, training=True)[0]))


def test_the_options_pick_the_discriminator():
    options = get_gan("ssgan").resolve_options({"d_arch": "conv", "d_channels": 4})
    d = build_discriminator((12, 12, 1), 3, options)
    assert any(isinstance(layer, WeightNormConv2D) for layer in d.layers)
    d = build_discriminator((12, 12, 1), 3, {**options, "d_arch": "mlp", "d_width": 16})
    assert not any(isinstance(layer, WeightNormConv2D) for layer in d.layers)
    with pytest.raises(ConfigError, match="d_arch must be mlp or conv"):
        get_gan("ssgan").resolve_options({"d_arch": "resnet"})


# -- the model's hooks ---------------------------------------------------------


def _model(classes=3, noise=0.0, d_steps=1, unsupervised_weight=0.5, classifier_decay=None):
    keras.utils.set_random_seed(0)
    g = build_mlp_generator(4, (8, 8, 1), 16)
    d = build_ssgan_discriminator((8, 8, 1), classes, width=16, input_noise=noise,
                                  hidden_noise=noise)
    model = SemiSupervisedGAN(g, d, classes=classes, seed=0, d_steps=d_steps,
                              unsupervised_weight=unsupervised_weight,
                              classifier_decay=classifier_decay)
    model.compile(d_optimizer=keras.optimizers.Adam(1e-3),
                  g_optimizer=keras.optimizers.Adam(1e-3))
    return model


def _batch(n=6, classes=3, seed=1):
    rng = np.random.default_rng(seed)
    real = rng.uniform(-1, 1, (n, 8, 8, 1)).astype("float32")
    labelled = rng.uniform(-1, 1, (n, 8, 8, 1)).astype("float32")
    return real, labelled, np.arange(n) % classes


def _constant_generator(model):
    # All-zero weights: G(z) = tanh(0) = 0 for every z, so the fakes are known.
    for w in model.generator.weights:
        w.assign(np.zeros(w.shape, "float32"))
    return np.zeros((1, 8, 8, 1), "float32")


def _softplus(x):
    return np.logaddexp(0.0, x)


def _lse(logits):
    return np.log(np.exp(np.asarray(logits, np.float64)).sum(-1))


def test_d_step_loss_is_half_the_gan_loss_plus_the_supervised_one_by_hand():
    model = _model()
    real, labelled, y = _batch()
    fake = np.repeat(_constant_generator(model), len(real), 0)
    d = model.discriminator
    lr, lf = _lse(d(real)[0]), _lse(d(fake)[0])
    probs = np.asarray(keras.ops.softmax(d(labelled)[0]), np.float64)
    supervised = -np.mean(np.log(probs[np.arange(len(y)), y]))
    unsupervised = np.mean(_softplus(-lr)) + np.mean(_softplus(lf))
    logs = model.d_step(real, (labelled, y))
    assert value(logs["supervised"]) == pytest.approx(supervised, rel=1e-5)
    assert value(logs["d_loss"]) == pytest.approx(0.5 * unsupervised + supervised, rel=1e-5)
    assert value(logs["d_real"]) == pytest.approx(np.mean(1 / (1 + np.exp(-lr))), rel=1e-5)


def test_g_step_loss_is_feature_matching_by_hand():
    model = _model()
    real, labelled, y = _batch()
    fake = _constant_generator(model)
    features = model.discriminator
    expected = np.mean((np.mean(features(real)[1], 0) - np.asarray(features(fake)[1])[0]) ** 2)
    assert value(model.g_step(real, (labelled, y))["g_loss"]) == pytest.approx(expected,
                                                                               rel=1e-5)


def test_each_d_update_gets_its_own_part_of_both_batches():
    model = _model(d_steps=2)
    real, labelled, y = _batch(n=8)
    parts = model.split_real((real, (labelled, y)))
    assert len(parts) == 2
    (r0, (x0, y0)), (r1, (x1, y1)) = parts
    np.testing.assert_array_equal(np.asarray(r1), real[4:])
    np.testing.assert_array_equal(np.asarray(x0), labelled[:4])
    np.testing.assert_array_equal(np.asarray(y1), y[4:])
    with pytest.raises(ValueError, match="labelled images, labels"):
        model.split_real(real)


def test_fit_trains_both_networks_and_the_classifier_learns_the_labelled_rows():
    model = _model(noise=0.1)
    rng = np.random.default_rng(0)
    # Three classes: a bright band of rows 3c, 3c + 1 on a dark image, noisy.
    y = np.arange(30) % 3
    x = np.full((30, 8, 8, 1), -1.0) + 0.1 * rng.normal(size=(30, 8, 8, 1))
    for i, c in enumerate(y):
        x[i, 3 * c:3 * c + 2] += 2.0
    x = x.astype("float32")
    init_from_data(model.discriminator, x)  # as keras_gan.training.semi does
    d0 = [np.array(w) for w in model.discriminator.trainable_weights]
    g0 = [np.array(w) for w in model.generator.weights]
    import tensorflow as tf

    ds = tf.data.Dataset.zip((tf.data.Dataset.from_tensor_slices(x).repeat().batch(6),
                              tf.data.Dataset.from_tensor_slices((x[:9], y[:9])).repeat()
                              .batch(6)))
    history = model.fit(ds, steps_per_epoch=60, epochs=1, verbose=0)
    assert set(history.history) >= {"d_loss", "g_loss", "supervised", "d_real", "d_fake"}
    assert all(not np.allclose(a, np.array(b)) for a, b in
               zip(d0, model.discriminator.trainable_weights, strict=True) if a.size > 1)
    assert any(not np.allclose(a, np.array(b)) for a, b in
               zip(g0, model.generator.weights, strict=True))
    probabilities = np.asarray(model.classifier(x))
    np.testing.assert_allclose(probabilities.sum(-1), 1.0, rtol=1e-5)
    assert np.mean(probabilities.argmax(-1) == y) == 1.0


def test_refuses_what_it_cannot_train():
    g = build_mlp_generator(4, (8, 8, 1), 16)
    d = build_ssgan_discriminator((8, 8, 1), 3, width=16)
    with pytest.raises(ValueError, match="takes no labels"):
        SemiSupervisedGAN(g, d, classes=3, num_classes=3)
    with pytest.raises(ValueError, match="non_saturating"):
        SemiSupervisedGAN(g, d, classes=3, loss="hinge")
    with pytest.raises(ValueError, match="4 class logits for 3 classes"):
        SemiSupervisedGAN(g, build_ssgan_discriminator((8, 8, 1), 4, width=16), classes=3)
    plain = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Flatten(),
                              keras.layers.Dense(1)])
    with pytest.raises(ValueError, match=r"\[class logits, features\]"):
        SemiSupervisedGAN(g, plain, classes=3)


def test_saved_and_loaded_with_its_settings(tmp_path):
    model = _model(unsupervised_weight=0.25)
    path = tmp_path / "gan.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    assert isinstance(loaded, SemiSupervisedGAN)
    assert (loaded.classes, loaded.unsupervised_weight) == (3, 0.25)
    x = _batch()[0]
    np.testing.assert_allclose(np.asarray(loaded.classifier(x)),
                               np.asarray(model.classifier(x)), rtol=1e-6)


@pytest.mark.parametrize("arch", ["mlp", "conv"])
def test_the_saved_classifier_is_plain_keras_and_matches_d(tmp_path, arch):
    keras.utils.set_random_seed(0)
    d = (build_ssgan_discriminator((12, 12, 1), 3, width=16) if arch == "mlp" else
         build_ssgan_conv_discriminator((12, 12, 1), 3, channels=4))
    x = np.random.default_rng(2).uniform(-1, 1, (20, 12, 12, 1)).astype("float32")
    init_from_data(d, x)
    d.get_layer("logits").g.assign(np.array([2.0, 0.5, 1.0], np.float32))
    plain = plain_classifier(d)
    assert all(type(layer).__module__.startswith("keras.") for layer in plain.layers)
    expected = np.asarray(keras.ops.softmax(d(x)[0]))
    np.testing.assert_allclose(np.asarray(plain(x)), expected, atol=1e-6)
    plain.save(tmp_path / "classifier.keras")
    probe = ("import sys, numpy as np, keras; m = keras.saving.load_model(sys.argv[1]); "
             "print(sorted(n for n in sys.modules if n.startswith('keras_gan')))")
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-c", probe, str(tmp_path / "classifier.keras")],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_the_classifier_reads_a_running_average_of_d_by_hand(tmp_path):
    model = _model(classifier_decay=0.5)
    d, avg = model.discriminator, model.averaged_discriminator
    w0 = [np.array(w) for w in d.weights]
    real, labelled, y = _batch()
    model.train_step((real, (labelled, y)))  # one D update: n = 1 after it
    rate = min(0.5, 2.0 / 11.0)  # the warm-up's (1 + n) / (10 + n) is below the decay
    moved = 0
    for before, w, a in zip(w0, d.weights, avg.weights, strict=True):
        np.testing.assert_allclose(np.asarray(a), rate * before + (1 - rate) * np.asarray(w),
                                   rtol=1e-5, atol=1e-7)
        moved += not np.allclose(np.asarray(a), np.asarray(w))
    assert moved > 0  # the average is not D
    x = real[:3]
    want = np.asarray(keras.ops.softmax(avg(x, training=False)[0]))
    np.testing.assert_allclose(np.asarray(model.classifier(x)), want, rtol=1e-6)
    assert not np.allclose(np.asarray(model.classifier(x)),
                           np.asarray(keras.ops.softmax(d(x, training=False)[0])))
    path = tmp_path / "gan.keras"
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    assert loaded.classifier_decay == 0.5
    np.testing.assert_allclose(np.asarray(loaded.classifier(x)), want, rtol=1e-6)
    with pytest.raises(ValueError, match=r"classifier_decay must be in \(0, 1\)"):
        _model(classifier_decay=1.5)
