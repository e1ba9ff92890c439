"""docs/robustness.md: every row of its tables names tests, each exists, and
each row's message is what those tests assert.

A row's message is the code span(s) of its second column that read as text
(a span with a space in it: a bare name such as `skipped_steps` or a flag
such as `--dry-run` names something, and is not a message). `<tmp>`,
`<repo>` and `...` stand for what varies (the path given, the checkout, the
rest of the message), so a message is split there into literal fragments,
and every fragment must appear in what one of the cited test functions
asserts: the strings inside its `assert` statements, the `match=` of its
`pytest.raises` / `pytest.warns` (regex escapes undone), the arguments of
the assertion helpers it calls (`np.testing.assert_*`, `_expect_error`, ...),
and the strings reaching those through a local name or a `parametrize`
argument. Comments, docstrings and other strings do not count, so a message
the code no longer gives fails its test, and a row that drifts from its test
fails here.
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
    """The code spans of a cell that read as text (see the module doc), one
    leading/trailing space trimmed as in CommonMark."""
    spans = [span.strip() for _, span in CODE_SPAN.findall(cell)]
    return [span for span in spans if not NAME_LIKE.fullmatch(span)]


def fragments(message: str) -> list[str]:
    """The literal parts of a message: what is left between the wildcards
    (the spaces next to a wildcard go with it)."""
    return [part.strip() for part in WILDCARD.split(message) if part.strip()]


# A call whose arguments are compared: pytest.raises / warns (their `match=`),
# np.testing.assert_*, and the tests' own helpers named so.
ASSERTING_CALL = re.compile(r"^(assert|_?check|_?expect|_?one_line)")
NAME_LIKE = re.compile(r"[\w.\-/=]+")


def _call_name(node: ast.Call) -> str:
    func = node.func
    return func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")


def _strings(node) -> list[str]:
    return [n.value for n in ast.walk(node) if isinstance(n, ast.Constant)
            and isinstance(n.value, str)]


def _unescape(pattern: str) -> str:
    """A `match=` regex as the text it matches literally: anchors dropped,
    escapes of punctuation undone."""
    return re.sub(r"\\(\W)", r"\1", pattern.removeprefix("^").removesuffix("$"))


def asserted(func: ast.FunctionDef) -> list[str]:
    """The strings a test function compares (see the module doc)."""
    roots, found = [], []
    for node in ast.walk(func):
        if isinstance(node, ast.Assert):
            roots.append(node.test)
        elif isinstance(node, ast.Call):
            name = _call_name(node)
            if name in ("raises", "warns"):
                for kw in node.keywords:
                    if kw.arg == "match":
                        roots.append(kw.value)
                        found += [_unescape(t) for t in _strings(kw.value)]
            elif ASSERTING_CALL.match(name):
                roots += [*node.args, *(kw.value for kw in node.keywords)]
    # Names compared there reach back to their assignments and parameters.
    names = {n.id for root in roots for n in ast.walk(root) if isinstance(n, ast.Name)}
    # (`x = ...`, `x: T = ...`, and `for x, y in ...` over literal cases).
    binds = [(n.targets, n.value) for n in ast.walk(func) if isinstance(n, ast.Assign)]
    binds += [([n.target], n.value) for n in ast.walk(func)
              if isinstance(n, ast.AnnAssign) and n.value is not None]
    binds += [([n.target], n.iter) for n in ast.walk(func) if isinstance(n, ast.For)]
    for _ in range(3):  # a name bound from a name bound from a string
        for targets, value in binds:
            bound = {n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)}
            if bound & names:
                roots.append(value)
                names |= {n.id for n in ast.walk(value) if isinstance(n, ast.Name)}
    for deco in func.decorator_list:
        if isinstance(deco, ast.Call) and _call_name(deco) == "parametrize" and deco.args:
            argnames = [a.strip() for a in str(deco.args[0].value).split(",")]
            wanted = [i for i, a in enumerate(argnames) if a in names]
            cases = deco.args[1].elts if isinstance(deco.args[1], ast.List | ast.Tuple) else []
            for case in cases:
                if len(argnames) == 1:
                    roots += [case] if wanted else []
                elif isinstance(case, ast.Tuple):
                    roots += [case.elts[i] for i in wanted if i < len(case.elts)]
                elif isinstance(case, ast.Call):  # pytest.param(...)
                    roots += [case.args[i] for i in wanted if i < len(case.args)]
    return found + [t for root in roots for t in _strings(root)]


@cache
def functions(path: str) -> dict[str, str]:
    """Top-level test functions of a test file -> the strings they assert."""
    found = {}
    for node in ast.parse((REPO / path).read_text()).body:
        if isinstance(node, ast.FunctionDef) and node.name.startswith("test_"):
            found[node.name] = "\n".join(asserted(node))
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
    assert messages("``see `keras-gan train --help` `` / `x` / `skipped_steps` / `--dry-run`"
                    ) == ["see `keras-gan train --help`"]


def _asserted(source: str) -> str:
    return "\n".join(asserted(ast.parse(source).body[0]))


def test_only_what_a_test_asserts_counts():
    """Comments, docstrings and strings a test only passes along hold no message;
    asserts, `match=`, helpers and the names and parameters they compare do."""
    held = _asserted('''
@pytest.mark.parametrize("flag, message", [("--x", "bad x"), ("--y", "bad y")])
def test_t(flag, message, capsys):
    """docstring: not asserted"""
    # comment: not asserted
    main(["train", flag, "passed along"])
    want = f"one {message.upper()} line"
    assert capsys.readouterr().err == want
    with pytest.raises(ValueError, match=r"^a \\(regex\\)$"):
        run()
    with pytest.raises(ValueError, match=message):
        run()
    np.testing.assert_equal(out, "helper")
''')
    for text in ("bad x", "bad y", "one ", " line", "a (regex)", "helper"):
        assert text in held, text
    for text in ("docstring", "comment", "passed along", "--x", "--y"):
        assert text not in held, text
