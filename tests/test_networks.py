"""keras_gan/networks.py: shapes, ranges and dtypes of every builder."""

import keras
import numpy as np
import pytest

from keras_gan.networks import build_networks, dcgan_upsamplings


@pytest.mark.parametrize("shape", [(28, 28, 1), (32, 32, 3), (64, 64, 1), (64, 64, 3)])
def test_dcgan_pair_sized_by_image_shape(shape):
    g, d = build_networks("dcgan", 16, shape, width=8)
    assert g.name == "generator" and d.name == "discriminator"
    assert g.inputs[0].name == "z" and tuple(g.inputs[0].shape) == (None, 16)
    z = np.random.default_rng(0).normal(size=(3, 16)).astype("float32") * 10
    images = g(z, training=False).numpy()
    assert images.shape == (3, *shape)
    assert images.min() >= -1 and images.max() <= 1
    logits = d(images, training=False)
    assert tuple(logits.shape) == (3, 1) and logits.dtype == "float32"


@pytest.mark.parametrize("side, stages", [(28, 2), (32, 3), (64, 4), (48, 3), (8, 1)])
def test_dcgan_upsamplings(side, stages):
    assert dcgan_upsamplings(side) == stages


@pytest.mark.parametrize("side", [7, 30, 100])
def test_dcgan_refuses_sizes_it_cannot_reach(side):
    with pytest.raises(ValueError, match="halves down to 3..7"):
        build_networks("dcgan", 8, (side, side, 1), 4)


def test_mlp_pair_for_points_is_unbounded_and_auto_picks_it():
    g, d = build_networks("auto", 4, (2,), 16)
    assert not any(isinstance(layer, keras.layers.Conv2D) for layer in d.layers)
    z = np.full((5, 4), 50.0, "float32")
    points = g(z).numpy()
    assert points.shape == (5, 2) and np.abs(points).max() > 1  # linear output
    assert tuple(d(points).shape) == (5, 1)


def test_mlp_pair_for_images_is_tanh():
    g, d = build_networks("mlp", 4, (28, 28, 1), 16)
    images = g(np.full((2, 4), 50.0, "float32")).numpy()
    assert images.shape == (2, 28, 28, 1) and np.abs(images).max() <= 1


def test_bad_arch_and_shapes():
    with pytest.raises(ValueError, match="unknown arch"):
        build_networks("resnet", 4, (2,), 8)
    with pytest.raises(ValueError, match="needs images"):
        build_networks("dcgan", 4, (2,), 8)
    with pytest.raises(ValueError, match="square"):
        build_networks("dcgan", 4, (28, 32, 1), 8)


def test_mixed_precision_keeps_float32_outputs():
    keras.mixed_precision.set_dtype_policy("mixed_float16")
    g, d = build_networks("dcgan", 8, (32, 32, 3), 4)
    z = np.zeros((1, 8), "float32")
    assert g(z).dtype == "float32" and d(g(z)).dtype == "float32"
    assert g.layers[1].compute_dtype == "float16"
