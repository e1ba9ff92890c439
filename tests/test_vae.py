"""keras_gan/models/vae.py: the ELBO terms, the step, the generator contract, saving, export."""

import math

import keras
import numpy as np
import pytest
import tensorflow as tf

from export.runtime import OnnxGenerator, sample_latents
from keras_gan.models.vae import (
    RECON_SIGMA,
    VAE,
    build_encoder,
    build_vae,
    gaussian_kl,
    reconstruction_loss,
)
from keras_gan.training.run_folder import export_run


def tiny_image_vae(seed=0, latent_dim=8, lr=1e-3):
    keras.utils.set_random_seed(seed)
    vae = build_vae("dcgan", latent_dim, (28, 28, 1), 4, seed=seed)
    vae.compile(keras.optimizers.Adam(lr))
    return vae


def tiny_points_vae(seed=0, latent_dim=2, lr=1e-2):
    keras.utils.set_random_seed(seed)
    vae = build_vae("mlp", latent_dim, (2,), 16, depth=2, seed=seed, sigma=0.1)
    vae.compile(keras.optimizers.Adam(lr))
    return vae


def fixed_images(n=8):
    """n different images in [-1, 1]: a bright square on a dark field each."""
    x = -np.ones((n, 28, 28, 1), "float32")
    for i in range(n):
        r, c = 2 + 3 * (i % 4), 2 + 6 * (i // 4)
        x[i, r:r + 12, c:c + 12] = 1.0
    return x


def images_ds(n=8, batch=8, repeat=1):
    return tf.data.Dataset.from_tensor_slices(fixed_images(n)).repeat(repeat).batch(batch)


def points_ds(n=64, batch=32, repeat=1):
    x = np.random.default_rng(0).normal(size=(n, 2)).astype("float32") * 0.5 + 1.0
    return tf.data.Dataset.from_tensor_slices(x).repeat(repeat).batch(batch)


def iterations(optimizer):
    return int(keras.ops.convert_to_numpy(optimizer.iterations))


def test_kl_and_reconstruction_equal_hand_values():
    np.testing.assert_allclose(gaussian_kl(np.zeros((3, 4)), np.zeros((3, 4))), 0.0)
    # 1/2 * sum(mean^2 + exp(lv) - 1 - lv) = 1/2 * (1 + 1) over 2 dims
    np.testing.assert_allclose(gaussian_kl(np.ones((1, 2)), np.zeros((1, 2))), [1.0])
    # mean 0, var e: 1/2 * (e - 1 - 1) per dim
    np.testing.assert_allclose(gaussian_kl(np.zeros((1, 1)), np.ones((1, 1))),
                               [0.5 * (math.e - 2)], rtol=1e-6)
    x = np.zeros((2, 2, 2, 1), "float32")
    x_hat = x.copy()
    x_hat[1, 0, 0, 0] = 0.4  # one value off by 0.4: 0.16 / (2 sigma^2)
    np.testing.assert_allclose(reconstruction_loss(x, x_hat),
                               [0.0, 0.16 / (2 * RECON_SIGMA**2)], rtol=1e-6)
    np.testing.assert_allclose(reconstruction_loss(np.zeros((1, 3)), np.ones((1, 3)), sigma=0.5),
                               [6.0], rtol=1e-6)  # 3 * 1 / (2 * 0.25)


@pytest.mark.parametrize("kind", ["dcgan", "mlp"])
def test_fit_lowers_the_loss_and_changes_both_networks(kind):
    if kind == "dcgan":
        vae, ds, steps = tiny_image_vae(), images_ds(repeat=50), 50
    else:
        vae, ds, steps = tiny_points_vae(), points_ds(repeat=25), 50
    first = vae.fit(ds.take(1), epochs=1, verbose=0).history  # loss of the first step
    e0 = [v.numpy().copy() for v in vae.encoder.trainable_variables]
    g0 = [v.numpy().copy() for v in vae.generator.trainable_variables]
    history = vae.fit(ds.skip(1), epochs=1, verbose=0).history
    assert set(history) == {"loss", "recon", "kl"}
    for name, values in history.items():
        assert np.isfinite(values).all(), name
    assert history["kl"][0] >= 0
    assert iterations(vae.optimizer) == steps
    last = vae.fit(ds.take(1), epochs=1, verbose=0).history
    assert last["loss"][0] < 0.8 * first["loss"][0], (first, last)
    for before, var in zip(e0, vae.encoder.trainable_variables, strict=True):
        assert not np.allclose(before, var.numpy()), var.path
    for before, var in zip(g0, vae.generator.trainable_variables, strict=True):
        assert not np.allclose(before, var.numpy()), var.path


def test_labels_are_ignored():
    vae = tiny_image_vae()
    x = fixed_images()
    ds = tf.data.Dataset.from_tensor_slices((x, np.arange(8, dtype="int64"))).batch(4)
    history = vae.fit(ds, epochs=1, verbose=0).history
    assert np.isfinite(history["loss"]).all() and iterations(vae.optimizer) == 2


def test_generator_keeps_the_contract_and_predict_samples_it():
    vae = tiny_image_vae()
    g = vae.generator
    assert g.name == "generator" and [i.name for i in g.inputs] == ["z"]
    assert tuple(g.inputs[0].shape[1:]) == (8,)
    z = sample_latents(5, 8, seed=1) * 3  # far out latents still map into [-1, 1]
    out = g(z).numpy()
    assert out.dtype == np.float32 and out.shape == (5, 28, 28, 1)
    assert out.min() >= -1 and out.max() <= 1
    np.testing.assert_allclose(vae.predict(z, verbose=0), out, atol=1e-6)
    enc = vae.encoder
    assert enc.name == "encoder"
    mean, log_var = enc(fixed_images(3))
    assert mean.shape == log_var.shape == (3, 8)
    assert mean.dtype == log_var.dtype == "float32"
    points = tiny_points_vae()
    assert points.generator.outputs[0].shape[1:] == (2,)
    assert points.encoder(np.zeros((1, 2), "float32"))[0].shape == (1, 2)


def test_save_and_load_round_trip(tmp_path):
    vae = tiny_image_vae()
    vae.fit(images_ds(repeat=2, batch=4), epochs=1, verbose=0)
    path = tmp_path / "vae.keras"
    vae.save(path)
    loaded = keras.saving.load_model(path)
    assert isinstance(loaded, VAE) and loaded.latent_dim == 8
    assert loaded.beta == 1.0 and loaded.sigma == RECON_SIGMA
    z = sample_latents(5, 8, seed=1)
    np.testing.assert_array_equal(loaded.generator(z).numpy(), vae.generator(z).numpy())
    x = fixed_images(2)
    for a, b in zip(vae.encoder(x), loaded.encoder(x), strict=True):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    a, b = vae.optimizer, loaded.optimizer
    assert len(a.variables) == len(b.variables) > 2  # moments, not just counters
    for va, vb in zip(a.variables, b.variables, strict=True):
        np.testing.assert_array_equal(va.numpy(), vb.numpy())
    assert float(b.learning_rate) == pytest.approx(1e-3)
    assert iterations(loaded.optimizer) == 4
    np.testing.assert_array_equal(loaded.seed_generator.state.numpy(),
                                  vae.seed_generator.state.numpy())
    loaded.fit(images_ds(batch=4), epochs=1, verbose=0)  # and it trains on
    assert iterations(loaded.optimizer) == 6


def test_weights_checkpoint_restores_the_noise_stream(tmp_path):
    # What Checkpoint / restore_checkpoint do: save_weights, then load_weights
    # into a freshly compiled model, which then steps exactly like the original.
    vae = tiny_image_vae()
    vae.fit(images_ds(batch=4), epochs=1, verbose=0)
    vae.save_weights(tmp_path / "ckpt.weights.h5")
    other = tiny_image_vae(seed=1)
    other.load_weights(tmp_path / "ckpt.weights.h5")
    assert iterations(other.optimizer) == 2
    a = vae.fit(images_ds(batch=4), epochs=1, verbose=0).history
    b = other.fit(images_ds(batch=4), epochs=1, verbose=0).history
    for name in a:  # same noise; float sums may differ in the last bits
        np.testing.assert_allclose(a[name], b[name], rtol=1e-5, err_msg=name)


def test_mixed_float16_scales_the_loss():
    keras.mixed_precision.set_dtype_policy("mixed_float16")
    vae = tiny_image_vae()
    assert isinstance(vae.optimizer, keras.optimizers.LossScaleOptimizer)
    g0 = [v.numpy().copy() for v in vae.generator.trainable_variables]
    history = vae.fit(images_ds(batch=4), epochs=1, verbose=0).history
    assert all(np.isfinite(v).all() for v in history.values())
    assert iterations(vae.optimizer) == 2  # the start scale overflows no step (none skipped)
    assert any(not np.allclose(a, v.numpy())
               for a, v in zip(g0, vae.generator.trainable_variables, strict=True))
    assert vae.generator(np.zeros((2, 8), "float32")).dtype == "float32"
    assert all(t.dtype == "float32" for t in vae.encoder(fixed_images(2)))
    scale = float(vae.optimizer.dynamic_scale)
    assert scale > 1 and math.log2(scale).is_integer()


def test_generator_exports_and_onnx_agrees(tmp_path):
    vae = tiny_image_vae()
    vae.fit(images_ds(batch=4), epochs=1, verbose=0)  # moves batch-norm statistics
    vae.generator.save(tmp_path / "generator.keras")
    card = export_run(tmp_path / "generator.keras", tmp_path / "model")
    assert card["latent_dim"] == 8 and card["image_shape"] == [28, 28, 1]
    z = sample_latents(7, 8, seed=3)
    onnx_out = OnnxGenerator(tmp_path / "model" / "generator.onnx",
                             providers=["CPUExecutionProvider"]).run(z)
    np.testing.assert_allclose(onnx_out, vae.generator(z, training=False).numpy(),
                               atol=1e-5, rtol=0)


def test_bad_arguments_are_refused():
    vae = tiny_points_vae()
    with pytest.raises(ValueError, match="built keras.Model"):
        VAE(keras.Sequential([keras.layers.Dense(2)]), vae.generator)
    with pytest.raises(ValueError, match="each \\(2,\\), got \\[\\(3,\\)"):
        VAE(build_encoder((2,), 3, 8, "mlp"), vae.generator)
    with pytest.raises(ValueError, match="differ"):
        VAE(build_encoder((3,), 2, 8, "mlp"), vae.generator)
    with pytest.raises(ValueError, match="beta"):
        VAE(vae.encoder, vae.generator, beta=-1)
    with pytest.raises(ValueError, match="sigma"):
        VAE(vae.encoder, vae.generator, sigma=0)
    with pytest.raises(ValueError, match="unknown arch"):
        build_vae("nope", 2, (2,), 8)
    with pytest.raises(ValueError, match="needs images"):
        build_vae("dcgan", 2, (2,), 8)
