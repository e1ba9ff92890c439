"""README.md, docs/benchmarks.md and saved_models/README.md (readme_figures's
DOCUMENTS): their figures are the committed results' (benchmarks/
readme_figures.py), so CI fails when they disagree; and no other prose of the
README or the documentation pages states a measurement."""

import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

import readme_figures  # noqa: E402


def test_every_figures_block_matches_the_results_files():
    assert readme_figures.stale() == [], (
        "re-run `python benchmarks/readme_figures.py` after the benchmark that changed")


def test_every_block_has_a_maker_and_every_maker_a_block():
    names = []
    for path in readme_figures.DOCUMENTS:
        names += [m.group("name") for m in readme_figures.BLOCK.finditer(path.read_text())]
    assert sorted(names) == sorted(readme_figures.BLOCKS)


@pytest.mark.parametrize("name", sorted(readme_figures.BLOCKS))
def test_a_changed_number_in_a_block_is_caught(name):
    # What CI sees when someone edits a figure by hand (or a result changes).
    text = next(p.read_text() for p in readme_figures.DOCUMENTS
                if f"<!-- figures:{name} -->" in p.read_text())
    block = re.search(rf"<!-- figures:{name} -->\n(.*?)<!-- /figures:{name} -->", text,
                      re.DOTALL).group(1)
    digit = re.search(r"\d", block)
    if digit is None and "Not rehearsed yet" in block:
        pytest.skip("no rehearsal recorded yet (benchmarks/rehearse.py)")
    assert digit, f"block {name} holds no figure"
    i = digit.start()
    broken_block = block[:i] + str((int(block[i]) + 1) % 10) + block[i + 1:]
    broken = text.replace(block, broken_block, 1)
    assert readme_figures.render(broken) == text != broken


# Pages whose measured numbers live elsewhere than in figures blocks.
NOT_BLOCKS = {
    "theory.md": "rendered whole from docs/figures/figures.json (tests/test_figures.py)",
    "testing.md": "written before this check: states the mutation harness's import time",
}
PROSE = ["README.md"] + sorted(f"docs/{p.name}" for p in (ROOT / "docs").glob("*.md")
                               if p.name not in NOT_BLOCKS)


@pytest.mark.parametrize("page", PROSE)
def test_measured_numbers_live_in_blocks(page):
    """Outside the generated blocks, code and citations, the README and the
    documentation pages state no measurement: no decimal figures with units
    of results (%, s, x)."""
    text = (ROOT / page).read_text()
    text = readme_figures.BLOCK.sub("", text)
    text = re.sub(r"```.*?```", "", text, flags=re.DOTALL)
    text = re.sub(r"`[^`]*`", "", text)
    found = re.findall(r"\b\d+(?:[.,]\d+)?\s?(?:%|s\b|ms\b|x\b|minutes|GFLOP)", text)
    assert found == [], found
