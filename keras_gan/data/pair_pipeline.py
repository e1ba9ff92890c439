"""`Pairs` (keras_gan/data/pairs.py) as a translator's training run reads
them: the train / val parts of a source, and the tf.data stream of batches.

The stream is a pure function of (seed, batch index): batch j of pass p
over the data takes rows p's permutation (a stateless draw) holds at
[k*B, (k+1)*B). So a resumed run asks for the stream from its step and
gets exactly the batches the uninterrupted run saw, with no shuffle
buffer state to restore.
"""

from __future__ import annotations

import dataclasses

import tensorflow as tf

from keras_gan.data.pairs import Pairs, load_pairs, parse_pair_source
from keras_gan.errors import DataError

VAL_FRACTION = 0.1  # of the user's own data, from its end, held out for the grid and val_l1


def train_val_pairs(spec: str, *, size: int | None = None,
                    background="white") -> tuple[Pairs, Pairs]:
    """(train, val) of a pair source: emoji64's own split (by base emoji),
    else the last 10% (at least one) of each side held out."""
    if parse_pair_source(spec).kind == "emoji64":
        return (load_pairs(spec, "train", size=size, background=background),
                load_pairs(spec, "val", size=size, background=background))
    pairs = load_pairs(spec, size=size, background=background)
    cut = [len(x) - max(1, round(len(x) * VAL_FRACTION)) for x in (pairs.a, pairs.b)]
    if min(cut) < 1:
        raise DataError(f"{spec}: {min(len(pairs.a), len(pairs.b))} image(s) on one side; "
                        "need at least 2 (one is held out for validation).")

    def part(lo_a, hi_a, lo_b, hi_b):
        return dataclasses.replace(pairs, a=pairs.a[lo_a:hi_a], b=pairs.b[lo_b:hi_b],
                                   names=pairs.names[lo_a:hi_a],
                                   names_b=pairs.names_b[lo_b:hi_b])

    return part(0, cut[0], 0, cut[1]), part(cut[0], None, cut[1], None)


def _batch_rows(n: int, batch_size: int, seed: int, side: int):
    """Batch index j -> the rows of batch j of one side (0: A, 1: B)."""
    per_pass = n // batch_size

    def rows(j):
        epoch, k = j // per_pass, j % per_pass
        draw = tf.random.stateless_uniform([n], seed=tf.stack([
            tf.cast(seed, tf.int64) * 2 + side, epoch]))
        return tf.argsort(draw)[k * batch_size:(k + 1) * batch_size]

    return rows


def pair_stream(pairs: Pairs, batch_size: int, *, seed: int = 0, paired: bool = True,
                skip_batches: int = 0) -> tf.data.Dataset:
    """Endless (a, b) batches from batch `skip_batches` on, every pass a new
    order. `paired`: rows of a and b move together (pix2pix); else A and B
    are shuffled each on its own, so no batch holds the pairing (CycleGAN,
    even on paired data). Each pass drops its last partial batch."""
    small = min(len(pairs.a), len(pairs.b))
    if small < batch_size:
        raise DataError(f"{pairs.source}: {small} training images on one side, fewer than "
                        f"batch_size {batch_size}; lower --batch-size.")
    a, b = tf.constant(pairs.a), tf.constant(pairs.b)
    rows_a = _batch_rows(len(pairs.a), batch_size, seed, 0)
    rows_b = rows_a if paired else _batch_rows(len(pairs.b), batch_size, seed, 1)
    ds = tf.data.Dataset.counter(start=skip_batches, dtype=tf.int64)
    ds = ds.map(lambda j: (tf.gather(a, rows_a(j)), tf.gather(b, rows_b(j))),
                num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    return ds.prefetch(tf.data.AUTOTUNE)


def steps_per_pass(pairs: Pairs, batch_size: int, paired: bool) -> int:
    """Batches in one pass over the training data (the larger side, unpaired)."""
    n = len(pairs.a) if paired else max(len(pairs.a), len(pairs.b))
    return max(1, n // batch_size)
