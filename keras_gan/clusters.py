"""k-means pseudo-labels, and the layer that draws a cluster from the latent.

An unconditional generator has to carve every mode of the data (ten digits)
out of one connected Gaussian, so some of its mass lands between modes: the
ambiguous strokes that cap an unconditional GAN's digit score. Conditioning G
and a projection D on k-means clusters of the real images, found without any
label, removes most of that (Lucic et al. 2019 "High-fidelity image
generation with fewer labels"; Liu et al. 2020 "Self-conditioned GANs"). The
sampler stays unconditional: the first latent coordinate picks the cluster
(its normal quantiles split N(0, 1) in the clusters' proportions) and the
rest is the generator's noise, so z ~ N(0, I) alone gives a sample and the
ONNX contract (one input, z) holds. Measured on the embedded digits, 5
minutes: benchmarks/results/preset_search.md.

Pure numpy except `LatentCluster` (a Keras layer, saved in .keras files).
"""

from __future__ import annotations

from statistics import NormalDist

import keras
import numpy as np
from keras import ops


def kmeans(x, k: int, seed: int = 0, iters: int = 30) -> np.ndarray:
    """Centroids (k, D) of the rows of `x` (N, D): k-means++ seeding, then
    Lloyd's iterations (fewer if the assignment stops changing).

    Deterministic for a seed. An empty cluster keeps its centroid.
    """
    x = np.asarray(x, dtype=np.float64).reshape(len(x), -1)
    if not 1 <= k <= len(x):
        raise ValueError(f"k-means needs 1 <= k <= {len(x)} (the number of examples), got {k}")
    rng = np.random.default_rng(seed)
    sq = (x * x).sum(axis=1)
    centroids = [x[rng.integers(len(x))]]
    nearest = np.maximum(sq - 2 * x @ centroids[0] + centroids[0] @ centroids[0], 0.0)
    for _ in range(k - 1):
        total = nearest.sum()
        # All points on the centroids already (duplicates): any point will do.
        i = rng.choice(len(x), p=nearest / total) if total > 0 else rng.integers(len(x))
        centroids.append(x[i])
        nearest = np.minimum(nearest, np.maximum(sq - 2 * x @ x[i] + x[i] @ x[i], 0.0))
    c = np.stack(centroids)
    assigned = None
    for _ in range(iters):
        new = assign(x, c)
        if assigned is not None and np.array_equal(new, assigned):
            break
        assigned = new
        for j in range(k):
            members = x[assigned == j]
            if len(members):
                c[j] = members.mean(axis=0)
    return c.astype(np.float32)


def assign(x, centroids) -> np.ndarray:
    """Index of the nearest centroid of each row of `x` (int64, (N,))."""
    x = np.asarray(x, dtype=np.float64).reshape(len(x), -1)
    c = np.asarray(centroids, dtype=np.float64)
    d = (c * c).sum(axis=1)[None, :] - 2 * x @ c.T
    return d.argmin(axis=1).astype(np.int64)


def cluster_boundaries(prior) -> list[float]:
    """The K - 1 points that split N(0, 1) into K intervals of probability
    `prior` (K fractions summing to 1), in increasing order."""
    p = np.asarray(prior, dtype=np.float64)
    if p.ndim != 1 or len(p) < 1 or (p <= 0).any() or abs(p.sum() - 1.0) > 1e-6:
        raise ValueError(f"prior must be K > 0 positive fractions summing to 1, got {prior}")
    cdf = np.cumsum(p)[:-1]
    return [NormalDist().inv_cdf(float(min(max(u, 1e-12), 1 - 1e-12))) for u in cdf]


def cluster_of(u, boundaries):
    """(B, 1) normal draws -> (B,) int64: how many `boundaries` each exceeds.

    Comparisons and a sum: ops every converter (tf2onnx) maps directly.
    """
    edges = ops.convert_to_tensor([list(boundaries) or [np.inf]], dtype=u.dtype)
    return ops.sum(ops.cast(ops.greater(u, edges), "int64"), axis=1)


@keras.saving.register_keras_serializable(package="keras_gan")
class LatentCluster(keras.layers.Layer):
    """z (B, D) -> [z[:, 1:] (B, D - 1), cluster (B,) int64].

    The cluster is the interval of `boundaries` that z[:, 0] falls in, so for
    z ~ N(0, I) clusters come in the proportions the boundaries were made
    for (`cluster_boundaries`) and the remaining noise is N(0, I) and
    independent of the cluster: exactly the (noise, label) pairs the
    conditional generator was trained on.
    """

    def __init__(self, boundaries, **kwargs):
        super().__init__(**kwargs)
        self.boundaries = [float(b) for b in boundaries]

    def call(self, z):
        return [z[:, 1:], cluster_of(z[:, :1], self.boundaries)]

    def compute_output_spec(self, z):
        return [keras.KerasTensor((z.shape[0], z.shape[1] - 1), dtype=z.dtype),
                keras.KerasTensor((z.shape[0],), dtype="int64")]

    def get_config(self):
        return {**super().get_config(), "boundaries": self.boundaries}


def unconditional_sampler(generator: keras.Model, prior, name: str | None = None
                          ) -> keras.Model:
    """z (latent_dim,) -> sample: `generator` (inputs z (latent_dim - 1,) and
    labels) fed the cluster that z[:, 0] draws with probabilities `prior`.
    Shares `generator`'s weights."""
    latent_dim = int(generator.inputs[0].shape[-1]) + 1
    z = keras.Input((latent_dim,), name="z")
    # float32 even under mixed precision: in float16 a z near a boundary
    # would fall in the neighbouring cluster (another digit).
    noise, cluster = LatentCluster(cluster_boundaries(prior), dtype="float32",
                                   name="latent_cluster")(z)
    return keras.Model(z, generator([noise, cluster]), name=name or generator.name)


def assign_tensor(x, centroids):
    """`assign` in graph ops, for a tf.data map: x (B, ...) -> (B,) int64."""
    flat = ops.reshape(ops.cast(x, "float32"), (ops.shape(x)[0], -1))
    c = ops.convert_to_tensor(np.asarray(centroids, dtype=np.float32))
    d = ops.sum(c * c, axis=1)[None, :] - 2.0 * ops.matmul(flat, ops.transpose(c))
    return ops.cast(ops.argmin(d, axis=1), "int64")


def fit_clusters(x, k: int, seed: int = 0) -> tuple[np.ndarray, list[float]]:
    """k-means centroids of the examples `x` and each cluster's share of them
    (an empty cluster counts as one example: every share must be > 0)."""
    if len(x) < k:
        raise ValueError(f"{k} clusters need at least {k} examples, the data has {len(x)}")
    centroids = kmeans(x, k, seed=seed)
    counts = np.maximum(np.bincount(assign(x, centroids), minlength=k), 1)
    return centroids, (counts / counts.sum()).tolist()
