"""demo/: request logic, pictures, the page's API through gradio_client, a load test.

The models are the shipped saved_models/mnist-dcgan (real weights) and tiny
exports made here with `export_run` (conftest's `exported`): a
conditional DCGAN and a 2D MLP, with a card holding scores.
"""

import dataclasses
import json
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import textwrap
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from demo import render
from demo.models import DEFAULT_MODELS, DemoError, card_markdown, load_models
from demo.service import (
    CLOUD,
    MAX_SEED,
    Limits,
    Service,
    check_class,
    check_seed,
    check_truncation,
    interpolation,
    sample,
)

REPO = Path(__file__).resolve().parents[1]
SHIPPED = REPO / "saved_models" / "mnist-dcgan"
TOY_METRICS = {"modes": 8, "num_modes": 8, "high_quality": 0.93, "reverse_kl": 0.012}


@pytest.fixture(scope="module")
def models_dir(exported, tmp_path_factory):
    """mnist (shipped), cond (conditional, tiny), toy (2D, tiny, scored), and two
    folders that are not served: a classifier (no generator.onnx) and a broken one."""
    root = tmp_path_factory.mktemp("demo-models")
    for name, source in (("mnist", SHIPPED), ("cond", exported("dcgan", conditional=True)),
                         ("toy", exported("mlp"))):
        (root / name).mkdir()
        for f in ("generator.onnx", "model.json"):
            shutil.copy(source / f, root / name / f)
    card = json.loads((root / "toy" / "model.json").read_text())
    card.update(dataset="ring", steps=2000, train_seconds=30.0, metrics=TOY_METRICS)
    (root / "toy" / "model.json").write_text(json.dumps(card))
    (root / "classifier").mkdir()
    (root / "classifier" / "model.json").write_text("{}")
    (root / "broken").mkdir()
    (root / "broken" / "generator.onnx").write_bytes(b"not onnx")
    return root


@pytest.fixture(scope="module")
def service(models_dir, tmp_path_factory):
    return Service.from_folder(models_dir, Limits(), tmp_path_factory.mktemp("outputs"))


@pytest.fixture(scope="module")
def mnist(service):
    return service.model("mnist")


@pytest.fixture(scope="module")
def cond(service):
    return service.model("cond")


@pytest.fixture(scope="module")
def toy(service):
    return service.model("toy")


# -- models and cards ---------------------------------------------------------------


def test_load_models_serves_generators_and_notes_broken_ones(service, models_dir, monkeypatch,
                                                            capfd):
    assert service.names == ["cond", "mnist", "toy"]  # not classifier/ nor broken/
    assert len(service.skipped) == 1 and service.skipped[0].startswith("broken: ")
    assert "not a loadable ONNX model" in service.skipped[0]
    # The command says so, one line per folder it skips, and serves the rest.
    import demo.app
    from keras_gan.cli import build_parser

    served = []
    monkeypatch.setattr(demo.app, "start", lambda service, *args: served.append(service.names))
    monkeypatch.setattr(demo.app.signal, "signal", lambda *args: None)
    args = build_parser().parse_args(["demo", "--models", str(models_dir),
                                      "--port", str(free_port())])
    assert demo.app.serve(args) == 0 and served == [["cond", "mnist", "toy"]]
    out, err = capfd.readouterr()
    assert err.startswith(f"keras-gan demo: skipping broken: {models_dir}/broken/generator.onnx "
                          "is not a loadable ONNX model: ")
    assert err.count("\n") == 1 and out == f"Serving cond, mnist, toy from {models_dir}\n"


def test_load_models_refuses_an_empty_or_missing_folder(tmp_path):
    with pytest.raises(DemoError) as e:
        load_models(tmp_path / "missing", max_batch=8)
    assert str(e.value) == (f"no models folder at {tmp_path}/missing: pass --models DIR, a "
                            "folder of `keras-gan export` outputs")
    with pytest.raises(DemoError) as e:
        load_models(tmp_path, max_batch=8)
    assert str(e.value) == (f"no loadable generator.onnx in the sub-folders of {tmp_path}: "
                            f"export one with `keras-gan export RUN --out {tmp_path}/NAME`")


def test_default_models_folder_is_the_repositorys():
    assert DEFAULT_MODELS == REPO / "saved_models"


def test_kinds(mnist, cond, toy):
    assert not mnist.points and not mnist.conditional and mnist.class_names == []
    assert cond.conditional and cond.class_names == [str(i) for i in range(10)]
    assert toy.points and not toy.conditional


def test_card_markdown(mnist, cond, toy):
    card = json.loads((SHIPPED / "model.json").read_text())  # re-exports change it
    text = card_markdown(mnist)
    assert text.startswith("### mnist")
    assert (f"**{card['gan']}** trained on **{card['dataset']}** for "
            f"**{card['steps']:,} steps**") in text
    assert "28×28×1 images, unconditional" in text
    assert f"latent: {card['latent_dim']} dims" in text
    assert f"| batch_size | {card['training_config']['batch_size']} |" in text
    assert "conditional on 10 classes" in card_markdown(cond)
    toy_text = card_markdown(toy)
    assert "2D points" in toy_text and "**ring**" in toy_text and "(30 s)" in toy_text
    assert "| modes | 8 |" in toy_text and "| high_quality | 0.93 |" in toy_text
    assert "- data:" not in text  # no attribution on the card, none shown
    credited = dataclasses.replace(mnist, card={**mnist.card, "attribution": "Twemoji, CC-BY"})
    assert "- data: Twemoji, CC-BY" in card_markdown(credited)


# -- validation ---------------------------------------------------------------------


@pytest.mark.parametrize("seed", [0, 7, 3.0, np.int64(5), MAX_SEED])
def test_check_seed_accepts_whole_numbers(seed):
    assert check_seed(seed) == int(seed) and isinstance(check_seed(seed), int)


@pytest.mark.parametrize("seed, message", [
    (-1, "seed must be between 0 and 4294967295, got -1"),
    (MAX_SEED + 1, "seed must be between 0 and 4294967295, got 4294967296"),
    (1.5, "seed must be a whole number, got 1.5"),
    (float("nan"), "seed must be a whole number, got nan"),
    (float("inf"), "seed must be a whole number, got inf"),
    (True, "seed must be a whole number, got True"),
    ("3", "seed must be a whole number, got '3'"),
    (None, "seed is empty: enter a whole number from 0 to 4294967295"),
])
def test_check_seed_refuses(seed, message):
    with pytest.raises(DemoError) as e:
        check_seed(seed)
    assert str(e.value) == message


def test_check_truncation():
    assert check_truncation(0) is None and check_truncation(None) is None
    assert check_truncation(0.5) == 0.5 and check_truncation(4) == 4.0
    for bad, shown in ((0.05, "0.05"), (-1, "-1"), (4.5, "4.5"), (float("nan"), "nan")):
        with pytest.raises(DemoError) as e:
            check_truncation(bad)
        assert str(e.value) == f"truncation must be 0 (off) or between 0.1 and 4, got {shown}"
    with pytest.raises(DemoError) as e:
        check_truncation(4.5)
    assert str(e.value) == "truncation must be 0 (off) or between 0.1 and 4, got 4.5"


def test_check_class(mnist, cond):
    assert check_class(mnist, "7", allow_all=True) is None  # unconditional: ignored
    assert check_class(cond, "all", allow_all=True) is None  # every class in turn
    assert check_class(cond, "3", allow_all=True) == 3
    assert check_class(cond, 4, allow_all=False) == 4
    assert check_class(cond, None, allow_all=False) == 0
    for bad, shown in (("10", "10"), (-1, "-1"), ("cat", "'cat'"), (2.5, "2.5")):
        with pytest.raises(DemoError) as e:
            check_class(cond, bad, allow_all=True)
        assert str(e.value) == ("class must be one of 0, 1, 2, 3, 4, 5, 6, 7, 8, 9 (or an index "
                                f"0 to 9) for cond, got {shown}")
    with pytest.raises(DemoError) as e:  # an index as text is read as the index
        check_class(cond, "10", allow_all=True)
    assert str(e.value) == ("class must be one of 0, 1, 2, 3, 4, 5, 6, 7, 8, 9 (or an index 0 "
                            "to 9) for cond, got 10")
    with pytest.raises(DemoError) as e:
        check_class(cond, "all", allow_all=False)
    assert str(e.value) == "interpolation needs one class for each end, not 'all'"


# -- sampling -----------------------------------------------------------------------


def test_sample_grid_shape_dtype_and_seeding(mnist):
    picture = sample(mnist, 16, seed=0)
    tile = 28 * 3  # 28 px upscaled x3 to reach MIN_TILE
    assert picture.dtype == np.uint8 and picture.shape == (4 * (tile + 2) + 2,) * 2 + (3,)
    np.testing.assert_array_equal(picture, sample(mnist, 16, seed=0.0))
    assert not np.array_equal(picture, sample(mnist, 16, seed=1))
    # the grid holds the runtime's images: the first tile is image 0, upscaled
    first = mnist.generator.sample(1, seed=0)[0, :, :, 0]
    np.testing.assert_array_equal(picture[2:2 + tile:3, 2:2 + tile:3, 0], first)
    assert sample(mnist, 5, seed=0).shape == (2 * (tile + 2) + 2, 3 * (tile + 2) + 2, 3)


def test_sample_truncation_changes_the_latents(mnist):
    assert not np.array_equal(sample(mnist, 4, seed=0, truncation=0.5),
                              sample(mnist, 4, seed=0))


@pytest.mark.parametrize("n, message", [
    (65, "the number of images must be between 1 and 64, got 65"),
    (0, "between 1 and 64, got 0"),
    (2.5, "whole number"),
])
def test_sample_refuses_counts(mnist, n, message):
    with pytest.raises(DemoError, match=message):
        sample(mnist, n, seed=0)


def test_conditional_sample_honours_the_class(cond):
    threes = sample(cond, 4, seed=0, label="3")
    expected = render.grid(cond.generator.sample(4, seed=0, labels=3))
    np.testing.assert_array_equal(threes, expected)
    assert not np.array_equal(threes, sample(cond, 4, seed=0, label="4"))
    cycling = render.grid(cond.generator.sample(4, seed=0, labels=[0, 1, 2, 3]))
    np.testing.assert_array_equal(sample(cond, 4, seed=0, label="all"), cycling)


def test_points_sample_is_a_scatter_plot(toy):
    plot = sample(toy, 1000, seed=0)  # over max_images: points have their own cap
    assert plot.shape == (480, 480, 3) and plot.dtype == np.uint8
    np.testing.assert_array_equal(plot, sample(toy, 1000, seed=0))
    assert not np.array_equal(plot, sample(toy, 1000, seed=1))
    with pytest.raises(DemoError) as e:
        sample(toy, 1025, seed=0)
    assert str(e.value) == "the number of samples must be between 1 and 1024, got 1025"


# -- interpolation ------------------------------------------------------------------


def test_interpolation_strip_and_frames(mnist):
    strip, frames = interpolation(mnist, 0, 1, steps=8)
    assert strip.dtype == np.uint8 and strip.shape == (28 * 3 + 4, 8 * (28 * 3 + 2) + 2, 3)
    assert len(frames) == 8
    assert all(f.shape == (168 + render.BAR, 168, 3) for f in frames)
    path = mnist.generator.interpolate(0, 1, 8, method="slerp")
    np.testing.assert_array_equal(strip, render.grid(path, cols=8))
    lerp, _ = interpolation(mnist, 0, 1, steps=8, method="lerp")
    assert not np.array_equal(strip, lerp)


@pytest.mark.parametrize("kwargs, message", [
    (dict(steps=33), "steps must be between 2 and 32, got 33"),
    (dict(steps=1), "steps must be between 2 and 32, got 1"),
    (dict(method="cubic"), "method must be 'slerp' or 'lerp', got 'cubic'"),
    (dict(seed_a=-3), "seed A must be between 0 and 4294967295, got -3"),
    (dict(seed_b=0.5), "seed B must be a whole number, got 0.5"),
])
def test_interpolation_refuses(mnist, kwargs, message):
    args = dict(seed_a=0, seed_b=1, steps=4, method="slerp") | kwargs
    with pytest.raises(DemoError) as e:
        interpolation(mnist, **args)
    assert str(e.value) == message


def test_conditional_interpolation_switches_class_halfway(cond):
    strip, frames = interpolation(cond, 0, 1, steps=6, class_a="2", class_b="5")
    path = cond.generator.interpolate(0, 1, 6, labels=(2, 5))
    np.testing.assert_array_equal(strip, render.grid(path, cols=6))
    same, _ = interpolation(cond, 0, 1, steps=6, class_a="2")  # class B defaults to A
    np.testing.assert_array_equal(same, render.grid(
        cond.generator.interpolate(0, 1, 6, labels=2), cols=6))


def test_points_interpolation_draws_the_path(toy):
    strip, frames = interpolation(toy, 0, 1, steps=5)
    assert strip.shape == (480, 480, 3) and len(frames) == 5
    assert frames[0].shape == (360 + render.BAR, 360, 3)
    assert not np.array_equal(frames[0], frames[-1])


# -- the service's files ------------------------------------------------------------


def test_service_writes_the_png_and_a_gif_of_n_frames(service, mnist, cond):
    path = service.sample("mnist", 3, 9, 0, "all")
    assert path.name == "mnist_seed3_n9.png" and path.parent == service.outputs
    np.testing.assert_array_equal(np.asarray(Image.open(path)), sample(mnist, 9, 3))
    png, gif = service.interpolate("cond", 0, 1, 7, "lerp", "1", "2")
    assert png.name == "cond_lerp_0-1_7steps_class1-2.png" and gif.suffix == ".gif"
    with Image.open(gif) as im:
        assert im.n_frames == 7 and im.info["loop"] == 0
    assert not list(service.outputs.glob("tmp*"))  # written through temporary names


def test_service_refuses_unknown_models(service):
    with pytest.raises(DemoError, match="unknown model 'nope'; this demo serves cond, "
                                        "mnist, toy"):
        service.sample("nope", 0, 4)


def test_limits_are_checked():
    with pytest.raises(DemoError, match="max_steps must be at least 2"):
        Limits(max_steps=1)
    assert Limits(max_images=8, max_points=16, max_steps=4).max_batch == CLOUD


def test_render_grid_layout():
    images = np.arange(5 * 2 * 3, dtype=np.uint8).reshape(5, 2, 3, 1)
    out = render.grid(images, pad=1, min_tile=1)
    assert out.shape == (2 * 3 + 1, 3 * 4 + 1, 3)  # 3 columns, 2 rows of 2x3 tiles
    np.testing.assert_array_equal(out[4:6, 5:8, 0], images[4, :, :, 0])  # row 1, col 1
    assert (out[:, 0] == render.BACKGROUND).all()
    with pytest.raises(ValueError, match="expected uint8 images"):
        render.grid(np.zeros((2, 4, 4, 1), np.float32))


# -- no TensorFlow, lazy imports ----------------------------------------------------

NO_TF = textwrap.dedent("""
    import sys

    def loaded(*names):
        return sorted(n for n in names if any(
            m == n or m.startswith(n + ".") for m in sys.modules if sys.modules[m]))

    import demo, demo.app, demo.models, demo.render, demo.service
    print("AT_IMPORT", loaded("gradio", "onnxruntime", "tensorflow", "keras", "keras_gan"))
    from demo.service import Service
    service = Service.from_folder(sys.argv[1])
    demo.app.build_app(service)
    service.sample(service.names[0], 0, 4)
    print("APP", loaded("tensorflow", "keras", "keras_gan", "tf_keras", "torch"))
    from keras_gan.cli import build_parser
    args = build_parser().parse_args(["demo", "--models", sys.argv[1]])
    print("CLI", loaded("tensorflow", "keras"), args.run.__name__)
""")


def test_demo_never_imports_tensorflow(models_dir):
    proc = subprocess.run([sys.executable, "-c", NO_TF, str(models_dir)], cwd=REPO,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    lines = dict(line.split(" ", 1) for line in proc.stdout.strip().splitlines())
    assert lines["AT_IMPORT"] == "[]"  # gradio and onnxruntime come when used
    assert lines["APP"] == "[]"
    assert lines["CLI"] == "[] _demo"


def test_cli_defaults_and_a_bad_models_folder(tmp_path, capsys):
    from keras_gan.cli import build_parser, main

    args = build_parser().parse_args(["demo"])
    assert (args.models, args.host, args.port) == (str(DEFAULT_MODELS), "127.0.0.1", 7860)
    assert (args.max_images, args.max_steps, args.concurrency) == (64, 32, 2)
    assert main(["demo", "--models", str(tmp_path / "missing")]) == 2
    assert capsys.readouterr().err == (f"keras-gan demo: error: no models folder at "
                                       f"{tmp_path}/missing: pass --models DIR, a folder of "
                                       "`keras-gan export` outputs\n")
    (tmp_path / "broken").mkdir()  # nothing loadable: one line, with the reason
    (tmp_path / "broken" / "generator.onnx").write_bytes(b"not onnx")
    assert main(["demo", "--models", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"keras-gan demo: error: no loadable generator.onnx in the "
                          f"sub-folders of {tmp_path}: export one with `keras-gan export RUN "
                          f"--out {tmp_path}/NAME`; skipped broken: {tmp_path}/broken/"
                          "generator.onnx is not a loadable ONNX model: ")
    assert err.count("\n") == 1
    with pytest.raises(SystemExit):  # argparse: its usage block, then the one error line
        main(["demo", "--max-images", "0"])
    lines = capsys.readouterr().err.splitlines()
    assert lines[0].startswith("usage: keras-gan demo ")
    assert lines[-1] == "keras-gan demo: error: argument --max-images: must be at least 1, got 0"


# -- the page's API, on a live server ------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def launch_demo(models, log_path, *flags, timeout=90):
    """`python -m demo` on a free port, in a subprocess (its own GIL, like a real
    server); returns (process, url) once the page answers."""
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    with open(log_path, "w") as log:  # the server writes to its own copy of the handle
        proc = subprocess.Popen([sys.executable, "-m", "demo", "--models", str(models),
                                 "--port", str(port), *flags], cwd=REPO, stdout=log,
                                stderr=subprocess.STDOUT)
    no_proxy = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"python -m demo exited with {proc.returncode}:\n"
                                 f"{Path(log_path).read_text()}")
        try:
            with no_proxy.open(url, timeout=2) as response:
                if response.status == 200:
                    return proc, url
        except OSError:
            time.sleep(0.25)
    proc.kill()
    raise AssertionError(f"python -m demo did not answer at {url} within {timeout} s:\n"
                         f"{Path(log_path).read_text()}")


def stop(proc):
    """Ctrl+C, as a user stops it: gradio closes and the outputs folder goes."""
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@pytest.fixture(scope="module")
def client(models_dir, tmp_path_factory):
    from gradio_client import Client

    log = tmp_path_factory.mktemp("server") / "demo.log"
    proc, url = launch_demo(models_dir, log)
    try:
        yield Client(url, verbose=False)
    finally:
        stop(proc)
    assert "Serving cond, mnist, toy" in log.read_text()


def read(path) -> np.ndarray:
    with Image.open(path) as im:
        return np.asarray(im.convert("RGB"))


def test_api_sample(client, mnist):
    image = client.predict("mnist", 0, 16, 0, "all", api_name="/sample")
    np.testing.assert_array_equal(read(image), sample(mnist, 16, 0))
    assert Path(image).name == "mnist_seed0_n16.png"  # the name the download gets


def test_api_conditional_and_points(client, cond, toy):
    image = client.predict("cond", 5, 4, 0, "3", api_name="/sample")
    np.testing.assert_array_equal(read(image), sample(cond, 4, 5, label="3"))
    image = client.predict("toy", 0, 500, 0, "all", api_name="/sample")
    np.testing.assert_array_equal(read(image), sample(toy, 500, 0))


def test_api_interpolate(client, cond):
    strip, gif = client.predict("cond", 0, 1, 6, "slerp", "2", "5", api_name="/interpolate")
    expected, _ = interpolation(cond, 0, 1, 6, "slerp", "2", "5")
    np.testing.assert_array_equal(read(strip), expected)
    with Image.open(gif) as im:
        assert im.format == "GIF" and im.n_frames == 6


@pytest.mark.parametrize("args, message", [
    (("mnist", -1, 4, 0, "all"), "seed must be between 0 and 4294967295, got -1"),
    (("mnist", 1.5, 4, 0, "all"), "seed must be a whole number, got 1.5"),
    (("mnist", 0, 65, 0, "all"), "number of images must be between 1 and 64, got 65"),
    (("mnist", 0, 4, 0.05, "all"), "truncation must be 0 (off) or between 0.1 and 4"),
    (("mnist", 0, 4, 9, "all"), "greater than maximum"),  # gradio's slider bound
    (("cond", 0, 4, 0, "12"), "class must be one of 0, 1"),
    (("nope", 0, 4, 0, "all"), "nope"),  # gradio's dropdown: not in the choices
])
def test_api_refuses_bad_requests_with_a_message(client, args, message):
    from gradio_client.exceptions import AppError

    with pytest.raises(AppError) as info:
        client.predict(*args, api_name="/sample")
    assert message in str(info.value) and "Traceback" not in str(info.value)


def test_api_refuses_too_many_steps(client):
    from gradio_client.exceptions import AppError

    with pytest.raises(AppError, match="greater than maximum value 32"):
        client.predict("mnist", 0, 1, 33, "slerp", "0", "0", api_name="/interpolate")
    with pytest.raises(AppError, match="seed B must be a whole number"):
        client.predict("mnist", 0, 0.5, 4, "slerp", "0", "0", api_name="/interpolate")


def test_load_50_concurrent_samples(client, capsys):
    """50 requests at once (16 images each) all succeed; the server's queue runs
    two at a time (--concurrency 2, the default)."""

    def one(seed):
        t0 = time.perf_counter()
        image = client.predict("mnist", seed, 16, 0, "all", api_name="/sample")
        return time.perf_counter() - t0, read(image)

    t0 = time.perf_counter()
    with ThreadPoolExecutor(max_workers=50) as pool:
        results = list(pool.map(one, range(50)))
    wall = time.perf_counter() - t0
    latencies = sorted(r[0] for r in results)
    assert len({r[1].tobytes() for r in results}) == 50  # 50 different seeds, pictures
    with capsys.disabled():
        print(f"\nload test: 50 concurrent /sample (16 images each), concurrency 2: "
              f"median {statistics.median(latencies):.2f} s, worst {latencies[-1]:.2f} s, "
              f"all in {wall:.2f} s")


# -- trust boundaries: the address and the files it serves ---------------------------


def test_launch_binds_this_machine_and_allows_no_extra_paths(service, monkeypatch):
    import gradio as gr

    from demo.app import start

    seen = {}
    monkeypatch.setattr(gr.Blocks, "launch", lambda self, **kwargs: seen.update(kwargs))
    start(service)
    assert seen["server_name"] == "127.0.0.1"
    assert not seen.get("allowed_paths") and not seen.get("share")


def test_api_serves_no_file_but_its_outputs(client, models_dir):
    """gradio serves what a button returned (copied into its cache) and
    nothing else: not the models, not the repository, not the system."""
    from gradio_client import Client

    base = client.src.rstrip("/")
    no_proxy = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    def status(url):
        try:
            with no_proxy.open(url, timeout=10) as response:
                return response.status
        except urllib.error.HTTPError as e:
            return e.code

    output = Client(base, verbose=False, download_files=False).predict(
        "mnist", 0, 4, 0, "all", api_name="/sample")
    assert status(output["url"]) == 200
    cache = Path(output["path"]).parent
    for path in (models_dir / "mnist" / "generator.onnx", models_dir / "toy" / "model.json",
                 REPO / "README.md", "README.md", "saved_models/mnist-dcgan/generator.onnx",
                 "/etc/passwd", f"{cache}/../../../etc/passwd"):
        assert status(f"{base}/gradio_api/file={path}") == 403, path
