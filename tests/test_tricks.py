"""keras_gan/models/tricks.py and the GAN options that use it: instance noise, label
smoothing / noise, annealing, DiffAugment, spectral normalization."""

from types import SimpleNamespace

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_gan.config import ConfigError, TrainConfig
from keras_gan.models import tricks
from keras_gan.models.gans import build_gan, get_gan, list_gans
from keras_gan.models.losses import get_loss
from keras_gan.models.networks import build_networks
from keras_gan.training.trainer import build_model


def _images(n=6, size=8, seed=0):
    return np.random.default_rng(seed).uniform(-1, 1, (n, size, size, 1)).astype("float32")


@pytest.mark.parametrize("step, steps, want", [(0, 100, 1.0), (25, 100, 0.75),
                                               (100, 100, 0.0), (500, 100, 0.0),
                                               (10**6, 0, 1.0)])
def test_anneal_is_linear_to_zero(step, steps, want):
    assert float(tricks.anneal(step, steps)) == pytest.approx(want)


def test_instance_noise_has_the_asked_stddev():
    x = np.zeros((200, 50), "float32")
    y = np.asarray(tricks.instance_noise(x, 0.3, keras.random.SeedGenerator(0)))
    assert y.std() == pytest.approx(0.3, rel=0.03)
    assert abs(y.mean()) < 0.01


def _shift(img, dy, dx):
    """Reference translation with zero fill (numpy)."""
    h, w = img.shape[:2]
    out = np.zeros_like(img)
    for y in range(h):
        for x in range(w):
            sy, sx = y - dy, x - dx
            if 0 <= sy < h and 0 <= sx < w:
                out[y, x] = img[sy, sx]
    return out


def test_translation_is_a_zero_filled_shift_within_the_ratio():
    x = _images(8)
    y = np.asarray(tricks.augment_translation(x, keras.random.SeedGenerator(1)))
    shifts = []
    for xi, yi in zip(x, y, strict=True):
        found = [(dy, dx) for dy in range(-1, 2) for dx in range(-1, 2)
                 if np.array_equal(_shift(xi, dy, dx), yi)]  # ratio 1/8 of 8: 1 pixel
        assert found, "output is not a shift of its input by at most 1 pixel"
        shifts.append(found[0])
    assert len(set(shifts)) > 1  # a draw per image, not one for the batch


def test_cutout_zeroes_one_square_per_image():
    x = _images(8, size=8) + 3.0  # no zeros in the input
    y = np.asarray(tricks.augment_cutout(x, keras.random.SeedGenerator(2)))
    for xi, yi in zip(x, y, strict=True):
        kept = yi != 0
        assert np.array_equal(yi[kept], xi[kept])
        rows, cols = np.nonzero(~kept[..., 0])
        assert 0 < len(rows) <= 16
        # a rectangle (clipped square): the zeros fill their bounding box
        assert len(rows) == (np.ptp(rows) + 1) * (np.ptp(cols) + 1)
        assert np.ptp(rows) < 4 and np.ptp(cols) < 4


def _replay(seed, *draws):
    """The draws an augmentation makes from `SeedGenerator(seed)`, made again
    in the same order: ("u", low, high) uniform (B, 1, 1, 1), ("i", low,
    high) randint (B,)."""
    gen = keras.random.SeedGenerator(seed)
    out = []
    for kind, low, high in draws:
        if kind == "u":
            out.append(np.asarray(keras.random.uniform((8, 1, 1, 1), low, high, seed=gen)))
        else:
            out.append(np.asarray(keras.random.randint((8,), low, high, seed=gen)))
    return out


def test_color_is_brightness_then_saturation_then_contrast_by_hand():
    x = np.random.default_rng(3).uniform(-1, 1, (8, 6, 6, 3)).astype("float32")
    y = np.asarray(tricks.augment_color(x, keras.random.SeedGenerator(5)))
    bright, sat, contrast = _replay(5, ("u", -0.5, 0.5), ("u", 0.0, 2.0), ("u", 0.5, 1.5))
    want = x + bright
    grey = want.mean(axis=-1, keepdims=True)
    want = (want - grey) * sat + grey
    mean = want.mean(axis=(1, 2, 3), keepdims=True)
    want = (want - mean) * contrast + mean
    np.testing.assert_allclose(y, want, atol=1e-5)
    assert np.ptp(bright) > 0.3 and np.ptp(sat) > 0.6  # the draws do vary per image


def test_translation_and_cutout_follow_their_draws_by_hand():
    # 8 x 6 images: the height and width must not be confused; the cutout has
    # an even side and an odd one (whose centres range differently).
    x = np.random.default_rng(4).uniform(1, 2, (8, 8, 6, 1)).astype("float32")  # no zeros
    y = np.asarray(tricks.augment_translation(x, keras.random.SeedGenerator(7)))
    dy, dx = _replay(7, ("i", -1, 2), ("i", -1, 2))  # 1/8 of 8 and of 6, rounded: 1 px
    for xi, yi, a, b in zip(x, y, dy, dx, strict=True):
        np.testing.assert_array_equal(yi, _shift(xi, int(a), int(b)))
    # 12 x 10 for the cutout: sides 6 and 5, where `ch // 2` differs from
    # `ch - 2` (at 4 and 3 the two agree, so a 4 x 3 cutout cannot tell them).
    x = np.random.default_rng(5).uniform(1, 2, (8, 12, 10, 1)).astype("float32")
    for images in (x, x.transpose(0, 2, 1, 3)):  # 12 x 10, then 10 x 12
        h, w = images.shape[1:3]
        ch, cw = h // 2, w // 2  # ratio 1/2: 6 and 5
        y = np.asarray(tricks.augment_cutout(images, keras.random.SeedGenerator(9)))
        # centres: 0..side for an even side, 0..side - 1 for an odd one
        cy, cx = _replay(9, ("i", 0, h + 1 - ch % 2), ("i", 0, w + 1 - cw % 2))
        for xi, yi, a, b in zip(images, y, cy, cx, strict=True):
            want = xi.copy()
            top, left = a - ch // 2, b - cw // 2
            want[max(top, 0):max(top + ch, 0), max(left, 0):max(left + cw, 0)] = 0
            np.testing.assert_array_equal(yi, want)


def test_diff_augment_is_differentiable_and_checks_its_input():
    x = tf.constant(_images(4))
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = tricks.diff_augment(x, "color,translation,cutout", keras.random.SeedGenerator(0))
        total = tf.reduce_sum(y * y)
    grad = tape.gradient(total, x).numpy()
    assert grad.shape == x.shape and np.abs(grad).sum() > 0
    with pytest.raises(ValueError, match="unknown augmentation"):
        tricks.parse_augment("color,flip")
    with pytest.raises(ValueError, match="needs images"):
        tricks.diff_augment(np.zeros((4, 2), "float32"), "color", keras.random.SeedGenerator(0))
    assert tricks.parse_augment("") == ()


def _gan(shape=(2,), loss="non_saturating", **options):
    keras.utils.set_random_seed(0)
    arch = "mlp" if len(shape) == 1 else "dcgan"
    g, d = build_networks(arch, 4, shape, 16 if arch == "mlp" else 4)
    gan = build_gan("gan", g, d, loss=loss, seed=0, **options)
    gan.compile(keras.optimizers.Adam(1e-3), keras.optimizers.Adam(1e-3))
    return gan


def test_instance_noise_anneals_to_identity():
    gan = _gan(instance_noise=0.5, anneal_steps=4)
    x = np.zeros((500, 2), "float32")
    assert np.asarray(gan.perturb(x)).std() == pytest.approx(0.5, rel=0.1)
    gan.g_optimizer.iterations.assign(2)
    assert np.asarray(gan.perturb(x)).std() == pytest.approx(0.25, rel=0.1)
    gan.g_optimizer.iterations.assign(4)
    np.testing.assert_array_equal(gan.perturb(x), x)


def test_no_tricks_perturb_is_identity():
    x = np.ones((3, 2), "float32")
    assert _gan().perturb(x) is x


def test_label_smoothing_reaches_the_discriminator_loss():
    real, fake = np.array([[2.0], [-1.0]], "float32"), np.array([[0.5], [-0.3]], "float32")
    def softplus(v):
        return np.log1p(np.exp(v))

    s = 0.2
    want = np.mean((1 - s) * softplus(-real) + s * softplus(real)) + np.mean(softplus(fake))
    gan = _gan(label_smoothing=s, anneal_steps=10)
    z = np.zeros((2, 2), "float32")
    got = float(gan.discriminator_loss(real, fake, real=z, fake=z))
    assert got == pytest.approx(want, rel=1e-6)
    gan.g_optimizer.iterations.assign(5)  # half-way: s / 2
    half = np.mean((1 - s / 2) * softplus(-real) + s / 2 * softplus(real)) + np.mean(
        softplus(fake))
    assert float(gan.discriminator_loss(real, fake, real=z, fake=z)) == pytest.approx(
        half, rel=1e-6)


def test_label_noise_jitters_targets_within_its_range():
    # logits 0 make the loss linear in the target: l = log 2 for any target,
    # so use a large real logit where loss ~ s * logit.
    real = np.full((4000, 1), 20.0, "float32")
    fake = np.full((4000, 1), -50.0, "float32")
    gan = _gan(label_smoothing=0.1, label_noise=0.2)
    z = np.zeros((1, 2), "float32")
    loss = float(gan.discriminator_loss(real, fake, real=z, fake=z))
    # E[s] = 0.1 + 0.2 / 2 = 0.2; loss ~ E[s] * 20
    assert loss == pytest.approx(0.2 * 20, rel=0.03)


def test_bad_trick_options_are_refused():
    with pytest.raises(ValueError, match="need a loss with targets"):
        _gan(loss="hinge", label_smoothing=0.1)
    with pytest.raises(ValueError, match="needs image data"):
        _gan(augment="translation")
    with pytest.raises(ValueError, match="must be >= 0"):
        _gan(instance_noise=-1.0)
    with pytest.raises(ConfigError) as e:
        TrainConfig(augment="rotate")
    assert str(e.value) == ("augment: unknown augmentation(s) ['rotate']; choose from color, "
                            "translation, cutout")
    with pytest.raises(ConfigError) as e:
        TrainConfig(label_smoothing=0.5, label_noise=0.5)
    assert str(e.value) == "label_smoothing + label_noise must be < 1, got 0.5 + 0.5"


def test_every_trick_at_once_fits_and_round_trips(tmp_path):
    keras.utils.set_random_seed(0)
    g, d = build_networks("dcgan", 8, (28, 28, 1), 4, spectral_norm=True)
    options = dict(instance_noise=0.1, label_smoothing=0.1, label_noise=0.05,
                   anneal_steps=10, augment="color,translation,cutout")
    gan = build_gan("dcgan", g, d, seed=0, **options)
    gan.compile(keras.optimizers.Adam(1e-3), keras.optimizers.Adam(1e-3))
    before = [w.copy() for w in gan.generator.get_weights()]
    x = np.random.default_rng(0).uniform(-1, 1, (16, 28, 28, 1)).astype("float32")
    hist = gan.fit(x, batch_size=8, epochs=1, verbose=0)
    assert all(np.isfinite(v[-1]) for v in hist.history.values())
    assert any(not np.allclose(a, b) for a, b in zip(before, gan.generator.get_weights(),
                                                     strict=True))
    gan.save(tmp_path / "gan.keras")
    loaded = keras.saving.load_model(tmp_path / "gan.keras")
    for key, value in options.items():
        assert getattr(loaded, key) == value


def test_spectral_norm_bounds_each_layer():
    keras.utils.set_random_seed(0)
    _, d = build_networks("mlp", 4, (2,), 64, depth=2, spectral_norm=True)
    wrappers = [layer for layer in d.layers
                if isinstance(layer, keras.layers.SpectralNormalization)]
    assert len(wrappers) == 3  # two hidden layers and the logits
    for w in wrappers:  # grow the weights so the bound has work to do
        w.layer.kernel.assign(w.layer.kernel * 10.0)
    x = np.random.default_rng(0).normal(size=(32, 2)).astype("float32")
    for _ in range(30):  # power iteration converges over training calls
        d(x, training=True)
    for w in wrappers:
        sigma = np.linalg.svd(np.asarray(w.layer.kernel), compute_uv=False)[0]
        assert sigma == pytest.approx(1.0, abs=0.05)


@pytest.mark.parametrize("name", list_gans())
def test_every_variant_trains_with_the_tricks_on(name):
    """Tricks are options of the base loop: every registered variant takes
    them (label smoothing where its loss has targets)."""
    spec = get_gan(name)
    smooth = 0.1 if get_loss(spec.loss).smoothable else 0.0
    cfg = TrainConfig(dataset="ring", gan=name, width=8, latent_dim=4, instance_noise=0.1,
                      label_smoothing=smooth, anneal_steps=10, spectral_norm=True)
    num_classes = 3 if spec.takes_labels else None
    gan = build_model(cfg, (2,), num_classes)
    assert gan.instance_noise == 0.1 and gan.label_smoothing == smooth
    x = np.random.default_rng(0).normal(size=(64, 2)).astype("float32")
    data = (x, np.arange(64) % 3) if spec.takes_labels else x
    history = gan.fit(tf.data.Dataset.from_tensor_slices(data).batch(32), epochs=1,
                      verbose=0).history
    for key in spec.cls.metric_names:
        assert np.isfinite(history[key]).all(), key


# -- ADA (Karras et al. 2020) -----------------------------------------------------------


@pytest.mark.parametrize("p, r_t, images, kimg, expected", [
    (0.5, 0.9, 256, 0.512, 1.0),    # step +0.5, clipped at 1
    (0.9, 0.9, 256, 0.512, 1.0),    # 0.9 + 0.5, clipped at 1
    (0.1, 0.3, 256, 0.512, 0.0),    # 0.1 - 0.5, clipped at 0
    (0.5, 0.3, 256, 0.512, 0.0),    # step -0.5, clipped at 0
    (0.5, 0.6, 256, 0.512, 0.5),    # r_t at the target: p stays
    (0.2, 0.7, 64, 1.0, 0.264),     # +64 / 1000
    (0.2, 0.1, 64, 1.0, 0.136),     # -64 / 1000
])
def test_ada_adjust_by_hand(p, r_t, images, kimg, expected):
    got = float(tricks.ada_adjust(p, r_t, 0.6, images, kimg))
    assert got == pytest.approx(expected, abs=1e-6)


def test_ada_augment_applies_each_op_with_probability_p():
    x = np.random.default_rng(0).uniform(-1, 1, (2000, 8, 8, 1)).astype("float32")
    seed = keras.random.SeedGenerator(0)
    state = np.asarray(seed.state.numpy()).copy()
    never = np.asarray(tricks.ada_augment(x, "translation,cutout", 0.0, seed))
    np.testing.assert_array_equal(never, x)
    # at p = 0 the pipeline is skipped, not computed and discarded: no draws
    np.testing.assert_array_equal(seed.state.numpy(), state)
    at_p0 = tf.function(lambda t: tricks.ada_augment(t, "translation,cutout", 0.0, seed))
    np.testing.assert_array_equal(np.asarray(at_p0(x)), x)
    changed = np.asarray(tricks.ada_augment(x, "cutout", 1.0, seed)) != x
    assert changed.reshape(len(x), -1).any(axis=1).all()  # every image cut
    half = np.asarray(tricks.ada_augment(x, "cutout", 0.5, seed)) != x
    assert 0.45 < half.reshape(len(x), -1).any(axis=1).mean() < 0.55


def _ada_gan(target=0.6, interval=2, kimg=0.05, augment=None):
    keras.utils.set_random_seed(0)
    g, d = build_networks("dcgan", 16, (28, 28, 1), 8)
    gan = build_gan("nsgan", g, d, seed=0, ada_target=target, ada_interval=interval,
                    ada_kimg=kimg, augment=augment)
    gan.compile(keras.optimizers.Adam(2e-3), keras.optimizers.Adam(2e-4))
    return gan


@pytest.mark.parametrize("augment", [None, "cutout"])
def test_d_sees_ada_augmented_images_with_probability_p(augment, monkeypatch):
    """In a D update the loss sees the reals unchanged at p = 0 and every one
    of them augmented at p = 1 (ADA's own ops, or those of --augment)."""
    gan = _ada_gan(augment=augment)
    seen, loss = [], gan.discriminator_loss

    def spy(real_logits, fake_logits, real, fake, labels=None):
        seen.append(np.asarray(real))
        return loss(real_logits, fake_logits, real=real, fake=fake, labels=labels)

    monkeypatch.setattr(gan, "discriminator_loss", spy)
    x = np.random.default_rng(0).uniform(-1, 1, (8, 28, 28, 1)).astype("float32")
    for p in (0.0, 1.0):
        gan.ada_p.assign(p)
        gan.d_step(x)
    np.testing.assert_array_equal(seen[0], x)
    assert (seen[1] != x).reshape(len(x), -1).any(axis=1).all()


@pytest.mark.parametrize("replicas", [1, 2])
def test_ada_moves_p_by_the_real_images_seen_over_its_interval(monkeypatch, replicas):
    """Every `ada_interval` D updates p moves by interval * replicas * batch /
    (kimg * 1000) toward the target, and not in between: each replica's D saw
    its own `batch` reals. (The strategy's replica count is faked here: a real
    two-replica run is tests/test_distribute.py's, in a process of its own.)"""
    import keras_gan.models.gan as gan_module

    gan = _ada_gan(interval=3, kimg=1.0)
    monkeypatch.setattr(gan_module.tf.distribute, "get_strategy",
                        lambda: SimpleNamespace(num_replicas_in_sync=replicas))
    high, low = tf.constant(np.ones((8, 1), "float32")), tf.constant(-np.ones((8, 1), "float32"))
    ps = []
    for logits in (high, high, high, high, high, high, low, low, low):
        gan.ada_observe(logits)
        ps.append(float(gan.ada_p.numpy()))
    step = 3 * replicas * 8 / 1000
    np.testing.assert_allclose(ps, [0, 0, step, step, step, 2 * step, 2 * step, 2 * step, step],
                               atol=1e-7)


def test_ada_defaults_move_p_by_one_over_100k_images():
    """The defaults: p adjusted every 4 D updates, by the images seen over
    100 kimg (Karras et al. 2020 use 500 kimg at their scale; here data sets
    are small, so p may move five times faster)."""
    keras.utils.set_random_seed(0)
    g, d = build_networks("dcgan", 4, (28, 28, 1), 4)
    gan = build_gan("nsgan", g, d, seed=0, ada_target=0.6)
    high = tf.constant(np.ones((8, 1), "float32"))
    ps = []
    for _ in range(8):
        gan.ada_observe(high)
        ps.append(float(gan.ada_p.numpy()))
    step = 4 * 8 / 100_000
    np.testing.assert_allclose(ps, [0, 0, 0, step, step, step, step, 2 * step], atol=1e-9)


def test_ada_p_rises_when_the_discriminator_overfits_a_tiny_real_set():
    gan = _ada_gan()
    x = np.random.default_rng(0).uniform(-1, 1, (16, 28, 28, 1)).astype("float32")
    ds = tf.data.Dataset.from_tensor_slices(x).batch(8).repeat()
    history = gan.fit(ds, steps_per_epoch=10, epochs=3, verbose=0).history
    # D tells 16 memorised images from fakes: r_t above the target, p up.
    assert max(history["ada_r"]) > 0.6
    assert float(gan.ada_p.numpy()) > 0.3 and history["ada_p"][-1] > 0
    assert {"ada_p", "ada_r"} <= set(gan.metric_names)
    # With no such overfitting signal (r_t held below the target), p stays at 0.
    quiet = _ada_gan()
    for _ in range(4):
        quiet.ada_observe(tf.constant(-np.ones((8, 1), "float32")))
    assert float(quiet.ada_p.numpy()) == 0.0


def test_ada_state_is_checkpointed_and_resumed(tmp_path):
    from keras_gan.training.trainer import train

    class FirstP(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            self.p = float(self.model.ada_p.numpy())

    cfg = TrainConfig(width=4, latent_dim=8, batch_size=8, steps_per_epoch=3, epochs=1,
                      clusters=4, ada_target=0.3, ada_interval=1, ada_kimg=0.02, verbose=0,
                      tensorboard=False, fd_every=0, out=str(tmp_path / "ada"))
    first = train(cfg)
    p = float(first.model.ada_p.numpy())
    assert p > 0
    again = FirstP()
    train(cfg.replace(resume=True, epochs=2), callbacks=[again])
    assert again.p == p  # the resumed run starts from the saved p
    header = (tmp_path / "ada" / "metrics.csv").read_text().splitlines()[0].split(",")
    assert {"ada_p", "ada_r"} <= set(header)


def test_bad_ada_settings_are_refused():
    with pytest.raises(ConfigError) as e:
        TrainConfig(ada_target=1.0)
    assert str(e.value) == "ada_target must be in [0, 1) (0: off), got 1.0"
    with pytest.raises(ConfigError) as e:
        TrainConfig(ada_interval=0)
    assert str(e.value) == "ada_interval must be >= 1, got 0"
    g, d = build_networks("mlp", 4, (2,), 8)
    with pytest.raises(ValueError) as e:
        build_gan("nsgan", g, d, ada_target=0.6)
    assert str(e.value) == ("--ada-target needs image data; the generator makes samples of "
                            "shape (2,)")
