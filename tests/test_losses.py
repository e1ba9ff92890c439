"""keras_gan/models/losses.py against values worked out by hand."""

import dataclasses
import math

import numpy as np
import pytest

from keras_gan.models import losses

# Logits whose sigmoids are easy to write: sigmoid(0) = 1/2, sigmoid(ln 3) = 3/4.
LN3 = math.log(3.0)
REAL = np.array([[0.0], [LN3]], np.float32)    # D(x)    = 1/2, 3/4
FAKE = np.array([[-LN3], [0.0]], np.float32)   # D(G(z)) = 1/4, 1/2


def value(x):
    return float(np.asarray(x))


def test_minimax_d_loss_by_hand():
    # -[mean log D(x) + mean log(1 - D(G(z)))]
    expected = -(0.5 * (math.log(1 / 2) + math.log(3 / 4))
                 + 0.5 * (math.log(3 / 4) + math.log(1 / 2)))
    assert value(losses.minimax_d_loss(REAL, FAKE)) == pytest.approx(expected, rel=1e-6)


def test_one_sided_label_smoothing_by_hand():
    # Real target 0.9: -[0.9 log D(x) + 0.1 log(1 - D(x))]; fakes unchanged.
    real = -0.5 * (0.9 * math.log(1 / 2) + 0.1 * math.log(1 / 2)
                   + 0.9 * math.log(3 / 4) + 0.1 * math.log(1 / 4))
    fake = -0.5 * (math.log(3 / 4) + math.log(1 / 2))
    got = value(losses.minimax_d_loss(REAL, FAKE, label_smoothing=0.1))
    assert got == pytest.approx(real + fake, rel=1e-6)
    # per-example amounts (noisy labels): 0 for the first, 0.5 for the second
    per_example = np.array([[0.0], [0.5]], np.float32)
    real = -0.5 * (math.log(1 / 2) + 0.5 * math.log(3 / 4) + 0.5 * math.log(1 / 4))
    got = value(losses.minimax_d_loss(REAL, FAKE, label_smoothing=per_example))
    assert got == pytest.approx(real + fake, rel=1e-6)
    # least squares: target 1 - 0.5 for real [1, 3] -> (0.5^2 + 2.5^2) / 2
    ls = losses.least_squares_d_loss(np.array([[1.0], [3.0]], np.float32),
                                     np.zeros((2, 1), np.float32), label_smoothing=0.5)
    assert value(ls) == pytest.approx(0.5 * (0.25 + 6.25) / 2)
    assert [n for n, f in losses.LOSSES.items() if f.smoothable] == [
        "minimax", "non_saturating", "least_squares"]


def test_minimax_g_loss_is_log_one_minus_d():
    expected = 0.5 * (math.log(1 - 1 / 4) + math.log(1 - 1 / 2))
    assert value(losses.minimax_g_loss(FAKE)) == pytest.approx(expected, rel=1e-6)


def test_non_saturating_g_loss_is_minus_log_d():
    expected = -0.5 * (math.log(1 / 4) + math.log(1 / 2))
    assert value(losses.non_saturating_g_loss(FAKE)) == pytest.approx(expected, rel=1e-6)
    assert losses.non_saturating_d_loss is losses.minimax_d_loss


def test_wasserstein_by_hand():
    real = np.array([[2.0], [4.0]], np.float32)
    fake = np.array([[-1.0], [0.0]], np.float32)
    assert value(losses.wasserstein_d_loss(real, fake)) == pytest.approx(-0.5 - 3.0)
    assert value(losses.wasserstein_g_loss(fake)) == pytest.approx(0.5)


def test_hinge_by_hand():
    real = np.array([[2.0], [0.5]], np.float32)     # relu(1 - x) = 0, 0.5
    fake = np.array([[-2.0], [0.25]], np.float32)   # relu(1 + x) = 0, 1.25
    assert value(losses.hinge_d_loss(real, fake)) == pytest.approx(0.25 + 0.625)
    assert value(losses.hinge_g_loss(fake)) == pytest.approx(0.875)


def test_least_squares_by_hand():
    real = np.array([[1.0], [3.0]], np.float32)     # (x - 1)^2 = 0, 4
    fake = np.array([[0.0], [2.0]], np.float32)     # x^2 = 0, 4 ; (x - 1)^2 = 1, 1
    assert value(losses.least_squares_d_loss(real, fake)) == pytest.approx(0.5 * 2 + 0.5 * 2)
    assert value(losses.least_squares_g_loss(fake)) == pytest.approx(0.5 * 1)
    # a mean other than 1: 0.5 * mean((x - 1)^2) of [0, 3] is 0.5 * (1 + 4) / 2
    uneven = np.array([[0.0], [3.0]], np.float32)
    assert value(losses.least_squares_g_loss(uneven)) == pytest.approx(1.25)


def test_relativistic_pairing_by_hand():
    # D(x) - D(G(z)) pairs element-wise: [0 - (-ln 3), ln 3 - 0] = [ln 3, ln 3].
    # D: softplus(-ln 3) = log(1 + 1/3); G: softplus(ln 3) = log(1 + 3).
    d = losses.relativistic_pairing_d_loss(REAL, FAKE)
    assert value(d) == pytest.approx(math.log(4 / 3), rel=1e-6)
    g = losses.relativistic_pairing_g_loss(FAKE, REAL)
    assert value(g) == pytest.approx(math.log(4), rel=1e-6)
    # Only the difference counts: shifting every logit changes nothing.
    assert value(losses.relativistic_pairing_d_loss(REAL + 5, FAKE + 5)) == pytest.approx(
        value(d), rel=1e-6)
    # The pairing is element-wise, not all-pairs: swapping the fakes changes it.
    swapped = value(losses.relativistic_pairing_d_loss(REAL, FAKE[::-1]))
    expected = 0.5 * (math.log(1 + 1.0) + math.log(1 + 1 / 9))  # differences 0, 2 ln 3
    assert swapped == pytest.approx(expected, rel=1e-6)
    family = losses.get_loss("relativistic_pairing")
    assert family.g_uses_real and not family.probabilistic and not family.smoothable
    assert value(family.generator_loss(FAKE, REAL)) == pytest.approx(math.log(4), rel=1e-6)
    with pytest.raises(ValueError, match="needs the real logits"):
        family.generator_loss(FAKE)


def test_optimum_of_minimax_d_loss_is_log4():
    # At D = 1/2 everywhere the minimax value is -log 4 (Goodfellow et al. Thm 1).
    zeros = np.zeros((4, 1), np.float32)
    assert value(losses.minimax_d_loss(zeros, zeros)) == pytest.approx(math.log(4.0))


@pytest.mark.parametrize("name", sorted(losses.LOSSES))
@pytest.mark.parametrize("extreme", [100.0, -100.0])
def test_finite_at_extreme_logits(name, extreme):
    family = losses.get_loss(name)
    logits = np.full((3, 1), extreme, np.float32)
    other = -logits
    for out in (family.d_loss(logits, other), family.d_loss(other, logits),
                family.generator_loss(logits, other)):
        assert np.isfinite(value(out)), (name, extreme)


def test_extreme_values_are_exact():
    # log(1 + e^100) = 100 to float32 precision; a naive log(sigmoid) gives inf.
    big = np.full((2, 1), 100.0, np.float32)
    assert value(losses.non_saturating_g_loss(-big)) == pytest.approx(100.0, rel=1e-6)
    assert value(losses.minimax_d_loss(-big, big)) == pytest.approx(200.0, rel=1e-6)


def test_float16_logits_are_taken_in_float32():
    logits = np.full((2, 1), 60.0, np.float16)
    assert np.asarray(losses.non_saturating_g_loss(-logits)).dtype == np.float32
    assert value(losses.non_saturating_g_loss(-logits)) == pytest.approx(60.0, rel=1e-3)


def test_unknown_loss_lists_the_known_ones():
    with pytest.raises(ValueError, match="least_squares"):
        losses.get_loss("nope")


def test_each_family_says_what_its_outputs_are():
    """The flags the loop reads: sigmoid(logit) is D(x) (d_real / d_fake are
    probabilities), real targets can be smoothed, G's loss needs the reals."""
    flags = {name: (f.probabilistic, f.smoothable, f.g_uses_real)
             for name, f in losses.LOSSES.items()}
    assert flags == {
        "minimax": (True, True, False),
        "non_saturating": (True, True, False),
        "wasserstein": (False, False, False),
        "hinge": (False, False, False),
        "least_squares": (False, True, False),
        "relativistic_pairing": (False, False, True),
    }
    for name, family in losses.LOSSES.items():
        assert losses.get_loss(name) is family
    # Shared by every model: frozen, so no model can change another's loss.
    with pytest.raises(dataclasses.FrozenInstanceError):
        losses.LOSSES["hinge"].probabilistic = True
