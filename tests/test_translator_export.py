"""export/translators.py and export/translator_runtime.py: the translator
files agree, keep the contract, and the runtime refuses bad requests."""

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import keras
import numpy as np
import onnx
import pytest
import tensorflow as tf

from export import translators
from export.runtime import GeneratorError, to_uint8
from export.translator_runtime import OnnxTranslator, TranslatorError
from export.translators import ExportError, export_translator
from keras_gan.models.translation.registry import build_translator

REPO = Path(__file__).resolve().parents[1]
SIZE, WIDTH = 16, 4
CARD = {"name": "sketch2emoji", "translator": "pix2pix", "dataset": "emoji64:sketch",
        "training_config": {"steps": 2, "batch_size": 4}}


def images(n, channels, seed=0):
    return np.random.default_rng(seed).uniform(-1, 1, (n, SIZE, SIZE, channels)).astype(
        np.float32)


@pytest.fixture(scope="module")
def pix2pix():
    keras.utils.set_random_seed(0)
    return build_translator("pix2pix", SIZE, 1, 3, WIDTH, seed=0)


@pytest.fixture(scope="module")
def cyclegan():
    keras.utils.set_random_seed(1)
    return build_translator("cyclegan", SIZE, 1, 3, WIDTH, seed=1, identity_weight=0)


@pytest.fixture(scope="module")
def pix2pix_dir(pix2pix, tmp_path_factory):
    out = tmp_path_factory.mktemp("pix2pix") / "model"
    export_translator(pix2pix, out, card=CARD)
    return out


@pytest.fixture(scope="module")
def cyclegan_dir(cyclegan, tmp_path_factory):
    out = tmp_path_factory.mktemp("cyclegan") / "model"
    export_translator(cyclegan, out, direction="both", domains=("sketch", "emoji"))
    return out


@pytest.fixture(scope="module")
def translator(pix2pix_dir):
    return OnnxTranslator(pix2pix_dir / "translator.onnx")


# -- the files -------------------------------------------------------------------------


def test_files_exist_and_load(pix2pix_dir):
    names = {p.name for p in pix2pix_dir.iterdir()}
    assert names == {"translator.keras", "saved_model", "translator.onnx", "model.json"}
    model = keras.saving.load_model(pix2pix_dir / "translator.keras", safe_mode=True)
    assert [i.name for i in model.inputs] == ["source"]
    assert tuple(model.outputs[0].shape) == (None, SIZE, SIZE, 3)


def outputs_of(folder, x):
    model = keras.saving.load_model(folder / "translator.keras", safe_mode=True)
    serve = tf.saved_model.load(str(folder / "saved_model")).signatures["serve"]
    return (np.asarray(model(x, training=False)),
            serve(source=tf.constant(x))["images"].numpy(),
            OnnxTranslator(folder / "translator.onnx").translate(x))


@pytest.mark.parametrize("n", [1, 5])
def test_keras_savedmodel_and_onnx_agree(pix2pix, pix2pix_dir, n):
    x = images(n, 1, seed=n)
    want = np.asarray(pix2pix.generator(x, training=False))
    for out in outputs_of(pix2pix_dir, x):
        assert out.shape == (n, SIZE, SIZE, 3)
        np.testing.assert_allclose(out, want, atol=1e-5, rtol=0)


def test_onnx_file_keeps_the_contract(pix2pix_dir):
    model = onnx.load(str(pix2pix_dir / "translator.onnx"))
    (x,) = model.graph.input
    (y,) = model.graph.output
    assert (x.name, y.name) == ("source", "images")
    for value, channels in ((x, 1), (y, 3)):
        tensor = value.type.tensor_type
        assert tensor.elem_type == onnx.TensorProto.FLOAT
        dims = tensor.shape.dim
        assert dims[0].dim_param and not dims[0].dim_value  # N is dynamic
        assert [d.dim_value for d in dims[1:]] == [SIZE, SIZE, channels]
    meta = {p.key: p.value for p in model.metadata_props}
    assert meta == {
        "name": "sketch2emoji", "kind": "translator", "translator": "pix2pix",
        "direction": "ab", "source_domain": "sketch", "target_domain": "emoji",
        "image_shape": "[16, 16, 1]", "output_shape": "[16, 16, 3]", "value_range": "[-1, 1]",
        "dataset": "emoji64:sketch", "training_config": '{"steps": 2, "batch_size": 4}',
        "keras_gan_contract": "1",
    }


def test_card(pix2pix_dir, translator):
    card = json.loads((pix2pix_dir / "model.json").read_text())
    assert card["kind"] == "translator" and card["direction"] == "ab"
    assert card["image_shape"] == [SIZE, SIZE, 1] and card["output_shape"] == [SIZE, SIZE, 3]
    assert card["model_config"] == {"l1_weight": 100.0, "adv_weight": 1.0,
                                    "loss": "non_saturating", "seed": 0}
    assert set(card["parity_max_abs_error"]) == {"keras", "saved_model", "onnx"}
    assert max(card["parity_max_abs_error"].values()) <= 1e-5
    assert translator.metadata["training_config"] == CARD["training_config"]
    assert translator.image_shape == (SIZE, SIZE, 1)
    assert translator.output_shape == (SIZE, SIZE, 3)
    assert (translator.source_domain, translator.target_domain) == ("sketch", "emoji")


def test_cyclegan_both_directions(cyclegan, cyclegan_dir):
    assert sorted(p.name for p in cyclegan_dir.iterdir()) == ["ab", "ba"]
    for direction, generator, c_in, c_out, domains in (
            ("ab", cyclegan.generator, 1, 3, ("sketch", "emoji")),
            ("ba", cyclegan.generator_ba, 3, 1, ("emoji", "sketch"))):
        folder = cyclegan_dir / direction
        x = images(3, c_in, seed=7)
        want = np.asarray(generator(x, training=False))
        for out in outputs_of(folder, x):
            assert out.shape == (3, SIZE, SIZE, c_out)
            np.testing.assert_allclose(out, want, atol=1e-5, rtol=0)
        t = OnnxTranslator(folder / "translator.onnx")
        assert (t.source_domain, t.target_domain) == domains
        assert t.direction == direction and t.metadata["name"] == f"model-{direction}"
        assert t.metadata["translator"] == "cyclegan"
        assert "training_config" not in t.metadata  # unknown: left out, not "null"


def test_parity_check_fails_loudly(pix2pix, tmp_path, monkeypatch):
    monkeypatch.setattr(translators, "PARITY_TOLERANCE", -1.0)
    with pytest.raises(ExportError, match=r"^the keras export differs from the Keras model"):
        export_translator(pix2pix, tmp_path / "out")


@pytest.mark.parametrize("kwargs, message", [
    ({"direction": "ba"}, "Pix2Pix translates one way only: direction 'ba' needs a CycleGAN"),
    ({"direction": "both"}, "direction 'both' needs a CycleGAN, got Pix2Pix"),
    ({"direction": "up"},
     "direction must be 'ab' or 'ba' (or 'both' for a CycleGAN), got 'up'"),
    ({"domains": ("sketch", "sketch")},
     "domains must be two different names (a, b), got ('sketch', 'sketch')"),
    ({"domains": "sketch"}, "domains must be two different names (a, b), got 'sketch'"),
    ({"card": {"colour": 1}},
     "unknown card field(s) ['colour']; known: ['name', 'translator', 'dataset', 'steps', "
     "'train_seconds', 'training_config', 'metrics', 'attribution']"),
])
def test_bad_export_requests(pix2pix, tmp_path, kwargs, message):
    with pytest.raises(ExportError) as e:
        export_translator(pix2pix, tmp_path / "out", **kwargs)
    assert str(e.value) == message
    assert not (tmp_path / "out").exists()


def test_export_refuses_a_non_translator(tmp_path):
    dense = keras.Sequential([keras.Input((8,)), keras.layers.Dense(2)], name="mlp")
    with pytest.raises(ExportError) as e:
        export_translator(dense, tmp_path / "out")
    assert str(e.value) == ("mlp is not an image-to-image generator: it maps (8,) -> (2,), "
                            "expected (H, W, C) -> (H, W, C')")


# -- the runtime -----------------------------------------------------------------------


@pytest.mark.parametrize("value, message", [
    (np.zeros((1, 16, 16, 1), np.uint8),
     "images must be float in [-1, 1], got uint8; translate_uint8 takes uint8 pictures"),
    (np.zeros((1, 16, 16, 1), bool), "images must hold real numbers, got dtype bool"),
    (np.zeros((16, 16, 1), np.float32), "images must have shape (N, 16, 16, 1), got (16, 16, 1)"),
    (np.zeros((1, 32, 16, 1), np.float32),
     "images must be 16x16 pixels, got 32x16; translate_uint8 resizes pictures"),
    (np.zeros((1, 16, 16, 3), np.float32),
     "images must have 1 channel(s), got 3; translate_uint8 converts grey and colour"),
    (np.zeros((0, 16, 16, 1), np.float32), "between 1 and 1024 images, got 0"),
    (np.zeros((1025, 16, 16, 1), np.float32), "between 1 and 1024 images, got 1025"),
    (np.full((1, 16, 16, 1), np.nan, np.float32), "images must be finite"),
    (np.full((1, 16, 16, 1), 1e300), "images must be finite"),
    (np.full((2, 16, 16, 1), 255.0, np.float32),
     "images must be in [-1, 1], got values in [255, 255]"),
    ([[1, 2], [3]], "images must be an array of numbers, got [[1, 2], [3]]"),
])
def test_bad_images(translator, value, message):
    with pytest.raises(TranslatorError) as e:
        translator.translate(value)
    assert str(e.value) == message
    assert isinstance(e.value, GeneratorError)


def test_slightly_out_of_range_is_clipped(translator):
    x = np.full((1, 16, 16, 1), 1.0005, np.float32)
    np.testing.assert_array_equal(translator.translate(x), translator.translate(np.ones_like(x)))


@pytest.mark.parametrize("value, message", [
    (np.zeros((16, 16), np.float32),
     "pictures must be uint8, got dtype float32; translate takes floats in [-1, 1]"),
    (np.zeros((2, 2, 16, 16, 1), np.uint8),
     "pictures must be (H, W), (H, W, C), (N, H, W, C) or a list of pictures, got shape "
     "(2, 2, 16, 16, 1)"),
    (np.zeros((16, 16, 5), np.uint8),
     "an image must be (H, W) or (H, W, 1-4 channels), got shape (16, 16, 5)"),
    ([], "between 1 and 1024 images, got 0"),
])
def test_bad_pictures(translator, value, message):
    with pytest.raises(TranslatorError) as e:
        translator.translate_uint8(value)
    assert str(e.value) == message


def test_uint8_round_trip(translator):
    # White is +1 exactly; every form of a white page maps to the same picture.
    want = to_uint8(translator.translate(np.ones((1, SIZE, SIZE, 1), np.float32)))[0]
    assert want.shape == (SIZE, SIZE, 3) and want.dtype == np.uint8
    white = np.full((SIZE, SIZE), 255, np.uint8)
    transparent = np.zeros((40, 40, 4), np.uint8)  # composited on white
    for picture in (white, white[..., None], np.full((SIZE, SIZE, 3), 255, np.uint8),
                    np.full((32, 32), 255, np.uint8), transparent):
        np.testing.assert_array_equal(translator.translate_uint8(picture), want)
    batch = translator.translate_uint8(np.stack([white[..., None]] * 2))
    assert batch.shape == (2, SIZE, SIZE, 3)
    np.testing.assert_array_equal(batch[1], want)
    listed = translator.translate_uint8([white, np.full((8, 8, 3), 255, np.uint8)])
    np.testing.assert_array_equal(listed, batch)
    # Black is -1: a dark picture is not inverted into a white one.
    black = to_uint8(translator.translate(-np.ones((1, SIZE, SIZE, 1), np.float32)))[0]
    np.testing.assert_array_equal(translator.translate_uint8(np.zeros((SIZE, SIZE), np.uint8)),
                                  black)
    assert not np.array_equal(black, want)


def test_refuses_files_that_are_not_translators(pix2pix_dir, tmp_path):
    with pytest.raises(TranslatorError) as e:
        OnnxTranslator(tmp_path / "none.onnx")
    assert str(e.value) == f"no translator file at {tmp_path / 'none.onnx'}"
    model = onnx.load(str(pix2pix_dir / "translator.onnx"))
    for prop in model.metadata_props:
        if prop.key == "kind":
            prop.value = "image"
    onnx.save(model, str(tmp_path / "image.onnx"))
    with pytest.raises(TranslatorError, match=r"is not a keras-gan translator: .* kind 'image'$"):
        OnnxTranslator(tmp_path / "image.onnx")


NO_TF = textwrap.dedent("""
    import sys
    for name in ("tensorflow", "keras", "tf_keras"):
        sys.modules[name] = None  # `import tensorflow` now raises ImportError
    try:
        import tensorflow  # noqa: F401
    except ImportError:
        pass
    else:
        raise SystemExit("tensorflow still importable")
    import numpy as np
    from export.translator_runtime import OnnxTranslator
    t = OnnxTranslator(sys.argv[1])
    out = t.translate_uint8(np.full((16, 16), 255, np.uint8))
    assert out.shape == (16, 16, 3), out.shape
    print("SUM", int(out.astype("int64").sum()))
    loaded = {m for m in sys.modules if sys.modules[m] is not None}
    print("TF", any(m == "tensorflow" or m.startswith("tensorflow.") for m in loaded))
    print("KERAS", any(m == "keras" or m.startswith("keras.") for m in loaded))
""")


def test_runtime_without_tensorflow(pix2pix_dir, translator):
    proc = subprocess.run([sys.executable, "-c", NO_TF, str(pix2pix_dir / "translator.onnx")],
                          cwd=REPO, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    lines = dict(line.split(" ", 1) for line in proc.stdout.strip().splitlines())
    assert lines["TF"] == "False" and lines["KERAS"] == "False"
    white = np.full((SIZE, SIZE), 255, np.uint8)
    assert int(lines["SUM"]) == int(translator.translate_uint8(white).astype(np.int64).sum())


def test_bare_generator_with_another_input_name(tmp_path):
    # Not from the registry: its input is renamed `source` in every file.
    x = keras.Input((SIZE, SIZE, 3), name="picture")
    y = keras.layers.Conv2D(1, 3, padding="same", activation="tanh", name="conv")(x)
    generator = keras.Model(x, y, name="greyer")
    card = export_translator(generator, tmp_path / "out", domains=("colour", "grey"))
    assert card["translator"] is None and card["model_config"] is None
    z = images(2, 3)
    want = np.asarray(generator(z))
    for out in outputs_of(tmp_path / "out", z):
        np.testing.assert_allclose(out, want, atol=1e-5, rtol=0)


def test_mixed_precision_translator_exports_float32(tmp_path):
    keras.mixed_precision.set_dtype_policy("mixed_float16")
    model = build_translator("unet-l1", SIZE, 1, 3, WIDTH, seed=0)
    keras.mixed_precision.set_dtype_policy("float32")
    card = export_translator(model, tmp_path / "out")
    assert max(card["parity_max_abs_error"].values()) <= 1e-5
    x = images(2, 1)
    np.testing.assert_allclose(OnnxTranslator(tmp_path / "out" / "translator.onnx").translate(x),
                               np.asarray(model.generator(x)), atol=1e-2, rtol=0)
