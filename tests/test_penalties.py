"""keras_gan/models/penalties.py and the R1 / R2 options of every GAN: closed forms
on a linear discriminator, lazy regularization, and training with them."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_gan.config import ConfigError, TrainConfig
from keras_gan.models.gans import build_gan, list_gans
from keras_gan.models.networks import build_mlp_generator
from keras_gan.models.penalties import gradient_penalty, input_gradients, zero_centered_penalty

GAMMA = 3.0


def _linear_gan(**kwargs):
    """A GAN whose discriminator is linear, D(x) = w.x + b on 4x4 images: its
    input gradient is w everywhere, so R1 = R2 = gamma / 2 * ||w||^2."""
    keras.utils.set_random_seed(0)
    g = build_mlp_generator(4, (4, 4, 1), width=8)
    x = keras.Input((4, 4, 1))
    d = keras.Model(x, keras.layers.Dense(1)(keras.layers.Flatten()(x)))
    gan = build_gan("nsgan", g, d, seed=0, **kwargs)
    gan.compile(keras.optimizers.SGD(0.01), keras.optimizers.SGD(0.01))
    w = d.layers[-1].kernel
    w.assign(np.random.default_rng(1).normal(size=(16, 1)).astype("float32"))
    return gan, d, w


def _images(seed, n=8):
    return np.random.default_rng(seed).uniform(-1, 1, (n, 4, 4, 1)).astype("float32")


def test_input_gradients_and_penalties_of_a_linear_critic():
    _, d, w = _linear_gan()
    x = _images(0)
    np.testing.assert_allclose(input_gradients(d, x).numpy(),
                               np.repeat(w.numpy().T, len(x), axis=0), rtol=1e-6)
    norm2 = float((w.numpy() ** 2).sum())
    np.testing.assert_allclose(float(zero_centered_penalty(d, x)), norm2, rtol=1e-5)
    eps = np.full((8, 1, 1, 1), 0.3, "float32")
    np.testing.assert_allclose(float(gradient_penalty(d, x, _images(1), eps)),
                               (np.sqrt(norm2) - 1) ** 2, rtol=1e-5)


@pytest.mark.parametrize("which", ["r1", "r2"])
def test_r1_r2_match_the_closed_form_and_its_gradient(which):
    gan, d, w = _linear_gan(**{which: GAMMA})
    real, fake = _images(0), _images(1)
    with tf.GradientTape() as tape:
        terms = gan.d_regularizers(real, fake)
    assert set(terms) == {which}
    wv = w.numpy()
    np.testing.assert_allclose(float(terms[which]), GAMMA / 2 * (wv ** 2).sum(), rtol=1e-5)
    # d/dw gamma/2 ||w||^2 = gamma w: the penalty trains D's weights (double backprop).
    grad = tape.gradient(terms[which], w)
    np.testing.assert_allclose(grad.numpy(), GAMMA * wv, rtol=1e-4)
    # A whole D step logs it, inside d_loss.
    metrics = gan.d_step(real)
    assert which in metrics and which in gan.metric_names
    assert float(metrics["d_loss"]) > float(metrics[which]) > 0


@pytest.mark.parametrize("n", [2, 4])
def test_lazy_regularization_runs_every_n_updates_weighted_n(n):
    gan, _, w = _linear_gan(r1=GAMMA, reg_every=n)
    real, fake = _images(0), _images(1)
    full = GAMMA / 2 * float((w.numpy() ** 2).sum())
    seen = []
    for it in range(8):
        gan.d_optimizer.iterations.assign(it)
        seen.append(float(gan.d_regularizers(real, fake)["r1"]))
    due = [it for it in range(8) if it % n == 0]
    np.testing.assert_allclose([seen[it] for it in due], n * full, rtol=1e-5)
    assert [seen[it] for it in range(8) if it % n] == [0.0] * (8 - len(due))
    # The same expected value as the eager penalty.
    np.testing.assert_allclose(np.mean(seen), full, rtol=1e-5)


def test_penalties_are_off_by_default_and_refuse_bad_values():
    gan, _, _ = _linear_gan()
    assert gan.d_regularizers(_images(0), _images(1)) == {}
    assert "r1" not in gan.metric_names
    g, d = gan.generator, gan.discriminator
    with pytest.raises(ValueError, match="r1 must be >= 0"):
        build_gan("nsgan", g, d, r1=-1.0)
    with pytest.raises(ValueError, match="reg_every must be >= 1"):
        build_gan("nsgan", g, d, r1=1.0, reg_every=0)
    # The CLI's messages (TrainConfig's), as docs/robustness.md quotes them.
    with pytest.raises(ConfigError, match=r"^r1 must be >= 0, got -1.0$"):
        TrainConfig(r1=-1.0)
    with pytest.raises(ConfigError, match=r"^reg_every must be >= 1, got 0$"):
        TrainConfig(reg_every=0)


@pytest.mark.parametrize("name", list_gans())
def test_every_variant_trains_with_lazy_r1_and_r2(name):
    # The options belong to the base loop, so every registered variant has them.
    from test_gans import variant_networks

    from keras_gan.models.gans import get_gan

    variant = get_gan(name)
    num_classes = 3 if variant.takes_labels else None
    keras.utils.set_random_seed(0)
    g, d = variant_networks(name, num_classes=num_classes)
    gan = build_gan(name, g, d, seed=0, num_classes=num_classes, r1=1.0, r2=0.5,
                    reg_every=2)
    gan.compile(keras.optimizers.Adam(1e-3), keras.optimizers.Adam(1e-3))
    x = np.random.default_rng(0).normal(size=(64, 2)).astype("float32")
    data = (x, np.arange(64) % 3) if variant.takes_labels else x
    history = gan.fit(tf.data.Dataset.from_tensor_slices(data).batch(16), epochs=1,
                      verbose=0).history
    assert np.isfinite(history["r1"]).all() and np.isfinite(history["r2"]).all()
    # Half the D updates carry the (doubled) penalty: the epoch mean is > 0.
    assert history["r1"][-1] > 0 and history["r2"][-1] > 0
    loaded = type(gan).from_config(gan.get_config())
    assert (loaded.r1, loaded.r2, loaded.reg_every) == (1.0, 0.5, 2)


# -- where the penalties are taken ---------------------------------------------------


def _quadratic_gan(**kwargs):
    """A GAN whose discriminator is D(x) = (w.x + b)^2 on 4x4 images: its input
    gradient 2 (w.x + b) w differs from point to point (unlike a linear D's), so
    a penalty taken at the wrong samples gives another value."""
    keras.utils.set_random_seed(0)
    g = build_mlp_generator(4, (4, 4, 1), width=8)
    x = keras.Input((4, 4, 1))
    score = keras.layers.Dense(1)(keras.layers.Flatten()(x))
    d = keras.Model(x, keras.layers.Multiply()([score, score]))
    gan = build_gan("nsgan", g, d, seed=0, **kwargs)
    gan.compile(keras.optimizers.SGD(0.01), keras.optimizers.SGD(0.01))
    dense = _dense(d)
    dense.kernel.assign(np.random.default_rng(1).normal(size=(16, 1)).astype("float32"))
    dense.bias.assign(np.array([0.5], "float32"))
    return gan, dense


def _dense(model):
    return next(layer for layer in model.layers if isinstance(layer, keras.layers.Dense))


def _quadratic_penalty(dense, x):
    """gamma / 2 * mean_i ||2 (w.x_i + b) w||^2, by hand in numpy."""
    w, b = dense.kernel.numpy()[:, 0], float(dense.bias.numpy()[0])
    s = np.asarray(x).reshape(len(x), -1) @ w + b
    return GAMMA / 2 * float(np.mean(4 * s ** 2 * (w ** 2).sum()))


@pytest.mark.parametrize("which", ["r1", "r2"])
def test_r1_is_taken_at_the_reals_and_r2_at_the_fakes(which):
    gan, dense = _quadratic_gan(**{which: GAMMA})
    real, fake = _images(0), 0.2 * _images(1) + 0.5
    at_real, at_fake = _quadratic_penalty(dense, real), _quadratic_penalty(dense, fake)
    assert abs(at_real - at_fake) > 0.2 * min(at_real, at_fake)  # the two can be told apart
    got = float(gan.d_regularizers(real, fake)[which])
    np.testing.assert_allclose(got, at_real if which == "r1" else at_fake, rtol=1e-5)


def test_a_d_step_penalises_the_samples_its_loss_saw(monkeypatch):
    """The loss and the penalties of one D update see the same perturbed
    samples (here instance noise): R1 at the noisy reals, R2 at the noisy fakes."""
    gan, dense = _quadratic_gan(r1=GAMMA, r2=GAMMA, instance_noise=0.5)
    seen, loss = {}, gan.discriminator_loss

    def spy(real_logits, fake_logits, real, fake, labels=None):
        seen.update(real=np.asarray(real), fake=np.asarray(fake))
        return loss(real_logits, fake_logits, real=real, fake=fake, labels=labels)

    monkeypatch.setattr(gan, "discriminator_loss", spy)
    before = keras.models.clone_model(gan.discriminator)
    before.set_weights(gan.discriminator.get_weights())  # the step then updates D
    real = _images(0)
    metrics = gan.d_step(real)
    assert np.abs(seen["real"] - real).mean() > 0.2  # D saw noisy reals
    np.testing.assert_allclose(float(metrics["r1"]),
                               _quadratic_penalty(_dense(before), seen["real"]), rtol=1e-4)
    np.testing.assert_allclose(float(metrics["r2"]),
                               _quadratic_penalty(_dense(before), seen["fake"]), rtol=1e-4)


def test_gradient_penalty_is_taken_between_each_real_and_its_fake():
    """WGAN-GP at x_hat = eps x + (1 - eps) G(z), eps per example: with the
    quadratic D the gradient norm |2 (w.x_hat + b)| ||w|| differs along the
    line, so the interpolation point is pinned down."""
    gan, dense = _quadratic_gan()
    real, fake = _images(0), 0.2 * _images(1) + 0.5
    eps = np.linspace(0.1, 0.9, len(real)).astype("float32").reshape(-1, 1, 1, 1)
    w, b = dense.kernel.numpy()[:, 0], float(dense.bias.numpy()[0])
    x_hat = (eps * real + (1 - eps) * fake).reshape(len(real), -1)
    norms = np.abs(2 * (x_hat @ w + b)) * np.sqrt((w ** 2).sum())
    got = float(gradient_penalty(gan.discriminator, real, fake, eps))
    np.testing.assert_allclose(got, np.mean((norms - 1) ** 2), rtol=1e-5)


def test_gradient_penalty_stays_finite_where_the_critic_is_flat():
    """Where D's input gradient is 0 the norm's own gradient (sqrt'(0)) is
    infinite; the small constant under the root keeps the penalty 1 and its
    gradient in D's weights finite, so one flat critic does not end a run."""
    _, d, w = _linear_gan()
    w.assign(np.zeros(w.shape, "float32"))
    eps = np.full((8, 1, 1, 1), 0.5, "float32")
    with tf.GradientTape() as tape:
        gp = gradient_penalty(d, _images(0), _images(1), eps)
    assert float(gp) == pytest.approx(1.0, abs=1e-5)
    assert np.isfinite(tape.gradient(gp, w).numpy()).all()
