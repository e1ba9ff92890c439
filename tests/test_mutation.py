"""benchmarks/mutation.py and mutation_runner.py: how cosmic-ray's outcomes
are counted, which tests a mutant runs, and that the committed report is
what the committed results give."""

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

import mutation  # noqa: E402
import mutation_runner  # noqa: E402


def _job(line, op="core/ReplaceBinaryOperator_Add_Sub", outcome="normal", test="killed",
         output="1 failed"):
    job = {"mutations": [{"start_pos": [line, 4], "operator_name": op, "occurrence": 0,
                          "definition_name": "f"}]}
    result = {"worker_outcome": outcome, "test_outcome": test, "output": output,
              "diff": "--- a\n+++ b\n-    return a + b\n+    return a - b\n"}
    return json.dumps([job, result])


def test_outcomes_are_counted_and_survivors_kept(tmp_path):
    (tmp_path / "keras_gan").mkdir()
    (tmp_path / "keras_gan" / "m.py").write_text("def f(a, b):\n    return a + b\n")
    dump = "\n".join([_job(2), _job(2, output="timeout"), _job(2, test="survived"),
                      _job(2, outcome="skipped", test=None), _job(2, outcome="exception"),
                      json.dumps([json.loads(_job(2))[0], None])])  # not run yet
    mutation.TARGETS["m"] = ["tests/test_m.py"]
    try:
        r = mutation.summarise("m", dump, tmp_path, 90.0)
    finally:
        del mutation.TARGETS["m"]
    assert r["counts"] == {"killed": 1, "survived": 1, "timed out": 1, "incompetent": 1,
                           "not run yet": 1}
    assert r["survivors"] == [dict(line=2, source="return a + b", uncalled=False,
                                   operator="ReplaceBinaryOperator_Add_Sub", occurrence=0,
                                   function="f", diff="return a - b")]
    assert mutation.killed_share(r["counts"]) == 2 / 3  # a timeout is noticed


def test_a_survivor_is_explained_only_by_its_own_entry():
    s = dict(line=2, source="return a + b", operator="ReplaceBinaryOperator_Add_Sub",
             occurrence=0, function="f", diff="return a - b")
    known = [dict(module="m", operator="ReplaceBinaryOperator_Add_Sub", source="a + b",
                  why="b is always 0")]
    assert mutation.explanation("m", s, known) == "b is always 0"
    assert mutation.explanation("other", s, known) is None
    assert mutation.explanation("m", {**s, "operator": "ReplaceBinaryOperator_Add_Mul"},
                                known) is None


SOURCE = """\
import x

TABLE = {"a": 1}


@decorator
def f(a):
    def inner(b):
        return b + 1
    return inner(a) * 2


class C:
    size = 3

    def g(self):
        return self.size
"""


def test_a_mutant_runs_the_tests_that_called_its_function():
    assert mutation_runner.functions_at(SOURCE, [10]) == {6}  # f, from its decorator's line
    assert mutation_runner.functions_at(SOURCE, [9]) == {8}  # inner, the innermost
    assert mutation_runner.functions_at(SOURCE, [17, 10]) == {16, 6}
    assert mutation_runner.functions_at(SOURCE, [3]) is None  # import-time code
    assert mutation_runner.functions_at(SOURCE, [14]) is None  # class body
    # co_firstlineno, as the call map records it, is that same line.
    namespace = {"decorator": lambda fn: fn, "x": None}
    exec(compile(SOURCE.replace("import x\n", "\n"), "s.py", "exec"), namespace)
    assert namespace["f"].__code__.co_firstlineno == 6
    calls = {"t.py::a": [6], "t.py::b": [16], "t.py::c": [6, 8], "null": [1]}
    files = ["t.py"]

    def plan(old, new):
        return mutation_runner.plan_tests(SOURCE, SOURCE.replace(old, new), calls, files)

    assert plan("return inner(a) * 2", "return inner(a) / 2") == ["t.py::a", "t.py::c"]
    assert plan("return b + 1", "return b - 1") == ["t.py::c"]
    assert plan("return self.size", "return None") == ["t.py::b"]
    assert plan('{"a": 1}', '{"a": 2}') == files  # module level: every test
    calls["null"] = [16]  # g ran at collection (a parametrize list): every test
    assert plan("return self.size", "return None") == files


def test_committed_report_is_what_the_results_give():
    """benchmarks/results/mutation.md is rendered from mutation.json and the
    equivalents file as committed (re-run `--report-only` after editing either)."""
    results = json.loads(mutation.RESULTS.read_text())
    assert mutation.REPORT.read_text() == mutation.report(results)
    assert {"before", "after"} <= set(results)
