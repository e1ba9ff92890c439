"""export/writer.py: Keras, SavedModel and ONNX agree; the card; bad targets."""

import json

import keras
import numpy as np
import onnx
import pytest
import tensorflow as tf
from conftest import tiny_generator

from export.runtime import OnnxGenerator, sample_latents
from export.writer import ExportError, export_generator, float32_generator
from keras_gan.cli import main

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
    export_generator(tmp_path / "g.keras", tmp_path / "out")
    z = sample_latents(5, 8, seed=3)
    onnx_out = OnnxGenerator(tmp_path / "out" / "generator.onnx").run(z)
    np.testing.assert_allclose(onnx_out, f32(z).numpy(), atol=1e-5)
    np.testing.assert_allclose(onnx_out, mixed(z).numpy(), atol=2e-2)  # fp16 vs fp32


def test_export_from_a_run_folder_and_a_whole_gan(tmp_path):
    from keras_gan.config import TrainConfig
    from keras_gan.train import train

    cfg = TrainConfig(dataset="ring", gan="cgan", width=16, latent_dim=4, batch_size=32,
                      steps_per_epoch=5, epochs=1, verbose=0, tensorboard=False,
                      out=str(tmp_path / "run"))
    result = train(cfg)
    card = export_generator(tmp_path / "run", tmp_path / "from_run", fp16=True)
    assert card["gan"] == "cgan" and card["dataset"] == "ring" and card["steps"] == 5
    assert card["train_seconds"] > 0 and card["training_config"] == cfg.to_dict()
    assert card["num_classes"] == 8 and card["class_names"] == [str(i) for i in range(8)]
    assert card["kind"] == "points" and card["value_range"] is None
    assert 0 <= card["fp16_max_abs_error"] < 1e-2
    assert (tmp_path / "from_run" / "generator_fp16.onnx").exists()
    card2 = export_generator(tmp_path / "run" / "gan.keras", tmp_path / "from_gan")
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
    card3 = export_generator(tmp_path / "from_run", tmp_path / "again")
    assert card3["steps"] == 5 and card3["training_config"] == cfg.to_dict()


def test_bad_sources_and_targets(tmp_path, exported):
    with pytest.raises(ExportError, match="no model at"):
        export_generator(tmp_path / "missing", tmp_path / "o1")
    (tmp_path / "empty_run").mkdir()
    with pytest.raises(ExportError, match="holds no generator.keras"):
        export_generator(tmp_path / "empty_run", tmp_path / "o2")
    bad = tmp_path / "corrupt.keras"
    bad.write_bytes(b"not a zip file")
    with pytest.raises(ExportError, match="cannot load"):
        export_generator(bad, tmp_path / "o3")
    from keras_gan.networks import build_networks

    _, disc = build_networks("mlp", 4, (2,), 8)
    disc.save(tmp_path / "disc.keras")
    with pytest.raises(ExportError, match="not a keras-gan generator"):
        export_generator(tmp_path / "disc.keras", tmp_path / "o4")
    with pytest.raises(ExportError, match="not empty; pass --overwrite"):
        export_generator(exported("mlp") / "generator.keras", exported("mlp"))


def test_cli_export(tmp_path, capsys, exported):
    src = exported("dcgan") / "generator.keras"
    assert main(["export", str(src), "--out", str(tmp_path / "m"), "--name", "demo"]) == 0
    assert "Exported demo" in capsys.readouterr().out
    assert json.loads((tmp_path / "m" / "model.json").read_text())["name"] == "demo"
    assert main(["export", str(tmp_path / "nope"), "--out", str(tmp_path / "x")]) == 2
    assert "no model at" in capsys.readouterr().err
