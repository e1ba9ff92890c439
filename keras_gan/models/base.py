"""`GenerativeModel`: the Keras plumbing every keras-gan model shares.

`GAN` (two networks, two optimizers) and `VAE` (one loss, one optimizer)
differ in their steps and nothing else; what they share lives here once:
the model's own RNG (saved with the weights), the metric trackers, loss
scaling under mixed precision, the replica scaling of hand-written losses
under tf.distribute, compile-config (de)serialization of any number of
named optimizers, and the small Keras workarounds a wrapper model needs.

A subclass sets `optimizer_names` (the attributes `compile` sets, in
order, the last one being `model.optimizer`, whose `iterations` counts
steps), `metric_names`, and implements `train_step`.
"""

from __future__ import annotations

import keras
import tensorflow as tf

from keras_gan.training.distribute import ReplicaLossScaleOptimizer, ReplicaSeedGenerator, step_logs


def unwrap_optimizer(optimizer):
    """The user's optimizer inside a `LossScaleOptimizer` (for configs)."""
    return getattr(optimizer, "inner_optimizer", optimizer)


def check_networks(**networks) -> None:
    """Each network must be a built `keras.Model` (e.g. functional)."""
    for role, net in networks.items():
        if not isinstance(net, keras.Model) or not net.built:
            raise ValueError(f"{role} must be a built keras.Model (e.g. functional), "
                             f"got {type(net).__name__}")


class GenerativeModel(keras.Model):
    """Base of `GAN` and `VAE`; not registered, never built directly.

    Args:
        seed: seed of the model's `SeedGenerator`, the source of every random
            draw inside a step; its state is saved with the weights, so a
            resumed run continues the same noise stream.
    """

    metric_names: tuple[str, ...] = ()
    optimizer_names: tuple[str, ...] = ("optimizer",)

    def __init__(self, seed=None, seed_name="seed", **kwargs):
        super().__init__(**kwargs)
        self.seed = seed
        # Replica-aware: under tf.distribute a plain SeedGenerator hands every
        # replica the same noise (keras_gan/training/distribute.py).
        self.seed_generator = ReplicaSeedGenerator(seed, name=seed_name)

    def _make_trackers(self, names) -> None:
        self.trackers = {name: keras.metrics.Mean(name=name) for name in names}
        # The networks are built on construction; the wrapper has no weights of
        # its own. Marking it built lets save_weights / BackupAndRestore work.
        self.built = True

    # -- Keras plumbing ------------------------------------------------------

    def call(self, inputs, training=False):
        """`model(z)` is the generator's output, so `model.predict(z)` samples."""
        return self.generator(inputs, training=training)

    def build(self, input_shape=None):
        self.built = True

    def _maybe_symbolic_build(self, iterator=None, data_batch=None):
        # Under a strategy, Keras (3.15, TF backend) builds compiled losses and
        # metrics here, from a MEAN over replicas of the first batch. These
        # models compile neither, and under MultiWorkerMirroredStrategy that
        # MEAN fails on an (images, labels) batch ("Attempt to convert a value
        # (PerReplica...)"): conditional and clustered runs. Nothing to build.
        return

    @property
    def metrics(self):
        # Listed here so that fit resets them at each epoch.
        return list(self.trackers.values())

    def _loss_scaled(self, optimizer, **kwargs):
        """`optimizer` wrapped for loss scaling under `mixed_float16` (Keras
        wraps only a model's own `compile(optimizer=...)`). Not under
        `mixed_bfloat16`: bfloat16 has float32's exponent range, so gradients
        do not underflow (Keras makes the same choice)."""
        optimizer = keras.optimizers.get(optimizer)
        if (self.dtype_policy.name != "mixed_float16"
                or isinstance(optimizer, keras.optimizers.LossScaleOptimizer)):
            return optimizer
        # Keras's, with one overflow decision for all replicas (distribute.py).
        return ReplicaLossScaleOptimizer(optimizer, **kwargs)

    def _compile(self, optimizers: dict, variables: dict, jit_compile, steps_per_execution,
                 run_eagerly):
        """Sets the named optimizers, compiles, and builds each on its variables.

        Build now: `load_weights` silently drops the moments of an optimizer
        that has no variables yet, and Keras builds only `model.optimizer`.
        """
        objects = list(optimizers.values())
        if len({id(o) for o in objects}) != len(objects):
            raise ValueError(f"{' and '.join(optimizers)} must be different optimizer "
                             "objects: each holds the moments of its own network")
        for name, optimizer in optimizers.items():
            setattr(self, name, optimizer)
        super().compile(optimizer=objects[-1], jit_compile=jit_compile,
                        steps_per_execution=steps_per_execution, run_eagerly=run_eagerly)
        for name, optimizer in optimizers.items():
            optimizer.build(variables[name])

    def get_compile_config(self):
        if not getattr(self, "compiled", False):
            return None
        config = {name: keras.saving.serialize_keras_object(
            unwrap_optimizer(getattr(self, name))) for name in self.optimizer_names}
        return {**config, "jit_compile": bool(self.jit_compile),
                "steps_per_execution": self.steps_per_execution}

    def compile_from_config(self, config):
        config = dict(config)
        for key in self.optimizer_names:
            config[key] = keras.saving.deserialize_keras_object(config[key])
        self.compile(**config)

    def save_own_variables(self, store):
        # SeedGenerator is not saveable by Keras; keep its state with the
        # weights so that a resumed run draws the noise an uninterrupted one
        # would have drawn. The same for the layers that own one (a Dropout
        # given a seed, as the translators' U-Nets are).
        store["seed_state"] = keras.ops.convert_to_numpy(self.seed_generator.state)
        for i, generator in enumerate(self._layer_seed_generators()):
            store[f"layer_seed_state_{i}"] = keras.ops.convert_to_numpy(generator.state)

    def load_own_variables(self, store):
        keys = store.keys()
        if "seed_state" in keys:
            self.seed_generator.state.assign(store["seed_state"][...])
        for i, generator in enumerate(self._layer_seed_generators()):
            if f"layer_seed_state_{i}" in keys:  # files from before they were kept
                generator.state.assign(store[f"layer_seed_state_{i}"][...])

    def _layer_seed_generators(self) -> list:
        """The seed generators of the networks' layers, in a fixed order."""
        return [layer.seed_generator
                for layer in self._flatten_layers(include_self=False, recursive=True)
                if isinstance(getattr(layer, "seed_generator", None), keras.random.SeedGenerator)
                and layer.seed_generator is not self.seed_generator]

    # -- helpers of the steps ------------------------------------------------

    def _replica_scale(self):
        # Gradients are summed across replicas by the optimizer; a per-replica
        # mean loss must be divided by the replica count to give the mean over
        # the global batch (Keras's own losses do this too).
        return 1.0 / tf.distribute.get_strategy().num_replicas_in_sync

    def _apply(self, optimizer, tape, loss, variables, norm: bool = False):
        """One update of `variables` down the gradient of `loss` (taped).

        With `norm`, returns the global L2 norm of the gradient of the
        unscaled loss (this replica's: `loss` divided by the loss scale and
        the replica scale), read before the update; else None. Off, the step
        is exactly what it was: the norm is a few reductions, traced only
        when asked for.
        """
        grads = tape.gradient(loss, variables)
        value = None
        if norm:
            scale = self._replica_scale()
            if isinstance(optimizer, keras.optimizers.LossScaleOptimizer):
                scale = scale * keras.ops.cast(optimizer.dynamic_scale, "float32")
            value = tf.linalg.global_norm(
                [keras.ops.cast(g, "float32") for g in grads if g is not None]) / scale
        optimizer.apply_gradients(zip(grads, variables, strict=True))
        return value

    def _logs(self, values: dict) -> dict:
        """Feeds the trackers; returns their results shaped for Keras's
        multi-worker reduction (distribute.py)."""
        for name, value in values.items():
            self.trackers[name].update_state(value)
        return step_logs({name: t.result() for name, t in self.trackers.items()})
