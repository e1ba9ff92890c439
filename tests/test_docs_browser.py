"""The documentation site in a real browser: Playwright driving a headless
Chromium over the built site, served on 127.0.0.1.

Needs the `playwright` package (the dev extra) and a Chromium binary, which
`python tests/browser.py` finds or installs, as for the demo's browser test
(tests/test_demo_browser.py): without one the test FAILS; set
KERAS_GAN_SKIP_BROWSER=1 to skip it on purpose.

KERAS_GAN_SCREENSHOT_DOCS=DIR writes home.png and training.png there
(docs/screenshots/ holds the committed ones); otherwise they go to a
temporary folder.
"""

import os
from pathlib import Path

import pytest
from browser import static_server
from test_demo_browser import chromium, need  # noqa: F401  (chromium: the same fixture)
from test_docs import ROOT, build_site


@pytest.fixture(scope="module")
def url(tmp_path_factory):
    """The built site, served on a free port of 127.0.0.1."""
    site = build_site(tmp_path_factory.mktemp("docs-browser") / "site")
    with static_server(site) as served:
        yield served.rstrip("/")


@pytest.fixture(scope="module")
def page(request, url):
    browser_path = request.getfixturevalue("chromium")  # test_demo_browser's: found or failed
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        need("the playwright package is missing", 'install it with pip install -e ".[dev]"')
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=browser_path, headless=True)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.set_default_timeout(30_000)
        yield page
        browser.close()


def heading(page) -> str:
    """The page's h1 without its permalink sign."""
    return page.locator("article h1").inner_text().replace("\u00b6", "").strip()


def screenshot(page, name: str, tmp_path: Path) -> None:
    folder = Path(os.environ.get("KERAS_GAN_SCREENSHOT_DOCS") or tmp_path)
    folder = folder if folder.is_absolute() else ROOT / folder
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / name))
    assert (folder / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_home_page_has_its_title_heading_and_nav(page, url, tmp_path):
    page.goto(f"{url}/index.html")
    assert page.title() == "keras-gan"
    assert heading(page) == "Getting started"
    nav = page.locator("nav.md-nav--primary")
    for guide in ("Training", "The GAN family", "Benchmarks", "API reference"):
        assert nav.get_by_text(guide, exact=True).count() >= 1, guide
    image = page.locator("article img").first
    image.wait_for(state="visible")
    assert image.evaluate("i => i.complete && i.naturalWidth > 0")  # the figure loads
    screenshot(page, "home.png", tmp_path)


def test_a_guide_is_reached_from_the_nav_and_renders_its_code(page, url, tmp_path):
    page.goto(f"{url}/index.html")
    page.locator("nav.md-nav--primary").get_by_text("Training", exact=True).first.click()
    page.wait_for_url("**/training.html")
    assert page.title() == "Training - keras-gan"
    assert heading(page) == "Training"
    code = page.locator("article div.highlight pre code").first
    code.wait_for(state="visible")
    assert "keras-gan train --help" in code.inner_text()
    assert code.locator("span").count() > 0  # highlighted, not raw text
    assert "Traceback" not in page.content()
    screenshot(page, "training.png", tmp_path)


def test_the_web_page_guide_embeds_a_live_generator(page, url):
    # docs/hooks/web_page.py writes saved_models/mnist-cgan's static page into
    # the site; docs/web.md shows it in an iframe. It must run there, from
    # the site's own host alone.
    requests = []
    page.on("request", lambda r: requests.append(r.url))
    page.goto(f"{url}/web.html")
    assert heading(page) == "A model as a static web page"
    frame = page.frame_locator("iframe[src='web/mnist-cgan/index.html']")
    frame.locator("#grid canvas").first.wait_for(state="visible")
    inner = next(f for f in page.frames if f.url.endswith("web/mnist-cgan/index.html"))
    inner.evaluate("() => window.kerasGan.ready")
    drawn = inner.evaluate("""() => Array.from(document.querySelectorAll('#grid canvas'))
        .map(c => c.getContext('2d').getImageData(0, 0, c.width, c.height).data
        .some((v, i) => i % 4 !== 3 && v > 0))""")
    assert len(drawn) >= 4 and all(drawn)  # every image has lit pixels: digits, not blanks
    hosts = {r.split("/")[2] for r in requests if r.startswith("http")}
    assert hosts == {url.split("/")[2]}, hosts
