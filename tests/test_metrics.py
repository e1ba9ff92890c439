"""keras_gan/evaluation/metrics.py against independent numpy/scipy references and known values."""

import math

import numpy as np
import pytest
import scipy.linalg

from keras_gan.data.sources import sample_toy, toy_mixture
from keras_gan.evaluation import metrics


def correlated(rng, n, d, shift=0.0):
    """(n, d) Gaussian features with a random full covariance."""
    return rng.standard_normal((n, d)) @ rng.standard_normal((d, d)) / math.sqrt(d) + shift


# -- Frechet distance ---------------------------------------------------------------


def test_frechet_distance_matches_sqrtm_reference(rng):
    f1, f2 = correlated(rng, 500, 16), correlated(rng, 500, 16, shift=0.3)
    mu1, mu2 = f1.mean(0), f2.mean(0)
    c1, c2 = np.cov(f1, rowvar=False), np.cov(f2, rowvar=False)
    root = scipy.linalg.sqrtm(c1 @ c2).real
    expected = np.sum((mu1 - mu2) ** 2) + np.trace(c1 + c2 - 2 * root)
    assert metrics.frechet_distance(mu1, c1, mu2, c2) == pytest.approx(expected, rel=1e-6)
    assert metrics.frechet_distance_from_features(f1, f2) == pytest.approx(expected, rel=1e-6)


def test_frechet_distance_of_a_set_with_itself_is_zero(rng):
    f = correlated(rng, 1000, 64)
    assert abs(metrics.frechet_distance_from_features(f, f)) < 1e-6
    assert metrics.frechet_distance_from_features(f, f) >= 0


def test_frechet_distance_closed_form_for_diagonal_covariances(rng):
    s1, s2 = rng.uniform(0.5, 2, 8), rng.uniform(0.5, 2, 8)
    mu1, mu2 = rng.standard_normal(8), rng.standard_normal(8)
    # Commuting covariances: (C1 C2)^(1/2) = diag(s1 s2), so Tr(...) = sum (s1 - s2)^2.
    expected = np.sum((mu1 - mu2) ** 2) + np.sum((s1 - s2) ** 2)
    got = metrics.frechet_distance(mu1, np.diag(s1**2), mu2, np.diag(s2**2))
    assert got == pytest.approx(expected, rel=1e-10)


def test_frechet_distance_validates_shapes():
    eye = np.eye(3)
    with pytest.raises(ValueError, match="mu2"):
        metrics.frechet_distance(np.zeros(3), eye, np.zeros(4), np.eye(4))
    with pytest.raises(ValueError, match="cov1"):
        metrics.frechet_distance(np.zeros(3), np.eye(2), np.zeros(3), eye)
    with pytest.raises(ValueError, match="mu1"):
        metrics.frechet_distance(np.zeros((3, 1)), eye, np.zeros(3), eye)
    with pytest.raises(ValueError, match="f2"):
        metrics.frechet_distance_from_features(np.zeros((5, 3)), np.zeros((5, 4)))
    with pytest.raises(ValueError, match="f1"):
        metrics.frechet_distance_from_features(np.zeros(5), np.zeros((5, 1)))


# -- FeatureStats ---------------------------------------------------------------------


def test_feature_stats_streaming_matches_numpy(rng):
    # A large offset checks the update does not cancel catastrophically.
    f = correlated(rng, 1000, 8, shift=100.0).astype(np.float32)
    stats = metrics.FeatureStats()
    start = 0
    for size in (1, 7, 0, 300, 692):
        stats.update(f[start : start + size])
        start += size
    assert stats.count == 1000
    ref = f.astype(np.float64)
    np.testing.assert_allclose(stats.mean(), ref.mean(0), rtol=1e-10)
    np.testing.assert_allclose(stats.cov(), np.cov(ref, rowvar=False), rtol=1e-10, atol=1e-12)


def test_feature_stats_merge_and_frechet_distance(rng):
    f1, f2 = correlated(rng, 600, 12), correlated(rng, 400, 12, shift=0.5)
    whole, first, second = metrics.FeatureStats(12), metrics.FeatureStats(), metrics.FeatureStats()
    whole.update(f1)
    first.update(f1[:250])
    second.update(f1[250:])
    merged = first.merge(second)
    assert merged.count == 600 and first.count == 250
    np.testing.assert_allclose(merged.mean(), whole.mean(), rtol=1e-12)
    np.testing.assert_allclose(merged.cov(), whole.cov(), rtol=1e-10)
    assert metrics.FeatureStats().merge(whole).count == 600
    other = metrics.FeatureStats()
    other.update(f2)
    expected = metrics.frechet_distance_from_features(f1, f2)
    assert metrics.stats_frechet_distance(merged, other) == pytest.approx(expected, rel=1e-9)


def test_feature_stats_validates():
    stats = metrics.FeatureStats(3)
    with pytest.raises(ValueError, match="no features"):
        stats.mean()
    with pytest.raises(ValueError, match="features"):
        stats.update(np.zeros((2, 4)))
    stats.update(np.zeros((1, 3)))
    with pytest.raises(ValueError, match=">= 2"):
        stats.cov()
    with pytest.raises(ValueError, match="merge"):
        stats.merge(metrics.FeatureStats(4))


# -- Inception Score -----------------------------------------------------------------


def test_inception_score_known_values():
    assert metrics.inception_score(np.full((100, 10), 0.1)) == pytest.approx((1.0, 0.0))
    one_hot = np.tile(np.eye(5), (20, 1))
    assert metrics.inception_score(one_hot) == pytest.approx((5.0, 0.0))


def test_inception_score_two_samples_by_hand():
    probs = [[0.5, 0.5], [1.0, 0.0]]  # p(y) = (3/4, 1/4)
    kl1 = 0.5 * math.log(0.5 / 0.75) + 0.5 * math.log(0.5 / 0.25)
    kl2 = math.log(1 / 0.75)  # the 0 * log 0 term is 0
    score, std = metrics.inception_score(probs)
    assert score == pytest.approx(math.exp((kl1 + kl2) / 2), rel=1e-12)
    assert std == 0.0


def test_inception_score_splits():
    # The first half scores 1 (uniform), the second 4 (confident and evenly spread).
    probs = np.concatenate([np.full((8, 4), 0.25), np.tile(np.eye(4), (2, 1))])
    assert metrics.inception_score(probs, splits=2) == pytest.approx((2.5, 1.5))
    with pytest.raises(ValueError, match="splits"):
        metrics.inception_score(probs, splits=17)
    with pytest.raises(ValueError, match="probs"):
        metrics.inception_score(np.full(4, 0.25))


# -- Kernel Inception Distance --------------------------------------------------------


def mmd2_reference(x, y):
    """Unbiased MMD^2 with the cubic polynomial kernel, by explicit loops."""
    m, d = x.shape

    def k(a, b):
        return (float(np.dot(a, b)) / d + 1) ** 3

    kxx = sum(k(x[i], x[j]) for i in range(m) for j in range(m) if i != j)
    kyy = sum(k(y[i], y[j]) for i in range(m) for j in range(m) if i != j)
    kxy = sum(k(x[i], y[j]) for i in range(m) for j in range(m))
    return (kxx + kyy) / (m * (m - 1)) - 2 * kxy / m**2


def test_kid_matches_brute_force_reference(rng):
    x, y = rng.standard_normal((30, 5)), rng.standard_normal((30, 5)) + 0.2
    kid, std = metrics.kernel_inception_distance(x, y, subset_size=30, subsets=1)
    assert kid == pytest.approx(mmd2_reference(x, y), rel=1e-10)
    assert std == 0.0


def test_kid_same_distribution_is_unbiased_and_shift_is_positive(rng):
    values = []
    for seed in range(20):
        x, y = rng.standard_normal((300, 8)), rng.standard_normal((300, 8))
        values.append(metrics.kernel_inception_distance(x, y, 150, 5, seed)[0])
    values = np.array(values)
    # Unbiased: the mean over independent data sets is 0 within 4 standard errors,
    # and single estimates fall on both sides of 0.
    assert abs(values.mean()) < 4 * values.std() / math.sqrt(len(values))
    assert values.min() < 0 < values.max()
    shifted, _ = metrics.kernel_inception_distance(
        rng.standard_normal((300, 8)), rng.standard_normal((300, 8)) + 0.5, 150, 5
    )
    assert shifted > 0.5 and shifted > 10 * np.abs(values).max()


def test_kid_validates():
    with pytest.raises(ValueError, match="f2"):
        metrics.kernel_inception_distance(np.zeros((5, 3)), np.zeros((5, 2)))
    with pytest.raises(ValueError, match="subset_size"):
        metrics.kernel_inception_distance(np.zeros((5, 3)), np.zeros((5, 3)), subset_size=1)


# -- Precision and recall --------------------------------------------------------------


def precision_recall_reference(real, fake, k):
    """Kynkaanniemi et al. by loops: k-th neighbour radii, then ball membership."""

    def radii(x):
        return np.array([np.sort(np.linalg.norm(np.delete(x, i, 0) - x[i], axis=1))[k - 1]
                         for i in range(len(x))])

    def inside(queries, points, r):
        return np.mean([np.any(np.linalg.norm(points - q, axis=1) <= r) for q in queries])

    return inside(fake, real, radii(real)), inside(real, fake, radii(fake))


def test_precision_recall_matches_brute_force(rng):
    real, fake = rng.standard_normal((60, 3)), rng.standard_normal((50, 3)) * 1.5 + 0.5
    for k in (1, 3, 5):
        got = metrics.precision_recall(real, fake, k=k, batch=7)
        assert got == pytest.approx(precision_recall_reference(real, fake, k), abs=1e-12)


def test_precision_recall_known_cases(rng):
    x = rng.standard_normal((300, 4))
    assert metrics.precision_recall(x, x) == (1.0, 1.0)
    assert metrics.precision_recall(x, x + 100.0, batch=64) == (0.0, 0.0)


def test_precision_recall_half_the_modes(rng):
    centres = np.array([[0, 0], [20, 0], [0, 20], [20, 20]], float)
    real = centres[rng.integers(0, 4, 2000)] + rng.standard_normal((2000, 2))
    fake = centres[rng.integers(0, 2, 1000)] + rng.standard_normal((1000, 2))
    precision, recall = metrics.precision_recall(real, fake)
    assert precision > 0.95
    assert 0.45 < recall <= 0.5


def test_precision_recall_validates():
    with pytest.raises(ValueError, match="real"):
        metrics.precision_recall(np.zeros((3, 2)), np.zeros((10, 2)), k=3)
    with pytest.raises(ValueError, match="fake"):
        metrics.precision_recall(np.zeros((10, 2)), np.zeros((10, 3)))


# -- Class coverage and conditional accuracy --------------------------------------------


def test_class_coverage_by_hand():
    got = metrics.class_coverage([0, 0, 1, 2], 4)
    assert got["fractions"] == [0.5, 0.25, 0.25, 0.0]
    expected_kl = 0.5 * math.log(0.5 * 4) + 2 * 0.25 * math.log(0.25 * 4)
    assert got["kl_to_uniform"] == pytest.approx(expected_kl)
    assert got["min_fraction"] == 0.0 and got["classes_covered"] == 3
    # Probabilities are reduced to their argmax.
    probs = np.eye(4)[[0, 0, 1, 2]] * 0.7 + 0.075
    assert metrics.class_coverage(probs, 4) == got
    assert metrics.class_coverage(np.arange(10), 10)["kl_to_uniform"] == 0.0


def test_class_coverage_validates():
    with pytest.raises(ValueError, match="predicted"):
        metrics.class_coverage([0, 4], 4)
    with pytest.raises(ValueError, match="predicted"):
        metrics.class_coverage([0.5, 1.0], 4)
    with pytest.raises(ValueError, match="predicted"):
        metrics.class_coverage([], 4)


def test_class_total_variation_by_hand():
    # |0.5-0.25| + |0.5-0.25| + |0-0.5| = 1.0, halved
    assert metrics.class_total_variation([0.5, 0.5, 0.0], [0.25, 0.25, 0.5]) == 0.5
    assert metrics.class_total_variation([0.2, 0.8], [0.2, 0.8]) == 0.0
    assert metrics.class_total_variation([1.0, 0.0], [0.0, 1.0]) == 1.0
    with pytest.raises(ValueError, match="same length"):
        metrics.class_total_variation([1.0], [0.5, 0.5])
    with pytest.raises(ValueError, match="summing to 1"):
        metrics.class_total_variation([0.5, 0.6], [0.5, 0.5])


def test_conditional_accuracy_by_hand():
    assert metrics.conditional_accuracy([0, 1, 2, 3], [0, 1, 0, 3]) == 0.75
    assert metrics.conditional_accuracy(np.eye(3), [0, 1, 1]) == pytest.approx(2 / 3)
    with pytest.raises(ValueError, match="requested"):
        metrics.conditional_accuracy([0, 1], [0, 1, 2])


# -- 2D mode metrics (protocol in shared/protocols.md) -----------------------------------


@pytest.mark.parametrize("name", ["ring", "grid"])
def test_mode_metrics_exact_means(name):
    means, std = toy_mixture(name)
    got = metrics.mode_metrics(np.repeat(means, 3, axis=0), means, std)
    k = len(means)
    assert got == {"modes": k, "num_modes": k, "high_quality": 1.0, "reverse_kl": 0.0}


@pytest.mark.parametrize("name, k", [("ring", 8), ("grid", 25)])
def test_mode_metrics_true_samples(name, k):
    means, std = toy_mixture(name)
    for seed in range(3):
        samples, _ = sample_toy(name, 2500, seed)
        got = metrics.mode_metrics(samples, means, std)
        assert got["modes"] == got["num_modes"] == k
        # 2D Gaussian mass within 3 std: 1 - exp(-4.5) = 98.89%.
        assert 0.975 < got["high_quality"] <= 1.0
        assert 0 <= got["reverse_kl"] < 0.02


@pytest.mark.parametrize("name", ["ring", "grid"])
def test_mode_metrics_collapse_and_far_away(name):
    means, std = toy_mixture(name)
    rng = np.random.default_rng(1)
    collapsed = means[2] + std * rng.standard_normal((2500, 2)) * 0.5
    got = metrics.mode_metrics(collapsed, means, std)
    assert got["modes"] == 1 and got["high_quality"] > 0.95
    assert got["reverse_kl"] == pytest.approx(math.log(len(means)))
    far = metrics.mode_metrics(np.full((100, 2), 50.0), means, std)
    assert far["modes"] == 0 and far["high_quality"] == 0.0
    assert math.isnan(far["reverse_kl"])


def test_mode_metrics_half_quality_and_nan_samples():
    means, std = toy_mixture("ring")
    # Two samples on modes 0 and 1, one 4 std off mode 2, and one NaN (diverged).
    samples = [means[0], means[1], means[2] + [4 * std, 0], [np.nan, np.nan]]
    got = metrics.mode_metrics(samples, means, std)
    assert got["modes"] == 2 and got["high_quality"] == 0.5
    assert got["reverse_kl"] == pytest.approx(math.log(4))  # p = (1/2, 1/2) over K = 8


def test_mode_metrics_validates():
    means, std = toy_mixture("ring")
    with pytest.raises(ValueError, match="samples"):
        metrics.mode_metrics(np.zeros((10, 3)), means, std)
    with pytest.raises(ValueError, match="std"):
        metrics.mode_metrics(np.zeros((10, 2)), means, 0.0)
