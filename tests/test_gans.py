"""keras_gan/gans: the registry, and one tiny fit per registered variant."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_gan.models.gan import GAN
from keras_gan.models.gans import build_gan, get_gan, list_gans, register_gan
from keras_gan.models.gans.pacgan import PacGAN
from keras_gan.models.gans.wgan import gradient_penalty
from keras_gan.models.losses import LOSSES
from keras_gan.models.networks import build_mlp_generator, build_networks


def variant_networks(name, sample_shape=(2,), latent_dim=4, width=16, num_classes=None,
                     **options):
    """MLP networks for variant `name`, the discriminator built for the input
    the variant feeds it (PacGAN: packed samples), as train.py should."""
    g, d = build_networks("mlp", latent_dim, sample_shape, width, num_classes=num_classes)
    packed = get_gan(name).cls.discriminator_input_shape(sample_shape, **options)
    if tuple(packed) != tuple(sample_shape):
        _, d = build_networks("mlp", latent_dim, packed, width, num_classes=num_classes)
    return g, d


def test_registry_lists_the_loss_families():
    names = list_gans()
    assert {"gan", "nsgan", "dcgan", "lsgan", "hinge"} <= set(names)
    assert get_gan("gan").loss == "minimax"
    assert get_gan("dcgan").loss == "non_saturating"


@pytest.mark.parametrize("name", list_gans())
def test_each_variant_fits_with_finite_losses(name):
    spec = get_gan(name)
    num_classes = 3 if spec.takes_labels else None
    keras.utils.set_random_seed(0)
    g, d = variant_networks(name, num_classes=num_classes)
    gan = build_gan(name, g, d, seed=0, num_classes=num_classes)
    assert isinstance(gan, spec.cls)
    assert gan.loss_name == spec.loss
    gan.compile(keras.optimizers.Adam(1e-3), keras.optimizers.Adam(1e-3))
    x = np.random.default_rng(0).normal(size=(128, 2)).astype("float32")
    data = (x, np.arange(128) % 3) if spec.takes_labels else x
    w0 = [v.numpy().copy() for v in gan.generator.trainable_variables]
    history = gan.fit(tf.data.Dataset.from_tensor_slices(data).batch(32), epochs=1,
                      verbose=0).history
    for key in spec.cls.metric_names:  # e.g. WGAN-GP's "gp"
        assert np.isfinite(history[key]).all(), key
    assert any(not np.allclose(a, v.numpy())
               for a, v in zip(w0, gan.generator.trainable_variables, strict=True))


def test_loss_override_and_bad_names():
    g, d = build_networks("mlp", 4, (2,), 8)
    assert build_gan("dcgan", g, d, loss="hinge").loss_name == "hinge"
    with pytest.raises(ValueError, match="is conditional"):
        build_gan("cgan", g, d)
    with pytest.raises(ValueError, match="registered: .*dcgan"):
        get_gan("no-such-gan")
    with pytest.raises(ValueError, match="already registered"):
        register_gan("dcgan", loss="hinge", description="dup")
    with pytest.raises(ValueError, match="unknown loss"):
        register_gan("new-variant", loss="nope", description="")
    with pytest.raises(TypeError, match="GAN subclass"):
        register_gan("new-variant", loss="hinge", description="", cls=dict)
    assert set(LOSSES) >= {get_gan(n).loss for n in list_gans()}
    assert issubclass(get_gan("gan").cls, GAN)


# -- variant properties --------------------------------------------------------


def _points(n=64, seed=0):
    return np.random.default_rng(seed).normal(size=(n, 2)).astype("float32")


def test_wgan_clips_every_critic_weight():
    keras.utils.set_random_seed(0)
    g, d = build_networks("mlp", 4, (2,), 16)
    gan = build_gan("wgan", g, d, seed=0, clip_value=0.05)
    # lr 0.1: one unclipped Adam step would move every weight by about 0.1.
    gan.compile(keras.optimizers.Adam(0.1), keras.optimizers.Adam(1e-3))
    gan.fit(tf.data.Dataset.from_tensor_slices(_points()).batch(16), epochs=1, verbose=0)
    weights = np.concatenate([v.numpy().ravel() for v in d.trainable_variables])
    assert np.abs(weights).max() <= 0.05
    assert np.isclose(np.abs(weights), 0.05).mean() > 0.5  # the clip was active
    assert np.isclose(weights, -0.05).any() and np.isclose(weights, 0.05).any()  # both sides
    with pytest.raises(ValueError, match="clip_value"):
        build_gan("wgan", g, d, clip_value=0)


def test_wgan_clips_at_the_papers_c_by_default():
    """Arjovsky et al. 2017 (Algorithm 1): c = 0.01, in Python and from the
    command line (the registry's option default)."""
    from keras_gan.models.variant import DataPlan

    variant = get_gan("wgan")
    keras.utils.set_random_seed(0)
    built = variant.build(arch="mlp", sample_shape=(2,), plan=DataPlan(), latent_dim=3,
                          width=8, depth=1, spectral_norm=False,
                          options=variant.resolve_options({}), seed=0)
    assert built.clip_value == 0.01
    keras.utils.set_random_seed(0)
    g, d = build_networks("mlp", 4, (2,), 16)
    gan = build_gan("wgan", g, d, seed=0)
    gan.compile(keras.optimizers.Adam(0.1), keras.optimizers.Adam(1e-3))
    gan.fit(tf.data.Dataset.from_tensor_slices(_points(16)).batch(16), epochs=1, verbose=0)
    weights = np.concatenate([v.numpy().ravel() for v in d.trainable_variables])
    assert np.isclose(np.abs(weights).max(), 0.01)


def _linear_critic_gan(gp_weight):
    """WGAN-GP with a linear critic D(x) = w.x + b on 4x4 images: its input
    gradient is w at every xhat, so the penalty is gp_weight * (|w| - 1)^2."""
    keras.utils.set_random_seed(0)
    g = build_mlp_generator(4, (4, 4, 1), width=8)
    x = keras.Input((4, 4, 1))
    d = keras.Model(x, keras.layers.Dense(1)(keras.layers.Flatten()(x)))
    gan = build_gan("wgan-gp", g, d, seed=0, gp_weight=gp_weight)
    gan.compile(keras.optimizers.SGD(0.01), keras.optimizers.SGD(0.01))
    return gan, d


def test_wgan_gp_penalty_matches_closed_form_for_a_linear_critic():
    weight = 3.0
    assert _linear_critic_gan(gp_weight=0.5)[0].gp_weight == 0.5  # any weight >= 0
    gan, d = _linear_critic_gan(gp_weight=weight)
    w, b = d.layers[-1].kernel, d.layers[-1].bias
    w.assign(np.random.default_rng(1).normal(size=(16, 1)).astype("float32"))
    norm = np.linalg.norm(w.numpy())
    rng = np.random.default_rng(0)
    real = rng.uniform(-1, 1, size=(8, 4, 4, 1)).astype("float32")
    fake = rng.uniform(-1, 1, size=(8, 4, 4, 1)).astype("float32")
    eps = rng.uniform(size=(8, 1, 1, 1)).astype("float32")
    np.testing.assert_allclose(float(gradient_penalty(d, real, fake, eps)), (norm - 1) ** 2,
                               rtol=1e-5)

    # The loss hook, and its gradient through the inner tape (double backprop):
    # d/dw [mean(w.fake) - mean(w.real) + lam (|w| - 1)^2].
    with tf.GradientTape() as tape:
        loss = gan.discriminator_loss(d(real), d(fake), real=real, fake=fake)
        terms = gan.d_regularizers(real, fake)
        loss = loss + sum(terms.values())
    assert set(terms) == {"gp"}
    grad_w, grad_b = tape.gradient(loss, [w, b])
    flat = lambda a: a.reshape(len(a), -1)  # noqa: E731
    wv = w.numpy()
    expected = (flat(fake).mean(0) - flat(real).mean(0))[:, None] \
        + 2 * weight * (norm - 1) * wv / norm
    np.testing.assert_allclose(grad_w.numpy(), expected, rtol=1e-4, atol=1e-5)
    assert np.abs(grad_b.numpy()).max() < 1e-5  # the bias cancels between real and fake

    # A whole critic step reports the penalty as "gp", inside d_loss.
    metrics = gan.d_step(real)
    np.testing.assert_allclose(float(metrics["gp"]), 3.0 * (norm - 1) ** 2, rtol=1e-5)
    assert "gp" in gan.metric_names


def _unrolled_step(unroll_steps, unroll_learning_rate=1.0, real_shift=2.0):
    """Generator weight change (-grad, SGD lr 1) of one unrolled g_step on a
    real minibatch shifted by `real_shift`, and whether the discriminator's
    variables came out bitwise unchanged."""
    keras.utils.set_random_seed(0)
    g, d = build_networks("mlp", 4, (2,), 16)
    gan = build_gan("unrolled", g, d, seed=0, unroll_steps=unroll_steps,
                    unroll_learning_rate=unroll_learning_rate)
    gan.compile(keras.optimizers.SGD(0.1), keras.optimizers.SGD(1.0))
    d_before = [v.numpy().copy() for v in d.variables]
    g_before = [v.numpy().copy() for v in g.trainable_variables]
    gan.g_step(_points(32) + real_shift)
    unchanged = all(np.array_equal(a, v.numpy())
                    for a, v in zip(d_before, d.variables, strict=True))
    delta = np.concatenate([(v.numpy() - a).ravel()
                            for a, v in zip(g_before, g.trainable_variables, strict=True)])
    return delta, unchanged


def test_unrolled_differentiates_through_discriminator_updates():
    plain, _ = _unrolled_step(0)
    unrolled, d_unchanged = _unrolled_step(3)
    assert d_unchanged  # the unrolled updates ran on copies
    assert np.abs(plain).max() > 1e-4
    # The unrolling changes the generator's gradient...
    assert np.abs(unrolled - plain).max() > 0.05 * np.abs(plain).max()
    # ...and with zero step size it is the plain gradient (the unrolled path
    # through stateless_call computes the same thing).
    frozen, _ = _unrolled_step(3, unroll_learning_rate=0.0)
    np.testing.assert_allclose(frozen, plain, atol=1e-6)


def test_unrolled_takes_five_steps_by_default_and_refuses_negative_ones():
    """Metz et al. 2017 report 5 and 10 unrolling steps; 5 is the default."""
    keras.utils.set_random_seed(0)
    g, d = build_networks("mlp", 4, (2,), 8)
    assert build_gan("unrolled", g, d, seed=0).unroll_steps == 5
    assert build_gan("unrolled", g, d, seed=0, unroll_steps=0).unroll_steps == 0  # plain GAN
    with pytest.raises(ValueError, match=r"^unroll_steps must be >= 0, got -1$"):
        build_gan("unrolled", g, d, unroll_steps=-1)


def test_unrolled_generator_step_uses_the_real_minibatch_it_is_given():
    # The unrolled D updates train on the real minibatch g_step receives (the
    # hook's argument, no stash): other real data, another generator update;
    # without unrolling the real data does not enter G's loss at all.
    near, _ = _unrolled_step(3, real_shift=0.0)
    far, _ = _unrolled_step(3, real_shift=3.0)
    assert np.abs(near - far).max() > 1e-3
    plain_near, _ = _unrolled_step(0, real_shift=0.0)
    plain_far, _ = _unrolled_step(0, real_shift=3.0)
    np.testing.assert_array_equal(plain_near, plain_far)


@pytest.mark.parametrize("sample_shape", [(3,), (4, 4, 2)])
def test_pacgan_discriminator_sees_packs(sample_shape):
    pack = 3
    g, d = variant_networks("pacgan", sample_shape, width=8, pack=pack)
    assert tuple(d.inputs[0].shape[1:]) == (*sample_shape[:-1], pack * sample_shape[-1])
    gan = build_gan("pacgan", g, d, seed=0, pack=pack)
    x = np.random.default_rng(0).normal(size=(6, *sample_shape)).astype("float32")
    packed = gan.pack_samples(x).numpy()
    # Batch B / pack; sample j of pack i at channels [j * C, (j + 1) * C).
    assert packed.shape == (2, *sample_shape[:-1], pack * sample_shape[-1])
    for i in range(2):
        np.testing.assert_array_equal(packed[i], np.concatenate(x[3 * i:3 * i + 3], axis=-1))
    assert tuple(gan.discriminate(x).shape) == (2, 1)
    with pytest.raises(ValueError, match="divisible by pack=3"):
        gan.discriminate(x[:4])


def test_pacgan_errors():
    g, d = variant_networks("pacgan", pack=2)
    _, unpacked = build_networks("mlp", 4, (2,), 16)
    with pytest.raises(ValueError, match=r"packed inputs \(4,\), got one for \(2,\)"):
        build_gan("pacgan", g, unpacked)
    with pytest.raises(ValueError, match="conditional"):
        PacGAN(g, d, num_classes=3)
    # A batch whose size is only known when the step runs is checked there.
    gan = build_gan("pacgan", g, d, seed=0)
    gan.compile(keras.optimizers.Adam(1e-3), keras.optimizers.Adam(1e-3))
    with pytest.raises(tf.errors.InvalidArgumentError, match="divisible by pack=2"):
        gan.fit(tf.data.Dataset.from_tensor_slices(_points(6)).batch(3), verbose=0)


@pytest.mark.parametrize("name, options", [
    ("wgan", {"clip_value": 0.02}),
    ("wgan-gp", {"gp_weight": 5.0}),
    ("unrolled", {"unroll_steps": 2, "unroll_learning_rate": 0.5}),
    ("pacgan", {"pack": 4}),
])
def test_variant_save_load_round_trips_options(name, options, tmp_path):
    keras.utils.set_random_seed(0)
    g, d = variant_networks(name, width=8, **{k: v for k, v in options.items() if k == "pack"})
    gan = build_gan(name, g, d, seed=0, d_steps=2, **options)
    gan.compile(keras.optimizers.Adam(1e-3), keras.optimizers.Adam(1e-3))
    gan.save(tmp_path / "gan.keras")
    loaded = keras.saving.load_model(tmp_path / "gan.keras")
    assert type(loaded) is type(gan) is get_gan(name).cls
    for key, value in options.items():
        assert getattr(loaded, key) == value
        assert loaded.get_config()[key] == value
    assert loaded.d_steps == 2
    for a, b in zip(gan.discriminator.weights, loaded.discriminator.weights, strict=True):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
