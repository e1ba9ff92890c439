"""The 1D Gaussian sources (`gauss1d`, `gauss1d:MEAN,STD`) of keras_gan.data.pipeline."""

import numpy as np
import pytest

from keras_gan.data.pipeline import DataError, load_dataset, make_dataset
from keras_gan.data.sources import gauss1d_params, sample_gauss1d


def test_params_default_and_given():
    assert gauss1d_params("gauss1d") == (0.0, 1.0)
    assert gauss1d_params("gauss1d:2,0.5") == (2.0, 0.5)
    assert gauss1d_params("gauss1d:-1e-1,3") == (-0.1, 3.0)


@pytest.mark.parametrize("source, message", [
    ("gauss1d:", "Not a 1D Gaussian source"),
    ("gauss1d:1", "expected gauss1d:MEAN,STD"),
    ("gauss1d:a,b", "expected gauss1d:MEAN,STD"),
    ("gauss1d:1,2,3", "expected gauss1d:MEAN,STD"),
    ("gauss1d:0,0", "STD > 0"),
    ("gauss1d:0,-1", "STD > 0"),
    ("gauss1d:nan,1", "MEAN must be finite"),
    ("gauss2d", "Not a 1D Gaussian source"),
])
def test_bad_specs_are_one_line_data_errors(source, message):
    with pytest.raises(DataError, match=message):
        gauss1d_params(source)


def test_samples_follow_the_distribution_and_the_seed():
    x = sample_gauss1d("gauss1d:2,0.5", 50_000, seed=3)
    assert x.shape == (50_000, 1) and x.dtype == np.float32
    assert abs(x.mean() - 2.0) < 0.02 and abs(x.std() - 0.5) < 0.01
    np.testing.assert_array_equal(x, sample_gauss1d("gauss1d:2,0.5", 50_000, seed=3))
    assert not np.array_equal(x, sample_gauss1d("gauss1d:2,0.5", 50_000, seed=4))


def test_load_and_make_dataset():
    ds, info = load_dataset("gauss1d:-1,2", num_points=1000, seed=1)
    assert (info.kind, info.shape, info.num_examples, info.num_classes) == (
        "points", (1,), 1000, None)
    x = np.stack([x for x, _ in ds.as_numpy_iterator()])
    np.testing.assert_array_equal(x, sample_gauss1d("gauss1d:-1,2", 1000, seed=1))
    batches, _ = make_dataset("gauss1d", 64, num_points=500)
    assert next(iter(batches)).shape == (64, 1)
    with pytest.raises(DataError, match="num_points"):
        load_dataset("gauss1d", num_points=0)


def test_sample_plot_of_1d_points_is_a_histogram(tmp_path):
    from keras_gan.data.images import save_scatter

    path = save_scatter(tmp_path / "h.png", sample_gauss1d("gauss1d", 500, 0), title="1D")
    assert path.stat().st_size > 1000
