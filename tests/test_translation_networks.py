"""keras_gan/models/translation/networks.py: the U-Net and the PatchGAN."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_gan.models.translation.networks import (
    build_patchgan,
    build_unet,
    patchgan_layers,
    receptive_field,
    unet_depth,
)


@pytest.mark.parametrize("size", [8, 32, 64])
def test_unet_skips_concatenate_mirrored_levels(size):
    width, depth = 4, unet_depth(size)
    assert depth == int(np.log2(size)) - 1  # down to 2x2
    keras.utils.set_random_seed(0)
    unet = build_unet(size, 3, 2, width)
    for j in range(1, depth):
        side = size // 2 ** (depth - j)
        encoder = unet.get_layer(f"down{depth - j}")
        channels = width * min(2 ** (depth - j - 1), 8)
        assert tuple(encoder.output.shape) == (None, side, side, channels)
        # decoder half (same width as its mirror) then the encoder's map
        assert tuple(unet.get_layer(f"skip{j}").output.shape) == (None, side, side, 2 * channels)
    assert tuple(unet.get_layer(f"down{depth}").output.shape[1:3]) == (2, 2)
    dropouts = [layer.name for layer in unet.layers if isinstance(layer, keras.layers.Dropout)]
    assert dropouts == [f"up{j}_dropout" for j in range(1, min(3, depth // 2) + 1)]
    x = np.random.default_rng(0).uniform(-1, 1, (2, size, size, 3)).astype("float32") * 50
    out = np.asarray(unet(x))
    assert out.shape == (2, size, size, 2) and out.dtype == np.float32
    assert out.min() >= -1 and out.max() <= 1 and out.std() > 0
    # inference is deterministic (dropout off), training is not
    np.testing.assert_array_equal(np.asarray(unet(x)), out)
    assert not np.array_equal(np.asarray(unet(x, training=True)), out)


def test_unet_arguments_are_checked():
    with pytest.raises(ValueError, match="power-of-two side"):
        build_unet(24, 3, 3, 4)
    with pytest.raises(ValueError, match="depth must be in 1..4"):
        build_unet(16, 3, 3, 4, depth=5)
    with pytest.raises(ValueError, match="unknown norm 'batch'"):
        build_unet(16, 3, 3, 4, norm="batch")
    assert build_unet(16, 3, 3, 4, depth=4).get_layer("down4").output.shape[1] == 1


def test_receptive_field_is_the_papers():
    assert receptive_field(3) == 70  # the paper's 70x70 PatchGAN
    assert [receptive_field(n) for n in (1, 2, 4)] == [16, 34, 142]
    assert receptive_field(0) == 7  # the two stride-1 4x4 convs alone
    # sizes keep about the paper's 70/256 of the side
    assert [patchgan_layers(s) for s in (8, 16, 32, 64, 128, 256)] == [1, 1, 1, 1, 2, 3]


@pytest.mark.parametrize("size, n_layers", [(32, 1), (64, 2)])
def test_one_logit_sees_exactly_its_receptive_field(size, n_layers):
    keras.utils.set_random_seed(0)
    d = build_patchgan(size, 1, 2, n_layers=n_layers, norm="none")
    x = tf.constant(np.random.default_rng(0).uniform(-1, 1, (1, size, size, 1)), "float32")
    side = size // 2**n_layers
    assert tuple(d.outputs[0].shape) == (None, side, side, 1)
    with tf.GradientTape() as tape:
        tape.watch(x)
        logit = d(x)[0, side // 2, side // 2, 0]
    seen = np.abs(np.asarray(tape.gradient(logit, x))[0, :, :, 0]) > 0
    rows, cols = np.flatnonzero(seen.any(axis=1)), np.flatnonzero(seen.any(axis=0))
    assert rows.min() > 0 and rows.max() < size - 1  # the window lies inside the image
    assert rows.max() - rows.min() + 1 == receptive_field(n_layers)
    assert cols.max() - cols.min() + 1 == receptive_field(n_layers)
    assert seen[rows.min():rows.max() + 1, cols.min():cols.max() + 1].all()


def test_patchgan_judges_pairs_when_conditional():
    d = build_patchgan(16, 3, 4, condition_channels=1)
    assert [i.name for i in d.inputs] == ["source", "images"]
    assert [tuple(i.shape[1:]) for i in d.inputs] == [(16, 16, 1), (16, 16, 3)]
    logits = d([np.zeros((2, 16, 16, 1), "float32"), np.zeros((2, 16, 16, 3), "float32")])
    assert logits.shape == (2, 8, 8, 1) and logits.dtype == "float32"
    single = build_patchgan(16, 3, 4)
    assert [i.name for i in single.inputs] == ["images"]
    with pytest.raises(ValueError, match="n_layers must be >= 1"):
        build_patchgan(16, 3, 4, n_layers=0)
