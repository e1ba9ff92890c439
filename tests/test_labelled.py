"""keras_gan/data/labelled.py: the held-out rows are fixed by the source, the
labelled rows are stratified, seeded and never held out."""

import numpy as np
import pytest

from keras_gan.data.labelled import (
    HELD_OUT_FRACTION,
    held_out_rows,
    load_labelled,
    select_labelled,
)
from keras_gan.errors import DataError


def _labels(per_class=(30, 50, 20)):
    y = np.concatenate([np.full(n, c) for c, n in enumerate(per_class)])
    return np.random.default_rng(0).permutation(y)


def test_selection_is_stratified_and_reproducible():
    y = _labels()
    a = select_labelled(y, 5, seed=3)
    assert np.array_equal(a, select_labelled(y, 5, seed=3))
    assert np.array_equal(np.bincount(y[a]), [5, 5, 5])
    assert np.all(np.diff(a) > 0)  # ascending, no repeats
    assert not np.array_equal(a, select_labelled(y, 5, seed=4))


def test_more_labels_per_class_than_a_class_has_names_the_class():
    with pytest.raises(DataError, match=r"class 2 \(cat\) has only 20"):
        select_labelled(_labels(), 25, seed=0, class_names=("a", "b", "cat"))
    with pytest.raises(DataError, match="must be >= 1"):
        select_labelled(_labels(), 0, seed=0)


def test_held_out_rows_are_a_fixed_share_of_each_class():
    y = _labels()
    test, how = held_out_rows("npz:mine.npz", y)
    again, _ = held_out_rows("npz:other.npz", y)
    assert np.array_equal(test, again)  # fixed by the labels, never by a run seed
    expected = np.round(HELD_OUT_FRACTION * np.array([30, 50, 20]))
    assert np.array_equal(np.bincount(y[test]), expected)
    assert "20% of each class" in how


def test_mnist_sample_holds_out_the_digit_evaluators_last_rows():
    from keras_gan.evaluation.classifiers import HELD_OUT

    test, how = held_out_rows("mnist-sample", np.zeros(10_000, int))
    assert np.array_equal(test, np.arange(10_000 - HELD_OUT, 10_000))
    assert how == f"the last {HELD_OUT} digits"


def test_load_labelled_never_selects_held_out_rows(tmp_path):
    rng = np.random.default_rng(1)
    x = rng.integers(0, 256, (60, 8, 8, 1), dtype=np.uint8)
    y = np.arange(60) % 3
    x[:, 0, 0, 0] = np.arange(60)  # each row marked, to find it again
    path = tmp_path / "mine.npz"
    np.savez(path, x=x, y=y)
    data = load_labelled(f"npz:{path}")
    assert len(data.x_train) + len(data.x_test) == 60
    assert data.num_classes == 3 and len(data.x_test) == 12
    mark = lambda xs: set(np.round((xs[:, 0, 0, 0] + 1) * 127.5).astype(int))  # noqa: E731
    train_rows, test_rows = mark(data.x_train), mark(data.x_test)
    assert not train_rows & test_rows
    picked = select_labelled(data.y_train, 4, seed=0)
    assert not mark(data.x_train[picked]) & test_rows
    # labels travel with their images
    assert np.array_equal(y[sorted(train_rows)], data.y_train[np.argsort(
        np.round((data.x_train[:, 0, 0, 0] + 1) * 127.5))])


def test_an_unlabelled_source_is_refused_by_name(tmp_path):
    path = tmp_path / "plain.npz"
    np.savez(path, x=np.zeros((4, 8, 8, 1), np.uint8))
    with pytest.raises(DataError, match="label"):
        load_labelled(f"npz:{path}")
