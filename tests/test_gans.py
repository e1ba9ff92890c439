"""keras_gan/gans: the registry, and one tiny fit per registered variant."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_gan.gan import GAN
from keras_gan.gans import build_gan, get_gan, list_gans, register_gan
from keras_gan.losses import LOSSES
from keras_gan.networks import build_networks


def test_registry_lists_the_loss_families():
    names = list_gans()
    assert {"gan", "nsgan", "dcgan", "lsgan", "hinge"} <= set(names)
    assert get_gan("gan").loss == "minimax"
    assert get_gan("dcgan").loss == "non_saturating"


@pytest.mark.parametrize("name", list_gans())
def test_each_variant_fits_with_finite_losses(name):
    spec = get_gan(name)
    num_classes = 3 if spec.conditional else None
    keras.utils.set_random_seed(0)
    g, d = build_networks("mlp", 4, (2,), 16, num_classes=num_classes)
    gan = build_gan(name, g, d, seed=0, num_classes=num_classes)
    assert isinstance(gan, spec.cls)
    assert gan.loss_name == spec.loss
    gan.compile(keras.optimizers.Adam(1e-3), keras.optimizers.Adam(1e-3))
    x = np.random.default_rng(0).normal(size=(128, 2)).astype("float32")
    data = (x, np.arange(128) % 3) if spec.conditional else x
    w0 = [v.numpy().copy() for v in gan.generator.trainable_variables]
    history = gan.fit(tf.data.Dataset.from_tensor_slices(data).batch(32), epochs=1,
                      verbose=0).history
    for key in ("d_loss", "g_loss"):
        assert np.isfinite(history[key]).all()
    assert any(not np.allclose(a, v.numpy())
               for a, v in zip(w0, gan.generator.trainable_variables, strict=True))


def test_loss_override_and_bad_names():
    g, d = build_networks("mlp", 4, (2,), 8)
    assert build_gan("dcgan", g, d, loss="hinge").loss_name == "hinge"
    with pytest.raises(ValueError, match="is conditional"):
        build_gan("cgan", g, d)
    with pytest.raises(ValueError, match="registered: .*dcgan"):
        get_gan("no-such-gan")
    with pytest.raises(ValueError, match="already registered"):
        register_gan("dcgan", loss="hinge", description="dup")
    with pytest.raises(ValueError, match="unknown loss"):
        register_gan("new-variant", loss="nope", description="")
    with pytest.raises(TypeError, match="GAN subclass"):
        register_gan("new-variant", loss="hinge", description="", cls=dict)
    assert set(LOSSES) >= {get_gan(n).loss for n in list_gans()}
    assert issubclass(get_gan("gan").cls, GAN)
