"""export/runtime.py: numpy latents, slerp and OnnxGenerator on exported models."""

import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from export import runtime
from export.runtime import (
    GeneratorError,
    OnnxGenerator,
    sample_latents,
    slerp,
    to_uint8,
)

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def dcgan(exported):
    return OnnxGenerator(exported("dcgan") / "generator.onnx")


@pytest.fixture(scope="module")
def cdcgan(exported):
    return OnnxGenerator(exported("dcgan", conditional=True) / "generator.onnx")


@pytest.fixture(scope="module")
def points(exported):
    return OnnxGenerator(exported("mlp") / "generator.onnx")


# -- sample_latents -------------------------------------------------------------


def test_sample_latents_shape_dtype_and_seeding():
    z = sample_latents(5, 8, seed=3)
    assert z.shape == (5, 8) and z.dtype == np.float32
    np.testing.assert_array_equal(z, sample_latents(5, 8, seed=3))
    assert not np.array_equal(z, sample_latents(5, 8, seed=4))
    expected = np.random.default_rng(3).standard_normal((5, 8), dtype=np.float32)
    np.testing.assert_array_equal(z, expected)


@pytest.mark.parametrize("t", [0.1, 0.5, 1.0, 2.0])
def test_sample_latents_truncation(t):
    z = sample_latents(64, 16, seed=1, truncation=t)
    assert z.shape == (64, 16) and z.dtype == np.float32
    assert np.abs(z).max() <= t
    np.testing.assert_array_equal(z, sample_latents(64, 16, seed=1, truncation=t))
    assert not np.array_equal(z, sample_latents(64, 16, seed=2, truncation=t))
    # redraws only touch entries beyond t: the others are the untruncated draw
    plain = sample_latents(64, 16, seed=1)
    keep = np.abs(plain) <= t
    np.testing.assert_array_equal(z[keep], plain[keep])


@pytest.mark.parametrize("t, message", [
    (0.05, "truncation must be >= 0.1 (or None), got 0.05"),
    (0.0, "truncation must be >= 0.1 (or None), got 0.0"),
    (-1.0, "truncation must be >= 0.1 (or None), got -1.0"),
    (float("nan"), "truncation must be >= 0.1 (or None), got nan"),
])
def test_sample_latents_truncation_too_small(t, message):
    with pytest.raises(GeneratorError) as e:
        sample_latents(4, 8, seed=0, truncation=t)
    assert str(e.value) == message


# -- slerp ----------------------------------------------------------------------


def test_slerp_endpoints():
    a, b = sample_latents(2, 16, seed=0)
    path = slerp(a, b, np.linspace(0, 1, 7))
    assert path.shape == (7, 16) and path.dtype == np.float32
    np.testing.assert_allclose(path[0], a, atol=1e-6)
    np.testing.assert_allclose(path[-1], b, atol=1e-6)


def test_slerp_keeps_norm_where_lerp_does_not():
    a = np.array([3.0, 0.0, 0.0], np.float32)
    b = np.array([0.0, 3.0, 0.0], np.float32)
    mid = slerp(a, b, np.array([0.5]))[0]
    np.testing.assert_allclose(np.linalg.norm(mid), 3.0, rtol=1e-6)
    np.testing.assert_allclose(mid, [3 / np.sqrt(2), 3 / np.sqrt(2), 0], rtol=1e-6)
    lerp_mid = 0.5 * a + 0.5 * b
    assert np.linalg.norm(lerp_mid) < 2.2  # 3 / sqrt(2) ~ 2.12


@pytest.mark.parametrize("scale", [1.0, 2.0, -1.0])
def test_slerp_parallel_falls_back_to_lerp(scale):
    a = np.array([1.0, 2.0, -1.0], np.float32)
    b = scale * a
    t = np.linspace(0, 1, 5)
    out = slerp(a, b, t)
    assert np.isfinite(out).all()
    np.testing.assert_allclose(out, (1 - t)[:, None] * a + t[:, None] * b, atol=1e-6)


# -- OnnxGenerator: unconditional images -----------------------------------------


def test_dcgan_properties(dcgan):
    assert dcgan.latent_dim == 8
    assert dcgan.output_shape == (28, 28, 1)
    assert dcgan.kind == "image"
    assert dcgan.conditional is False and dcgan.num_classes is None
    assert dcgan.metadata["latent_dim"] == 8
    assert dcgan.metadata["image_shape"] == [28, 28, 1]
    raw = dcgan.session.get_modelmeta().custom_metadata_map
    assert raw["keras_gan_contract"] == runtime.CONTRACT_VERSION
    # plain-text keys stay strings ("1" must not come back as the int 1)
    assert dcgan.metadata["keras_gan_contract"] == runtime.CONTRACT_VERSION
    assert dcgan.metadata["kind"] == "image" and dcgan.metadata["value_range"] == [-1, 1]


def test_dcgan_sample(dcgan):
    images = dcgan.sample(4, seed=0)
    assert images.shape == (4, 28, 28, 1) and images.dtype == np.uint8
    np.testing.assert_array_equal(images, dcgan.sample(4, seed=0))
    assert not np.array_equal(images, dcgan.sample(4, seed=1))
    assert len({img.tobytes() for img in images}) == 4  # different latents, images

    floats = dcgan.sample(4, seed=0, as_uint8=False)
    assert floats.dtype == np.float32 and floats.shape == (4, 28, 28, 1)
    assert floats.min() >= -1.0 and floats.max() <= 1.0
    np.testing.assert_array_equal(to_uint8(floats), images)

    direct = dcgan.run(sample_latents(4, 8, seed=0))
    np.testing.assert_array_equal(to_uint8(direct), images)


def test_dcgan_sample_truncation(dcgan):
    z = sample_latents(3, 8, seed=5, truncation=0.5)
    np.testing.assert_array_equal(dcgan.sample(3, seed=5, truncation=0.5, as_uint8=False),
                                  dcgan.run(z))


def test_run_matches_keras(exported, dcgan):
    import keras

    model = keras.saving.load_model(exported("dcgan") / "generator.keras")
    z = sample_latents(3, 8, seed=2)
    np.testing.assert_allclose(dcgan.run(z), np.asarray(model(z, training=False)), atol=1e-4)


def test_to_uint8():
    out = to_uint8(np.array([-2.0, -1.0, 0.0, 1.0, 3.0], np.float32))
    assert out.dtype == np.uint8
    np.testing.assert_array_equal(out, [0, 0, 128, 255, 255])


@pytest.mark.parametrize("method", ["slerp", "lerp"])
def test_interpolate_endpoints(dcgan, method):
    path = dcgan.interpolate(3, 9, steps=6, method=method)
    assert path.shape == (6, 28, 28, 1) and path.dtype == np.uint8
    np.testing.assert_array_equal(path[0], dcgan.sample(1, seed=3)[0])
    np.testing.assert_array_equal(path[-1], dcgan.sample(1, seed=9)[0])


def test_interpolate_slerp_differs_from_lerp(dcgan):
    s = dcgan.interpolate(3, 9, steps=5, method="slerp", as_uint8=False)
    lp = dcgan.interpolate(3, 9, steps=5, method="lerp", as_uint8=False)
    np.testing.assert_allclose(s[0], lp[0], atol=1e-6)
    assert np.abs(s[2] - lp[2]).max() > 1e-4
    a, b = sample_latents(1, 8, 3)[0], sample_latents(1, 8, 9)[0]
    np.testing.assert_array_equal(s, dcgan.run(slerp(a, b, np.linspace(0, 1, 5))))


# -- OnnxGenerator: conditional ---------------------------------------------------


def test_conditional_properties(cdcgan):
    assert cdcgan.conditional is True
    assert cdcgan.num_classes == 10
    assert cdcgan.class_names is not None and len(cdcgan.class_names) == 10
    assert cdcgan.output_shape == (28, 28, 1)


def test_conditional_labels_default_cycles(cdcgan):
    images = cdcgan.sample(13, seed=0, as_uint8=False)
    np.testing.assert_array_equal(images, cdcgan.sample(13, seed=0, labels=np.arange(13) % 10,
                                                        as_uint8=False))
    z = sample_latents(13, 8, seed=0)
    np.testing.assert_array_equal(images, cdcgan.run(z, np.arange(13) % 10))
    # run without labels also cycles
    np.testing.assert_array_equal(images, cdcgan.run(z))


def test_conditional_labels_matter(cdcgan):
    z = np.repeat(sample_latents(1, 8, seed=0), 2, axis=0)
    out = cdcgan.run(z, np.array([1, 2]))
    assert np.abs(out[0] - out[1]).max() > 1e-5


@pytest.mark.parametrize("label", [4, np.int64(4), 4.0, np.array(4)])
def test_conditional_int_label_broadcast(cdcgan, label):
    images = cdcgan.sample(3, seed=1, labels=label, as_uint8=False)
    np.testing.assert_array_equal(images, cdcgan.sample(3, seed=1, labels=[4, 4, 4],
                                                        as_uint8=False))


@pytest.mark.parametrize("labels, message", [
    (10, "labels must be in [0, 9], got [10]"),
    (-1, "labels must be in [0, 9], got [-1]"),
    ([0, 1, 10], "labels must be in [0, 9], got [10]"),
    ([0, 1], "labels must be one int or 3 ints, got shape (2,)"),
    ([[0, 1, 2]], "labels must be one int or 3 ints, got shape (1, 3)"),
    ([0.5, 1.0, 2.0], "labels must be integers, got [0.5, 1.0, 2.0]"),
    (2.5, "labels must be integers, got 2.5"),
    (["a", "b", "c"], "labels must be integers, got ['a', 'b', 'c']"),
    ([True, False, True], "labels must be integers, got [True, False, True]"),
])
def test_conditional_bad_labels(cdcgan, labels, message):
    with pytest.raises(GeneratorError) as e:
        cdcgan.sample(3, seed=0, labels=labels)
    assert str(e.value) == message


def test_conditional_interpolate_label_pair(cdcgan):
    steps = 5
    path = cdcgan.interpolate(1, 2, steps=steps, labels=(3, 7), as_uint8=False)
    a, b = sample_latents(1, 8, 1)[0], sample_latents(1, 8, 2)[0]
    t = np.linspace(0, 1, steps)
    z = slerp(a, b, t)
    expected_labels = np.array([3, 3, 7, 7, 7])  # t = 0, .25 | .5, .75, 1
    np.testing.assert_array_equal(path, cdcgan.run(z, expected_labels))
    assert not np.array_equal(path, cdcgan.run(z, np.full(steps, 3)))
    assert not np.array_equal(path, cdcgan.run(z, np.full(steps, 7)))
    # a single class is used all along
    np.testing.assert_array_equal(cdcgan.interpolate(1, 2, steps, labels=7, as_uint8=False),
                                  cdcgan.run(z, np.full(steps, 7)))


# -- OnnxGenerator: points ---------------------------------------------------------


def test_points_model(points):
    assert points.kind == "points"
    assert points.output_shape == (2,)
    assert points.latent_dim == 8
    out = points.sample(7, seed=0)  # as_uint8 is ignored for points
    assert out.shape == (7, 2) and out.dtype == np.float32
    np.testing.assert_array_equal(out, points.sample(7, seed=0, as_uint8=False))
    np.testing.assert_array_equal(out, points.run(sample_latents(7, 8, seed=0)))
    path = points.interpolate(0, 1, steps=4)
    assert path.shape == (4, 2) and path.dtype == np.float32


# -- errors -----------------------------------------------------------------------


def test_missing_file(tmp_path):
    with pytest.raises(GeneratorError) as e:
        OnnxGenerator(tmp_path / "nope.onnx")
    assert str(e.value) == f"no generator file at {tmp_path}/nope.onnx"
    with pytest.raises(GeneratorError) as e:
        OnnxGenerator(tmp_path)  # a folder is not a file
    assert str(e.value) == f"no generator file at {tmp_path}"


def test_not_onnx(tmp_path):
    path = tmp_path / "garbage.onnx"
    path.write_bytes(b"\x00\x01this is not a protobuf\xff" * 50)
    with pytest.raises(GeneratorError) as e:
        OnnxGenerator(path)
    assert str(e.value) == (f"{tmp_path}/garbage.onnx is not a loadable ONNX model: "
                            "[ONNXRuntimeError] : 7 : INVALID_PROTOBUF : Load model from "
                            f"{tmp_path}/garbage.onnx failed:Protobuf parsing failed.")


def _tiny_onnx(path, input_name="x", output_name="images", elem=None, extra_labels=None):
    import onnx
    from onnx import TensorProto, helper

    elem = TensorProto.FLOAT if elem is None else elem
    inputs = [helper.make_tensor_value_info(input_name, elem, ["N", 8])]
    nodes = [helper.make_node("Identity", [input_name], [output_name])]
    if extra_labels is not None:
        inputs.append(helper.make_tensor_value_info("labels", extra_labels, ["N"]))
    outputs = [helper.make_tensor_value_info(output_name, elem, ["N", 8])]
    graph = helper.make_graph(nodes, "g", inputs, outputs)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return path


def test_valid_onnx_breaking_contract(tmp_path):
    from onnx import TensorProto

    def message(path, **kwargs):
        with pytest.raises(GeneratorError) as e:
            OnnxGenerator(_tiny_onnx(path, **kwargs))
        return str(e.value)

    contract = ("is not a keras-gan generator: it needs input 'z' float32 [N, latent_dim] and "
                "output 'images'; it has inputs ")
    assert message(tmp_path / "x.onnx", input_name="x") == (
        f"{tmp_path}/x.onnx is not a keras-gan generator: it needs input 'z' float32 "
        "[N, latent_dim] and output 'images'; it has inputs [('x', 'tensor(float)', "
        "['N', 8])] and outputs ['images']")
    assert message(tmp_path / "out.onnx", input_name="z", output_name="y") == (
        f"{tmp_path}/out.onnx {contract}[('z', 'tensor(float)', ['N', 8])] and outputs ['y']")
    assert message(tmp_path / "dbl.onnx", input_name="z", elem=TensorProto.DOUBLE) == (
        f"{tmp_path}/dbl.onnx {contract}[('z', 'tensor(double)', ['N', 8])] and outputs "
        "['images']")
    assert message(tmp_path / "lab.onnx", input_name="z", extra_labels=TensorProto.INT32) == (
        f"{tmp_path}/lab.onnx: input 'labels' must be int64, got tensor(int32)")
    assert message(tmp_path / "nc.onnx", input_name="z", extra_labels=TensorProto.INT64) == (
        f"{tmp_path}/nc.onnx takes labels but its metadata has no num_classes")
    # the contract's minimum loads (no metadata: kind guessed from the shape)
    ok = OnnxGenerator(_tiny_onnx(tmp_path / "ok.onnx", input_name="z"))
    assert ok.latent_dim == 8 and ok.kind == "points" and ok.metadata == {}


def test_run_wrong_latent(dcgan):
    def message(z):
        with pytest.raises(GeneratorError) as e:
            dcgan.run(z)
        return str(e.value)

    assert message(np.zeros((2, 7), np.float32)) == "z must have shape (N, 8), got (2, 7)"
    assert message(np.zeros(8, np.float32)) == "z must have shape (N, 8), got (8,)"
    assert message(np.full((1, 8), np.nan, np.float32)) == "z must be finite in float32"
    assert message(np.full((1, 8), np.inf, np.float32)) == "z must be finite in float32"


@pytest.mark.parametrize("n, message", [
    (0, "n must be between 1 and 1024, got 0"),
    (-3, "n must be between 1 and 1024, got -3"),
    (1025, "n must be between 1 and 1024, got 1025"),
    (2.0, "n must be an integer, got 2.0"),
    ("4", "n must be an integer, got '4'"),
    (True, "n must be an integer, got True"),
])
def test_bad_count(dcgan, n, message):
    with pytest.raises(GeneratorError) as e:
        dcgan.sample(n)
    assert str(e.value) == message
    with pytest.raises(GeneratorError) as e:  # a batch over the cap (max_images, 1024)
        dcgan.run(np.zeros((5000, 8), np.float32))
    assert str(e.value) == "the batch size must be between 1 and 1024, got 5000"


def test_max_images(exported):
    gen = OnnxGenerator(exported("dcgan") / "generator.onnx", max_images=5)
    assert gen.sample(5).shape == (5, 28, 28, 1)
    with pytest.raises(GeneratorError, match="n must be between 1 and 5, got 6"):
        gen.sample(6)
    with pytest.raises(GeneratorError, match="the batch size must be between 1 and 5, got 6"):
        gen.run(np.zeros((6, 8), np.float32))
    with pytest.raises(GeneratorError, match="steps must be between 1 and 5"):
        gen.interpolate(0, 1, steps=6)


@pytest.mark.parametrize("seed, message", [
    (-1, "seed must be a non-negative integer, got -1"),
    (1.5, "seed must be a non-negative integer, got 1.5"),
    ("0", "seed must be a non-negative integer, got '0'"),
    (None, "seed must be a non-negative integer, got None"),
    (True, "seed must be a non-negative integer, got True"),
])
def test_bad_seed(dcgan, seed, message):
    with pytest.raises(GeneratorError) as e:
        dcgan.sample(2, seed=seed)
    assert str(e.value) == message
    with pytest.raises(GeneratorError) as e:
        dcgan.interpolate(0, seed, steps=3)
    assert str(e.value) == message


def test_bad_interpolation(dcgan):
    with pytest.raises(GeneratorError, match="method must be 'slerp' or 'lerp', got 'cubic'"):
        dcgan.interpolate(0, 1, steps=4, method="cubic")
    with pytest.raises(GeneratorError, match="steps must be at least 2"):
        dcgan.interpolate(0, 1, steps=1)
    with pytest.raises(GeneratorError, match="steps must be"):
        dcgan.interpolate(0, 1, steps=0)


def test_labels_on_unconditional(dcgan):
    for call in (lambda: dcgan.sample(2, labels=3),
                 lambda: dcgan.run(np.zeros((2, 8), np.float32), labels=[0, 1]),
                 lambda: dcgan.interpolate(0, 1, steps=3, labels=(3, 7))):
        with pytest.raises(GeneratorError) as e:
            call()
        assert str(e.value) == "this generator is unconditional: labels must be None"


# -- providers ----------------------------------------------------------------------


def test_providers_auto_is_cpu_here(dcgan):
    import onnxruntime as ort

    if "CUDAExecutionProvider" in ort.get_available_providers():
        pytest.skip("onnxruntime sees CUDA here")
    assert dcgan.provider == "CPUExecutionProvider"
    assert runtime._providers("auto") == ["CPUExecutionProvider"]


def test_providers_auto_prefers_cuda(monkeypatch):
    import onnxruntime as ort

    monkeypatch.setattr(ort, "get_available_providers",
                        lambda: ["CUDAExecutionProvider", "CPUExecutionProvider"])
    assert runtime._providers("auto") == ["CUDAExecutionProvider", "CPUExecutionProvider"]


def test_providers_explicit(exported, monkeypatch):
    import onnxruntime as ort

    path = exported("dcgan") / "generator.onnx"
    gen = OnnxGenerator(path, providers=["CPUExecutionProvider"])
    assert gen.provider == "CPUExecutionProvider"
    assert gen.session.get_providers() == ["CPUExecutionProvider"]

    seen = []
    real = ort.InferenceSession

    def spy(*args, **kwargs):
        seen.append(kwargs.get("providers"))
        return real(*args, **kwargs)

    monkeypatch.setattr(ort, "InferenceSession", spy)
    OnnxGenerator(path, providers=("CPUExecutionProvider",))
    assert seen == [["CPUExecutionProvider"]]


# -- no TensorFlow ---------------------------------------------------------------------

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
    from export.runtime import OnnxGenerator
    gen = OnnxGenerator(sys.argv[1])
    images = gen.sample(3, seed=0)
    assert images.shape == (3, 28, 28, 1), images.shape
    print("SUM", int(images.astype("int64").sum()))
    loaded = {m for m in sys.modules if sys.modules[m] is not None}
    print("TF", any(m == "tensorflow" or m.startswith("tensorflow.") for m in loaded))
    print("KERAS", any(m == "keras" or m.startswith("keras.") for m in loaded))
""")


def test_runtime_without_tensorflow(dcgan, exported):
    path = exported("dcgan") / "generator.onnx"
    proc = subprocess.run([sys.executable, "-c", NO_TF, str(path)], cwd=REPO,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    lines = dict(line.split(" ", 1) for line in proc.stdout.strip().splitlines())
    assert lines["TF"] == "False" and lines["KERAS"] == "False"
    assert int(lines["SUM"]) == int(dcgan.sample(3, seed=0).astype(np.int64).sum())


def test_slerp_from_a_zero_vector_falls_back_to_lerp():
    b = np.ones(4, np.float32)
    out = runtime.slerp(np.zeros(4, np.float32), b, np.array([0.0, 0.5, 1.0]))
    np.testing.assert_allclose(out, [0 * b, 0.5 * b, b])
