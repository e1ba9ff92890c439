"""docs/robustness.md: every row of its tables names tests, and each exists."""

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DOC = REPO / "docs" / "robustness.md"
NODE = re.compile(r"`(tests/test_\w+\.py)::(test_\w+)`")


def table_rows(text: str) -> list[str]:
    """The body rows of the Markdown tables (not the headers, not the rules)."""
    lines = text.splitlines()
    return [line for i, line in enumerate(lines) if line.startswith("|")
            and not re.fullmatch(r"\|(\s*-+\s*\|)+", line)
            and not (i + 1 < len(lines) and re.fullmatch(r"\|(\s*-+\s*\|)+", lines[i + 1]))]


def test_every_row_is_backed_by_a_test_that_exists():
    rows = table_rows(DOC.read_text())
    assert len(rows) >= 60
    missing, unbacked = [], []
    for row in rows:
        nodes = NODE.findall(row.rsplit("|", 2)[-2])  # the last column: the tests
        if not nodes:
            unbacked.append(row[:80])
        for path, name in nodes:
            source = REPO / path
            # A test function (parametrized or not) is a top-level `def test_name(`.
            if not source.is_file() or not re.search(rf"^def {name}\(", source.read_text(),
                                                     re.MULTILINE):
                missing.append(f"{path}::{name}")
    assert unbacked == [] and missing == []
