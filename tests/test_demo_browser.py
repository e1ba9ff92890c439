"""The demo page in a real browser: Playwright driving a headless Chromium.

Needs the `playwright` package (the dev extra) and a Chromium binary, which
`python tests/browser.py` (the README's test command runs it first) finds or
installs: KERAS_GAN_CHROMIUM, Debian's `chromium`, or Playwright's own
download. Without one the test FAILS, so CI cannot pass without running it;
set KERAS_GAN_SKIP_BROWSER=1 to skip it on purpose.

KERAS_GAN_SCREENSHOT=docs/demo.png writes the screenshot there (the README's
picture); otherwise it goes to a temporary folder.
"""

import os
import shutil
from pathlib import Path

import pytest
from browser import find_chromium
from test_demo import PROJECTION_FILES, REPO, SHIPPED, launch_demo, stop


def need(what: str, how: str):
    if os.environ.get("KERAS_GAN_SKIP_BROWSER") == "1":
        pytest.skip(f"{what} (KERAS_GAN_SKIP_BROWSER=1)")
    pytest.fail(f"{what}: {how}, or set KERAS_GAN_SKIP_BROWSER=1 to skip the browser test",
                pytrace=False)


@pytest.fixture(scope="module")
def chromium() -> str:
    path = find_chromium()
    if not path:
        need("no Chromium found", "run `python tests/browser.py` to install one, or point "
             "KERAS_GAN_CHROMIUM at a Chromium binary")
    return path


@pytest.fixture(scope="module")
def models(exported, tmp_path_factory):
    """The shipped mnist-dcgan (first: the screenshot shows it) with its
    encoder, and a tiny conditional model, to see the class pickers appear."""
    root = tmp_path_factory.mktemp("browser-models")
    for name, source in (("mnist-dcgan", SHIPPED), ("tiny-cgan", exported("dcgan", True))):
        (root / name).mkdir()
        for f in ("generator.onnx", "model.json"):
            shutil.copy(source / f, root / name / f)
    for f in PROJECTION_FILES:
        if (SHIPPED / f).is_file():
            shutil.copy(SHIPPED / f, root / "mnist-dcgan" / f)
    return root


def open_page(chromium, models, tmp_path_factory):
    """Yields a Chromium page on a demo serving `models`; closes both after."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        need("the playwright package is missing", 'install it with pip install -e ".[dev]"')
    proc, url = launch_demo(models, tmp_path_factory.mktemp("server") / "demo.log")
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium, headless=True)
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.set_default_timeout(30_000)
            page.goto(url)
            yield page
            browser.close()
    finally:
        stop(proc)


@pytest.fixture(scope="module")
def page(chromium, models, tmp_path_factory):
    yield from open_page(chromium, models, tmp_path_factory)


def test_generate_shows_the_samples(page, tmp_path):
    page.locator("#generate").click()
    image = page.locator("#samples img")
    image.wait_for(state="visible")
    page.wait_for_function(
        "() => { const i = document.querySelector('#samples img');"
        " return i && i.complete && i.naturalWidth > 0; }")
    assert image.evaluate("i => i.naturalWidth") == 4 * (28 * 3 + 2) + 2  # the 4x4 grid
    card = page.locator("#card").inner_text()
    assert "mnist-dcgan" in card and "Scores: this model beside real data" in card
    assert "lower is better: Fréchet distance between generated and real" in card
    target = Path(os.environ.get("KERAS_GAN_SCREENSHOT") or tmp_path / "demo.png")
    target = target if target.is_absolute() else REPO / target
    target.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(target), full_page=True)
    assert target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_bad_seed_shows_a_message(page):
    page.locator("#seed input").fill("-1")
    page.locator("#generate").click()
    page.get_by_text("seed must be between 0 and 4294967295, got -1").wait_for()
    assert "Traceback" not in page.content()
    page.locator("#seed input").fill("0")


def test_interpolate_shows_the_strip_and_the_gif(page):
    page.get_by_role("tab", name="Interpolate").click()
    page.locator("#interpolate").click()
    for element in ("#strip img", "#gif img"):
        page.locator(element).wait_for(state="visible")
    assert page.locator("#gif img").get_attribute("src").endswith(".gif")


def draw(page, editor: str, strokes) -> None:
    """Picks the editor's brush and drags the mouse along each stroke, points
    given as fractions of the canvas."""
    page.locator(editor).get_by_role("button", name="Brush", exact=True).click()
    canvas = page.locator(f"{editor} canvas").first
    canvas.scroll_into_view_if_needed()  # a click below may have scrolled it away
    box = canvas.bounding_box()
    for stroke in strokes:
        (x, y), *rest = stroke
        page.mouse.move(box["x"] + x * box["width"], box["y"] + y * box["height"])
        page.mouse.down()
        for (x0, y0), (x1, y1) in zip(stroke, rest, strict=False):
            for i in range(1, 5):  # a few moves a segment, as a hand makes
                f = i / 4
                page.mouse.move(box["x"] + (x0 + f * (x1 - x0)) * box["width"],
                                box["y"] + (y0 + f * (y1 - y0)) * box["height"])
        page.mouse.up()


def loaded(page, selector: str, before: str | None = None) -> None:
    """Waits until the <img> in `selector` has loaded a picture (a new one if
    `before` was its src)."""
    page.wait_for_function(
        "([s, before]) => { const i = document.querySelector(s + ' img');"
        " return i && i.src && i.src !== before && i.complete && i.naturalWidth > 0; }",
        arg=[selector, before])


def test_a_drawing_is_projected(page):
    page.get_by_role("tab", name="From your image").click()
    page.locator("#projection-note").get_by_text("Pick the brush").wait_for()
    draw(page, "#image-a", [[(0.55, 0.15), (0.45, 0.85)]])  # a "1"
    page.locator("#project").click()
    loaded(page, "#projection")
    loaded(page, "#nearby")
    # The input as the model sees it beside G(z): two 28 px tiles upscaled x6.
    assert page.locator("#projection img").evaluate("i => i.naturalWidth") == 2 * (168 + 2) + 2
    assert page.locator("#nearby img").evaluate("i => i.naturalWidth") == 3 * (84 + 2) + 2
    info = page.locator("#projection-info").inner_text()
    assert info.startswith("pixel error 0.") and "after 50 refinement steps" in info
    assert "inverted (dark on light -> light on dark)" in info  # a black drawing on white


def test_interpolating_needs_b_then_walks_from_a_to_b(page):
    page.locator("#interpolate-images").click()  # B is still empty
    page.get_by_text("image B is empty: draw on it or upload a picture").wait_for()
    draw(page, "#image-b", [[(0.2, 0.2), (0.8, 0.2), (0.4, 0.85)]])  # a "7"
    page.locator("#interpolate-images").click()
    loaded(page, "#image-strip")
    assert page.locator("#image-strip img").evaluate("i => i.naturalWidth") == 10 * 86 + 2
    loaded(page, "#image-gif")
    assert page.locator("#image-gif img").get_attribute("src").endswith(".gif")
    assert "Traceback" not in page.content()


def test_a_conditional_model_gets_class_pickers(page):
    page.get_by_role("tab", name="Sample").click()
    assert not page.locator("#class").is_visible()  # mnist-dcgan is unconditional
    page.locator("#model input").click()
    page.get_by_role("option", name="tiny-cgan").click()
    page.locator("#card").get_by_text("conditional on 10 classes").wait_for()
    page.locator("#class").wait_for(state="visible")
    page.locator("#class input").click()
    page.get_by_role("option", name="3", exact=True).click()
    before = page.locator("#samples img").get_attribute("src")
    page.locator("#generate").click()
    page.wait_for_function(
        "before => { const i = document.querySelector('#samples img');"
        " return i && i.src !== before && i.src.includes('class3'); }", arg=before)
    # The whole card, one click away: closed until asked, then the new model's.
    assert not page.locator("#card-json").is_visible()
    page.get_by_text("Full card (model.json)").click()
    page.wait_for_function(  # mnist-dcgan's card has "num_classes": null
        "() => /\"num_classes\"\\s*:\\s*10\\b/.test("
        "document.querySelector('#card-json')?.innerText ?? '')")
