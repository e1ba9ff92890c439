"""Trust boundaries: model files from elsewhere run no Python code.

Keras model files load in safe mode everywhere (a Lambda layer's code, a
config naming os.system are refused); the demo and the runtime read ONNX
files only, and onnxruntime reads no file outside the model's folder.
"""

import ast
import json
import shutil
import zipfile
from pathlib import Path

import keras
import numpy as np
import pytest
from conftest import tiny_generator

from demo.models import DemoError, load_models
from export.runtime import GeneratorError, OnnxGenerator
from export.writer import ExportError
from keras_gan.cli import main
from keras_gan.training.run_folder import export_run

REPO = Path(__file__).resolve().parents[1]
SHIPPED = REPO / "saved_models" / "toy-ring"


@pytest.fixture(scope="module")
def lambda_files(tmp_path_factory):
    """A generator whose output layer is a Lambda holding Python code, alone
    and inside a whole GAN."""
    from keras_gan.models.gans import build_gan
    from keras_gan.models.networks import build_networks

    root = tmp_path_factory.mktemp("lambda")
    g = tiny_generator("mlp", latent_dim=4)
    z = keras.Input((4,), name="z")
    generator = keras.Model(z, keras.layers.Lambda(lambda x: x * 2)(g(z)), name="generator")
    generator.save(root / "generator.keras")
    _, discriminator = build_networks("mlp", 4, (2,), 8)
    gan = build_gan("gan", generator, discriminator)
    gan.compile(keras.optimizers.Adam(), keras.optimizers.Adam())
    gan.save(root / "gan.keras")
    return root


@pytest.mark.parametrize("name, message", [  # <tmp>: the folder of the files
    ("generator.keras", "<tmp>/generator.keras holds Python code (a Lambda layer), which "
                        "keras-gan does not run: model files are loaded in Keras safe mode"),
    ("gan.keras", "<tmp>/gan.keras holds Python code (a Lambda layer), which keras-gan does "
                  "not run: model files are loaded in Keras safe mode"),
])
def test_a_lambda_layer_is_refused_with_a_clear_message(lambda_files, tmp_path, capsys, name,
                                                        message):
    message = message.replace("<tmp>", str(lambda_files))
    with pytest.raises(ExportError) as info:
        export_run(lambda_files / name, tmp_path / "out")
    assert str(info.value) == message
    assert main(["export", str(lambda_files / name), "--out", str(tmp_path / "cli")]) == 2
    assert capsys.readouterr().err == f"keras-gan export: error: {message}\n"


def test_a_lambda_layer_is_refused_as_the_digit_classifier(lambda_files):
    from keras_gan.evaluation.evaluator import DigitEvaluator, EvaluatorError

    with pytest.raises(EvaluatorError) as e:
        DigitEvaluator(lambda_files / "generator.keras")
    assert str(e.value) == (f"cannot load the digit classifier {lambda_files}/generator.keras: "
                            "it holds Python code (a Lambda layer), refused in safe mode")


def test_a_config_naming_os_system_runs_nothing(tmp_path):
    """A hand-edited config.json calling os.system("touch MARKER") on load."""
    tiny_generator("mlp", latent_dim=4).save(tmp_path / "g.keras")
    with zipfile.ZipFile(tmp_path / "g.keras") as z:
        files = {n: z.read(n) for n in z.namelist()}
    config = json.loads(files["config.json"])
    marker = tmp_path / "pwned"
    config["config"]["layers"][1].update(module="os", class_name="system",
                                         registered_name="system", config=f"touch {marker}")
    files["config.json"] = json.dumps(config).encode()
    with zipfile.ZipFile(tmp_path / "evil.keras", "w") as z:
        for name, data in files.items():
            z.writestr(name, data)
    with pytest.raises(ExportError) as e:
        export_run(tmp_path / "evil.keras", tmp_path / "out")
    assert str(e.value).startswith(f"cannot load {tmp_path}/evil.keras: TypeError: ")
    assert not marker.exists()


def test_every_keras_load_names_safe_mode():
    """No load_model call in the code that reads users' files leaves safe
    mode to Keras's default: each says safe_mode=True."""
    calls = []
    for folder in ("keras_gan", "export", "demo", "benchmarks"):
        for path in (REPO / folder).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text())):
                if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                        and node.func.attr == "load_model"):
                    safe = {k.arg: k.value for k in node.keywords}.get("safe_mode")
                    calls.append((f"{path.relative_to(REPO)}:{node.lineno}",
                                  isinstance(safe, ast.Constant) and safe.value is True))
    # keras_gan/training/run_folder.py, evaluator.py, benchmarks/inference.py
    assert len(calls) >= 3
    assert [where for where, safe in calls if not safe] == []


# -- ONNX only ---------------------------------------------------------------------


def test_the_demo_serves_onnx_files_only(tmp_path):
    """A folder with the Keras and SavedModel copies but no generator.onnx is
    not served, and a .keras file named generator.onnx is not loaded."""
    keras_only = tmp_path / "models" / "keras-only"
    keras_only.mkdir(parents=True)
    shutil.copy(SHIPPED / "generator.keras", keras_only)
    shutil.copytree(SHIPPED / "saved_model", keras_only / "saved_model")
    shutil.copy(SHIPPED / "model.json", keras_only)
    with pytest.raises(DemoError) as e:
        load_models(tmp_path / "models", max_batch=8)
    assert str(e.value) == (f"no loadable generator.onnx in the sub-folders of {tmp_path}/models: "
                            f"export one with `keras-gan export RUN --out {tmp_path}/models/NAME`")
    shutil.copy(SHIPPED / "generator.keras", keras_only / "generator.onnx")
    with pytest.raises(DemoError, match="keras-only: .*generator.onnx is not a loadable "
                                        "ONNX model"):
        load_models(tmp_path / "models", max_batch=8)
    with pytest.raises(GeneratorError, match="is not a loadable ONNX model"):
        OnnxGenerator(SHIPPED / "generator.keras")


def _onnx_reading(path: Path, location: str) -> Path:
    """A contract-keeping ONNX file whose weight is external data at `location`."""
    from onnx import TensorProto, helper

    w = TensorProto(name="w", data_type=TensorProto.FLOAT, dims=[2],
                    data_location=TensorProto.EXTERNAL)
    for key, value in (("location", location), ("offset", "0"), ("length", "8")):
        entry = w.external_data.add()
        entry.key, entry.value = key, value
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["z", "w2"], ["images"]),
         helper.make_node("Reshape", ["w", "shape"], ["w2"])], "g",
        [helper.make_tensor_value_info("z", TensorProto.FLOAT, ["N", 1])],
        [helper.make_tensor_value_info("images", TensorProto.FLOAT, ["N", 2])],
        initializer=[w, helper.make_tensor("shape", TensorProto.INT64, [2], [1, 2])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    path.write_bytes(model.SerializeToString())
    return path


def test_onnx_files_read_no_data_outside_their_folder(tmp_path):
    secret = tmp_path / "secret" / "weights.bin"
    secret.parent.mkdir()
    secret.write_bytes(np.array([3.0, 4.0], np.float32).tobytes())
    models = tmp_path / "model"
    models.mkdir()
    shutil.copy(secret, models / "weights.bin")
    inside = OnnxGenerator(_onnx_reading(models / "ok.onnx", "weights.bin"))
    np.testing.assert_array_equal(inside.run(np.ones((1, 1), np.float32)), [[3.0, 4.0]])
    refused = ("is not a loadable ONNX model: [ONNXRuntimeError] : 1 : FAIL : External data "
               "path validation failed for initializer: w. Error: ")
    for name, location, start, reason in (
            ("absolute", str(secret), f"{tmp_path}/model/absolute.onnx {refused}",
             "Absolute path not allowed for external data location"),
            ("relative", "../secret/weights.bin", f"{tmp_path}/model/relative.onnx {refused}",
             "External data path escapes model directory")):
        with pytest.raises(GeneratorError) as e:
            OnnxGenerator(_onnx_reading(models / f"{name}.onnx", location))
        assert str(e.value).startswith(start) and reason in str(e.value)
    with pytest.raises(GeneratorError) as e:  # onnxruntime's own check, in its words
        OnnxGenerator(_onnx_reading(models / "absolute.onnx", str(secret)))
    assert str(e.value).startswith(
        f"{tmp_path}/model/absolute.onnx is not a loadable ONNX model: [ONNXRuntimeError] : 1 : "
        "FAIL : External data path validation failed ")
