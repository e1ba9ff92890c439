"""Mutation testing of the core: cosmic-ray changes one operator, number,
comparison or keyword at a time in a module, and the module's tests must
fail for each change ("killed"). A change they pass ("survived") is a line
whose behaviour no test pins down, or an equivalent mutant (one that cannot
change behaviour), explained in `benchmarks/mutation_equivalent.yaml`.

    python benchmarks/mutation.py --modules losses,penalties
    python benchmarks/mutation.py --modules losses --label before --tests-at 13b5f46
    python benchmarks/mutation.py --report-only

Each run works on a copy of the checkout in `runs/mutation/<label>/<modules>/` (the
working tree is never mutated), keeps cosmic-ray's session there (`--resume`
finishes an interrupted one; `--recheck` runs the survivors again on the
working tree's tests after tests were added), stores its counts and survivors in
`benchmarks/results/mutation.json` under the label, and rewrites
`benchmarks/results/mutation.md` from that file. `--tests-at REV` takes
`tests/` from a git revision (the "before" of a change to the tests).

Why cosmic-ray, and why the server: mutmut 3 runs the tests once in-process,
then forks a worker per mutant; TensorFlow's runtime, once it has run an op,
hangs in a forked child (tried: a fork after one `fit` never returns), so
mutmut cannot run this suite. cosmic-ray (maintained, 8.x) runs a shell
command per mutant. Importing TensorFlow and Keras costs about 10 s, more
than most modules' tests, so the command here (`--client`) is a thin client
that asks a warm server to fork a child that runs pytest on the mutated
copy. The server imported TensorFlow, Keras and pytest but has run no op and
never imports keras_gan, so each child starts TensorFlow's runtime itself
(forking before that is safe: tried) and imports the mutated code fresh.
Operators that swap arithmetic for bitwise or shift operators are filtered
out: on float tensors they raise at once, so they cost a test run each and
say nothing about the tests.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "mutation.json"
REPORT = ROOT / "benchmarks" / "results" / "mutation.md"
EQUIVALENT = ROOT / "benchmarks" / "mutation_equivalent.yaml"
WORK = ROOT / "runs" / "mutation"
COPY = ("keras_gan", "export", "demo", "tests", "presets", "saved_models", "docs", "examples",
        "benchmarks", "pyproject.toml", "README.md")

# module -> the tests that cover it (pytest -x stops at the first failure, so
# a killed mutant costs little; each mutant runs only the tests that called
# its function, see `plan_tests`).
TARGETS = {
    "losses": ["tests/test_losses.py", "tests/test_gan.py"],
    "penalties": ["tests/test_penalties.py"],
    "tricks": ["tests/test_tricks.py", "tests/test_gan.py"],
    "gan": ["tests/test_gan.py", "tests/test_penalties.py", "tests/test_tricks.py",
            "tests/test_gans.py"],
    "variant": ["tests/test_variant.py", "tests/test_gans.py"],
    "gans/__init__": ["tests/test_gans.py", "tests/test_variant.py"],
    "gans/clustered": ["tests/test_clusters.py", "tests/test_gans.py"],
    "gans/pacgan": ["tests/test_gans.py", "tests/test_variant.py"],
    "gans/unrolled": ["tests/test_gans.py"],
    "gans/wgan": ["tests/test_gans.py"],
    "callbacks": ["tests/test_callbacks.py", "tests/test_faults.py", "tests/test_run_folder.py"],
}
# Where a module holds more than the core, only these top-level names are
# mutated: the checkpoint code of callbacks.py.
SCOPES = {
    "callbacks": ("CorruptState", "weights_name", "save_model_atomic", "_reason", "Checkpoint",
                  "_read_state", "checkpoint_files", "_kept", "_remove_stale",
                  "read_checkpoint_step", "list_checkpoints", "_first_line", "_load", "_warn",
                  "restore_checkpoint"),
}
EXCLUDED_OPERATORS = ["core/ReplaceBinaryOperator_.*_(RShift|LShift|BitOr|BitAnd|BitXor)$",
                      "core/ReplaceBinaryOperator_(RShift|LShift|BitOr|BitAnd|BitXor)_.*"]
TIMEOUT = 600  # per mutant, seconds: the slowest module's tests take a few minutes


# -- the warm server and its client ----------------------------------------------


def serve(sock_path: str, root: str) -> None:
    """Import the heavy libraries once, then fork one pytest child per request."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    sys.dont_write_bytecode = True  # a mutant may keep a file's size and mtime second
    sys.path.insert(0, root)
    import keras  # noqa: F401
    import numpy  # noqa: F401
    import pytest
    import tensorflow  # noqa: F401

    assert "keras_gan" not in sys.modules
    server = socket.socket(socket.AF_UNIX)
    server.bind(sock_path)
    server.listen()
    print("ready", flush=True)
    while True:
        conn, _ = server.accept()
        with conn:
            request = json.loads(conn.makefile().readline())
            conn.sendall((json.dumps(_run_child(pytest, root, request)) + "\n").encode())


class CallMap:
    """A pytest plugin: which functions of one file each test calls (its
    fixtures' set-up included), by the line where the function starts."""

    def __init__(self, filename: str):
        self.filename, self.current, self.calls = filename, None, {}

    def _profile(self, frame, event, arg):
        if event == "call" and frame.f_code.co_filename == self.filename:
            self.calls.setdefault(self.current, set()).add(frame.f_code.co_firstlineno)

    def pytest_runtest_protocol(self, item, nextitem):
        import threading

        self.current = item.nodeid
        sys.setprofile(self._profile)
        threading.setprofile(self._profile)  # tf.data and Keras may call from threads

    def pytest_runtest_logfinish(self, nodeid, location):
        import threading

        sys.setprofile(None)
        threading.setprofile(None)

    def save(self, path: str) -> None:
        Path(path).write_text(json.dumps({k: sorted(v) for k, v in self.calls.items()}))


def _run_child(pytest, root: str, request: dict) -> dict:
    with tempfile.TemporaryFile() as out:
        pid = os.fork()
        if pid == 0:  # the child: fresh imports of the (mutated) copy
            try:
                os.setsid()
                os.dup2(out.fileno(), 1)
                os.dup2(out.fileno(), 2)
                os.chdir(root)
                plugins = []
                if request.get("callmap"):
                    plugins = [CallMap(str(Path(root, request["target"]).resolve()))]
                code = int(pytest.main(request["args"], plugins=plugins))
                if plugins:
                    plugins[0].save(request["callmap"])
            finally:
                os._exit(locals().get("code", 3))
        deadline = time.monotonic() + request["timeout"]
        while time.monotonic() < deadline:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                break
            time.sleep(0.05)
        else:
            os.killpg(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            return {"code": 1, "output": "timeout"}
        out.seek(0)
        tail = out.read().decode(errors="replace")[-4000:]
        return {"code": os.waitstatus_to_exitcode(status), "output": tail}


def ask(sock_path: str, request: dict) -> dict:
    with socket.socket(socket.AF_UNIX) as s:
        s.connect(sock_path)
        s.sendall((json.dumps({"timeout": TIMEOUT - 30, **request}) + "\n").encode())
        return json.loads(s.makefile().readline())


def functions_at(source: str, lines) -> set[int] | None:
    """The start lines (first decorator or `def`) of the innermost functions
    holding `lines`; None if a line lies outside every function (module or
    class level: import-time code, which every test runs)."""
    import ast

    spans = [(min([n.lineno, *(d.lineno for d in n.decorator_list)]), n.end_lineno)
             for n in ast.walk(ast.parse(source))
             if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)]
    found = set()
    for line in lines:
        holding = [s for s in spans if s[0] <= line <= s[1]]
        if not holding:
            return None
        found.add(max(holding)[0])  # the innermost starts last
    return found


def plan_tests(pristine: str, mutated: str, calls: dict, files: list[str]) -> list[str]:
    """The tests to run on a mutant: those that called a function it changed,
    in collection order; all of `files` when it changed import-time code."""
    import difflib

    old = pristine.splitlines()
    changed = {i + 1 for tag, i1, i2, _, _ in difflib.SequenceMatcher(
        a=old, b=mutated.splitlines(), autojunk=False).get_opcodes() if tag != "equal"
        for i in range(i1, max(i2, i1 + 1))}
    starts = functions_at(pristine, changed)
    if starts is None or starts & set(calls.get("null", ())):  # import or collection time
        return list(files)
    return [test for test, lines in calls.items() if test != "null" and starts & set(lines)]


def client(sock_path: str, args: list[str], plan: str | None = None) -> int:
    """cosmic-ray's test command: exit as the forked pytest did. With a plan
    (the module, its pristine copy, the call map), run only the tests that
    call the mutated code; a mutant no test calls survives."""
    if plan:
        p = json.loads(Path(plan).read_text())
        tests = plan_tests(Path(p["pristine"]).read_text(), Path(p["target"]).read_text(),
                           json.loads(Path(p["callmap"]).read_text()), p["files"])
        if not tests:
            print("no test calls the mutated code")
            return 0
        args = [a for a in args if a not in p["files"]] + tests
    answer = ask(sock_path, {"args": args})
    print(answer["output"])
    return answer["code"]


# -- a run ----------------------------------------------------------------------------


def _copy(to: Path, tests_at: str | None) -> None:
    if to.exists():
        shutil.rmtree(to)
    to.mkdir(parents=True)
    for name in COPY:
        src = ROOT / name
        if src.is_dir():
            shutil.copytree(src, to / name, ignore=shutil.ignore_patterns("__pycache__"))
        elif src.exists():
            shutil.copy2(src, to / name)
    if tests_at:
        shutil.rmtree(to / "tests")
        archive = subprocess.run(["git", "archive", tests_at, "tests"], cwd=ROOT, check=True,
                                 capture_output=True).stdout
        subprocess.run(["tar", "-x", "-C", str(to)], input=archive, check=True)


def _config(module: str, sock: Path, plan: Path) -> str:
    command = " ".join([sys.executable, str(Path(__file__).resolve()), "--client", str(sock),
                        "--plan", str(plan), "--", "-x", "-q", "-p", "no:cacheprovider",
                        *TARGETS[module]])
    excluded = ", ".join(json.dumps(op) for op in EXCLUDED_OPERATORS)
    return (f'[cosmic-ray]\nmodule-path = "keras_gan/{module}.py"\ntimeout = {TIMEOUT}.0\n'
            f'excluded-modules = []\ntest-command = "{command}"\n\n'
            f'[cosmic-ray.distributor]\nname = "local"\n\n'
            f'[cosmic-ray.filters.operators-filter]\nexclude-operators = [{excluded}]\n')


def _cr(*args, cwd: Path) -> str:
    return subprocess.run(args, cwd=cwd, check=True, capture_output=True, text=True).stdout


def _skip_out_of_scope(session: Path, source: str, names) -> None:
    """Mark the mutants outside the top-level definitions `names` as skipped."""
    import ast

    from cosmic_ray.work_db import WorkDB, use_db
    from cosmic_ray.work_item import WorkerOutcome, WorkResult

    spans = [(min([n.lineno, *(d.lineno for d in getattr(n, "decorator_list", []))]),
              n.end_lineno) for n in ast.parse(source).body
             if getattr(n, "name", None) in names]
    with use_db(str(session), WorkDB.Mode.open) as db:
        for item in list(db.pending_work_items):
            line = item.mutations[0].start_pos[0]
            if not any(a <= line <= b for a, b in spans):
                db.set_result(item.job_id, WorkResult(output="out of scope",
                                                      worker_outcome=WorkerOutcome.SKIPPED))


def _call_map(module: str, sock: Path, target: Path, callmap: Path) -> None:
    """The unmutated tests, once, recording which test calls which function:
    they must pass."""
    answer = ask(str(sock), {"args": ["-q", "-p", "no:cacheprovider", *TARGETS[module]],
                             "callmap": str(callmap), "target": str(target),
                             "timeout": 3 * 3600})
    if answer["code"] != 0:
        raise SystemExit(f"{module}: the unmutated tests fail:\n{answer['output']}")


def _reopen_survivors(session: Path) -> int:
    """Clear the survivors' results so that `cosmic-ray exec` runs them again."""
    import sqlite3

    with sqlite3.connect(session) as db:
        return db.execute("DELETE FROM work_results WHERE test_outcome = 'SURVIVED'").rowcount


def run_module(module: str, work: Path, sock: Path, resume: bool, recheck: bool = False) -> dict:
    stem = module.replace("/", ".")
    cfg, session = work / f"{stem}.toml", work / f"{stem}.sqlite"
    copy = work / "checkout"
    target = copy / "keras_gan" / f"{module}.py"
    pristine, callmap, plan = (work / f"{stem}.pristine.py", work / f"{stem}.calls.json",
                               work / f"{stem}.plan.json")
    plan.write_text(json.dumps(dict(pristine=str(pristine), target=str(target),
                                    callmap=str(callmap), files=TARGETS[module])))
    cfg.write_text(_config(module, sock, plan))
    if recheck:  # the tests changed: a new call map, then the survivors again
        _call_map(module, sock, target, callmap)
        print(f"{module}: {_reopen_survivors(session)} survivors to run again", flush=True)
    elif not (resume and session.exists()):
        pristine.write_text(target.read_text())
        session.unlink(missing_ok=True)
        _cr("cosmic-ray", "init", str(cfg), str(session), cwd=copy)
        _cr("cr-filter-operators", str(session), str(cfg), cwd=copy)
        if module in SCOPES:
            _skip_out_of_scope(session, target.read_text(), SCOPES[module])
        _call_map(module, sock, target, callmap)
    start = time.perf_counter()
    _cr("cosmic-ray", "exec", str(cfg), str(session), cwd=copy)
    return summarise(module, _cr("cosmic-ray", "dump", str(session), cwd=copy), copy,
                     time.perf_counter() - start)


def summarise(module: str, dump: str, copy: Path, seconds: float) -> dict:
    lines = (copy / "keras_gan" / f"{module}.py").read_text().splitlines()
    counts = {"killed": 0, "survived": 0, "timed out": 0, "incompetent": 0}
    survivors = []
    for row in dump.splitlines():
        job, result = json.loads(row)
        if not result or result["worker_outcome"] == "skipped":
            continue
        if result["worker_outcome"] != "normal":
            counts["incompetent"] += 1
            continue
        if result["test_outcome"] == "killed":
            counts["timed out" if result["output"].strip() == "timeout" else "killed"] += 1
        elif result["test_outcome"] == "survived":
            counts["survived"] += 1
            m = job["mutations"][0]
            line = m["start_pos"][0]
            survivors.append(dict(line=line, source=lines[line - 1].strip(),
                                  uncalled=result["output"].startswith("no test calls"),
                                  operator=m["operator_name"].removeprefix("core/"),
                                  occurrence=m["occurrence"], function=m["definition_name"],
                                  diff=_changed(result["diff"])))
        else:
            counts["incompetent"] += 1
    return dict(counts=counts, survivors=survivors, tests=TARGETS[module],
                minutes=round(seconds / 60, 1))


def _changed(diff: str | None) -> str:
    """The mutated line of cosmic-ray's diff."""
    plus = [d[1:].strip() for d in (diff or "").splitlines()
            if d.startswith("+") and not d.startswith("+++")]
    return plus[0] if plus else ""


# -- the report -------------------------------------------------------------------------


def killed_share(counts: dict) -> float | None:
    """(killed + timed out) / mutants run: a timeout is a change the suite
    noticed (it no longer finishes)."""
    run = counts["killed"] + counts["timed out"] + counts["survived"]
    return (counts["killed"] + counts["timed out"]) / run if run else None


def equivalents() -> list[dict]:
    import yaml

    return yaml.safe_load(EQUIVALENT.read_text()) or [] if EQUIVALENT.exists() else []


def explanation(module: str, survivor: dict, known: list[dict]) -> str | None:
    for e in known:
        if (e["module"] == module and e["operator"] == survivor["operator"]
                and e["source"] in survivor["source"]):
            return e["why"]
    return None


def report(results: dict) -> str:
    known = equivalents()
    labels = list(results)
    out = ["# Mutation testing of the core", "",
           "Written by `python benchmarks/mutation.py` from `benchmarks/results/mutation.json`"
           " (cosmic-ray, one mutant at a time; see the script's docstring for the method and "
           "`benchmarks/mutation_equivalent.yaml` for the equivalent mutants).", ""]
    for label in labels:
        run = results[label]
        out += [f"## {label}", "", f"{run['note']} ({run['date']}, commit `{run['commit']}`, "
                f"tests from `{run['tests_at']}`).", "",
                "| module | mutants | killed | timed out | survived | equivalent | "
                "killed share | minutes | tests |", "|---|---|---|---|---|---|---|---|---|"]
        for module, r in run["modules"].items():
            c = r["counts"]
            eq = sum(1 for s in r["survivors"] if explanation(module, s, known))
            share = killed_share(c)
            out.append(f"| {module} | {sum(c.values())} | {c['killed']} | {c['timed out']} | "
                       f"{c['survived']} | {eq} | "
                       f"{'' if share is None else f'{100 * share:.1f}%'} | {r['minutes']} | "
                       f"{', '.join(t.split('/')[-1] for t in r['tests'])} |")
        out.append("")
    last = results[labels[-1]] if labels else {"modules": {}}
    out += ["## Survivors of the last run", ""]
    for module, r in last["modules"].items():
        for s in r["survivors"]:
            why = explanation(module, s, known)
            uncalled = " (no test calls it)" if s.get("uncalled") else ""
            out.append(f"- `{module}.py:{s['line']}` ({s['function']}{uncalled}) "
                       f"{s['operator']}: `{s['source']}` -> `{s['diff']}`: "
                       + (f"equivalent: {why}" if why else "**not explained**"))
    return "\n".join(out) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--modules", default="losses,penalties",
                        help=f"comma-separated, of: {', '.join(TARGETS)}")
    parser.add_argument("--label", default="after")
    parser.add_argument("--note", default="the tests as committed")
    parser.add_argument("--tests-at", default=None, help="take tests/ from this git revision")
    parser.add_argument("--resume", action="store_true")
    parser.add_argument("--recheck", action="store_true",
                        help="after adding tests: take tests/ from the working tree and run "
                             "the last run's survivors again (killed mutants stay killed)")
    parser.add_argument("--report-only", action="store_true")
    parser.add_argument("--serve", nargs=2, metavar=("SOCKET", "ROOT"), help=argparse.SUPPRESS)
    parser.add_argument("--client", metavar="SOCKET", help=argparse.SUPPRESS)
    parser.add_argument("--plan", help=argparse.SUPPRESS)
    args, rest = parser.parse_known_args(argv)
    if args.serve:
        serve(*args.serve)
        return 0
    if args.client:
        return client(args.client, [a for a in rest if a != "--"], args.plan)
    results = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    if not args.report_only:
        modules = args.modules.split(",")
        unknown = sorted(set(modules) - set(TARGETS))
        if unknown:
            parser.error(f"unknown modules {unknown}; choose from {', '.join(TARGETS)}")
        # One folder per label and module list: runs of other modules under
        # the same label may go on beside this one (each on its own copy).
        work = WORK / args.label / "+".join(m.replace("/", ".") for m in modules)
        work.mkdir(parents=True, exist_ok=True)
        if args.recheck:
            shutil.rmtree(work / "checkout" / "tests")
            shutil.copytree(ROOT / "tests", work / "checkout" / "tests",
                            ignore=shutil.ignore_patterns("__pycache__"))
        elif not args.resume:
            _copy(work / "checkout", args.tests_at)
        sock = work / "server.sock"
        sock.unlink(missing_ok=True)
        server = subprocess.Popen([sys.executable, str(Path(__file__).resolve()), "--serve",
                                   str(sock), str(work / "checkout")],
                                  cwd=work / "checkout", stdout=subprocess.PIPE, text=True,
                                  env={**os.environ, "TF_NUM_INTRAOP_THREADS": "1",
                                       "TF_NUM_INTEROP_THREADS": "1"})
        try:
            assert server.stdout.readline().strip() == "ready"
            commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                                    capture_output=True, text=True).stdout.strip()
            run = results.setdefault(args.label, {"modules": {}})
            run.update(note=args.note, commit=commit, tests_at=args.tests_at or commit,
                       date=time.strftime("%Y-%m-%d", time.gmtime()))
            for module in modules:
                again = args.resume or args.recheck
                before = run["modules"].get(module, {}).get("minutes", 0) if again else 0
                run["modules"][module] = r = run_module(module, work, sock, args.resume,
                                                        args.recheck)
                r["minutes"] = round(r["minutes"] + before, 1)  # a resumed run's total
                print(f"{module}: {r['counts']}", flush=True)
                # Another run (this label's other modules too) may have written
                # meanwhile: merge this module in, not the whole label.
                results = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
                entry = results.setdefault(args.label, {"modules": {}})
                entry.update({k: v for k, v in run.items() if k != "modules"})
                entry["modules"][module] = r
                RESULTS.write_text(json.dumps(results, indent=1) + "\n")
        finally:
            server.kill()
    REPORT.write_text(report(results))
    print(REPORT.read_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
