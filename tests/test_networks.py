"""keras_gan/models/networks.py: shapes, ranges and dtypes of every builder."""

import keras
import numpy as np
import pytest

from keras_gan.models.networks import build_networks, dcgan_upsamplings, resolve_arch


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
        build_networks("nope", 4, (2,), 8)
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


@pytest.mark.parametrize("shape", [(28, 28, 1), (32, 32, 1), (32, 32, 3), (64, 64, 3)])
@pytest.mark.parametrize("num_classes", [None, 5])
def test_resnet_pair_shapes_dtypes_names(shape, num_classes):
    g, d = build_networks("resnet", 16, shape, width=4, num_classes=num_classes)
    assert g.name == "generator" and d.name == "discriminator"
    assert [t.name for t in g.inputs] == (["z", "labels"] if num_classes else ["z"])
    assert any(isinstance(layer, keras.layers.UpSampling2D) for layer in g.layers)
    assert any(isinstance(layer, keras.layers.AveragePooling2D) for layer in d.layers)
    z = np.random.default_rng(0).normal(size=(3, 16)).astype("float32") * 10
    labels = np.array([0, 2, 4], "int64")
    images = g([z, labels] if num_classes else z, training=False)
    assert images.dtype == "float32" and tuple(images.shape) == (3, *shape)
    images = images.numpy()
    assert np.abs(images).max() <= 1
    logits = d([images, labels] if num_classes else images, training=False)
    assert tuple(logits.shape) == (3, 1) and logits.dtype == "float32"
    if num_classes:  # class-conditional batch norm and a projection head
        names = {layer.name for layer in g.layers} | {layer.name for layer in d.layers}
        assert {"up1_bn1_gain", "out_bn_bias", "label_projection"} <= names


def test_resnet_spectral_norm_only_when_asked():
    def wrapped(d):
        return sum(isinstance(layer, keras.layers.SpectralNormalization) for layer in d.layers)

    _, plain = build_networks("resnet", 8, (32, 32, 3), 4)
    _, normed = build_networks("resnet", 8, (32, 32, 3), 4, spectral_norm=True)
    assert wrapped(plain) == 0
    assert wrapped(normed) == 3 * 3 + 1  # 3 convs per block, 3 blocks, the logit


def test_resnet_refuses_what_it_cannot_build():
    with pytest.raises(ValueError, match="needs images"):
        build_networks("resnet", 4, (2,), 8)
    with pytest.raises(ValueError, match="ResNet networks need a side"):
        build_networks("resnet", 4, (30, 30, 3), 8)


@pytest.mark.parametrize("shape, arch", [
    ((2,), "mlp"), ((28, 28, 1), "dcgan"), ((32, 32, 1), "dcgan"), ((64, 64, 1), "dcgan"),
    ((28, 28, 3), "dcgan"), ((32, 32, 3), "dcgan"), ((64, 64, 3), "resnet"),
    ((128, 128, 3), "resnet"),
])
def test_auto_picks_by_size_and_channels(shape, arch):
    assert resolve_arch("auto", shape) == arch
    assert resolve_arch("tutorial", shape) == "tutorial"


def test_auto_builds_resnet_for_colour():
    g, _ = build_networks("auto", 8, (64, 64, 3), 4)
    assert any(layer.name == "up1_out" for layer in g.layers)


def test_resnet_generator_exports_to_onnx_and_loads_in_safe_mode(tmp_path):
    import onnxruntime as ort

    from export.writer import export_onnx

    g, _ = build_networks("resnet", 8, (32, 32, 3), 4, num_classes=3)
    z = np.random.default_rng(1).normal(size=(2, 8)).astype("float32")
    labels = np.array([0, 2], "int64")
    expected = g([z, labels], training=False).numpy()
    path = export_onnx(g, tmp_path / "g.onnx", {})
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    (got,) = session.run(["images"], {"z": z, "labels": labels})
    np.testing.assert_allclose(got, expected, atol=1e-4)
    g.save(tmp_path / "g.keras")
    loaded = keras.saving.load_model(tmp_path / "g.keras", safe_mode=True)
    np.testing.assert_allclose(loaded([z, labels], training=False).numpy(), expected,
                               atol=1e-6)


def test_tiny_resnet_gan_trains_with_finite_losses():
    import tensorflow as tf

    from keras_gan.models.gan import GAN

    g, d = build_networks("resnet", 8, (32, 32, 3), 8, spectral_norm=True)
    model = GAN(g, d, latent_dim=8, seed=0)
    model.compile()
    images = np.random.default_rng(0).uniform(-1, 1, (8, 32, 32, 3)).astype("float32")
    data = tf.data.Dataset.from_tensor_slices(images).batch(4)
    history = model.fit(data, epochs=1, steps_per_epoch=2, verbose=0)
    losses = {k: v[-1] for k, v in history.history.items() if "loss" in k}
    assert losses and all(np.isfinite(v) for v in losses.values())


def test_vae_auto_on_colour_uses_the_resnet_pair():
    from keras_gan.models.vae import build_vae

    vae = build_vae("auto", 8, (64, 64, 3), 4)
    assert any(layer.name == "up1_out" for layer in vae.generator.layers)
    assert any(layer.name == "down1_out" for layer in vae.encoder.layers)
    z_mean, z_log_var = vae.encoder(np.zeros((2, 64, 64, 3), "float32"))
    assert tuple(z_mean.shape) == (2, 8) and z_log_var.dtype == "float32"
