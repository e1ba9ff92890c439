"""Fuzzing the two request surfaces with hypothesis: `export.runtime`'s
public calls and the demo's request handling (`demo.service`).

Whatever comes in, a call returns a well-formed answer or raises the
documented error (`GeneratorError`, `DemoError`) with a short one-line
message and no traceback text; nothing else escapes, and nothing hangs
(hypothesis's deadline per example, pytest-timeout per test).

The models are tiny ONNX graphs written here with `onnx.helper` (no
TensorFlow: the file runs in seconds) and the shipped 2D toy-ring export.
Runs are derandomized (the same examples every run, no flakiness) and keep
no example database.
"""

import json
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from demo.models import DemoError, load_models
from demo.service import Limits, Service
from export.runtime import GeneratorError, OnnxGenerator

REPO = Path(__file__).resolve().parents[1]
LATENT = 4
CLASSES = ["cat", "dog", "emu"]
EXAMPLES = 100
# The deadline catches a hang per example (each takes milliseconds; 10 s leaves
# room for a machine busy with other work), the timeout one per test.
FUZZ = settings(max_examples=EXAMPLES, deadline=10_000, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow])

pytestmark = pytest.mark.timeout(300)


def write_onnx(path: Path, conditional: bool) -> Path:
    """z (N, 4) [, labels (N,)] -> images (N, 4, 4, 1) in [-1, 1]."""
    import onnx
    from onnx import TensorProto, helper

    rng = np.random.default_rng(0)
    w = helper.make_tensor("w", TensorProto.FLOAT, [LATENT, 16],
                           rng.standard_normal(LATENT * 16).astype(np.float32))
    shape = helper.make_tensor("shape", TensorProto.INT64, [4], [-1, 4, 4, 1])
    inputs = [helper.make_tensor_value_info("z", TensorProto.FLOAT, ["N", LATENT])]
    nodes = [helper.make_node("MatMul", ["z", "w"], ["h"])]
    if conditional:
        inputs.append(helper.make_tensor_value_info("labels", TensorProto.INT64, ["N"]))
        nodes += [helper.make_node("Cast", ["labels"], ["lf"], to=TensorProto.FLOAT),
                  helper.make_node("Unsqueeze", ["lf", "axis"], ["l2"]),
                  helper.make_node("Add", ["h", "l2"], ["h2"])]
    nodes += [helper.make_node("Tanh", ["h2" if conditional else "h"], ["t"]),
              helper.make_node("Reshape", ["t", "shape"], ["images"])]
    initializers = [w, shape, helper.make_tensor("axis", TensorProto.INT64, [1], [1])]
    graph = helper.make_graph(
        nodes, "g", inputs,
        [helper.make_tensor_value_info("images", TensorProto.FLOAT, ["N", 4, 4, 1])],
        initializer=initializers)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    meta = {"latent_dim": str(LATENT), "image_shape": "[4, 4, 1]", "kind": "image",
            "value_range": "[-1, 1]"}
    if conditional:
        meta.update(num_classes=str(len(CLASSES)), class_names=json.dumps(CLASSES))
    onnx.helper.set_model_props(model, meta)
    onnx.checker.check_model(model)
    path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(path))
    return path


@pytest.fixture(scope="module")
def models_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("fuzz-models")
    write_onnx(root / "plain" / "generator.onnx", conditional=False)
    write_onnx(root / "cond" / "generator.onnx", conditional=True)
    (root / "ring").mkdir()
    (root / "ring" / "generator.onnx").write_bytes(
        (REPO / "saved_models" / "toy-ring" / "generator.onnx").read_bytes())
    return root


@pytest.fixture(scope="module")
def generators(models_dir):
    return {name: OnnxGenerator(models_dir / name / "generator.onnx", max_images=64)
            for name in ("plain", "cond", "ring")}


@pytest.fixture(scope="module")
def service(models_dir, tmp_path_factory):
    limits = Limits(max_images=16, max_points=64, max_steps=6)
    models, skipped = load_models(models_dir, max_batch=limits.max_batch)
    assert not skipped
    return Service(models, limits, tmp_path_factory.mktemp("fuzz-outputs"))


def refused_cleanly(error: Exception) -> None:
    """A message for a person: one line, short, no traceback."""
    text = str(error)
    assert text and "\n" not in text and len(text) < 400, text
    assert "Traceback" not in text and "File \"" not in text, text


# What a caller may pass where a number is expected: anything JSON or numpy holds.
SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**70), 2**70), st.integers(-3, 70),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=30),
    st.binary(max_size=8), st.lists(st.integers(-3, 5), max_size=4),
    st.sampled_from([np.int64(3), np.uint8(200), np.float32(0.5), np.float64("nan"),
                     np.array(2), np.array([1, 2]), 1j, {}, {"a": 1}, (0, 1)]))
DTYPES = st.sampled_from(["float16", "float32", "float64", "int8", "int64", "uint8", "bool",
                          "complex64", "U3", "O"])


@st.composite
def latents(draw, width=LATENT):
    dtype = draw(DTYPES)
    shape = draw(st.one_of(
        st.tuples(st.integers(0, 70), st.just(width)),  # mostly the right width
        hnp.array_shapes(min_dims=0, max_dims=3, max_side=6)))
    if dtype in ("U3", "O"):
        return np.full(shape, draw(st.sampled_from(["a", "1.0", None, 1])), dtype=dtype)
    elements = None
    if dtype.startswith("float"):
        elements = st.floats(width=int(dtype[5:]), allow_nan=True, allow_infinity=True)
    return draw(hnp.arrays(dtype, shape, elements=elements))


# Each model's latent width: the ring's z is 2D.
WIDTHS = {"plain": LATENT, "cond": LATENT, "ring": 2}


@FUZZ
@given(case=st.sampled_from(sorted(WIDTHS)).flatmap(
           lambda which: st.tuples(st.just(which), latents(WIDTHS[which]))),
       labels=st.one_of(st.none(), SCALARS))
@example(case=("ring", np.zeros((3, 2), np.float32)), labels=None)  # the ring always runs
def test_runtime_run(generators, case, labels):
    which, z = case
    g = generators[which]
    try:
        out = g.run(z, labels)
    except GeneratorError as e:
        refused_cleanly(e)
        return
    assert out.dtype == np.float32 and out.shape == (len(z),) + g.output_shape
    assert np.isfinite(out).all()
    if which != "ring":  # images are tanh outputs; the ring's 2D points are unbounded
        assert np.abs(out).max() <= 1.0 + 1e-6


@FUZZ
@given(n=SCALARS, seed=SCALARS, truncation=SCALARS, labels=st.one_of(st.none(), SCALARS),
       which=st.sampled_from(["plain", "cond", "ring"]), as_uint8=st.booleans())
def test_runtime_sample(generators, n, seed, truncation, labels, which, as_uint8):
    g = generators[which]
    try:
        out = g.sample(n, seed=seed, truncation=truncation, labels=labels, as_uint8=as_uint8)
    except GeneratorError as e:
        refused_cleanly(e)
        return
    assert len(out) == n and 1 <= n <= g.max_images
    assert out.dtype == (np.uint8 if as_uint8 and g.kind == "image" else np.float32)


@FUZZ
@given(seed_a=SCALARS, seed_b=SCALARS, steps=SCALARS,
       method=st.one_of(st.sampled_from(["slerp", "lerp"]), SCALARS),
       labels=st.one_of(st.none(), SCALARS), truncation=st.one_of(st.none(), SCALARS),
       which=st.sampled_from(["plain", "cond", "ring"]))
def test_runtime_interpolate(generators, seed_a, seed_b, steps, method, labels, truncation,
                             which):
    g = generators[which]
    try:
        out = g.interpolate(seed_a, seed_b, steps, method=method, labels=labels,
                            truncation=truncation)
    except GeneratorError as e:
        refused_cleanly(e)
        return
    assert len(out) == steps and 2 <= steps <= g.max_images


# -- the demo's requests: what a page or an API client may send --------------------

NAMES = st.one_of(st.sampled_from(["plain", "cond", "ring"]), SCALARS)
CLASS = st.one_of(st.sampled_from(["all", "cat", "2", " 1 ", "", None]), SCALARS)


@settings(FUZZ, max_examples=60)
@given(name=NAMES, seed=SCALARS, n=SCALARS, truncation=SCALARS, label=CLASS)
def test_demo_sample_requests(service, name, seed, n, truncation, label):
    try:
        path = service.sample(name, seed, n, truncation, label)
    except DemoError as e:
        refused_cleanly(e)
        return
    assert path.is_file() and path.parent == service.outputs and path.suffix == ".png"


@settings(FUZZ, max_examples=60)
@given(name=NAMES, seed_a=SCALARS, seed_b=SCALARS, steps=SCALARS,
       method=st.one_of(st.sampled_from(["slerp", "lerp"]), SCALARS), class_a=CLASS,
       class_b=CLASS)
def test_demo_interpolate_requests(service, name, seed_a, seed_b, steps, method, class_a,
                                   class_b):
    try:
        png, gif = service.interpolate(name, seed_a, seed_b, steps, method, class_a, class_b)
    except DemoError as e:
        refused_cleanly(e)
        return
    assert png.is_file() and gif.is_file() and png.parent == gif.parent == service.outputs


def test_the_fuzzers_reach_the_models(service, generators):
    """Not every example is refused: valid requests of each kind work (so
    the fuzz tests above exercise the models, not only the validation)."""
    assert service.sample("cond", 3, 4, 0.5, "dog").is_file()
    assert service.interpolate("ring", 0, 2**32 - 1, 6, "lerp")[1].is_file()
    assert generators["cond"].sample(2, labels=[0, 2]).shape == (2, 4, 4, 1)
    assert math.isfinite(float(generators["plain"].run(np.zeros((1, LATENT))).sum()))
