"""The data pipeline of keras-gan.

This module owns turning a data "source" string (see `SOURCES_HELP`) into a
`tf.data` pipeline of float32 examples: images scaled to [-1, 1], or raw 2D
points for the toy mixtures. The sources themselves are read in
`keras_gan.data.sources`. Bad sources raise `DataError` with a message that
says what is wrong and how to fix it.
"""

import dataclasses
from pathlib import Path

import numpy as np
import tensorflow as tf

from keras_gan.config import SOURCES_HELP  # noqa: F401  (re-exported)
from keras_gan.data.colors import parse_background
from keras_gan.data.named import NAMED
from keras_gan.data.named import find as find_named
from keras_gan.data.sources import (
    _MNIST_SAMPLE,
    SOURCES_POINTER,
    DataInfo,
    _composite,
    _read_folder,
    _read_npz,
    _scale_images,
    sample_gauss1d,
    sample_toy,
)
from keras_gan.errors import DataError

SHUFFLE_BUFFER = 10_000


def load_dataset(
    source: str,
    *,
    image_size: int | None = None,
    seed: int = 0,
    num_points: int = 100_000,
    background: str | tuple[int, int, int] = "white",
) -> tuple[tf.data.Dataset, DataInfo]:
    """Loads a data source as an unbatched dataset of (x, y) pairs.

    Args:
        source: A source string, see `SOURCES_HELP`.
        image_size: If given, images are resized to image_size x image_size.
            Ignored for point sources.
        seed: Seed for sampling the toy mixtures.
        num_points: Number of points drawn for the toy mixtures (and gauss1d).
        background: What transparent images (npz x of shape (N, H, W, 4),
            folder images with alpha) are composited onto, as they load:
            "white", "black" or "#RRGGBB" (or an (r, g, b) tuple of 0..255);
            alpha * rgb + (1 - alpha) * background, rounded to uint8 for
            uint8 images.

    Returns:
        The dataset and its `DataInfo`. x is float32 with shape `info.shape`, in
        [-1, 1] for images (points are left as they are); y is an int64 scalar
        class label, -1 when the source has no labels.

    Raises:
        DataError: If the source is unknown, missing or has bad contents.
    """
    if image_size is not None and image_size < 1:
        raise DataError(f"image_size must be >= 1, got {image_size}.")
    try:
        background = parse_background(background)
    except ValueError as e:
        raise DataError(f"{e}.") from None
    if source == "mnist-sample":
        x, y, _ = _read_npz(_MNIST_SAMPLE)
        names = tuple(str(i) for i in range(10))
        return _from_arrays(source, x, y, image_size, class_names=names)
    if source in NAMED:  # a file in the data folder (keras_gan.data.named)
        x, y, names = _read_npz(find_named(source))
        return _from_arrays(source, x, y, image_size, names, background)
    if source in ("ring", "grid"):
        if num_points < 1:
            raise DataError(f"num_points must be >= 1, got {num_points}.")
        return _from_arrays(source, *sample_toy(source, num_points, seed), None)
    if source == "gauss1d" or source.startswith("gauss1d:"):
        if num_points < 1:
            raise DataError(f"num_points must be >= 1, got {num_points}.")
        return _from_arrays(source, sample_gauss1d(source, num_points, seed), None, None)
    prefix, _, rest = source.partition(":")
    if rest and prefix == "tfds":
        return _load_tfds(source, rest, image_size)
    if rest and prefix == "folder":
        x = _read_folder(Path(rest).expanduser(), image_size, background)
        return _from_arrays(source, x, None, None)
    if rest and prefix == "npz":
        x, y, names = _read_npz(Path(rest).expanduser())
        return _from_arrays(source, x, y, image_size, names, background)
    raise DataError(f"Unknown data source {source!r}; {SOURCES_POINTER}.")


def make_dataset(
    source: str,
    batch_size: int,
    *,
    image_size: int | None = None,
    seed: int = 0,
    shuffle: bool = True,
    repeat: bool = True,
    drop_remainder: bool = True,
    with_labels: bool = False,
    skip_batches: int = 0,
    cache: bool = True,
    num_points: int = 100_000,
    background: str | tuple[int, int, int] = "white",
) -> tuple[tf.data.Dataset, DataInfo]:
    """Builds the training pipeline for a data source.

    load_dataset -> cache -> shuffle (seeded, reshuffled each epoch) -> repeat ->
    batch -> skip(skip_batches) -> prefetch. With a fixed seed and the same
    TensorFlow global seed (tf.data mixes it into every op seed; `train` sets
    both from the config's seed in every process) the batch order is the same
    in every process, so a resumed run passes the number of batches it has
    already trained on as `skip_batches` and sees exactly the batches an
    uninterrupted run would see next.

    Args:
        source: A source string, see `SOURCES_HELP`.
        batch_size: Examples per batch, >= 1.
        image_size: If given, images are resized to image_size x image_size.
        seed: Seed for shuffling (and for sampling the toy mixtures).
        shuffle: Whether to shuffle the examples.
        repeat: Whether to repeat the data forever.
        drop_remainder: Whether to drop a last, smaller batch.
        with_labels: Yield (x, y) batches instead of x batches.
        skip_batches: Number of batches to skip from the start.
        cache: Whether to cache the decoded examples in memory.
        num_points: Number of points drawn for the toy mixtures.
        background: What transparent images are composited onto, see
            `load_dataset`.

    Returns:
        The batched dataset and the source's `DataInfo`.

    Raises:
        DataError: On a bad source or argument, or if `with_labels` is set and the
            source has no labels.
    """
    ds, info = load_dataset(source, image_size=image_size, seed=seed, num_points=num_points,
                            background=background)
    ds = batch_dataset(ds, info, batch_size, seed=seed, shuffle=shuffle, repeat=repeat,
                       drop_remainder=drop_remainder, with_labels=with_labels,
                       skip_batches=skip_batches, cache=cache)
    return ds, info


def batch_dataset(
    ds: tf.data.Dataset,
    info: DataInfo,
    batch_size: int,
    *,
    seed: int = 0,
    shuffle: bool = True,
    repeat: bool = True,
    drop_remainder: bool = True,
    with_labels: bool = False,
    skip_batches: int = 0,
    cache: bool = True,
    label_map=None,
) -> tf.data.Dataset:
    """The training pipeline of `make_dataset` on an already loaded source
    (`load_dataset`'s (x, y) dataset and info), so that a run decodes its
    source once however many pipelines it builds. `label_map` (x batch ->
    labels) makes (x, label_map(x)) batches, e.g. k-means clusters."""
    if batch_size < 1:
        raise DataError(f"batch_size must be >= 1, got {batch_size}.")
    if skip_batches < 0:
        raise DataError(f"skip_batches must be >= 0, got {skip_batches}.")
    if with_labels:
        require_labels(info)
    else:
        # Drop labels before caching so the cache holds only what is used.
        ds = ds.map(lambda x, y: x)
    if cache:
        ds = ds.cache()
    if shuffle:
        buffer = min(info.num_examples or SHUFFLE_BUFFER, SHUFFLE_BUFFER)
        ds = ds.shuffle(buffer, seed=seed, reshuffle_each_iteration=True)
    if repeat:
        ds = ds.repeat()
    ds = ds.batch(batch_size, drop_remainder=drop_remainder)
    if skip_batches:
        ds = ds.skip(skip_batches)
    if label_map is not None:
        ds = ds.map(lambda x: (x, label_map(x)))
    return ds.prefetch(tf.data.AUTOTUNE)


def require_labels(info: DataInfo) -> None:
    """Raises DataError unless the source described by `info` is labelled."""
    if info.num_classes is None:
        raise DataError(
            f"Data source {info.source!r} has no labels, so it cannot be used with "
            "labels (with_labels=True); use a labelled source such as mnist-sample."
        )


def first_examples(ds: tf.data.Dataset, n: int) -> np.ndarray:
    """The first `n` (or all, if fewer) x of a `load_dataset` dataset, stacked."""
    return np.stack([x for x, _ in ds.take(n).as_numpy_iterator()])


def _from_arrays(source, x, y, image_size, class_names=None, background=(255, 255, 255)):
    """Validates and scales in-memory arrays and wraps them in a dataset."""
    if x.ndim == 2:
        kind = "points"
    elif x.ndim == 3 or (x.ndim == 4 and x.shape[-1] in (1, 3, 4)):
        kind = "image"
    else:
        raise DataError(
            f"{source}: x has shape {x.shape}; accepted are (N, H, W) or (N, H, W, C) "
            "with C in {1, 3, 4} (4: RGBA) for images, and (N, D) for points."
        )
    if x.size == 0 or x.dtype.kind not in "iuf":  # not bool, complex, text, objects
        raise DataError(f"{source}: x must be non-empty and numeric, got {x.dtype}.")
    if x.dtype.kind == "f" and not np.isfinite(x).all():
        # One NaN in the data makes every loss NaN a few steps later; say where.
        bad = np.argwhere(~np.isfinite(x))
        raise DataError(f"{source}: x holds {len(bad)} NaN or infinite values, the first "
                        f"at index {tuple(int(i) for i in bad[0])}.")
    if kind == "points":
        x = x.astype(np.float32)
    else:
        x = x.reshape(x.shape[:3] + (-1,))
        if x.shape[-1] == 4:
            x = _composite(source, x, background)
        x = _scale_images(source, x)
    num_classes = None
    if y is None:
        y = np.full(len(x), -1, np.int64)
        class_names = None  # Names without labels name nothing.
    else:
        if y.shape != (len(x),) or not np.issubdtype(y.dtype, np.integer):
            msg = f"integer labels of shape ({len(x)},) to match x"
            raise DataError(f"{source}: y must be {msg}, got {y.dtype} {y.shape}.")
        if y.min() < 0:
            raise DataError(f"{source}: labels must be >= 0, found {y.min()}.")
        y = y.astype(np.int64)
        num_classes = int(y.max()) + 1
        if class_names is not None:
            if len(class_names) < num_classes:
                raise DataError(f"{source}: class_names has {len(class_names)} names but the "
                                f"labels go up to {num_classes - 1}.")
            num_classes = len(class_names)
    ds = tf.data.Dataset.from_tensor_slices((x, y))
    shape = x.shape[1:]
    if kind == "image" and image_size is not None and shape[:2] != (image_size,) * 2:
        ds = ds.map(lambda x, y: (_resize(x, image_size), y), tf.data.AUTOTUNE)
        shape = (image_size, image_size, shape[2])
    info = DataInfo(source, kind, tuple(shape), len(x), num_classes, class_names)
    return ds, info


def _resize(image, size):
    # Antialiasing keeps downscaled digits smooth; bilinear weights are
    # non-negative, the clip only guards against rounding.
    image = tf.image.resize(image, (size, size), "bilinear", antialias=True)
    return tf.clip_by_value(image, -1.0, 1.0)


def _load_tfds(source, spec, image_size):
    import tensorflow_datasets as tfds  # Heavy, and only needed for TFDS sources.

    # Split on the first colon only: splits such as "train[:10%]" contain colons.
    name, _, split = spec.partition(":")
    split = split or "train"
    try:
        ds, info = tfds.load(name, split=split, shuffle_files=False, with_info=True)
    except tfds.core.DatasetNotFoundError as e:
        raise DataError(f"Unknown TFDS data set {name!r} (the names are at "
                        f"https://www.tensorflow.org/datasets/catalog); {SOURCES_POINTER}.") from e
    except Exception as e:  # Download, preparation or split errors: say which.
        msg = f"Could not load TFDS data set {name!r} split {split!r}: {e}"
        raise DataError(msg) from e
    features = info.features
    if "image" not in features:
        raise DataError(f"TFDS data set {name!r} has no 'image' feature.")
    image_shape = tuple(features["image"].shape)
    if len(image_shape) != 3 or image_shape[2] not in (1, 3):
        raise DataError(
            f"TFDS data set {name!r} has images of shape {image_shape}; only "
            "(H, W, C) images with C in {1, 3} are supported."
        )
    h, w, c = image_shape
    if image_size is None and (h is None or w is None):
        raise DataError(
            f"TFDS data set {name!r} has images of varying size; pass "
            "--image-size N (image_size=N) to resize them to N x N."
        )
    label = features["label"] if "label" in features else None
    label = label if isinstance(label, tfds.features.ClassLabel) else None
    # Half the dtype's max maps [0, max] to [-1, 1] for uint8 and uint16 alike.
    half = tf.as_dtype(features["image"].dtype).max / 2
    resize = image_size is not None and (h, w) != (image_size, image_size)
    shape = (image_size, image_size, c) if resize else (h, w, c)

    def convert(example):
        x = tf.cast(example["image"], tf.float32) / half - 1
        if resize:
            x = _resize(x, image_size)
        x = tf.ensure_shape(x, shape)
        y = example["label"] if label is not None else tf.constant(-1)
        return x, tf.cast(y, tf.int64)

    ds = ds.map(convert, num_parallel_calls=tf.data.AUTOTUNE)
    try:
        num_examples = info.splits[split].num_examples
    except (KeyError, ValueError):  # e.g. mocked data sets carry no split info.
        num_examples = None
    info = DataInfo(source, "image", shape, num_examples)
    if label is not None:
        info = dataclasses.replace(
            info, num_classes=label.num_classes, class_names=tuple(label.names)
        )
    return ds, info
