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

Pure numpy except the sampler, which is built from Keras's own operations
only (a slice, a comparison, a cast and a sum), so that its .keras file loads
with `keras.saving.load_model(path, safe_mode=True)` in a process that never
imports keras_gan, and converts to ONNX as it is. `LatentCluster` is a legacy
layer, kept registered only so that older .keras files still load.
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
    """(B, 1) normal draws -> (B,) int64: how many `boundaries` each is >= to.

    The one rule of the cluster draw: the sampler applies it to z[:, :1] and
    ClusteredGAN.sample_labels to fresh draws. Keras ops only (a comparison, a
    cast, a sum): on a KerasTensor it adds built-in operation nodes to a
    functional model (saved without custom classes), and every converter
    (tf2onnx) maps them directly. The boundaries are a float32 constant, so a
    float32 `u` is compared in float32 (never rounded to a float16 policy).
    """
    edges = np.asarray([list(boundaries) or [np.inf]], dtype=np.float32)
    return ops.sum(ops.cast(ops.greater_equal(u, edges), "int64"), axis=1)


@keras.saving.register_keras_serializable(package="keras_gan")
class LatentCluster(keras.layers.Layer):
    """Legacy: z (B, D) -> [z[:, 1:] (B, D - 1), cluster (B,) int64].

    Samplers of older runs (before the sampler was built from Keras's own
    operations) hold this layer; it stays registered only so that their
    .keras files still load (after importing keras_gan). New files never
    contain it: `unconditional_sampler` builds the same draw from built-in
    operations.
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
    labels) fed the cluster that z[:, 0] draws with probabilities `prior`
    (`cluster_of` of z[:, :1]) and the rest of z as its noise. Shares
    `generator`'s weights.

    Built from Keras's own operations only (slices, a comparison, a cast, a
    sum: no custom layer, no Lambda), so its .keras file loads in safe mode
    with Keras alone. z is a float32 input and the operations follow no
    dtype policy, so under mixed precision the draw is still computed in
    float32 (in float16 a z near a boundary would pick the neighbouring
    cluster: another digit).
    """
    return _sampler(generator, cluster_boundaries(prior), name or generator.name)


def _sampler(generator: keras.Model, boundaries, name: str) -> keras.Model:
    latent_dim = int(generator.inputs[0].shape[-1]) + 1
    z = keras.Input((latent_dim,), dtype="float32", name="z")
    cluster = cluster_of(z[:, :1], boundaries)
    return keras.Model(z, generator([z[:, 1:], cluster]), name=name)


def upgrade_legacy_sampler(model: keras.Model) -> keras.Model:
    """A sampler saved with the legacy `LatentCluster` layer -> the same
    sampler (same generator, its weights shared, same boundaries) built from
    Keras's own operations, so that what is written from it loads with Keras
    alone. Any other model is returned as it is."""
    legacy = [layer for layer in model.layers if isinstance(layer, LatentCluster)]
    if not legacy:
        return model
    (draw,) = legacy
    (generator,) = [layer for layer in model.layers if isinstance(layer, keras.Model)]
    return _sampler(generator, draw.boundaries, model.name)


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
