"""docs/robustness.md: every row of its tables names tests, each exists, and
each row's message is what those tests assert.

A row's message is the code span(s) of its second column. `<tmp>`, `<repo>`
and `...` stand for what varies (the path given, the checkout, the rest of
the message), so a message is split there into literal fragments, and every
fragment must appear in one of the cited test functions: in its source
(decorators included, so parametrized cases count) or in one of its string
constants (where Python has joined implicitly concatenated literals). A
message the code no longer gives then fails its test, and a row that
drifts from its test fails here.
"""

import ast
import re
from functools import cache
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DOC = REPO / "docs" / "robustness.md"
NODE = re.compile(r"`(tests/test_\w+\.py)::(test_\w+)`")
RULE = re.compile(r"\|(\s*-+\s*\|)+")
# A code span: a run of backticks, the text, the same run (CommonMark).
CODE_SPAN = re.compile(r"(?<!`)(`+)(?!`)(.+?)(?<!`)\1(?!`)")
WILDCARD = re.compile(r"<tmp>|<repo>|\.\.\.")


def table_rows(text: str) -> list[str]:
    """The body rows of the Markdown tables (not the headers, not the rules)."""
    lines = text.splitlines()
    return [line for i, line in enumerate(lines) if line.startswith("|")
            and not RULE.fullmatch(line)
            and not (i + 1 < len(lines) and RULE.fullmatch(lines[i + 1]))]


def cells(row: str) -> list[str]:
    return [cell.strip() for cell in row.strip().strip("|").split("|")]


def messages(cell: str) -> list[str]:
    """The code spans of a cell, one leading/trailing space trimmed as in CommonMark."""
    return [span.strip() for _, span in CODE_SPAN.findall(cell)]


def fragments(message: str) -> list[str]:
    """The literal parts of a message: what is left between the wildcards
    (the spaces next to a wildcard go with it)."""
    return [part.strip() for part in WILDCARD.split(message) if part.strip()]


@cache
def functions(path: str) -> dict[str, str]:
    """Top-level test functions of a test file -> the text they hold: their
    source (decorators included) and every string constant in them."""
    source = (REPO / path).read_text()
    lines = source.splitlines()
    found = {}
    for node in ast.parse(source).body:
        if isinstance(node, ast.FunctionDef) and node.name.startswith("test_"):
            first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
            text = "\n".join(lines[first - 1:node.end_lineno])
            strings = [n.value for n in ast.walk(node)
                       if isinstance(n, ast.Constant) and isinstance(n.value, str)]
            found[node.name] = "\n".join([text, *strings])
    return found


def unasserted(message: str, tests: list[tuple[str, str]]) -> list[str]:
    """The fragments of `message` that none of `tests` holds (all of them are
    to be found in one test)."""
    best = None
    for path, name in tests:
        body = functions(path).get(name, "")
        missing = [f for f in fragments(message) if f not in body]
        if best is None or len(missing) < len(best):
            best = missing
    return best or []


def test_every_row_is_backed_by_a_test_that_exists():
    rows = table_rows(DOC.read_text())
    assert len(rows) >= 60
    missing, unbacked = [], []
    for row in rows:
        nodes = NODE.findall(cells(row)[-1])  # the last column: the tests
        if not nodes:
            unbacked.append(row[:80])
        for path, name in nodes:
            if not (REPO / path).is_file() or name not in functions(path):
                missing.append(f"{path}::{name}")
    assert unbacked == [] and missing == []


def test_every_rows_message_is_asserted_by_its_tests():
    rows = table_rows(DOC.read_text())
    checked, drifted = 0, []
    for row in rows:
        columns = cells(row)
        assert len(columns) == 3, row[:80]
        tests = NODE.findall(columns[-1])
        for message in messages(columns[1]):
            checked += 1
            gaps = unasserted(message, tests)
            if gaps:
                drifted.append(f"{message[:70]!r}: no cited test holds {gaps}")
    assert checked >= 90
    assert drifted == [], "\n".join(drifted)


def test_the_check_catches_a_row_its_test_does_not_assert():
    """The check is not vacuous: a changed message, fragment or wildcard fails."""
    tests = [("tests/test_cli.py", "test_bad_input_is_one_clear_line")]
    assert unasserted("batch_size must be >= 1, got 0", tests) == []
    assert unasserted("batch_size must be >= 2, got 0", tests) == [
        "batch_size must be >= 2, got 0"]
    assert fragments("cannot write to run folder <tmp>/file: ...") == [
        "cannot write to run folder", "/file:"]
    assert messages("``see `keras-gan train --help` `` / `x`") == [
        "see `keras-gan train --help`", "x"]
