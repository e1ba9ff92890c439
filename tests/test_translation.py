"""The translators (keras_gan/models/translation): every registry entry
trains with plain fit, saves and loads; pix2pix's and CycleGAN's losses at
known values; mixed precision."""

import math

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_gan.config import ConfigError
from keras_gan.models.translation.cyclegan import CycleGAN
from keras_gan.models.translation.networks import build_patchgan, build_unet
from keras_gan.models.translation.pix2pix import Pix2Pix
from keras_gan.models.translation.registry import (
    build_translator,
    get_translator,
    list_translators,
)
from keras_gan.models.translation.schedules import ConstantThenLinearDecay

SIZE = 8


def batch(seed, n=4, channels=3, size=SIZE):
    return np.random.default_rng(seed).uniform(-1, 1, (n, size, size, channels)).astype("float32")


def networks(model):
    """{attribute: network} of the networks a translator trains."""
    names = ("generator", "discriminator", "generator_ba", "discriminator_a",
             "discriminator_b")
    return {n: getattr(model, n) for n in names if getattr(model, n, None) is not None}


def compiled(name, **options):
    keras.utils.set_random_seed(0)
    model = build_translator(name, SIZE, 3, 3, 4, seed=0, **options)
    lr = ConstantThenLinearDecay(1e-3, constant_steps=2, decay_steps=10)
    model.compile(keras.optimizers.Adam(lr, beta_1=0.5), keras.optimizers.Adam(lr, beta_1=0.5))
    return model


@pytest.mark.parametrize("name", list_translators())
def test_fit_trains_every_network_and_the_model_round_trips(name, tmp_path):
    model = compiled(name)
    before = {k: [v.numpy().copy() for v in net.trainable_variables]
              for k, net in networks(model).items()}
    history = model.fit(batch(1), batch(2), batch_size=2, epochs=1, verbose=0).history
    expected = {"pix2pix": {"d_loss", "g_loss", "l1"}, "unet-l1": {"g_loss", "l1"},
                "pix2pix-adv": {"d_loss", "g_loss", "l1"},
                "cyclegan": {"g_loss", "d_a_loss", "d_b_loss", "cycle", "identity"}}[name]
    assert set(history) == expected
    for metric, values in history.items():
        assert np.isfinite(values).all(), metric
    assert int(model.optimizer.iterations) == 2
    for key, net in networks(model).items():
        for old, var in zip(before[key], net.trainable_variables, strict=True):
            assert not np.allclose(old, var.numpy()), f"{key} {var.path}"
    x = batch(3)
    path = tmp_path / "model.keras"
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    assert type(loaded) is type(model)
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    schedule = loaded.g_optimizer.get_config()["learning_rate"]
    assert schedule["registered_name"] == "keras_gan>ConstantThenLinearDecay", schedule
    assert int(loaded.optimizer.iterations) == 2
    for key, net in networks(model).items():
        for a, b in zip(net.weights, networks(loaded)[key].weights, strict=True):
            np.testing.assert_array_equal(a.numpy(), b.numpy())
    np.testing.assert_array_equal(loaded.seed_generator.state.numpy(),
                                  model.seed_generator.state.numpy())
    if name == "cyclegan":  # the histories resume as they were
        for pool in ("history_a", "history_b"):
            assert int(getattr(loaded, pool).count) == 4
            np.testing.assert_array_equal(getattr(loaded, pool).images.numpy(),
                                          getattr(model, pool).images.numpy())


def test_the_registry_entries_are_the_paper_settings():
    assert list_translators() == ["pix2pix", "unet-l1", "pix2pix-adv", "cyclegan"]
    pix2pix = build_translator("pix2pix", SIZE, 3, 3, 4)
    assert (pix2pix.l1_weight, pix2pix.adv_weight, pix2pix.loss_name) == (
        100.0, 1.0, "non_saturating")
    baseline = build_translator("unet-l1", SIZE, 3, 3, 4)
    assert baseline.discriminator is None and baseline.adv_weight == 0
    assert baseline.optimizer_names == ("g_optimizer",)
    baseline.compile(keras.optimizers.Adam(), keras.optimizers.Adam())
    assert not hasattr(baseline, "d_optimizer")
    assert build_translator("pix2pix-adv", SIZE, 3, 3, 4).l1_weight == 0
    cyclegan = build_translator("cyclegan", SIZE, 3, 3, 4)
    assert (cyclegan.cycle_weight, cyclegan.identity_weight, cyclegan.history_size) == (
        10.0, 5.0, 50)
    assert [get_translator(n).paired for n in list_translators()] == [True] * 3 + [False]
    with pytest.raises(ConfigError, match="sets adv_weight itself"):
        build_translator("unet-l1", SIZE, 3, 3, 4, adv_weight=1.0)
    with pytest.raises(ConfigError, match="unknown translator 'pix3pix'"):
        build_translator("pix3pix", SIZE, 3, 3, 4)
    with pytest.raises(ValueError, match="a discriminator is needed exactly"):
        Pix2Pix(build_unet(SIZE, 3, 3, 4))


def test_cyclegan_translates_both_ways():
    model = build_translator("cyclegan", SIZE, 1, 3, 4, identity_weight=0.0)
    a, b = batch(0, channels=1), batch(1, channels=3)
    assert model(a).shape == model.translate(a, "ab").shape == (4, SIZE, SIZE, 3)
    assert model.translate(b, "ba").shape == (4, SIZE, SIZE, 1)
    np.testing.assert_array_equal(model(a), model.generator(a))
    with pytest.raises(ValueError, match="direction must be"):
        model.translate(a, "ab2")
    with pytest.raises(ValueError, match="same channels"):
        build_translator("cyclegan", SIZE, 1, 3, 4)


def zero(net):
    net.set_weights([np.zeros_like(w) for w in net.get_weights()])
    return net


@pytest.mark.parametrize("adv_weight, l1_weight", [(2.0, 3.0), (1.0, 0.0)])
def test_pix2pix_losses_at_a_constant_zero_discriminator(adv_weight, l1_weight):
    keras.utils.set_random_seed(0)
    g = build_unet(SIZE, 3, 3, 4, dropout=0.0)
    d = zero(build_patchgan(SIZE, 3, 4, condition_channels=3))  # logits 0: D(x) = 1/2
    model = Pix2Pix(g, d, l1_weight=l1_weight, adv_weight=adv_weight)
    model.compile(keras.optimizers.SGD(0.0), keras.optimizers.SGD(0.1))
    x, y = batch(0), batch(1)
    l1 = float(np.abs(np.asarray(g(x, training=True)) - y).mean())
    logs = model.train_on_batch(x, y, return_dict=True)
    assert logs["d_loss"] == pytest.approx(math.log(2), rel=1e-5)  # 1/2 (log 2 + log 2)
    assert logs["l1"] == pytest.approx(l1, rel=1e-5)
    assert logs["g_loss"] == pytest.approx(adv_weight * math.log(2) + l1_weight * l1, rel=1e-5)
    # evaluate reports G's L1 to the targets
    trained = float(np.abs(np.asarray(g(x)) - y).mean())
    assert model.evaluate(x, y, verbose=0, return_dict=True) == pytest.approx({"l1": trained})


def scaling(scale, name):
    """A generator x -> scale * x (a 1x1 conv)."""
    inputs = keras.Input((SIZE, SIZE, 3))
    conv = keras.layers.Conv2D(3, 1, use_bias=False)
    net = keras.Model(inputs, conv(inputs), name=name)
    conv.set_weights([scale * np.eye(3, dtype="float32").reshape(1, 1, 3, 3)])
    return net


@pytest.mark.parametrize("scale", [1.0, 0.5])
def test_cyclegan_cycle_and_identity_terms_by_hand(scale):
    # G(x) = scale * x, F the identity, both D constant 0.
    model = CycleGAN(scaling(scale, "g"), scaling(1.0, "f"),
                     zero(build_patchgan(SIZE, 3, 4)), zero(build_patchgan(SIZE, 3, 4)))
    model.compile(keras.optimizers.SGD(0.0), keras.optimizers.SGD(0.0))
    a, b = batch(0), batch(1)
    logs = model.train_on_batch(a, b, return_dict=True)
    off = 1.0 - scale
    # F(G(a)) = scale a, G(F(b)) = scale b; G(b) = scale b, F(a) = a
    cycle = off * (np.abs(a).mean() + np.abs(b).mean())
    identity = off * np.abs(b).mean()
    assert logs["cycle"] == pytest.approx(cycle, rel=1e-5, abs=1e-7)
    assert logs["identity"] == pytest.approx(identity, rel=1e-5, abs=1e-7)
    # adversarial: (0 - 1)^2 per direction
    assert logs["g_loss"] == pytest.approx(2.0 + 10 * cycle + 5 * identity, rel=1e-5)
    # D: 1/2 (0 - 1)^2 + 1/2 0^2 each
    assert logs["d_a_loss"] == pytest.approx(0.5) and logs["d_b_loss"] == pytest.approx(0.5)


@pytest.mark.parametrize("name", ["pix2pix", "cyclegan"])
def test_one_mixed_precision_step(name):
    keras.mixed_precision.set_global_policy("mixed_float16")
    try:
        model = compiled(name)
        assert isinstance(model.g_optimizer, keras.optimizers.LossScaleOptimizer)
        history = model.fit(batch(1), batch(2), batch_size=4, epochs=1, verbose=0).history
        for metric, values in history.items():
            assert np.isfinite(values).all(), metric
        assert model.predict(batch(3), verbose=0).dtype == np.float32
    finally:
        keras.mixed_precision.set_global_policy("float32")


def test_train_step_needs_pairs():
    model = compiled("unet-l1")
    with pytest.raises(ValueError, match="train on \\(source, target\\) batches"):
        model.train_step(tf.constant(batch(0)))
