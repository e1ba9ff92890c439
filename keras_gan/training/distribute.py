"""Distribution: the `tf.distribute` strategy a run trains under, and who writes.

This module owns three things `train.py` and the GAN need under a strategy:

- `make_strategy(name)`: "default" (no strategy, or the one whose scope the
  caller opened), "mirrored" (the local GPUs) or "multiworker" (the machines
  of `TF_CONFIG`), with `TF_CONFIG` checked first so that a bad cluster spec
  fails with its problem named instead of hanging on a connection;
- `is_chief(strategy)`: whether this process writes the run folder. Under
  multiworker every worker runs the same program; only the chief (task type
  "chief", or worker 0 when the cluster has no chief) writes, so that workers
  never race on a shared folder;
- replica-aware helpers for the training step: `ReplicaSeedGenerator` (each
  replica its own noise) and `mean_over_replicas` (a differentiable
  all-reduce for updates that do not go through an optimizer).

The fit batch is the GLOBAL batch: Keras's `fit` splits each batch of
`batch_size * d_steps` examples into one contiguous slice per replica, and
the optimizers sum the replicas' gradients (see `GAN._replica_scale`).
See docs/distributed.md.
"""

from __future__ import annotations

import json
import os

import keras
import tensorflow as tf

from keras_gan.config import STRATEGIES
from keras_gan.errors import UserError


class DistributeError(UserError, ValueError):
    """The strategy cannot be set up as asked; the message says why."""


def parse_tf_config(text: str | None = None) -> dict:
    """The checked `TF_CONFIG` (the environment's when `text` is None).

    MultiWorkerMirroredStrategy reads it itself, but on a missing or wrong
    one it either trains alone (no cluster) or waits for workers that never
    come; checking first turns both into an error that names the problem.
    """
    if text is None:
        text = os.environ.get("TF_CONFIG")
    example = ('e.g. TF_CONFIG=\'{"cluster": {"worker": ["host1:12345", "host2:12345"]}, '
               '"task": {"type": "worker", "index": 0}}\' (docs/distributed.md)')
    if not text:
        raise DistributeError("--strategy multiworker needs the TF_CONFIG environment "
                              f"variable describing the cluster and this task; {example}")
    try:
        config = json.loads(text)
    except json.JSONDecodeError as e:
        raise DistributeError(f"TF_CONFIG is not valid JSON ({e}); {example}") from None
    if not isinstance(config, dict):
        raise DistributeError(f"TF_CONFIG must be a JSON object; {example}")
    cluster, task = config.get("cluster"), config.get("task")
    if not isinstance(cluster, dict) or not cluster:
        raise DistributeError(f"TF_CONFIG has no 'cluster' mapping of job -> addresses; "
                              f"{example}")
    for job, addresses in cluster.items():
        if not (isinstance(addresses, list) and addresses
                and all(isinstance(a, str) and ":" in a for a in addresses)):
            raise DistributeError(f"TF_CONFIG cluster job {job!r} must be a non-empty list "
                                  f"of 'host:port' strings, got {addresses!r}")
    if "worker" not in cluster and "chief" not in cluster:
        raise DistributeError("TF_CONFIG cluster needs a 'worker' (and optionally a "
                              f"'chief') job, got jobs {sorted(cluster)}")
    if len(cluster.get("chief", [])) > 1:
        raise DistributeError(f"TF_CONFIG cluster may have one chief, got {cluster['chief']}")
    if not isinstance(task, dict) or "type" not in task or "index" not in task:
        raise DistributeError("TF_CONFIG has no 'task' with 'type' and 'index' saying which "
                              f"member of the cluster this process is; {example}")
    task_type, index = task["type"], task["index"]
    if task_type not in cluster:
        raise DistributeError(f"TF_CONFIG task type {task_type!r} is not a job of the "
                              f"cluster (jobs: {sorted(cluster)})")
    if not isinstance(index, int) or not 0 <= index < len(cluster[task_type]):
        raise DistributeError(f"TF_CONFIG task index {index!r} is out of range: job "
                              f"{task_type!r} has {len(cluster[task_type])} address(es)")
    return config


def make_strategy(name: str = "default") -> tf.distribute.Strategy:
    """The strategy `name` in STRATEGIES.

    "default" returns the current strategy: TensorFlow's no-op default
    strategy, or the caller's if `train` runs inside its `scope()`.
    "mirrored" replicates over all local GPUs (the CPU when there is none).
    "multiworker" must be created before TensorFlow runs anything in the
    process (TensorFlow's rule for collective ops); it is made once per
    process, as a second cluster configuration is refused.
    """
    if name == "default":
        return tf.distribute.get_strategy()
    if name == "mirrored":
        return tf.distribute.MirroredStrategy()
    if name == "multiworker":
        return _multiworker_strategy()
    raise DistributeError(f"unknown strategy {name!r}; choose {', '.join(STRATEGIES)}")


_MULTIWORKER = None


def _multiworker_strategy():
    global _MULTIWORKER
    if _MULTIWORKER is None:
        parse_tf_config()
        try:
            _MULTIWORKER = tf.distribute.MultiWorkerMirroredStrategy()
        except RuntimeError as e:
            if "program startup" not in str(e):
                raise
            raise DistributeError(
                "--strategy multiworker must be set up before TensorFlow runs anything in "
                "this process; call train() (or make_strategy('multiworker')) first "
                "thing in the program") from None
    return _MULTIWORKER


def is_chief(strategy: tf.distribute.Strategy | None = None) -> bool:
    """Whether this process writes the run folder (True unless multiworker).

    Follows TensorFlow's convention: the task of type "chief" if the cluster
    has one, else worker 0.
    """
    strategy = strategy or tf.distribute.get_strategy()
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None or not resolver.task_type:  # single process
        return True
    jobs = resolver.cluster_spec().as_dict()
    return chief_task(resolver.task_type, resolver.task_id, "chief" in jobs)


def chief_task(task_type: str, task_id: int, cluster_has_chief: bool) -> bool:
    """TensorFlow's chief rule for one task of a cluster."""
    if cluster_has_chief:
        return task_type == "chief"
    return task_type == "worker" and task_id == 0


def check_global_batch(batch_size: int, num_replicas: int) -> None:
    """Raises unless each replica gets an equal share of every minibatch.

    `batch_size` (m) is global: each of the k discriminator updates and the
    generator update of a step uses m examples, split over the replicas.
    An unequal split would weight the examples of the smaller shares more
    (each replica's loss is a mean over its own share).
    """
    if batch_size % num_replicas:
        lower = batch_size // num_replicas * num_replicas
        options = (f"{lower} or {lower + num_replicas}" if lower
                   else f"{num_replicas}")
        raise DistributeError(
            f"--batch-size {batch_size} (the global minibatch) does not divide among the "
            f"{num_replicas} replicas of the strategy; use a multiple of {num_replicas}, "
            f"e.g. {options}")


def check_jit_compile(jit_compile: bool, num_replicas: int) -> None:
    """Raises if XLA is asked for with more than one replica.

    Keras 3.15's TensorFlow trainer compiles the whole distributed step (the
    function that calls `strategy.run`) as one XLA cluster. Over several
    local devices that fails at the first step (the cluster reads variables
    on other devices), and on CPUs XLA has no collective ops at all (both
    seen here with two logical CPUs and two CPU workers). Keras's own
    `jit_compile="auto"` is off under any strategy for the same reason.
    """
    if jit_compile and num_replicas > 1:
        raise DistributeError(
            f"--jit-compile does not work with the {num_replicas} replicas of this strategy "
            "in Keras 3.15 on TensorFlow (XLA compiles the whole distributed step); drop "
            "--jit-compile, or use it on a single device (docs/distributed.md)")


def shard_by_data(dataset: tf.data.Dataset) -> tf.data.Dataset:
    """`dataset` split among workers by batch, not by file.

    Every worker builds the same seeded pipeline, so taking each worker's
    slice of every global batch trains on exactly the batches one process
    would see (and resumes at the same place). The default AUTO policy would
    shard file-backed sources by file, giving each worker different batches.
    """
    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    return dataset.with_options(options)


class ReplicaSeedGenerator(keras.random.SeedGenerator):
    """A `SeedGenerator` whose draws differ between replicas.

    Under a strategy each replica runs the step with its own copy of the
    seed state (Keras creates it with aggregation "none", so copies advance
    in step). A plain generator would give every replica the same seed, so
    all replicas would draw the same latents: the global batch would hold
    each fake `num_replicas` times. Folding the replica id into each seed
    gives each replica its own stream; the state still advances identically
    everywhere, so it checkpoints and resumes as before. Without a strategy
    the seeds are exactly the plain generator's.
    """

    def next(self, ordered=True):
        seed = super().next(ordered)
        context = tf.distribute.get_replica_context()
        if context is None or context.num_replicas_in_sync == 1:
            return seed
        return tf.random.experimental.stateless_fold_in(seed, context.replica_id_in_sync_group)


def step_logs(logs: dict) -> dict:
    """A `train_step`'s returned logs, shaped for Keras's reduction.

    Under multi-worker training Keras 3.15's `fit` reduces what `train_step`
    returns with `strategy.reduce("MEAN", value, axis=0)`
    (keras/src/backend/tensorflow/trainer.py, `reduce_per_replica`), which
    fails on scalars ("Invalid reduction dimension 0 for input with 0
    dimensions", tensorflow/tensorflow#72388). Giving each value an axis of
    length 1 there makes that reduce the mean over the workers, a scalar
    again. Elsewhere the logs are returned as they are.
    """
    if not _multi_worker(tf.distribute.get_strategy()):
        return logs
    return {k: tf.reshape(v, (1,)) if v.shape.rank == 0 else v for k, v in logs.items()}


def _multi_worker(strategy) -> bool:
    """Whether Keras takes its multi-worker path: MultiWorkerMirroredStrategy
    over more than one worker (chief included)."""
    if not isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy):
        return False
    resolver = strategy.cluster_resolver
    jobs = resolver.cluster_spec().as_dict() if resolver else {}
    return len(jobs.get("worker", [])) + len(jobs.get("chief", [])) > 1


def agree_on_finite(grads):
    """Local gradients (a list, None entries kept), made NaN on every replica
    when they are not finite on one; the gradients themselves without a
    strategy.

    Keras 3.15's `LossScaleOptimizer` decides to skip an overflowing step
    from local gradients: under MirroredStrategy from the first replica's
    alone (`_tf_apply` in keras/src/optimizers/loss_scale_optimizer.py; its
    comment assumes all-reduced gradients, which Keras 3 no longer passes),
    so an overflow on another replica reaches the weights (seen here: inf
    weights after one step on two logical CPUs); with no merge_call each
    replica decides alone, and one that skips leaves the others waiting in
    the all-reduce. One shared flag makes all replicas skip together.
    """
    context = tf.distribute.get_replica_context()
    if context is None or context.num_replicas_in_sync == 1:
        return grads
    present = [g for g in grads if g is not None]
    local_bad = tf.cast(tf.logical_not(tf.reduce_all(
        [tf.reduce_all(tf.math.is_finite(g)) for g in present])), "float32")
    any_bad = context.all_reduce(tf.distribute.ReduceOp.SUM, local_bad) > 0
    return [None if g is None else tf.where(any_bad, tf.cast(float("nan"), g.dtype), g)
            for g in grads]


@keras.saving.register_keras_serializable(package="keras_gan")
class ReplicaLossScaleOptimizer(keras.optimizers.LossScaleOptimizer):
    """Keras's `LossScaleOptimizer` with one skip decision for all replicas
    (see `agree_on_finite`); the same optimizer without a strategy."""

    def apply(self, grads, trainable_variables=None):
        return super().apply(agree_on_finite(list(grads)), trainable_variables)


def mean_over_replicas(values):
    """The mean of per-replica `values` (a list, None entries kept) over all
    replicas; the values themselves without a strategy.

    For gradients applied by hand rather than by an optimizer (which sums
    across replicas itself), e.g. the unrolled discriminator steps. The
    all-reduce is differentiable: its gradient is the same all-reduce.
    """
    context = tf.distribute.get_replica_context()
    if context is None or context.num_replicas_in_sync == 1:
        return values
    present = [v for v in values if v is not None]
    reduced = iter(context.all_reduce(tf.distribute.ReduceOp.MEAN, present))
    return [None if v is None else next(reduced) for v in values]
