"""keras_gan/data/images.py: the uint8 edge."""

import numpy as np
from PIL import Image

from keras_gan.data.images import make_grid, save_grid, save_scatter, to_uint8


def test_to_uint8_maps_the_range_and_clips():
    x = np.array([-1.0, 0.0, 1.0, -3.0, 2.0], np.float32)
    np.testing.assert_array_equal(to_uint8(x), [0, 128, 255, 0, 255])


def test_grid_layout():
    images = np.stack([np.full((2, 3, 1), i, np.uint8) for i in range(5)])
    grid = make_grid(images, cols=3, pad=1)
    assert grid.shape == (2 * 3 + 1, 3 * 4 + 1, 1)
    assert grid[1, 1, 0] == 0 and grid[1, 5, 0] == 1 and grid[4, 5, 0] == 4


def test_save_grid_and_scatter(tmp_path):
    images = np.random.default_rng(0).uniform(-1, 1, (4, 8, 8, 3)).astype(np.float32)
    path = save_grid(tmp_path / "a" / "g.png", images, scale=2)
    assert Image.open(path).size == (2 * (2 * 10 + 2),) * 2
    pts = np.random.default_rng(0).normal(size=(100, 2))
    path = save_scatter(tmp_path / "s.png", pts, centres=np.eye(2), title="t")
    assert Image.open(path).size[0] > 100
