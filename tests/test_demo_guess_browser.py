"""The classifier's guess in a real browser: Playwright driving a headless
Chromium, as `test_demo_browser.py` does (the same Chromium, the same
KERAS_GAN_SKIP_BROWSER switch), on the models of `test_demo_guess.py`."""

import pytest
from test_demo_browser import chromium, draw, open_page  # noqa: F401  (chromium: a fixture)
from test_demo_guess import make_models


@pytest.fixture(scope="module")
def page(chromium, exported, tmp_path_factory):  # noqa: F811
    models = make_models(tmp_path_factory.mktemp("browser-guess"), exported("dcgan"))
    for page in open_page(chromium, models, tmp_path_factory):
        page.get_by_role("tab", name="From your image").click()
        yield page


def pick(page, name: str) -> None:
    page.locator("#model input").click()
    page.get_by_role("option", name=name, exact=True).click()
    page.locator("#card h3").get_by_text(name, exact=True).wait_for()


def test_a_drawing_gets_the_classifiers_guess_and_a_plain_model_none(page):
    assert not page.locator("#guess").is_visible()  # broken/: its classifier is not served
    pick(page, "ssgan")
    page.locator("#guess").wait_for(state="visible")
    page.locator("#projection-note").get_by_text("still shows its classifier's guess").wait_for()
    draw(page, "#image-a", [[(0.2, 0.2), (0.8, 0.2), (0.4, 0.85)]])  # a "7"
    page.locator("#project").click()
    # Three classes with their probabilities; then the projection's own refusal.
    page.wait_for_function("() => (document.querySelector('#guess')?.innerText.match("
                           "/\\d+(\\.\\d+)?%/g) || []).length === 3")
    page.get_by_text("ssgan has no encoder: make one with").first.wait_for()
    assert "Traceback" not in page.content()
    pick(page, "plain")
    page.locator("#guess").wait_for(state="hidden")
