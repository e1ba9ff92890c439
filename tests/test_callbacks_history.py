"""Per-step logs (`StepHistory`), in-memory sample snapshots
(`SampleSnapshots`) and the GAN's optional gradient norms (`grad_norms`)."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_gan.data.pipeline import make_dataset
from keras_gan.training.callbacks import SampleSnapshots, StepHistory


def _points_gan(grad_norms=True, name="gan", **kwargs):
    from keras_gan.models.gans import build_gan
    from keras_gan.models.networks import build_networks

    spe = kwargs.pop("spe", 1)
    keras.utils.set_random_seed(0)
    g, d = build_networks("mlp", 4, (2,), 16, depth=2)
    gan = build_gan(name, g, d, seed=0, grad_norms=grad_norms, **kwargs)
    gan.compile(keras.optimizers.Adam(1e-3), keras.optimizers.Adam(1e-3),
                steps_per_execution=spe)
    return gan


@pytest.fixture(scope="module")
def ring():
    return make_dataset("ring", 32, num_points=2000)[0]


def test_grad_norms_off_by_default_and_logged_when_on(ring):
    plain = _points_gan(grad_norms=False)
    assert "g_grad_norm" not in plain.metric_names
    logs = plain.fit(ring, epochs=1, steps_per_epoch=2, verbose=0).history
    assert "g_grad_norm" not in logs and "d_grad_norm" not in logs
    gan = _points_gan()
    logs = gan.fit(ring, epochs=1, steps_per_epoch=3, verbose=0).history
    assert logs["g_grad_norm"][0] > 0 and logs["d_grad_norm"][0] > 0
    assert gan.get_config()["grad_norms"] is True


def test_grad_norm_is_the_norm_of_the_update_gradient(ring):
    """With plain SGD, the update is -lr * gradient: the logged norm equals
    ||weights after - weights before|| / lr."""
    from keras_gan.models.gans import build_gan
    from keras_gan.models.networks import build_networks

    keras.utils.set_random_seed(0)
    g, d = build_networks("mlp", 4, (2,), 16, depth=2)
    gan = build_gan("nsgan", g, d, seed=0, grad_norms=True)
    gan.compile(keras.optimizers.SGD(0.1), keras.optimizers.SGD(0.1))
    before_g = [w.copy() for w in g.get_weights()]
    before_d = [w.copy() for w in d.get_weights()]
    history = StepHistory(["g_grad_norm", "d_grad_norm"])
    gan.fit(ring, epochs=1, steps_per_epoch=1, verbose=0, callbacks=[history])

    def moved(before, net):
        return np.sqrt(sum(np.sum((a - b) ** 2) for a, b in zip(net.get_weights(), before,
                                                                  strict=True))) / 0.1

    assert history.history["g_grad_norm"][0] == pytest.approx(moved(before_g, g), rel=1e-3)
    assert history.history["d_grad_norm"][0] == pytest.approx(moved(before_d, d), rel=1e-3)


def test_unrolled_logs_its_generator_gradient_norm(ring):
    gan = _points_gan(name="unrolled", unroll_steps=1)
    logs = gan.fit(ring, epochs=1, steps_per_epoch=2, verbose=0).history
    assert logs["g_grad_norm"][0] > 0


@pytest.mark.parametrize("spe", [1, 2])
def test_step_history_recovers_each_step_from_running_means(ring, spe):
    gan = _points_gan(spe=spe)
    history = StepHistory()
    logs = gan.fit(ring, epochs=2, steps_per_epoch=4, verbose=0, callbacks=[history]).history
    assert history.steps == list(range(spe, 9, spe))
    for name in ("d_loss", "g_loss", "g_grad_norm"):
        values = np.array(history.history[name])
        assert len(values) == 8 // spe
        # The per-step values average back to each epoch's logged mean.
        per_epoch = values.reshape(2, -1).mean(axis=1)
        np.testing.assert_allclose(per_epoch, logs[name], rtol=1e-4)
    assert set(StepHistory(["g_loss"]).keys) == {"g_loss"}


def test_sample_snapshots_keeps_the_asked_steps(ring):
    gan = _points_gan(grad_norms=False)
    z = np.random.default_rng(0).standard_normal((5, 4)).astype(np.float32)
    snaps = SampleSnapshots(z, at_steps=[0, 2, 3, 99])
    gan.fit(ring, epochs=1, steps_per_epoch=3, verbose=0, callbacks=[snaps])
    assert sorted(snaps.samples) == [0, 2, 3]
    assert snaps.samples[0].shape == (5, 2)
    np.testing.assert_allclose(snaps.samples[3], gan.generator(z, training=False), atol=1e-6)
    assert not np.allclose(snaps.samples[0], snaps.samples[3])


def test_mixed_float16_norm_is_unscaled(ring):
    """Under loss scaling the logged norm is the unscaled loss's (the loss
    scale, 2^15 at the start, divided out)."""
    keras.mixed_precision.set_dtype_policy("mixed_float16")
    gan = _points_gan()
    logs = gan.fit(ring, epochs=1, steps_per_epoch=2, verbose=0).history
    assert 0 < logs["g_grad_norm"][0] < 100
    assert tf.math.is_finite(logs["d_grad_norm"][0])
