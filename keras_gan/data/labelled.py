"""Labelled images for the classifier side of GANs: a held-out split that no
training step sees, and the N labelled examples per class a semi-supervised
run (or a linear probe, or an augmentation study) is allowed to use.

The held-out rows are a fixed function of the source, never of the run's
seed, so that runs with different seeds (and different label counts) are
scored on the same images:
- `mnist-sample`: its last 2,000 digits, the digit evaluator's own held-out
  rows (`keras_gan.evaluation.classifiers.HELD_OUT`);
- `emoji64`: the shipped test split by base emoji (`keras_gan.data.splits`),
  so no skin-tone variant or other art style of a test emoji is trained on;
- any other labelled source (npz with `y`, class subfolders, TFDS with
  labels): `HELD_OUT_FRACTION` of each class, drawn with `HELD_OUT_SEED`.

`select_labelled` then picks N examples per class among the training rows
only, with the run's seed. Numpy only: the arrays come from `load_dataset`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from keras_gan.errors import DataError

HELD_OUT_FRACTION = 0.2
# Fixed, and apart from every run seed: the held-out rows of a source are the
# same for every run of it.
HELD_OUT_SEED = 2016  # Salimans et al.'s year


@dataclass(frozen=True)
class LabelledData:
    """A labelled source split once: train rows (all usable without labels)
    and held-out rows (never trained on). x float32 in [-1, 1], y int64."""

    source: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    class_names: tuple[str, ...]
    held_out: str  # how the held-out rows were chosen, in words

    @property
    def num_classes(self) -> int:
        return len(self.class_names)


def held_out_rows(source: str, y: np.ndarray, names=None) -> tuple[np.ndarray, str]:
    """(indices of the held-out rows, ascending; how they were chosen) for a
    source whose labels are `y` (and, for emoji64, row `names`)."""
    y = np.asarray(y)
    if source == "mnist-sample":
        from keras_gan.evaluation.classifiers import HELD_OUT

        return np.arange(len(y) - HELD_OUT, len(y)), f"the last {HELD_OUT} digits"
    if source == "emoji64" and names is not None:
        from keras_gan.data.splits import split_rows

        return split_rows(names, y, "test"), "the shipped emoji64 test split (by base emoji)"
    rng = np.random.default_rng(HELD_OUT_SEED)
    rows = []
    for c in np.unique(y):
        pool = np.flatnonzero(y == c)
        count = int(round(HELD_OUT_FRACTION * len(pool))) if len(pool) > 1 else 0
        rows.append(rng.permutation(pool)[:count])
    return (np.sort(np.concatenate(rows)),
            f"{HELD_OUT_FRACTION:.0%} of each class (numpy seed {HELD_OUT_SEED})")


def select_labelled(y: np.ndarray, per_class: int, seed: int,
                    class_names=None) -> np.ndarray:
    """Indices (ascending) of `per_class` examples of each class of `y`,
    drawn with `numpy.random.default_rng(seed)`, class by class in ascending
    order: the same indices on every machine for a seed. Pass the training
    rows' labels only; the held-out rows are never among them.

    Raises:
        DataError: when per_class < 1 or a class has fewer examples.
    """
    y = np.asarray(y)
    if per_class < 1:
        raise DataError(f"--labels-per-class must be >= 1, got {per_class}.")
    rng = np.random.default_rng(seed)
    chosen = []
    classes = range(len(class_names)) if class_names is not None else np.unique(y)
    for c in classes:
        pool = np.flatnonzero(y == c)
        if len(pool) < per_class:
            name = f" ({class_names[c]})" if class_names is not None else ""
            raise DataError(f"--labels-per-class {per_class}: class {c}{name} has only "
                            f"{len(pool)} training examples.")
        chosen.append(rng.choice(pool, per_class, replace=False))
    return np.sort(np.concatenate(chosen))


def _arrays(ds) -> tuple[np.ndarray, np.ndarray]:
    xs, ys = [], []
    for x, y in ds.batch(1024).as_numpy_iterator():
        xs.append(x)
        ys.append(y)
    return np.concatenate(xs), np.concatenate(ys).astype(np.int64)


def load_labelled(source: str, *, image_size: int | None = None,
                  background="white") -> LabelledData:
    """`source` (any `load_dataset` source with labels) as `LabelledData`.

    Raises:
        DataError: when the source is missing, bad or unlabelled.
    """
    from keras_gan.data.pipeline import load_dataset, require_labels

    ds, info = load_dataset(source, image_size=image_size, background=background)
    if info.kind != "image":
        raise DataError(f"{source} holds {info.kind}, not images: a classifier needs "
                        "labelled images.")
    require_labels(info)
    x, y = _arrays(ds)
    names = None
    if source == "emoji64":
        from keras_gan.data.named import find_named

        with np.load(find_named(source)) as data:
            names = data["name"]
    test, how = held_out_rows(source, y, names)
    train = np.setdiff1d(np.arange(len(y)), test)
    class_names = tuple(info.class_names or (str(i) for i in range(info.num_classes)))
    return LabelledData(source, x[train], y[train], x[test], y[test], class_names, how)
