"""export/writer.py (through keras_gan.training.run_folder.export_run, `keras-gan export`):
Keras, SavedModel and ONNX agree; the card; bad targets."""

import json

import keras
import numpy as np
import onnx
import pytest
import tensorflow as tf
from conftest import tiny_generator

from export.runtime import OnnxGenerator, sample_latents
from export.writer import ExportError, float32_generator
from keras_gan.cli import main
from keras_gan.training.run_folder import export_run

CASES = [("dcgan", False), ("dcgan", True), ("mlp", False), ("mlp", True)]


def inputs_for(n, conditional, seed=0):
    z = sample_latents(n, 8, seed)
    labels = (np.arange(n) % 10).astype(np.int64) if conditional else None
    return z, labels


@pytest.mark.parametrize("kind, conditional", CASES)
@pytest.mark.parametrize("n", [1, 37])
def test_keras_savedmodel_and_onnx_agree(exported, kind, conditional, n):
    folder = exported(kind, conditional)
    z, labels = inputs_for(n, conditional, seed=n)
    keras_model = keras.saving.load_model(folder / "generator.keras", safe_mode=True)
    keras_out = keras_model([z, labels] if conditional else z, training=False).numpy()
    serve = tf.saved_model.load(str(folder / "saved_model")).signatures["serve"]
    feed = {"z": tf.constant(z)}
    if conditional:
        feed["labels"] = tf.constant(labels)
    saved_out = serve(**feed)["images"].numpy()
    onnx_out = OnnxGenerator(folder / "generator.onnx").run(z, labels)
    assert keras_out.shape == onnx_out.shape == saved_out.shape
    assert keras_out.shape[0] == n
    np.testing.assert_allclose(saved_out, keras_out, atol=1e-5, rtol=0)
    np.testing.assert_allclose(onnx_out, keras_out, atol=1e-5, rtol=0)


@pytest.mark.parametrize("kind, conditional", CASES)
def test_onnx_file_keeps_the_contract(exported, kind, conditional):
    folder = exported(kind, conditional)
    model = onnx.load(str(folder / "generator.onnx"))
    inputs = {i.name: i.type.tensor_type for i in model.graph.input}
    assert list(inputs) == (["z", "labels"] if conditional else ["z"])
    assert inputs["z"].elem_type == onnx.TensorProto.FLOAT
    z_dims = inputs["z"].shape.dim
    assert z_dims[0].dim_param and not z_dims[0].dim_value  # N is dynamic
    assert z_dims[1].dim_value == 8
    if conditional:
        assert inputs["labels"].elem_type == onnx.TensorProto.INT64
    (output,) = model.graph.output
    assert output.name == "images"
    dims = [d.dim_value for d in output.type.tensor_type.shape.dim[1:]]
    assert dims == ([28, 28, 1] if kind == "dcgan" else [2])
    meta = {p.key: p.value for p in model.metadata_props}
    card = json.loads((folder / "model.json").read_text())
    assert json.loads(meta["latent_dim"]) == card["latent_dim"] == 8
    assert json.loads(meta["image_shape"]) == card["image_shape"] == dims
    assert json.loads(meta["num_classes"]) == card["num_classes"] == (10 if conditional else None)
    assert meta["kind"] == card["kind"] == ("image" if kind == "dcgan" else "points")
    assert json.loads(meta["value_range"]) == ([-1, 1] if kind == "dcgan" else None)
    assert "training_config" in meta and meta["keras_gan_contract"] == "1"


def test_mixed_precision_generator_exports_as_float32(tmp_path):
    keras.mixed_precision.set_dtype_policy("mixed_float16")
    mixed = tiny_generator("dcgan")
    keras.mixed_precision.set_dtype_policy("float32")
    assert any(layer.compute_dtype == "float16" for layer in mixed.layers)
    f32 = float32_generator(mixed)
    assert all(layer.dtype_policy.name == "float32" for layer in f32.layers)
    mixed.save(tmp_path / "g.keras")
    export_run(tmp_path / "g.keras", tmp_path / "out")
    z = sample_latents(5, 8, seed=3)
    onnx_out = OnnxGenerator(tmp_path / "out" / "generator.onnx").run(z)
    np.testing.assert_allclose(onnx_out, f32(z).numpy(), atol=1e-5)
    np.testing.assert_allclose(onnx_out, mixed(z).numpy(), atol=2e-2)  # fp16 vs fp32


def test_export_from_a_run_folder_and_a_whole_gan(tmp_path):
    from keras_gan.config import TrainConfig
    from keras_gan.training.trainer import train

    cfg = TrainConfig(dataset="ring", gan="cgan", width=16, latent_dim=4, batch_size=32,
                      steps_per_epoch=5, epochs=1, verbose=0, tensorboard=False,
                      out=str(tmp_path / "run"))
    result = train(cfg)
    card = export_run(tmp_path / "run", tmp_path / "from_run", fp16=True)
    assert card["gan"] == "cgan" and card["dataset"] == "ring" and card["steps"] == 5
    assert card["train_seconds"] > 0 and card["training_config"] == cfg.to_dict()
    assert card["num_classes"] == 8 and card["class_names"] == [str(i) for i in range(8)]
    assert card["kind"] == "points" and card["value_range"] is None
    assert 0 <= card["fp16_max_abs_error"] < 1e-2
    assert (tmp_path / "from_run" / "generator_fp16.onnx").exists()
    card2 = export_run(tmp_path / "run" / "gan.keras", tmp_path / "from_gan")
    z, labels = sample_latents(4, 4, 0), np.array([0, 1, 2, 7])
    # Both sources ship what the run samples from: the EMA generator (on by
    # default), which differs from the raw one after 5 steps.
    expected = result.model.sampling_generator([z, labels]).numpy()
    assert result.model.sampling_generator is result.model.ema_generator
    assert not np.allclose(expected, result.model.generator([z, labels]).numpy(), atol=1e-5)
    for folder in ("from_run", "from_gan"):
        out = OnnxGenerator(tmp_path / folder / "generator.onnx").run(z, labels)
        np.testing.assert_allclose(out, expected, atol=1e-5)
    assert card2["latent_dim"] == 4
    # re-exporting an export keeps what its card knew
    card3 = export_run(tmp_path / "from_run", tmp_path / "again")
    assert card3["steps"] == 5 and card3["training_config"] == cfg.to_dict()


def test_bad_sources_and_targets(tmp_path, exported):
    def message(source, out):
        with pytest.raises(ExportError) as e:
            export_run(source, out)
        return str(e.value)

    assert message(tmp_path / "missing", tmp_path / "o1") == (
        f"no model at {tmp_path}/missing: give a run folder, a .keras file or an exported "
        "model folder")
    (tmp_path / "empty_run").mkdir()
    assert message(tmp_path / "empty_run", tmp_path / "o2") == (
        f"{tmp_path}/empty_run holds no generator.keras: is it a finished keras-gan run or "
        "export?")
    bad = tmp_path / "corrupt.keras"
    bad.write_bytes(b"not a zip file")
    assert message(bad, tmp_path / "o3") == (
        f"cannot load {tmp_path}/corrupt.keras: it is not a zip archive, so not a .keras file "
        "(corrupt, or another format renamed)")
    from keras_gan.models.networks import build_networks

    _, disc = build_networks("mlp", 4, (2,), 8)
    disc.save(tmp_path / "disc.keras")
    assert message(tmp_path / "disc.keras", tmp_path / "o4") == (
        f"{tmp_path}/disc.keras is not a keras-gan generator: inputs ['images'], expected z "
        "(and labels)")
    assert message(exported("mlp") / "generator.keras", exported("mlp")) == (
        f"{exported('mlp')} is not empty; pass --overwrite to replace it")
    (tmp_path / "mixed").mkdir()
    (tmp_path / "mixed" / "notes.txt").write_text("not an export")
    assert message(exported("mlp") / "generator.keras", tmp_path / "mixed") == (
        f"{tmp_path}/mixed is not empty; pass --overwrite to replace it")


def test_cli_export(tmp_path, capsys, exported):
    src = exported("dcgan") / "generator.keras"
    assert main(["export", str(src), "--out", str(tmp_path / "m"), "--name", "demo"]) == 0
    assert "Exported demo" in capsys.readouterr().out
    assert json.loads((tmp_path / "m" / "model.json").read_text())["name"] == "demo"
    assert main(["export", str(tmp_path / "nope"), "--out", str(tmp_path / "x")]) == 2
    assert capsys.readouterr().err == (f"keras-gan export: error: no model at {tmp_path}/nope: "
                                       "give a run folder, a .keras file or an exported model "
                                       "folder\n")


# -- discrete decisions in float16 ----------------------------------------------------


def tiny_clustered_sampler(prior, latent_dim=8):
    """A z-only sampler over a conditional MLP generator (one class per
    cluster), as a clustered GAN exports it."""
    from keras_gan.models.clusters import unconditional_sampler

    g = tiny_generator("mlp", conditional=True, latent_dim=latent_dim - 1)
    return unconditional_sampler(g, prior)


def test_fp16_export_keeps_the_cluster_draw_exact(tmp_path):
    """z[:, 0] one float32 ulp either side of each cluster boundary (one value
    in float16): the fp16 file draws the cluster from the unrounded z, like
    the float32 file and Keras."""
    from export.writer import discrete_decisions, write_generator
    from keras_gan.models.clusters import cluster_boundaries

    prior = np.arange(1, 11) / 55  # ten clusters, for the ten classes
    sampler = tiny_clustered_sampler(prior)
    card = write_generator(sampler, tmp_path / "m", {"name": "c"}, fp16=True)
    assert card["num_classes"] is None and card["latent_dim"] == 8
    assert card["fp16_max_abs_error"] < 1e-2
    b = np.float32(cluster_boundaries(prior))
    z = sample_latents(3 * len(b), 8, seed=3)
    z[:, 0] = np.concatenate([np.nextafter(b, -np.inf), b, np.nextafter(b, np.inf)])
    expected = z[:, :1] >= b  # the rule: a boundary starts its cluster
    fp32 = onnx.load(str(tmp_path / "m" / "generator.onnx"))
    # The nodes kept exact: the draw (slice, comparison, cast, sum), no layer math.
    kept = {n.op_type for n in discrete_decisions(fp32)}
    assert {"Slice", "GreaterOrEqual", "ReduceSum"} <= kept
    assert not kept & {"MatMul", "Gemm", "Conv", "ConvTranspose", "Tanh", "LeakyRelu"}
    for name in ("generator.onnx", "generator_fp16.onnx"):
        model = onnx.load(str(tmp_path / "m" / name))
        (compare,) = [n for n in model.graph.node if n.op_type == "GreaterOrEqual"]
        model.graph.output.append(onnx.helper.make_tensor_value_info(
            compare.output[0], onnx.TensorProto.BOOL, None))
        import onnxruntime as ort

        session = ort.InferenceSession(model.SerializeToString(),
                                       providers=["CPUExecutionProvider"])
        images, drawn = session.run(["images", compare.output[0]], {"z": z})
        np.testing.assert_array_equal(drawn, expected, err_msg=name)
        np.testing.assert_allclose(images, sampler(z).numpy(),
                                   atol=1e-5 if name == "generator.onnx" else 1e-2)


def test_a_plain_generator_keeps_no_layer_in_fp32(exported):
    """The fp16 rule walks back from integer and bool values only: for an
    image generator that is shape plumbing, none of its layers' math."""
    from export.writer import discrete_decisions

    for kind, conditional in CASES:
        model = onnx.load(str(exported(kind, conditional) / "generator.onnx"))
        kept = {n.op_type for n in discrete_decisions(model)}
        assert not kept & {"MatMul", "Gemm", "Conv", "ConvTranspose", "Tanh", "LeakyRelu",
                           "BatchNormalization", "Relu"}, (kind, conditional, kept)


def test_write_generator_takes_a_keras_model_and_card_fields(tmp_path):
    from export.writer import write_generator
    from keras_gan.models.networks import build_networks

    g = tiny_generator("mlp", conditional=True)
    card = write_generator(g, tmp_path / "m", {"gan": "cgan", "steps": 3,
                                               "class_names": list("abcdefghij")})
    assert card["name"] == "m" and card["gan"] == "cgan" and card["steps"] == 3
    assert card["class_names"] == list("abcdefghij") and card["num_classes"] == 10
    assert json.loads((tmp_path / "m" / "model.json").read_text()) == card
    with pytest.raises(ValueError, match=r"unknown card field\(s\) \['stpes'\]"):
        write_generator(g, tmp_path / "x", {"stpes": 3})
    with pytest.raises(ExportError, match="not empty; pass --overwrite"):
        write_generator(g, tmp_path / "m")
    _, disc = build_networks("mlp", 4, (2,), 8)
    with pytest.raises(ExportError, match="not a keras-gan generator: inputs"):
        write_generator(disc, tmp_path / "d")


# -- layering --------------------------------------------------------------------------


def test_export_and_demo_never_import_keras_gan():
    """keras_gan imports export (the lower layer: file formats and the ONNX
    runtime), never the reverse; the demo serves ONNX files alone."""
    import ast
    from pathlib import Path

    repo = Path(__file__).resolve().parents[1]
    found = []
    for folder in ("export", "demo"):
        for path in sorted((repo / folder).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text())):
                names = ([a.name for a in node.names] if isinstance(node, ast.Import) else
                         [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
                found += [f"{path.relative_to(repo)}:{node.lineno} {n}" for n in names
                          if n == "keras_gan" or n.startswith("keras_gan.")]
    assert len(list((repo / "export").glob("*.py"))) >= 3
    assert found == []
