"""keras_gan/models/translation/losses.py and schedules.py against hand values."""

import math

import keras
import numpy as np
import pytest

from keras_gan.models.translation import losses
from keras_gan.models.translation.schedules import ConstantThenLinearDecay

# Two 1x2x2x1 "images": their differences are 0, 1, 2, 1 and 0.5, 0, 0, 1.5.
TARGET = np.array([[[[0.0], [1.0]], [[-1.0], [0.5]]],
                   [[[0.5], [0.0]], [[0.0], [-1.0]]]], np.float32)
OUTPUT = np.array([[[[0.0], [0.0]], [[1.0], [-0.5]]],
                   [[[0.0], [0.0]], [[0.0], [0.5]]]], np.float32)
MEAN_ABS = (0 + 1 + 2 + 1 + 0.5 + 0 + 0 + 1.5) / 8  # = 0.75


def value(x):
    return float(np.asarray(x))


@pytest.mark.parametrize("fn", [losses.l1_loss, losses.cycle_loss, losses.identity_loss])
def test_l1_terms_are_the_mean_absolute_difference(fn):
    assert value(fn(TARGET, OUTPUT)) == pytest.approx(0.75)
    assert MEAN_ABS == 0.75
    assert value(fn(OUTPUT, TARGET)) == pytest.approx(0.75)  # symmetric
    assert value(fn(TARGET, TARGET)) == 0.0
    # float16 inputs (mixed precision) are taken in float32
    assert value(fn(TARGET.astype("float16"), OUTPUT)) == pytest.approx(0.75)


def test_patch_losses_average_over_every_patch():
    real = np.zeros((2, 3, 3, 1), np.float32)
    fake = np.zeros((2, 3, 3, 1), np.float32)
    # non-saturating at logit 0: log 2 per term
    assert value(losses.patch_d_loss("non_saturating", real, fake)) == pytest.approx(
        2 * math.log(2), rel=1e-6)
    assert value(losses.patch_g_loss("non_saturating", fake)) == pytest.approx(math.log(2),
                                                                                rel=1e-6)
    # least squares: one patch of 18 at D = 3 on real: 1/2 * (3 - 1)^2 / 18 more than at 1
    real = np.ones((2, 3, 3, 1), np.float32)
    real[1, 2, 0, 0] = 3.0
    assert value(losses.patch_d_loss("least_squares", real, fake)) == pytest.approx(
        0.5 * 4 / 18)
    fake[0, 0, 0, 0] = 1.0  # one fake patch already at the real target
    assert value(losses.patch_g_loss("least_squares", fake)) == pytest.approx(0.5 * 17 / 18)
    # the CycleGAN paper's generator term is the full mean square, twice that
    assert value(losses.cyclegan_g_adv_loss(fake)) == pytest.approx(17 / 18)


def test_constant_then_linear_decay():
    lr = ConstantThenLinearDecay(2e-4, constant_steps=100, decay_steps=50)
    got = [value(lr(s)) for s in (0, 99, 100, 125, 149, 150, 10_000)]
    np.testing.assert_allclose(got, [2e-4, 2e-4, 2e-4, 1e-4, 2e-4 / 50, 0.0, 0.0], rtol=1e-5,
                               atol=1e-12)
    again = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(lr))
    assert isinstance(again, ConstantThenLinearDecay)
    assert again.get_config() == lr.get_config()
    with pytest.raises(ValueError, match="decay_steps >= 1"):
        ConstantThenLinearDecay(1e-3, 10, 0)
