"""keras_gan/models/gan.py: the loop of Algorithm 1, hooks, precision and saving."""

import math

import keras
import numpy as np
import pytest
import tensorflow as tf
from conftest import tiny_image_gan, tiny_points_gan

from keras_gan.models.gan import GAN


def points_ds(n=256, batch=32, seed=0):
    x = np.random.default_rng(seed).normal(size=(n, 2)).astype("float32")
    return tf.data.Dataset.from_tensor_slices(x).batch(batch, drop_remainder=True)


def images_ds(n=16, batch=8):
    x = np.random.default_rng(0).uniform(-1, 1, (n, 28, 28, 1)).astype("float32")
    return tf.data.Dataset.from_tensor_slices(x).batch(batch, drop_remainder=True)


def iterations(optimizer):
    return int(keras.ops.convert_to_numpy(optimizer.iterations))


@pytest.mark.parametrize("k", [1, 3])
def test_k_discriminator_updates_per_generator_update(k):
    gan = tiny_points_gan(d_steps=k)
    steps = 4
    gan.fit(points_ds(n=32 * k * steps, batch=32 * k), epochs=1, verbose=0)
    assert iterations(gan.g_optimizer) == steps
    assert iterations(gan.d_optimizer) == k * steps
    assert iterations(gan.optimizer) == steps  # model.optimizer counts steps


class RecordingGAN(GAN):
    """Records what each update sees (eager mode, for the test only)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.d_batches, self.g_batches = [], []

    def d_step(self, real, labels=None):
        self.d_batches.append(np.asarray(real))
        return super().d_step(real, labels)

    def g_step(self, real, labels=None):
        self.g_batches.append(np.asarray(real))
        return super().g_step(real, labels)


def test_each_discriminator_update_gets_its_own_real_minibatch():
    g, d = tiny_points_gan().generator, tiny_points_gan().discriminator
    gan = RecordingGAN(g, d, d_steps=3, seed=0)
    gan.compile(keras.optimizers.Adam(), keras.optimizers.Adam(), run_eagerly=True)
    x = np.arange(2 * 12 * 2, dtype="float32").reshape(24, 2)  # rows all distinct
    gan.fit(tf.data.Dataset.from_tensor_slices(x).batch(12), epochs=1, verbose=0)
    assert len(gan.d_batches) == 6 and [len(b) for b in gan.g_batches] == [4, 4]
    # The generator's update sees the step's last real minibatch (relativistic
    # losses and unrolling need one), not a new one.
    np.testing.assert_array_equal(gan.g_batches[0], gan.d_batches[2])
    np.testing.assert_array_equal(gan.g_batches[1], gan.d_batches[5])
    seen = np.concatenate(gan.d_batches)
    np.testing.assert_array_equal(seen, x)  # every real row used exactly once, in order
    for batch in gan.d_batches:
        assert batch.shape == (4, 2)


def test_both_networks_change_and_metrics_are_reported():
    gan = tiny_image_gan()
    g0 = [v.numpy().copy() for v in gan.generator.trainable_variables]
    d0 = [v.numpy().copy() for v in gan.discriminator.trainable_variables]
    history = gan.fit(images_ds(), epochs=1, verbose=0).history
    assert set(history) == {"d_loss", "g_loss", "d_real", "d_fake"}
    for name, values in history.items():
        assert np.isfinite(values).all(), name
    assert 0 < history["d_real"][0] < 1 and 0 < history["d_fake"][0] < 1
    for before, var in zip(g0, gan.generator.trainable_variables, strict=True):
        assert not np.allclose(before, var.numpy()), var.path
    for before, var in zip(d0, gan.discriminator.trainable_variables, strict=True):
        assert not np.allclose(before, var.numpy()), var.path


def test_generator_runs_in_training_mode_inside_the_step():
    gan = tiny_image_gan()
    bn = next(lay for lay in gan.generator.layers
              if isinstance(lay, keras.layers.BatchNormalization))
    before = bn.moving_mean.numpy().copy()
    gan.fit(images_ds(), epochs=1, verbose=0)
    assert not np.allclose(before, bn.moving_mean.numpy())


class TrainingProbe(keras.layers.Layer):
    """Passes its input through and records the `training` flag it got."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.seen = []

    def call(self, x, training=None):
        self.seen.append(training)
        return x


def test_discriminator_runs_in_training_mode_inside_the_step():
    probe = TrainingProbe()
    d = keras.Sequential([keras.Input((2,)), probe, keras.layers.Dense(1)])
    gan = GAN(tiny_points_gan().generator, d, seed=0)
    gan.compile(keras.optimizers.Adam(), keras.optimizers.Adam(), run_eagerly=True)
    probe.seen.clear()  # Sequential's own build called it once, with None
    gan.fit(points_ds(n=64), epochs=1, verbose=0)
    assert probe.seen and all(flag is True for flag in probe.seen), probe.seen
    # The hook alone defaults to training mode too, as a subclass's step calls it.
    probe.seen.clear()
    gan.discriminate(np.zeros((2, 2), "float32"))
    assert probe.seen == [True]


@pytest.mark.parametrize("name", ["gan", "unrolled"])  # unrolled: a g_step of its own
@pytest.mark.parametrize("network", ["d", "g"])
def test_each_replica_weighs_its_loss_by_one_over_the_replica_count(network, name):
    """Under N replicas each one's mean loss is scaled by 1 / N before its
    gradients are summed: with plain SGD a network's update is then exactly
    1 / N of the one-replica update from the same weights and draws. (The
    scale is faked here at 1/2; a real two-replica run is test_distribute's.)
    The other network's learning rate is 0, so it cannot move the first."""
    def update(scale):
        gan = tiny_points_gan(name=name)
        lr = {"d": 0.0, "g": 0.0, network: 0.5}
        gan.compile(keras.optimizers.SGD(lr["d"]), keras.optimizers.SGD(lr["g"]))
        if scale is not None:
            gan._replica_scale = lambda: scale
        model = gan.discriminator if network == "d" else gan.generator
        before = [w.numpy().copy() for w in model.trainable_weights]
        gan.fit(points_ds(n=32), epochs=1, verbose=0, shuffle=False)
        return [w.numpy() - b for w, b in zip(model.trainable_weights, before, strict=True)]

    whole, half = update(None), update(0.5)
    assert max(np.abs(u).max() for u in whole) > 1e-3  # the network moved
    for a, b in zip(whole, half, strict=True):  # float32 weights: 1e-7 of round-off
        np.testing.assert_allclose(b, a / 2, rtol=1e-4, atol=2e-7)


@pytest.mark.parametrize("loss, g_expected", [("non_saturating", math.log(2)),
                                              ("minimax", -math.log(2))])
def test_step_losses_equal_hand_values_for_a_constant_discriminator(loss, g_expected):
    # A discriminator with zero output weights says logit 0 (D = 1/2) for every
    # input; with a zero learning rate it stays so, and the step must report
    # d_loss = log 4 and the family's g_loss at D = 1/2.
    gan = tiny_points_gan(loss=loss)
    last = gan.discriminator.layers[-1]
    last.kernel.assign(np.zeros(last.kernel.shape, "float32"))
    last.bias.assign(np.zeros(last.bias.shape, "float32"))
    gan.compile(keras.optimizers.SGD(0.0), keras.optimizers.Adam(1e-3))
    history = gan.fit(points_ds(n=64), epochs=1, verbose=0).history
    assert history["d_loss"][0] == pytest.approx(math.log(4), rel=1e-6)
    assert history["g_loss"][0] == pytest.approx(g_expected, rel=1e-6)
    assert history["d_real"][0] == pytest.approx(0.5)
    assert history["d_fake"][0] == pytest.approx(0.5)


def test_relativistic_generator_loss_pairs_its_fakes_with_the_real_minibatch():
    """RpGAN's G update scores the real minibatch with D and pairs each fake
    with a real: g_loss = mean softplus(D(x_i) - D(G(z_i))), by hand."""
    gan = tiny_points_gan(name="rpgan", loss="relativistic_pairing")
    assert gan.loss_family.g_uses_real
    gan.compile(keras.optimizers.SGD(0.0), keras.optimizers.SGD(0.0))
    seen, loss = {}, gan.generator_loss

    def spy(fake_logits, fake, *, real_logits=None, real=None, labels=None):
        seen["fake_logits"] = np.asarray(fake_logits)
        return loss(fake_logits, fake, real_logits=real_logits, real=real, labels=labels)

    gan.generator_loss = spy
    real = np.random.default_rng(0).normal(3.0, 1.0, (16, 2)).astype("float32")
    g_loss = float(gan.g_step(real)["g_loss"])
    real_logits = gan.discriminator(real, training=True).numpy()
    assert real_logits.std() > 0.01  # the reals' logits differ: zeros would be told apart
    expected = np.mean(np.logaddexp(0.0, real_logits - seen["fake_logits"]))
    assert g_loss == pytest.approx(float(expected), rel=1e-5)


def test_save_and_load_round_trip(tmp_path):
    gan = tiny_image_gan(d_steps=2)
    gan.fit(images_ds(), epochs=1, verbose=0)
    path = tmp_path / "gan.keras"
    gan.save(path)
    loaded = keras.saving.load_model(path)
    assert isinstance(loaded, GAN) and loaded.d_steps == 2 and loaded.latent_dim == 8
    z = np.random.default_rng(1).normal(size=(5, 8)).astype("float32")
    np.testing.assert_array_equal(loaded.generator(z).numpy(), gan.generator(z).numpy())
    for a, b in ((gan.d_optimizer, loaded.d_optimizer), (gan.g_optimizer, loaded.g_optimizer)):
        assert len(a.variables) == len(b.variables) > 2  # moments, not just counters
        for va, vb in zip(a.variables, b.variables, strict=True):
            np.testing.assert_array_equal(va.numpy(), vb.numpy())
        assert float(b.learning_rate) == pytest.approx(1e-3)
    assert iterations(loaded.d_optimizer) == 2 * iterations(loaded.g_optimizer) == 4
    np.testing.assert_array_equal(loaded.seed_generator.state.numpy(),
                                  gan.seed_generator.state.numpy())
    loaded.fit(images_ds(), epochs=1, verbose=0)  # and it trains on
    assert iterations(loaded.g_optimizer) == 4


def test_generator_saves_alone_and_loads_in_safe_mode(tmp_path):
    gan = tiny_image_gan()
    gan.fit(images_ds(), epochs=1, verbose=0)
    gan.generator.save(tmp_path / "generator.keras")
    generator = keras.saving.load_model(tmp_path / "generator.keras", safe_mode=True)
    z = np.random.default_rng(2).normal(size=(3, 8)).astype("float32")
    np.testing.assert_array_equal(generator(z).numpy(), gan.generator(z).numpy())
    assert generator.inputs[0].name == "z"


def test_mixed_float16_scales_both_losses():
    keras.mixed_precision.set_dtype_policy("mixed_float16")
    gan = tiny_image_gan()
    for opt in (gan.d_optimizer, gan.g_optimizer):
        assert isinstance(opt, keras.optimizers.LossScaleOptimizer)
    assert gan.discriminator.layers[-1].compute_dtype == "float32"
    g0 = [v.numpy().copy() for v in gan.generator.trainable_variables]
    history = gan.fit(images_ds(), epochs=1, verbose=0).history
    assert all(np.isfinite(v).all() for v in history.values())
    z = np.zeros((2, 8), "float32")
    assert gan.generator(z).dtype == "float32"
    assert gan.discriminator(gan.generator(z)).dtype == "float32"
    assert any(not np.allclose(a, v.numpy())
               for a, v in zip(g0, gan.generator.trainable_variables, strict=True))
    for opt in (gan.d_optimizer, gan.g_optimizer):
        scale = float(opt.dynamic_scale)
        assert scale > 1 and math.log2(scale).is_integer()  # a power-of-two loss scale


def hidden_outputs(model, x):
    """The outputs of every layer of `model` between its input and output
    layers, on `x`: what each really computes in."""
    hidden = [layer for layer in model.layers[:-1]
              if not isinstance(layer, keras.layers.InputLayer)]
    assert hidden
    return keras.Model(model.inputs, [layer.output for layer in hidden])(x)


def test_mixed_bfloat16_trains_without_loss_scaling():
    """Under mixed_bfloat16 the hidden layers compute in bfloat16 on float32
    variables, the generator's images and the discriminator's logits stay
    float32 (networks.py's contract), no optimizer scales its loss, and a
    fit updates both networks."""
    keras.mixed_precision.set_dtype_policy("mixed_bfloat16")
    gan = tiny_image_gan()
    for opt in (gan.d_optimizer, gan.g_optimizer):
        assert not isinstance(opt, keras.optimizers.LossScaleOptimizer)
    nets = (gan.generator, gan.discriminator)
    for net in nets:
        assert net.weights and all(v.dtype == "float32" for v in net.weights)
    z = np.random.default_rng(1).normal(size=(2, 8)).astype("float32")
    assert all(t.dtype == "bfloat16" for t in hidden_outputs(gan.generator, z))
    images = gan.generator(z)
    assert images.dtype == "float32"
    assert all(t.dtype == "bfloat16" for t in hidden_outputs(gan.discriminator, images))
    assert gan.discriminator(images).dtype == "float32"
    before = [[v.numpy().copy() for v in net.trainable_variables] for net in nets]
    history = gan.fit(images_ds(), epochs=1, verbose=0).history
    assert all(np.isfinite(v).all() for v in history.values())
    assert iterations(gan.g_optimizer) == iterations(gan.d_optimizer) == 2
    for net, start in zip(nets, before, strict=True):
        assert all(v.dtype == "float32" for v in net.weights)
        assert all(not np.array_equal(a, v.numpy())  # every variable was updated
                   for a, v in zip(start, net.trainable_variables, strict=True)), net.name


def test_xla_compiles_the_train_step():
    """jit_compile=True reaches fit's step function: XLA compiles it. Proof
    by an op XLA has no kernel for (a numpy_function) in the step: XLA
    refuses to compile it, and the same step without jit_compile runs. A
    flag set on the model but dropped on the way to tf.function would let
    the probe run."""

    def probed_gan(jit_compile):
        gan = tiny_points_gan()
        gan.compile(keras.optimizers.Adam(), keras.optimizers.Adam(), jit_compile=jit_compile)
        step = gan.train_step

        def train_step(data):
            tf.numpy_function(lambda: np.float32(0), [], tf.float32)  # not XLA-compilable
            return step(data)

        gan.train_step = train_step  # fit builds its step function from this
        return gan

    gan = tiny_points_gan()
    gan.compile(keras.optimizers.Adam(), keras.optimizers.Adam(), jit_compile=True)
    assert gan.jit_compile is True
    history = gan.fit(points_ds(n=64), epochs=1, verbose=0).history
    assert np.isfinite(history["d_loss"]).all() and iterations(gan.g_optimizer) == 2
    assert np.isfinite(probed_gan(False).fit(points_ds(n=64), epochs=1, verbose=0)
                       .history["d_loss"]).all()
    with pytest.raises(tf.errors.InvalidArgumentError,
                       match=r"compile graph \S*one_step_on_data\S* on XLA_\w+_JIT: PyFunc"):
        probed_gan(True).fit(points_ds(n=64), epochs=1, verbose=0)


def test_call_samples_from_the_generator():
    gan = tiny_points_gan()
    z = np.ones((3, 4), "float32")
    np.testing.assert_allclose(gan.predict(z, verbose=0), gan.generator(z).numpy(), atol=1e-6)


def test_bad_arguments_are_refused():
    gan = tiny_points_gan()
    opt = keras.optimizers.Adam()
    with pytest.raises(ValueError, match="must be different optimizer objects"):
        gan.compile(opt, opt)
    with pytest.raises(ValueError, match="d_steps"):
        GAN(gan.generator, gan.discriminator, d_steps=0)
    with pytest.raises(ValueError, match="built keras.Model"):
        GAN(keras.Sequential([keras.layers.Dense(2)]), gan.discriminator)
    with pytest.raises(ValueError, match="unknown loss"):
        GAN(gan.generator, gan.discriminator, loss="nope")
    for decay in (-0.5, 1.0, 1.5):  # 0 (or None) turns the average off
        with pytest.raises(ValueError, match=rf"ema_decay must be in \(0, 1\), got {decay}"):
            GAN(gan.generator, gan.discriminator, ema_decay=decay)


def test_compile_defaults_to_one_step_per_execution():
    """Callbacks see every step (per-step history, checkpoints mid-epoch)
    unless steps_per_execution is asked for."""

    class Count(keras.callbacks.Callback):
        batches = 0

        def on_train_batch_end(self, batch, logs=None):
            Count.batches += 1

    gan = tiny_points_gan()
    gan.compile(keras.optimizers.Adam(), keras.optimizers.Adam())
    gan.fit(points_ds(n=128), epochs=1, verbose=0, callbacks=[Count()])
    assert Count.batches == 4 and iterations(gan.g_optimizer) == 4


def test_conditional_gan_trains_on_labelled_batches():
    from keras_gan.models.gans import build_gan
    from keras_gan.models.networks import build_networks

    keras.utils.set_random_seed(0)
    g, d = build_networks("dcgan", 8, (28, 28, 1), 4, num_classes=10)
    gan = build_gan("cgan", g, d, d_steps=2, seed=0, num_classes=10)
    gan.compile(keras.optimizers.Adam(1e-3), keras.optimizers.Adam(1e-3))
    x = np.random.default_rng(0).uniform(-1, 1, (32, 28, 28, 1)).astype("float32")
    y = np.arange(32, dtype="int64") % 10
    ds = tf.data.Dataset.from_tensor_slices((x, y)).batch(16)
    history = gan.fit(ds, epochs=1, verbose=0).history
    assert np.isfinite(history["d_loss"]).all() and iterations(gan.d_optimizer) == 4
    z = np.zeros((2, 8), "float32")
    a = gan.generator([z, np.array([1, 1])]).numpy()
    b = gan.generator([z, np.array([1, 7])]).numpy()
    np.testing.assert_array_equal(a[0], b[0])
    assert not np.allclose(a[1], b[1])  # the label changes the image
    with pytest.raises(ValueError, match="needs \\(images, labels\\)"):
        gan.fit(tf.data.Dataset.from_tensor_slices(x).batch(16), epochs=1, verbose=0)
    with pytest.raises(ValueError, match="num_classes must be given exactly"):
        GAN(g, d)


def test_ema_generator_tracks_the_moving_average_and_round_trips(tmp_path):
    from keras_gan.models.gans import build_gan

    base = tiny_points_gan()
    # decay 0.25 with the warm-up min(decay, (1 + n) / (10 + n)): steps 1, 2 use
    # the warm-up (2/11, 3/12), steps 3, 4 the decay itself; both are checked.
    gan = build_gan("gan", base.generator, base.discriminator, seed=0, ema_decay=0.25)
    gan.compile(keras.optimizers.Adam(1e-2), keras.optimizers.Adam(1e-2))
    start = [w.numpy().copy() for w in gan.generator.weights]
    np.testing.assert_array_equal(gan.ema_generator.weights[0].numpy(), start[0])
    ema = [w.copy() for w in start]
    for n in range(1, 5):  # replay the update by hand, one step at a time
        gan.fit(points_ds(n=32), epochs=1, verbose=0)
        assert int(gan.g_optimizer.iterations.numpy()) == n
        d = min(0.25, (1 + n) / (10 + n))
        ema = [d * e + (1 - d) * w.numpy() for e, w in zip(ema, gan.generator.weights,
                                                            strict=True)]
    for e, w in zip(ema, gan.ema_generator.weights, strict=True):
        np.testing.assert_allclose(w.numpy(), e, rtol=1e-5, atol=1e-6)
    assert gan.sampling_generator is gan.ema_generator
    assert not np.allclose(gan.ema_generator.weights[0].numpy(),
                           gan.generator.weights[0].numpy())
    gan.save(tmp_path / "g.keras")
    loaded = keras.saving.load_model(tmp_path / "g.keras")
    assert loaded.ema_decay == 0.25
    np.testing.assert_array_equal(loaded.ema_generator.weights[0].numpy(),
                                  gan.ema_generator.weights[0].numpy())
