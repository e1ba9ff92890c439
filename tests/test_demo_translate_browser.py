"""The Translate tab in a real browser: Playwright driving a headless
Chromium, as `test_demo_browser.py` does (the same Chromium, the same
KERAS_GAN_SKIP_BROWSER switch), on the tiny translators of
`test_demo_translate.py`."""

import pytest
from test_demo_browser import chromium, draw, loaded, open_page  # noqa: F401  (chromium: a fixture)
from test_demo_translate import SHOWN, STRIP, make_models

# The <img>'s pixels, read back through a canvas (same origin: not tainted):
# how many colours, and the largest spread of R, G, B within one pixel.
COLOURS = """i => {
    const c = document.createElement('canvas');
    c.width = i.naturalWidth; c.height = i.naturalHeight;
    const g = c.getContext('2d');
    g.drawImage(i, 0, 0);
    const d = g.getImageData(0, 0, c.width, c.height).data;
    const seen = new Set();
    let spread = 0;
    for (let k = 0; k < d.length; k += 4) {
        seen.add((d[k] << 16) | (d[k + 1] << 8) | d[k + 2]);
        spread = Math.max(spread, Math.max(d[k], d[k + 1], d[k + 2])
                                  - Math.min(d[k], d[k + 1], d[k + 2]));
    }
    return [seen.size, spread];
}"""


@pytest.fixture(scope="module")
def page(chromium, exported, tmp_path_factory):  # noqa: F811
    models = make_models(tmp_path_factory.mktemp("browser") / "models", exported("dcgan"))
    for page in open_page(chromium, models, tmp_path_factory):
        page.get_by_role("tab", name="Translate").click()
        yield page


def test_an_empty_pad_is_refused_in_one_line(page):
    page.locator("#translator-card").get_by_text("sketch → emoji: 16×16×1").wait_for()
    assert not page.locator("#direction").is_visible()  # pix2pix: one way only
    page.locator("#translate").click()
    page.get_by_text("the source image is empty: draw on it or upload a picture").wait_for()
    assert "Traceback" not in page.content()


def test_a_drawing_is_translated_into_colour(page):
    draw(page, "#translate-source", [[(0.2, 0.2), (0.8, 0.2), (0.4, 0.85)],
                                     [(0.3, 0.6), (0.7, 0.5)]])
    page.locator("#translate").click()
    loaded(page, "#translation")
    image = page.locator("#translation img")
    assert image.evaluate("i => [i.naturalWidth, i.naturalHeight]") == [SHOWN, SHOWN]
    colours, spread = image.evaluate(COLOURS)
    assert colours > 1 and spread > 0  # not one flat colour, and not grey
    loaded(page, "#translation-steps")  # as seen | translation
    assert page.locator("#translation-steps img").evaluate("i => i.naturalWidth") == (
        2 * STRIP + 2)
    info = page.locator("#translation-info").inner_text()
    assert info.startswith("sketch → emoji by sketch2emoji; the picture was ")


def test_a_two_way_translator_shows_the_round_trip(page):
    steps = page.locator("#translation-steps img")
    before = steps.get_attribute("src") if steps.count() else None  # run alone: none yet
    page.locator("#translator input").click()
    page.get_by_role("option", name="styles: grey ↔ colour").click()
    page.locator("#direction").wait_for(state="visible")
    page.locator("#direction").get_by_text("colour → grey").click()
    draw(page, "#translate-source", [[(0.5, 0.1), (0.5, 0.9)]])  # one more stroke
    page.locator("#translate").click()
    loaded(page, "#translation-steps", before)
    # as seen | translation | back: three tiles
    assert steps.evaluate("i => i.naturalWidth") == 3 * STRIP + 2
    info = page.locator("#translation-info").inner_text()
    assert info.startswith("colour → grey by styles; round trip colour → grey → colour: ")
    assert "Traceback" not in page.content()
