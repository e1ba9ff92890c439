"""Clustered GAN: an unconditional GAN trained as a conditional one on k-means
clusters of the real data (keras_gan/clusters.py says why).

Training is the conditional loop unchanged: the data yields (images, cluster
index), D is a projection discriminator, fakes in a D update take the real
minibatch's clusters. Two things differ from `cgan`:
- the generator's own updates draw clusters in the clusters' proportions
  (`cluster_prior`), not uniformly, because that is how the sampler draws them;
- what is sampled and exported (`sampler`) takes z alone: its first
  coordinate picks the cluster, the rest is the trained generator's noise.
"""

from __future__ import annotations

import keras

from keras_gan.clusters import cluster_boundaries, cluster_of, unconditional_sampler
from keras_gan.gan import GAN


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
