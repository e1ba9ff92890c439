"""Sample-quality metrics for GANs in plain numpy and scipy.

The image metrics take features or class probabilities from any network:
Inception for the standard FID/IS, or the project's digit classifier on MNIST
(as TF-GAN's mnist_score). The 2D mode metrics follow the ring/grid protocol
of VEEGAN and PacGAN (shared/protocols.md). No TensorFlow or Keras here: the
module must stay cheap to import for evaluation code.
"""

import numpy as np
from scipy.special import rel_entr


def _matrix(x, name, dim=None, min_rows=0, finite=True):
    """Returns x as a (finite) float64 (N, D) array, or raises ValueError naming it."""
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2:
        raise ValueError(f"{name} must be a 2-D (N, D) array, got shape {x.shape}.")
    if dim is not None and x.shape[1] != dim:
        raise ValueError(f"{name} has {x.shape[1]} features per row, expected {dim}.")
    if len(x) < min_rows:
        raise ValueError(f"{name} needs at least {min_rows} rows, got {len(x)}.")
    if finite and not np.all(np.isfinite(x)):
        raise ValueError(f"{name} contains NaN or infinite values.")
    return x


def _labels(x, name):
    """Returns int64 labels (N,) from labels or from (N, K) probabilities (argmax)."""
    x = np.asarray(x)
    if x.ndim == 2:
        x = _matrix(x, name).argmax(axis=1)
    if x.ndim != 1 or len(x) == 0:
        raise ValueError(f"{name} must be non-empty labels (N,) or probabilities (N, K).")
    integral = np.issubdtype(x.dtype, np.number) and np.all(x == np.round(x))
    if not np.issubdtype(x.dtype, np.integer) and not integral:
        raise ValueError(f"{name} must hold integer class labels, got {x.dtype}.")
    return x.astype(np.int64)


def _sq_dists(a, b):
    """Squared Euclidean distances (len(a), len(b)), clipped at 0 against round-off."""
    d2 = (a * a).sum(1)[:, None] + (b * b).sum(1)[None, :] - 2 * a @ b.T
    return np.maximum(d2, 0.0)


def _kl_to_uniform(counts):
    """KL(p || uniform) = sum p log(p K) over p > 0, with p = counts / counts.sum()."""
    p = counts / counts.sum()
    p = p[p > 0]
    return float(np.sum(p * np.log(p * len(counts))))


class FeatureStats:
    """Streaming mean and covariance of feature vectors (float64 sums), so
    10,000+ images can be scored batch by batch.

    Batches are merged with Chan et al.'s (1979) pairwise update of the count, mean
    and sum of centred outer products, which keeps precision when the mean is large
    against the spread (E[xx^T] - mu mu^T does not).

    Args:
        dim: Feature dimension D, or None to take it from the first batch.
    """

    def __init__(self, dim: int | None = None):
        if dim is not None and dim < 1:
            raise ValueError(f"dim must be >= 1, got {dim}.")
        self.dim = dim
        self._count = 0
        self._mean = None  # (D,)
        self._m2 = None  # (D, D): sum of (x - mean)(x - mean)^T

    def _combine(self, count, mean, m2):
        if self._count == 0:
            self._count, self._mean, self._m2 = count, mean.copy(), m2.copy()
            return
        total = self._count + count
        delta = mean - self._mean
        self._mean = self._mean + delta * (count / total)
        self._m2 = self._m2 + m2 + np.outer(delta, delta) * (self._count * count / total)
        self._count = total

    def update(self, features) -> None:
        """Adds a (B, D) batch of features of any float dtype; B may be 0."""
        x = _matrix(features, "features", self.dim)
        self.dim = x.shape[1]
        if len(x):
            mean = x.mean(axis=0)
            self._combine(len(x), mean, (x - mean).T @ (x - mean))

    @property
    def count(self) -> int:
        """Number of feature vectors seen."""
        return self._count

    def mean(self) -> np.ndarray:
        """Returns the (D,) mean of the features seen."""
        if self._count < 1:
            raise ValueError("FeatureStats has no features yet; call update() first.")
        return self._mean.copy()

    def cov(self) -> np.ndarray:
        """Returns the (D, D) unbiased covariance, equal to np.cov(all, rowvar=False)."""
        if self._count < 2:
            raise ValueError(f"FeatureStats needs >= 2 features for a cov, has {self._count}.")
        return self._m2 / (self._count - 1)

    def merge(self, other: "FeatureStats") -> "FeatureStats":
        """Returns new stats over the features of self and other (both unchanged)."""
        if not isinstance(other, FeatureStats):
            raise ValueError(f"other must be a FeatureStats, got {type(other).__name__}.")
        if None not in (self.dim, other.dim) and self.dim != other.dim:
            raise ValueError(f"Cannot merge FeatureStats of dim {self.dim} and {other.dim}.")
        out = FeatureStats(self.dim or other.dim)
        for stats in (self, other):
            if stats._count:
                out._combine(stats._count, stats._mean, stats._m2)
        return out


def _psd_sqrt(c):
    """Symmetric square root of a covariance; round-off negative eigenvalues become 0."""
    w, v = np.linalg.eigh((c + c.T) / 2)
    return (v * np.sqrt(np.clip(w, 0.0, None))) @ v.T


def frechet_distance(mu1, cov1, mu2, cov2) -> float:
    """Frechet distance between N(mu1, C1) and N(mu2, C2) (Heusel et al. 2017, FID).

    |mu1 - mu2|^2 + Tr(C1 + C2 - 2 (C1 C2)^(1/2)). C1 C2 is similar to the
    symmetric PSD sqrt(C1) C2 sqrt(C1), so Tr (C1 C2)^(1/2) is the sum of the roots
    of that matrix's eigenvalues (tiny negative ones from round-off clipped to 0);
    unlike scipy.linalg.sqrtm this stays real and accurate for singular covariances.

    Args:
        mu1, mu2: (D,) means.
        cov1, cov2: (D, D) covariances.

    Returns:
        The distance, clipped at >= 0.
    """
    if np.ndim(mu1) != 1:
        raise ValueError(f"mu1 must be a 1-D (D,) vector, got shape {np.shape(mu1)}.")
    d = len(mu1)
    args = {"mu1": mu1, "cov1": cov1, "mu2": mu2, "cov2": cov2}
    for name, a in args.items():
        args[name] = a = np.asarray(a, dtype=np.float64)
        shape = (d,) if name.startswith("mu") else (d, d)
        if a.shape != shape:
            raise ValueError(f"{name} has shape {a.shape}, expected {shape} to match mu1.")
        if not np.all(np.isfinite(a)):
            raise ValueError(f"{name} contains NaN or infinite values.")
    mu1, cov1, mu2, cov2 = args.values()
    root1 = _psd_sqrt(cov1)
    inner = root1 @ cov2 @ root1
    eig = np.linalg.eigvalsh((inner + inner.T) / 2)
    tr_sqrt = np.sqrt(np.clip(eig, 0.0, None)).sum()
    diff = mu1 - mu2
    return float(max(diff @ diff + np.trace(cov1) + np.trace(cov2) - 2 * tr_sqrt, 0.0))


def frechet_distance_from_features(f1, f2) -> float:
    """Frechet distance between Gaussians fitted to (N1, D) and (N2, D) features, N >= 2."""
    f1 = _matrix(f1, "f1", min_rows=2)
    f2 = _matrix(f2, "f2", f1.shape[1], min_rows=2)
    cov1, cov2 = np.cov(f1, rowvar=False), np.cov(f2, rowvar=False)
    return frechet_distance(f1.mean(0), np.atleast_2d(cov1), f2.mean(0), np.atleast_2d(cov2))


def stats_frechet_distance(a: FeatureStats, b: FeatureStats) -> float:
    """Frechet distance between two `FeatureStats`, each with >= 2 features."""
    return frechet_distance(a.mean(), a.cov(), b.mean(), b.cov())


def inception_score(probs, splits: int = 1) -> tuple[float, float]:
    """Inception Score exp(E_x KL(p(y|x) || p(y))) (Salimans et al. 2016).

    p(y) is each split's mean prediction; rel_entr makes p(y|x) = 0 terms 0, not log 0.

    Args:
        probs: (N, K) class probabilities (softmax outputs), N >= splits.
        splits: Number of contiguous splits, each scored on its own.

    Returns:
        Mean and (population) standard deviation of the score over the splits.
    """
    probs = _matrix(probs, "probs", min_rows=1)
    if np.any(probs < 0):
        raise ValueError("probs must be non-negative class probabilities.")
    if not 1 <= splits <= len(probs):
        raise ValueError(f"splits must be in [1, {len(probs)}] (the rows of probs), got {splits}.")
    scores = []
    for part in np.array_split(probs, splits):
        kl = rel_entr(part, part.mean(axis=0, keepdims=True)).sum(axis=1)  # (n,)
        scores.append(np.exp(kl.mean()))
    return float(np.mean(scores)), float(np.std(scores))


def kernel_inception_distance(
    f1, f2, subset_size: int = 1000, subsets: int = 100, seed: int = 0
) -> tuple[float, float]:
    """Kernel Inception Distance (Binkowski et al. 2018, "Demystifying MMD GANs"):
    unbiased MMD^2 with the kernel k(x, y) = (x.y / d + 1)^3, on random subsets.

    Args:
        f1, f2: (N1, D) and (N2, D) features.
        subset_size: Rows drawn without replacement from each set per subset;
            capped at min(N1, N2), as in the paper's code.
        subsets: Number of subsets.
        seed: Seed for drawing the subsets.

    Returns:
        Mean and standard deviation of MMD^2 over the subsets; being unbiased, it
        can be slightly negative for two samples of one distribution.
    """
    f1 = _matrix(f1, "f1", min_rows=2)
    f2 = _matrix(f2, "f2", f1.shape[1], min_rows=2)
    if subset_size < 2 or subsets < 1:
        raise ValueError(f"Need subset_size >= 2 and subsets >= 1, got {subset_size}, {subsets}.")
    m, d = min(len(f1), len(f2), subset_size), f1.shape[1]
    rng = np.random.default_rng(seed)
    values = []
    for _ in range(subsets):
        x = f1[rng.choice(len(f1), m, replace=False)]
        y = f2[rng.choice(len(f2), m, replace=False)]
        kxx, kyy, kxy = ((a @ b.T / d + 1) ** 3 for a, b in ((x, x), (y, y), (x, y)))
        # Leaving the diagonals k(x_i, x_i) out of the within-set means removes the bias.
        within = (kxx.sum() - np.trace(kxx) + kyy.sum() - np.trace(kyy)) / (m * (m - 1))
        values.append(within - 2 * kxy.mean())
    return float(np.mean(values)), float(np.std(values))


def _knn_radii_sq(x, k, batch):
    """Squared distance from each row of x to its k-th nearest other row, (N,)."""
    radii = np.empty(len(x))
    for i in range(0, len(x), batch):
        # Index k, not k - 1: a row's distance to itself (0) is the smallest.
        radii[i : i + batch] = np.partition(_sq_dists(x[i : i + batch], x), k, axis=1)[:, k]
    return radii


def _inside_share(queries, points, radii_sq, batch):
    """Share of queries within the radius of at least one point."""
    inside = 0
    for i in range(0, len(queries), batch):
        d2 = _sq_dists(queries[i : i + batch], points)  # (batch, len(points))
        inside += np.count_nonzero(np.any(d2 <= radii_sq[None, :], axis=1))
    return inside / len(queries)


def precision_recall(real, fake, k: int = 3, batch: int = 1000) -> tuple[float, float]:
    """Improved precision and recall (Kynkaanniemi et al. 2019, arXiv 1904.06991).

    A set's manifold is the union of balls around its samples, each reaching the
    sample's k-th nearest neighbour in the set. Precision is the share of fake samples
    inside the real manifold, recall the share of real samples inside the fake one.

    Args:
        real, fake: (N1, D) and (N2, D) features, each with more than k rows.
        k: The neighbour whose distance is the ball's radius (the paper uses 3).
        batch: Rows per block of the distance matrix, to bound memory.

    Returns:
        (precision, recall), both in [0, 1].
    """
    if k < 1 or batch < 1:
        raise ValueError(f"k and batch must be >= 1, got k={k}, batch={batch}.")
    real = _matrix(real, "real", min_rows=k + 1)
    fake = _matrix(fake, "fake", real.shape[1], min_rows=k + 1)
    precision = _inside_share(fake, real, _knn_radii_sq(real, k, batch), batch)
    recall = _inside_share(real, fake, _knn_radii_sq(fake, k, batch), batch)
    return float(precision), float(recall)


def class_coverage(predicted, num_classes: int) -> dict:
    """Histogram of a classifier's predictions on generated samples (protocols.md, MNIST).

    Args:
        predicted: (N,) labels in [0, num_classes), or (N, K) probabilities (argmax).
        num_classes: Number of classes K.

    Returns:
        {"fractions": K floats, "kl_to_uniform": sum p log(p K) over p > 0,
        "min_fraction": the smallest fraction, "classes_covered": classes with p > 0}.
    """
    labels = _labels(predicted, "predicted")
    if num_classes < 1:
        raise ValueError(f"num_classes must be >= 1, got {num_classes}.")
    if labels.min() < 0 or labels.max() >= num_classes:
        span = f"{labels.min()}..{labels.max()}"
        raise ValueError(f"predicted labels must be in [0, {num_classes}), got {span}.")
    counts = np.bincount(labels, minlength=num_classes)
    fractions = counts / len(labels)
    return {
        "fractions": [float(f) for f in fractions],
        "kl_to_uniform": _kl_to_uniform(counts),
        "min_fraction": float(fractions.min()),
        "classes_covered": int(np.count_nonzero(counts)),
    }


def class_total_variation(p, q) -> float:
    """Total variation 0.5 * sum |p - q| between two class histograms, in [0, 1].

    The class-coverage figure for data whose classes are not balanced (emoji:
    a category with a handful of images makes every smallest share ~0, real
    data included): 0 when the generated classes come in the real proportions,
    1 when the two histograms share nothing.

    Args:
        p, q: (K,) non-negative class fractions, each summing to 1.
    """
    p, q = np.asarray(p, np.float64), np.asarray(q, np.float64)
    if p.ndim != 1 or p.shape != q.shape:
        raise ValueError(f"p and q must be histograms of the same length, got shapes "
                         f"{p.shape} and {q.shape}.")
    for name, h in (("p", p), ("q", q)):
        if (h < 0).any() or not np.isclose(h.sum(), 1.0, atol=1e-6):
            raise ValueError(f"{name} must be non-negative fractions summing to 1, "
                             f"got sum {h.sum():.6f}.")
    return float(0.5 * np.abs(p - q).sum())


def conditional_accuracy(predicted, requested) -> float:
    """Share of conditional samples classified as the class they were generated for.

    Args:
        predicted: (N,) predicted labels, or (N, K) probabilities (argmax).
        requested: (N,) labels the generator was given.
    """
    predicted, requested = _labels(predicted, "predicted"), _labels(requested, "requested")
    if predicted.shape != requested.shape:
        raise ValueError(f"predicted has {len(predicted)} labels, requested {len(requested)}.")
    return float(np.mean(predicted == requested))


def mode_metrics(samples, means, std, hq_stds: float = 3.0) -> dict:
    """Mode coverage on a Gaussian mixture (VEEGAN, arXiv 1705.07761; PacGAN, 1712.04086).

    A sample is high quality if it lies within hq_stds * std of its nearest mean; a
    mode is covered if it is the nearest mean of at least one high-quality sample.
    The reverse KL is KL(p || uniform) = sum p log(p K) over p > 0, p the normalised
    histogram of the nearest modes of the high-quality samples. Non-finite samples
    (a diverged generator) count as not high quality.

    Args:
        samples: (N, D) generated points (the protocol draws 2,500).
        means: (K, D) mixture means, e.g. from `keras_gan.data.sources.toy_mixture`.
        std: The components' standard deviation.
        hq_stds: The high-quality radius, in units of std.

    Returns:
        {"modes": covered modes, "num_modes": K, "high_quality": share in [0, 1],
        "reverse_kl": float}. reverse_kl is nan when no sample is high quality: p is
        then undefined, and 0 or inf would each read as a real score.
    """
    means = _matrix(means, "means", min_rows=1)
    samples = _matrix(samples, "samples", means.shape[1], min_rows=1, finite=False)
    if not std > 0 or not hq_stds > 0:
        raise ValueError(f"std and hq_stds must be > 0, got {std} and {hq_stds}.")
    with np.errstate(invalid="ignore"):  # NaN rows of d2 (N, K) fail the radius test.
        d2 = _sq_dists(samples, means)
        nearest = np.argmin(d2, axis=1)
        hq = d2[np.arange(len(samples)), nearest] <= (hq_stds * std) ** 2
    counts = np.bincount(nearest[hq], minlength=len(means))
    return {
        "modes": int(np.count_nonzero(counts)),
        "num_modes": len(means),
        "high_quality": float(hq.mean()),
        "reverse_kl": _kl_to_uniform(counts) if hq.any() else float("nan"),
    }
