"""CycleGAN's history of generated images (Shrivastava et al. 2017, 2.3).

The discriminators are updated on a mix of the newest fakes and older ones,
so that D does not forget what the generator used to make and G cannot win
by oscillating between modes D has stopped checking. CycleGAN keeps 50.
"""

from __future__ import annotations

import keras
import tensorflow as tf
from keras import ops


class FakeHistory(keras.layers.Layer):
    """A pool of up to `capacity` earlier fakes, kept in non-trainable
    variables: saved with the model's weights, updated inside `tf.function`.

    Args:
        capacity: images kept (0: `query` returns the fakes themselves).
        image_shape: (H, W, C) of one fake.
    """

    def __init__(self, capacity: int = 50, image_shape=(), **kwargs):
        kwargs.setdefault("dtype", "float32")  # images are kept in float32 whatever the policy
        super().__init__(**kwargs)
        if int(capacity) < 0:
            raise ValueError(f"capacity must be >= 0, got {capacity}")
        self.capacity = int(capacity)
        self.image_shape = tuple(int(s) for s in image_shape)
        self.images = self.add_weight(shape=(self.capacity, *self.image_shape),
                                      initializer="zeros", dtype="float32",
                                      trainable=False, name="images")
        self.count = self.add_weight(shape=(), initializer="zeros", dtype="int32",
                                     trainable=False, name="count")
        self.built = True

    def get_config(self):
        return {**super().get_config(), "capacity": self.capacity,
                "image_shape": self.image_shape}

    def query(self, fakes, seed_generator):
        """The images D should see for the batch `fakes`, one per fake.

        In order, for each fake: while the pool is not full, it is stored
        and returned; once full, with probability 1/2 a uniformly chosen
        stored image is returned and the fake takes its place, else the fake
        itself is returned (the reference implementation's rule). Random
        draws come from `seed_generator` alone: a uniform u per fake (u >
        1/2 swaps) and a slot index per fake, both drawn for the whole batch.
        """
        fakes = ops.stop_gradient(ops.cast(fakes, "float32"))
        if not self.capacity:
            return fakes
        n = ops.shape(fakes)[0]
        u = keras.random.uniform((n,), seed=seed_generator)
        slots = keras.random.randint((n,), 0, self.capacity, seed=seed_generator)

        def step(i, pool, count, out):
            fake = fakes[i]
            filling = count < self.capacity
            swap = tf.logical_and(tf.logical_not(filling), u[i] > 0.5)
            slot = tf.where(filling, count, tf.cast(slots[i], "int32"))
            returned = tf.where(swap, pool[slot], fake)
            stored = tf.where(tf.logical_or(filling, swap), fake, pool[slot])
            pool = tf.tensor_scatter_nd_update(pool, [[slot]], stored[None])
            out = tf.tensor_scatter_nd_update(out, [[i]], returned[None])
            return i + 1, pool, count + tf.cast(filling, "int32"), out

        _, pool, count, out = tf.while_loop(
            lambda i, *_: i < n, step,
            (tf.constant(0), tf.convert_to_tensor(self.images), tf.convert_to_tensor(self.count),
             tf.zeros_like(fakes)))
        self.images.assign(pool)
        self.count.assign(count)
        return out
