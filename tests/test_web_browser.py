"""`keras-gan web` pages in a real browser: Playwright driving headless Chromium.

The page of the shipped mnist-cgan (conditional, float16) and of emoji-sketch
(a translator) are written to temporary folders, served from 127.0.0.1 by a
thread (tests/browser.py's `static_server`), and checked: no request leaves
127.0.0.1, the grid is drawn, and the page's numbers (its model output, its
PRNG, slerp, the [-1, 1] -> byte mapping, the pixels drawn) match Python's
(export/runtime.py, export/latents.py, export/translator_runtime.py).

Needs a Chromium and the ONNX Runtime Web files in the cache: both come from
`python tests/browser.py` (the README's test command runs it first). Without
them the tests FAIL, saying so; KERAS_GAN_SKIP_BROWSER=1 skips them on purpose.
"""

import math
from pathlib import Path
from urllib.parse import urlparse

import numpy as np
import pytest
from browser import find_chromium, static_server
from test_demo_browser import need

from export import web_runtime
from export.latents import slerp, to_uint8
from export.runtime import OnnxGenerator
from export.translator_runtime import OnnxTranslator
from export.web import export_page

MODELS = Path(__file__).resolve().parents[1] / "saved_models"
# The page's run of generator_fp16.onnx against onnxruntime's (Python, CPU)
# on the same file: measured 0.0 (both run the same float16 kernels); the
# bound leaves room for another CPU's rounding, far below a pixel step (2/255).
SAME_FILE_TOL = 1e-4
# ... and against float32's generator.onnx: the card's fp16_max_abs_error
# (0.005 for mnist-cgan, measured 0.0034 here on these latents), with margin.
FP32_TOL = 1e-2

READ = """async ([z, n, labels]) => { await window.kerasGan.ready;
  return Array.from(await window.kerasGan.generate(z, n, labels)); }"""
PIXELS = """sel => Array.from(document.querySelectorAll(sel), c =>
  Array.from(c.getContext('2d').getImageData(0, 0, c.width, c.height).data))"""


@pytest.fixture(scope="module")
def browser():
    path = find_chromium()
    if not path:
        need("no Chromium found", "run `python tests/browser.py` to install one")
    if web_runtime.cached() is None:
        need(f"no ONNX Runtime Web {web_runtime.ORT_WEB_VERSION} files in "
             f"{web_runtime.cache_dir()}", "run `python tests/browser.py` to fetch them")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        need("the playwright package is missing", 'install it with pip install -e ".[dev]"')
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=path, headless=True)
        yield chromium
        chromium.close()


def open_page(browser, folder):
    """(page, the URLs it requested, server URL), the page loaded and its
    first image drawn."""
    with static_server(folder) as url:
        page = browser.new_page()
        page.set_default_timeout(30_000)
        requests, errors = [], []
        page.on("request", lambda r: requests.append(r.url))
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(url)
        page.wait_for_function("() => performance.getEntriesByName('kg-first-image').length")
        yield page, requests, url
        assert not errors, errors
        page.close()


@pytest.fixture(scope="module")
def cgan(browser, tmp_path_factory):
    folder = tmp_path_factory.mktemp("web-cgan")
    manifest = export_page(MODELS / "mnist-cgan", folder, overwrite=True)
    for page, requests, _ in open_page(browser, folder):
        yield page, requests, folder, manifest


def test_nothing_leaves_127_0_0_1(cgan):
    page, requests, _, manifest = cgan
    assert any(u.endswith("/ort/ort-wasm-simd-threaded.wasm") for u in requests)
    assert any(u.endswith("/" + manifest["onnx"]) for u in requests)
    away = [u for u in requests if urlparse(u).scheme not in ("data", "blob")
            and urlparse(u).hostname != "127.0.0.1"]
    assert not away


def test_the_grid_is_drawn_as_python_would_draw_it(cgan):
    page, _, folder, manifest = cgan
    grid = np.array(page.evaluate(PIXELS, "#grid canvas"), np.int64).reshape(16, 28, 28, 4)
    assert (grid.std(axis=(1, 2, 3)) > 20).all()  # 16 pictures, none blank
    # The page's own latents for seed 0, run by Python: the same bytes on screen.
    z = np.array(page.evaluate("() => Array.from(window.kerasGan.sampleLatents(16, 64, 0))"),
                 np.float32).reshape(16, 64)
    python = to_uint8(OnnxGenerator(folder / manifest["onnx"]).run(z, np.arange(16) % 10))
    assert np.array_equal(grid[..., :3], np.repeat(python, 3, axis=-1))  # grey to RGB
    assert (grid[..., 3] == 255).all()
    assert page.locator("#strip canvas").count() == 10  # the interpolation strip too


@pytest.mark.parametrize("labels", [[3, 1, 4, 1, 5, 9], None])
def test_the_page_generates_what_python_does(cgan, labels):
    page, _, folder, manifest = cgan
    z = np.random.default_rng(0).standard_normal((6, 64)).astype(np.float32)
    labels = labels or [7] * 6
    got = np.array(page.evaluate(READ, [z.ravel().tolist(), 6, labels]), np.float32)
    got = got.reshape(6, 28, 28, 1)
    assert manifest["onnx"] == "generator_fp16.onnx"
    same = OnnxGenerator(folder / manifest["onnx"]).run(z, labels)
    fp32 = OnnxGenerator(MODELS / "mnist-cgan/generator.onnx").run(z, labels)
    assert np.abs(got - same).max() < SAME_FILE_TOL
    assert np.abs(got - fp32).max() < FP32_TOL


def test_the_class_picker_draws_that_class(cgan):
    page, _, folder, manifest = cgan
    page.locator("#seed").fill("5")
    page.locator("#count").select_option("4")
    page.locator("#class").select_option(label="3")
    page.locator("#generate").click()
    page.wait_for_function("() => document.querySelectorAll('#grid canvas').length === 4")
    page.locator("#status").get_by_text("seed 5").wait_for()
    grid = np.array(page.evaluate(PIXELS, "#grid canvas"), np.int64).reshape(4, 28, 28, 4)
    z = np.array(page.evaluate("() => Array.from(window.kerasGan.sampleLatents(4, 64, 5))"),
                 np.float32).reshape(4, 64)
    python = to_uint8(OnnxGenerator(folder / manifest["onnx"]).run(z, 3))
    assert np.array_equal(grid[..., 0], python[..., 0])


def mulberry32(seed):
    """lib.js's PRNG in Python: the documented stream, uniform in [0, 1)."""
    a = seed & 0xFFFFFFFF
    while True:
        a = (a + 0x6D2B79F5) & 0xFFFFFFFF
        t = ((a ^ (a >> 15)) * (a | 1)) & 0xFFFFFFFF
        t ^= (t + (((t ^ (t >> 7)) * (t | 61)) & 0xFFFFFFFF)) & 0xFFFFFFFF
        yield ((t ^ (t >> 14)) & 0xFFFFFFFF) / 4294967296


def test_the_prng_is_mulberry32_and_box_muller(cgan):
    page = cgan[0]
    rand = mulberry32(7)
    want = [math.sqrt(-2 * math.log(1 - next(rand))) * math.cos(2 * math.pi * next(rand))
            for _ in range(12)]
    got = page.evaluate("() => Array.from(window.kerasGan.sampleLatents(3, 4, 7))")
    np.testing.assert_allclose(got, np.float32(want), rtol=1e-6, atol=1e-6)
    cut = page.evaluate("() => Array.from(window.kerasGan.sampleLatents(50, 64, 1, 0.5))")
    assert max(map(abs, cut)) <= 0.5


def test_slerp_and_bytes_match_export_latents(cgan):
    page = cgan[0]
    rng = np.random.default_rng(1)
    a, b = rng.standard_normal((2, 64)).astype(np.float32)
    got = page.evaluate("([a, b]) => Array.from(window.kerasGan.slerp(a, b, "
                        "window.kerasGan.linspace(7)))", [a.tolist(), b.tolist()])
    np.testing.assert_allclose(np.reshape(got, (7, 64)), slerp(a, b, np.linspace(0, 1, 7)),
                               atol=1e-6)
    # Random floats, the ends, beyond them, and exact halves (rint: to even).
    x = np.concatenate([rng.uniform(-1.2, 1.2, 2000), [-1, 1, -2, 2, 0],
                        np.arange(256) / np.float32(127.5) - 1 + 1 / np.float32(255)])
    x = x.astype(np.float32)
    got = page.evaluate("xs => xs.map(window.kerasGan.toUint8)", x.tolist())
    assert np.array_equal(got, to_uint8(x))


@pytest.fixture(scope="module")
def sketch(browser, tmp_path_factory):
    folder = tmp_path_factory.mktemp("web-sketch")
    export_page(MODELS / "emoji-sketch", folder, overwrite=True)
    for page, requests, _ in open_page(browser, folder):
        yield page, requests, folder


def test_the_translator_page_matches_python(sketch):
    page, requests, folder = sketch
    assert all(urlparse(u).hostname == "127.0.0.1" for u in requests
               if urlparse(u).scheme.startswith("http"))
    result = np.array(page.evaluate(PIXELS, "#result"), np.int64).reshape(32, 32, 4)
    assert result[..., :3].std() > 20  # the starter sketch, translated and drawn
    x = np.where(np.random.default_rng(2).random((2, 32, 32, 1)) < 0.1, -1.0, 1.0)
    got = page.evaluate("async x => { await window.kerasGan.ready;"
                        " return Array.from(await window.kerasGan.translate(x, 2)); }",
                        x.astype(np.float32).ravel().tolist())
    want = OnnxTranslator(folder / "translator.onnx").translate(x)
    assert np.abs(np.reshape(got, want.shape) - want).max() < SAME_FILE_TOL
