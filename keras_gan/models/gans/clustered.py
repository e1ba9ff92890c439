"""Clustered GAN: an unconditional GAN trained as a conditional one on k-means
clusters of the real data (keras_gan/models/clusters.py says why).

Training is the conditional loop unchanged: the data yields (images, cluster
index), D is a projection discriminator, fakes in a D update take the real
minibatch's clusters. Two things differ from `cgan`:
- the generator's own updates draw clusters in the clusters' proportions
  (`cluster_prior`), not uniformly, because that is how the sampler draws them;
- what is sampled and exported (`sampler`) takes z alone: its first
  coordinate picks the cluster, the rest is the trained generator's noise.
"""

from __future__ import annotations

from dataclasses import dataclass

import keras

from keras_gan.config import ConfigError
from keras_gan.models.clusters import (
    assign_tensor,
    cluster_boundaries,
    cluster_of,
    fit_clusters,
    unconditional_sampler,
)
from keras_gan.models.gan import GAN
from keras_gan.models.variant import DataPlan, Variant

# k-means runs on at most this many real examples (the first ones of the
# source): ~100 examples per centroid at the default 100 clusters, a few
# seconds of numpy.
CLUSTER_EXAMPLES = 10_000


@keras.saving.register_keras_serializable(package="keras_gan")
class ClusteredGAN(GAN):
    """Args (beyond `GAN`'s): `num_classes`, the number of clusters K, and
    `cluster_prior`, their K proportions in the data (default: uniform)."""

    def __init__(self, generator, discriminator, num_classes=None, cluster_prior=None,
                 **kwargs):
        if not num_classes:
            raise ValueError("ClusteredGAN needs num_classes: the number of clusters")
        prior = ([1.0 / num_classes] * num_classes if cluster_prior is None
                 else list(cluster_prior))
        if len(prior) != num_classes:
            raise ValueError(f"cluster_prior has {len(prior)} entries for "
                             f"{num_classes} clusters")
        self.cluster_prior = [float(p) for p in prior]
        self._boundaries = cluster_boundaries(self.cluster_prior)  # validates
        super().__init__(generator, discriminator, num_classes=num_classes, **kwargs)

    def get_config(self):
        return {**super().get_config(), "cluster_prior": self.cluster_prior}

    def sample_labels(self, batch_size):
        # The sampler's rule, on a fresh normal draw: clusters in proportion.
        u = keras.random.normal((batch_size, 1), seed=self.seed_generator)
        return cluster_of(u, self._boundaries)

    def sampler(self, generator):
        """z (latent_dim + 1,) -> sample: `generator` with the cluster drawn
        from z's first coordinate. Built on demand (it has no weights of its
        own), so that saving the GAN does not track it twice."""
        return unconditional_sampler(generator, self.cluster_prior)


@dataclass(frozen=True)
class ClusteredVariant(Variant):
    """Data: k-means (`--clusters` k) of the source's first `CLUSTER_EXAMPLES`
    examples, each training example labelled with its nearest centroid.
    Networks: conditional on the cluster, z's first coordinate spent on it."""

    @property
    def takes_labels(self) -> bool:
        return True

    labels_needed = "the number of clusters"

    def check_config(self, latent_dim: int) -> None:
        if latent_dim < 2:
            raise ConfigError(f"--gan {self.name} spends z's first coordinate on the "
                              f"cluster: latent_dim must be >= 2, got {latent_dim}")

    def prepare_data(self, info, examples, *, clusters: int, seed: int) -> DataPlan:
        # Deterministic for a seed, so --resume refits the same clusters.
        x = examples(CLUSTER_EXAMPLES)
        try:
            centroids, prior = fit_clusters(x, clusters, seed=seed)
        except ValueError as e:
            raise ConfigError(f"--clusters {clusters}: {e} ({info.source})") from None
        return DataPlan(num_classes=len(prior),
                        label_map=lambda batch: assign_tensor(batch, centroids),
                        model_kwargs={"cluster_prior": prior})

    def plan_without_data(self, num_classes, clusters: int) -> DataPlan:
        k = num_classes or clusters
        return DataPlan(num_classes=k, model_kwargs={"cluster_prior": [1.0 / k] * k})

    def build(self, *, latent_dim: int, **kwargs):
        # The sampler spends z's first coordinate on the cluster; the
        # networks get the rest.
        self.check_config(latent_dim)
        return super().build(latent_dim=latent_dim - 1, **kwargs)
