"""keras_gan/models/clusters.py and the clustered GAN (gans/clustered.py): k-means
against known blobs, the latent's cluster draw against its prior, and a
trained run whose saved and exported generators take z alone."""

from statistics import NormalDist

import keras
import numpy as np
import pytest

from export.runtime import OnnxGenerator, sample_latents
from keras_gan.config import ConfigError, TrainConfig
from keras_gan.models.clusters import (
    LatentCluster,
    assign,
    assign_tensor,
    cluster_boundaries,
    cluster_of,
    fit_clusters,
    kmeans,
    unconditional_sampler,
    upgrade_legacy_sampler,
)
from keras_gan.models.gans import build_gan, get_gan
from keras_gan.models.networks import build_networks


def blobs(n_per=50, seed=0):
    """Three tight blobs far apart, and which blob each point is from."""
    rng = np.random.default_rng(seed)
    centres = np.array([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0]])
    x = np.concatenate([c + 0.1 * rng.normal(size=(n_per, 2)) for c in centres])
    return x, np.repeat(np.arange(3), n_per), centres


def test_kmeans_finds_separated_blobs_and_is_deterministic():
    x, truth, centres = blobs()
    c = kmeans(x, 3, seed=0)
    found = assign(x, c)
    # One cluster per blob, whatever the numbering.
    assert all(len(set(found[truth == b])) == 1 for b in range(3))
    assert len(set(found)) == 3
    np.testing.assert_allclose(np.sort(c, axis=0), np.sort(centres, axis=0), atol=0.05)
    np.testing.assert_array_equal(c, kmeans(x, 3, seed=0))
    with pytest.raises(ValueError, match="1 <= k <= 150"):
        kmeans(x, 151)


def test_kmeans_on_duplicates_and_an_empty_cluster_share():
    x = np.zeros((10, 4))  # every point the same: seeding must not divide by 0
    centroids, prior = fit_clusters(x, 3)
    assert centroids.shape == (3, 4) and np.isfinite(centroids).all()
    # All points go to one centroid; the two empty ones keep a share > 0.
    assert prior == pytest.approx([10 / 12, 1 / 12, 1 / 12])
    with pytest.raises(ValueError, match="at least 20 examples"):
        fit_clusters(x, 20)


def test_graph_assignment_matches_numpy():
    rng = np.random.default_rng(1)
    x = rng.uniform(-1, 1, size=(64, 6, 6, 1)).astype("float32")
    c = kmeans(x, 5, seed=0)
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(assign_tensor(x, c)),
                                  assign(x, c))


def test_boundaries_split_the_normal_in_the_prior():
    b = cluster_boundaries([0.25, 0.25, 0.5])
    assert b == pytest.approx([NormalDist().inv_cdf(0.25), 0.0], abs=1e-9)
    assert cluster_boundaries([1.0]) == []
    for bad in ([0.5, 0.6], [0.0, 1.0], [], [[0.5, 0.5]]):
        with pytest.raises(ValueError, match="prior"):
            cluster_boundaries(bad)


def test_cluster_draw_is_in_proportion_and_counts_boundaries_at_or_below():
    prior = [0.1, 0.2, 0.3, 0.4]
    bounds = cluster_boundaries(prior)
    z = sample_latents(40_000, 5, seed=0)
    cluster = keras.ops.convert_to_numpy(cluster_of(z[:, :1], bounds))
    assert cluster.dtype == np.int64 and cluster.shape == (40_000,)
    shares = np.bincount(cluster, minlength=4) / len(z)
    np.testing.assert_allclose(shares, prior, atol=0.01)
    # Each cluster is an interval of z[:, 0], in order.
    order = np.argsort(z[:, 0])
    assert (np.diff(cluster[order]) >= 0).all()
    # Keras's Discretization rule (a boundary starts its bin), in float32.
    b = np.float32(bounds[1])
    u = np.array([[np.nextafter(b, -np.inf)], [b], [np.nextafter(b, np.inf)]], np.float32)
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(cluster_of(u, bounds)), [1, 2, 2])
    np.testing.assert_array_equal(
        keras.ops.convert_to_numpy(cluster_of(u, bounds)),
        keras.layers.Discretization(bin_boundaries=[float(x) for x in np.float32(bounds)])(
            u).numpy()[:, 0])
    assert (keras.ops.convert_to_numpy(cluster_of(z[:, :1], [])) == 0).all()


def near_boundaries(prior, latent_dim, seed=0):
    """Latents whose first coordinate sits on each boundary and one float32
    ulp either side: float16 rounds all three to one value. (Not around 0:
    its neighbours are denormals, which TensorFlow's CPU kernels flush to 0.)"""
    b = np.float32(cluster_boundaries(prior))
    assert (np.abs(b) > 1e-3).all()
    first = np.concatenate([np.nextafter(b, -np.inf), b, np.nextafter(b, np.inf)])
    z = sample_latents(len(first), latent_dim, seed=seed)
    z[:, 0] = first
    assert (np.float16(first[:len(b)]) == np.float16(first[len(b):2 * len(b)])).all()
    return z


def test_sampler_is_the_conditional_generator_fed_its_cluster():
    prior = [0.1, 0.2, 0.3, 0.4]
    g, _ = build_networks("mlp", 3, (2,), 8, num_classes=4)
    sampler = unconditional_sampler(g, prior)
    assert [tuple(i.shape) for i in sampler.inputs] == [(None, 4)]
    z = np.concatenate([sample_latents(16, 4, seed=2), near_boundaries(prior, 4)])
    cluster = (z[:, 0:1] >= np.float32(cluster_boundaries(prior))).sum(1)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(sampler(z)),
                               keras.ops.convert_to_numpy(g([z[:, 1:], cluster])), atol=1e-6)
    assert sampler.trainable_weights == g.trainable_weights  # shared, not copied
    # Built from Keras's own operations: no keras-gan class in what it saves.
    assert not any(type(op).__module__.startswith("keras_gan") for op in sampler.operations)


def test_sampler_draws_in_float32_under_mixed_precision():
    """In float16 the z's on either side of a boundary are one value: the
    mixed-precision sampler must still feed each its own cluster."""
    prior = [0.1, 0.2, 0.3, 0.4]
    keras.mixed_precision.set_dtype_policy("mixed_float16")
    g, _ = build_networks("mlp", 5, (2,), 8, num_classes=4)
    sampler = unconditional_sampler(g, prior)
    keras.mixed_precision.set_dtype_policy("float32")
    assert any(layer.compute_dtype == "float16" for layer in g.layers)
    z = near_boundaries(prior, 6)
    cluster = (z[:, 0:1] >= np.float32(cluster_boundaries(prior))).sum(1)
    assert len(set(cluster.tolist())) == 4
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(sampler(z)),
                                  keras.ops.convert_to_numpy(g([z[:, 1:], cluster])))


def test_legacy_latent_cluster_files_load_and_upgrade(tmp_path):
    """A sampler saved with the legacy LatentCluster layer still loads (with
    keras_gan imported), and `upgrade_legacy_sampler` (which `load_generator`
    applies) rebuilds it from Keras's own operations with equal outputs."""
    from export.writer import ExportError, check_target
    from keras_gan.training.run_folder import load_generator

    prior = [0.1, 0.2, 0.3, 0.4]
    g, _ = build_networks("mlp", 5, (2,), 8, num_classes=4)
    z_in = keras.Input((6,), name="z")
    noise, cluster = LatentCluster(cluster_boundaries(prior), dtype="float32",
                                   name="latent_cluster")(z_in)
    keras.Model(z_in, g([noise, cluster]), name="generator").save(tmp_path / "old.keras")
    old = keras.saving.load_model(tmp_path / "old.keras", safe_mode=True)
    new, _ = load_generator(tmp_path / "old.keras")
    assert not any(isinstance(layer, LatentCluster) for layer in new.layers)
    assert upgrade_legacy_sampler(new) is new
    z = np.concatenate([sample_latents(32, 6, seed=4), near_boundaries(prior, 6)])
    np.testing.assert_allclose(keras.ops.convert_to_numpy(new(z)),
                               keras.ops.convert_to_numpy(old(z)), atol=1e-6)
    assert check_target(tmp_path / "fresh") == tmp_path / "fresh"
    with pytest.raises(ExportError, match="not empty"):
        check_target(tmp_path)


def test_clustered_gan_draws_generator_labels_from_its_prior():
    g, d = build_networks("mlp", 3, (2,), 8, num_classes=3)
    gan = build_gan("clustered", g, d, seed=0, num_classes=3, cluster_prior=[0.7, 0.2, 0.1])
    assert get_gan("clustered").takes_labels and not get_gan("clustered").conditional
    labels = keras.ops.convert_to_numpy(gan.sample_labels(20_000))
    np.testing.assert_allclose(np.bincount(labels, minlength=3) / 20_000, [0.7, 0.2, 0.1],
                               atol=0.015)
    assert len(gan.sampling_generator.inputs) == 1
    assert gan.get_config()["cluster_prior"] == [0.7, 0.2, 0.1]
    with pytest.raises(ValueError, match="2 entries for 3 clusters"):
        build_gan("clustered", g, d, num_classes=3, cluster_prior=[0.5, 0.5])
    with pytest.raises(ValueError, match="number of clusters"):
        build_gan("clustered", g, d)


def test_clustered_run_saves_and_exports_a_z_only_generator(tmp_path):
    """Train on 2D rings (the 8 modes are the natural clusters): the run's
    generator files take z alone and ONNX reproduces them."""
    from keras_gan.training.run_folder import export_run, load_generator
    from keras_gan.training.trainer import train

    cfg = TrainConfig(dataset="ring", gan="clustered", clusters=8, width=16, latent_dim=4,
                      batch_size=32, steps_per_epoch=10, epochs=1, verbose=0,
                      tensorboard=False, out=str(tmp_path / "run"))
    result = train(cfg)
    gan = result.model
    assert gan.num_classes == 8 and len(gan.generator.inputs) == 2
    assert gan.generator.inputs[0].shape[-1] == 3  # z's first coordinate picks the cluster
    # k-means on ring samples: each mode about an eighth.
    np.testing.assert_allclose(gan.cluster_prior, [1 / 8] * 8, atol=0.04)
    z = sample_latents(32, 4, seed=5)
    expected = keras.ops.convert_to_numpy(gan.sampling_generator(z))
    for name in ("generator_ema.keras", "gan.keras"):
        generator, _ = load_generator(tmp_path / "run" / name)
        assert [tuple(i.shape) for i in generator.inputs] == [(None, 4)]
        np.testing.assert_allclose(keras.ops.convert_to_numpy(generator(z)), expected,
                                   atol=1e-6)
    card = export_run(tmp_path / "run", tmp_path / "export", fp16=True)
    assert card["gan"] == "clustered" and card["num_classes"] is None
    # fp16 keeps the cluster draw exact: a z near a boundary would otherwise
    # flip to another cluster (an error of the size of the samples).
    assert 0 <= card["fp16_max_abs_error"] < 1e-2
    assert card["latent_dim"] == 4
    out = OnnxGenerator(tmp_path / "export" / "generator.onnx").run(z)
    np.testing.assert_allclose(out, expected, atol=1e-5)
    # --resume refits the same clusters, so the prior (part of the model) matches.
    resumed = train(cfg.replace(resume=True, epochs=2))
    assert resumed.step == 20 and resumed.model.cluster_prior == gan.cluster_prior
    with pytest.raises(ConfigError) as e:
        train(cfg.replace(latent_dim=1, out=str(tmp_path / "bad")))
    assert str(e.value) == ("--gan clustered spends z's first coordinate on the cluster: "
                            "latent_dim must be >= 2, got 1")
    with pytest.raises(ConfigError) as e:
        train(cfg.replace(dataset="mnist-sample", clusters=20_000, out=str(tmp_path / "bad")))
    assert str(e.value) == ("--clusters 20000: 20000 clusters need at least 20000 examples, the "
                            "data has 10000 (mnist-sample)")
    assert not (tmp_path / "bad").exists()


def onnx_cluster_draw(path, z):
    """(cluster, images) of a clustered generator.onnx on z: `cluster` is the
    output of its ReduceSum (how many boundaries z[:, 0] is >= to), the label
    its network is fed."""
    import onnx
    import onnxruntime as ort

    model = onnx.load(str(path))
    (count,) = [n for n in model.graph.node if n.op_type == "ReduceSum"]
    model.graph.output.append(onnx.helper.make_tensor_value_info(
        count.output[0], onnx.TensorProto.INT64, None))
    session = ort.InferenceSession(model.SerializeToString(),
                                   providers=["CPUExecutionProvider"])
    images, cluster = session.run(["images", count.output[0]], {"z": z})
    return cluster, images


def test_mixed_precision_clustered_run_exports_in_float32(tmp_path):
    """The sampler nests the conditional network: the float32 rebuild before
    export must reach the layers inside it (else the ONNX graph is fp16). And
    a z on a cluster boundary or one float32 ulp either side (one value in
    float16) gets its own cluster from the saved mixed-precision samplers
    (loaded with Keras) and from both ONNX files."""
    from export.writer import _all_layers, float32_generator
    from keras_gan.training.run_folder import export_run, generator_file
    from keras_gan.training.trainer import train

    cfg = TrainConfig(clusters=5, width=4, latent_dim=8, batch_size=16, steps_per_epoch=3,
                      epochs=1, verbose=0, tensorboard=False, fd_every=0,
                      precision="mixed_float16", out=str(tmp_path / "run"))
    gan = train(cfg).model
    sampler = gan.sampling_generator
    assert any(layer.compute_dtype == "float16" for layer in _all_layers(sampler))
    assert all(layer.dtype_policy.name == "float32"
               for layer in _all_layers(float32_generator(sampler)))
    card = export_run(tmp_path / "run", tmp_path / "export", fp16=True)
    z = sample_latents(8, 8, seed=1)
    out = OnnxGenerator(tmp_path / "export" / "generator.onnx").run(z)
    np.testing.assert_allclose(out, keras.ops.convert_to_numpy(sampler(z)), atol=2e-2)
    assert card["fp16_max_abs_error"] < 1e-2

    # z's at the boundaries, and the cluster each must get: a boundary starts
    # its cluster.
    z = near_boundaries(gan.cluster_prior, 8)
    expected = (z[:, :1] >= np.float32(cluster_boundaries(gan.cluster_prior))).sum(1)
    assert len(set(expected.tolist())) == 5

    def fed(network, cluster):
        return keras.ops.convert_to_numpy(network([z[:, 1:], cluster]))

    for name in ("generator.keras", "generator_ema.keras"):
        saved = keras.saving.load_model(tmp_path / "run" / name, safe_mode=True)
        (network,) = [layer for layer in saved.layers if isinstance(layer, keras.Model)]
        assert any(layer.compute_dtype == "float16" for layer in network.layers), name
        drawn = keras.ops.convert_to_numpy(saved(z))
        np.testing.assert_array_equal(drawn, fed(network, expected), err_msg=name)
        # Each row tells the neighbouring cluster apart: the check can fail.
        other = fed(network, (expected + 1) % 5)
        assert (np.abs(drawn - other).reshape(len(z), -1).max(1) > 0).all(), name
    # The exported generator (generator_file: the EMA one), in float32.
    saved = keras.saving.load_model(generator_file(tmp_path / "run"), safe_mode=True)
    (network,) = [layer for layer in saved.layers if isinstance(layer, keras.Model)]
    reference = fed(float32_generator(network), expected)
    for name, atol in (("generator.onnx", 1e-5), ("generator_fp16.onnx", 1e-2)):
        cluster, images = onnx_cluster_draw(tmp_path / "export" / name, z)
        np.testing.assert_array_equal(cluster, expected, err_msg=name)
        np.testing.assert_allclose(images, reference, atol=atol, err_msg=name)
