"""The documentation site (mkdocs.yml, docs/) builds, strictly and offline,
and the README stays the short front page that points into it.

`mkdocs build --strict` fails on any warning: a link or an anchor to a page
that is not there, a nav entry without its file, an API entry that does
not resolve. The API pages are read from the source (static analysis), so
the build imports nothing of the library and needs no network.
"""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
MAX_README_LINES = 150


def build_site(out: Path) -> Path:
    """Builds the site into `out` with `mkdocs build --strict`; fails the
    calling test with mkdocs's output when the build does not pass."""
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}  # Material's banner, not a warning
    try:
        done = subprocess.run(
            [sys.executable, "-m", "mkdocs", "build", "--strict", "-f", "mkdocs.yml",
             "-d", str(out)],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    except subprocess.TimeoutExpired:
        pytest.fail("mkdocs build took over 300 s", pytrace=False)
    if "No module named mkdocs" in done.stderr:
        pytest.fail('MkDocs is missing: pip install -e ".[dev]"', pytrace=False)
    assert done.returncode == 0, done.stdout + done.stderr
    return out


def nav_pages() -> list[str]:
    """The Markdown files of mkdocs.yml's nav, in order."""
    def walk(entries):
        for entry in entries:
            value = next(iter(entry.values())) if isinstance(entry, dict) else entry
            if isinstance(value, list):
                yield from walk(value)
            else:
                yield value

    return list(walk(yaml.safe_load((ROOT / "mkdocs.yml").read_text())["nav"]))


def prose(text: str) -> str:
    """Markdown without its code: fenced blocks, inline code, HTML comments."""
    text = re.sub(r"```.*?```", "", text, flags=re.DOTALL)
    text = re.sub(r"<!--.*?-->", "", text, flags=re.DOTALL)
    return re.sub(r"`[^`\n]*`", "", text)


def relative_links(text: str) -> list[str]:
    """Targets of the Markdown links and images that point into the repository."""
    targets = re.findall(r"\]\(([^)\s]+)\)", prose(text))
    return [t for t in targets if not re.match(r"[a-z]+:|#", t)]


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    return build_site(tmp_path_factory.mktemp("docs") / "site")


def test_the_build_is_strict_and_offline():
    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text())
    assert config["strict"] is True and config["docs_dir"] == "docs"
    assert config["validation"]["links"]["not_found"] == "warn"  # strict makes it fatal
    assert config["theme"]["font"] is False  # no Google Fonts request
    python = next(p["mkdocstrings"] for p in config["plugins"] if isinstance(p, dict)
                  and "mkdocstrings" in p)["handlers"]["python"]
    assert "inventories" not in python and "import" not in python
    assert python["options"]["allow_inspection"] is False


def test_every_page_of_the_nav_is_built(site):
    pages = nav_pages()
    assert pages[0] == "index.md"
    for page in pages:
        assert (site / page).with_suffix(".html").is_file(), page
    # Every page in docs/ is in the nav: none is built but unreachable.
    assert sorted(p.name for p in (ROOT / "docs").glob("*.md")) == sorted(pages)
    home = (site / "index.html").read_text()
    assert "<title>keras-gan</title>" in home and "Getting started" in home


def test_the_api_pages_hold_the_rendered_docstrings(site):
    api = (site / "api.html").read_text()
    assert "keras_gan.GAN" in api and "keras_gan.TrainConfig" in api
    assert "A generator and a discriminator trained against each other" in api  # GAN
    assert "One discriminator update on a real minibatch" in api  # GAN.d_step
    assert "Reads a YAML (or JSON, a subset of YAML) mapping" in api  # TrainConfig.from_yaml
    losses = (site / "api-losses.html").read_text()
    assert "the saturating generator loss of the minimax game" in losses
    runtime = (site / "api-runtime.html").read_text()
    assert "An exported generator, run by onnxruntime" in runtime
    assert "Registers a GAN variant" in (site / "api-registry.html").read_text()


def test_the_readme_is_short():
    lines = README.read_text().splitlines()
    assert len(lines) <= MAX_README_LINES, f"README.md has {len(lines)} lines"


def test_the_readme_names_no_issue_numbers():
    text = prose(README.read_text())
    found = re.findall(r"(?<![\w&/])#\d+\b|\b(?:issues?|PR|pull request) ?#?\d+\b", text,
                       flags=re.IGNORECASE)
    assert found == [], found


def test_every_relative_link_of_the_readme_exists():
    links = relative_links(README.read_text())
    assert "docs/theory.md" in links and "docs/index.md" in links
    for target in links:
        assert (ROOT / target.split("#")[0]).exists(), target


def test_the_readme_maps_every_guide():
    """Each top-level nav page has its line in the README's map, and each
    docs page the README links to is on the site."""
    links = {t.split("#")[0] for t in relative_links(README.read_text())}
    linked = {t.removeprefix("docs/") for t in links if t.startswith("docs/")
              and t.endswith(".md")}
    top = [next(iter(e.values())) if isinstance(e, dict) else e
           for e in yaml.safe_load((ROOT / "mkdocs.yml").read_text())["nav"]]
    guides = {page for page in top if isinstance(page, str)}
    assert guides <= linked, sorted(guides - linked)
    assert linked <= set(nav_pages()), sorted(linked - set(nav_pages()))
