"""Mutation testing of the core: cosmic-ray changes one operator, number,
comparison or keyword at a time in a module, and the module's tests must
fail for each change ("killed"). A change they pass ("survived") is a line
whose behaviour no test pins down, or an equivalent mutant (one that cannot
change behaviour), explained in `benchmarks/mutation_equivalent.yaml`.

    python benchmarks/mutation.py --modules losses,penalties
    python benchmarks/mutation.py --modules losses --label before --tests-at 13b5f46
    python benchmarks/mutation.py --report-only

Each run works on a copy of the checkout in `runs/mutation/<label>/` (the
working tree is never mutated), keeps cosmic-ray's session there (`--resume`
finishes an interrupted one), stores its counts and survivors in
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

# module -> the tests that cover it, fastest first (pytest -x stops at the
# first failure, so a killed mutant costs little).
TARGETS = {
    "losses": ["tests/test_losses.py", "tests/test_gan.py", "tests/test_gans.py"],
    "penalties": ["tests/test_penalties.py", "tests/test_gans.py"],
    "tricks": ["tests/test_tricks.py"],
    "gan": ["tests/test_gan.py", "tests/test_penalties.py", "tests/test_tricks.py",
            "tests/test_gans.py"],
    "variant": ["tests/test_variant.py", "tests/test_gans.py"],
    "gans/__init__": ["tests/test_gans.py", "tests/test_variant.py"],
    "gans/clustered": ["tests/test_clusters.py", "tests/test_gans.py"],
    "gans/pacgan": ["tests/test_gans.py", "tests/test_variant.py"],
    "gans/unrolled": ["tests/test_gans.py"],
    "gans/wgan": ["tests/test_gans.py"],
    "callbacks": ["tests/test_callbacks.py", "tests/test_faults.py"],
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


def _run_child(pytest, root: str, request: dict) -> dict:
    with tempfile.TemporaryFile() as out:
        pid = os.fork()
        if pid == 0:  # the child: fresh imports of the (mutated) copy
            try:
                os.setsid()
                os.dup2(out.fileno(), 1)
                os.dup2(out.fileno(), 2)
                os.chdir(root)
                code = int(pytest.main(request["args"]))
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


def client(sock_path: str, args: list[str]) -> int:
    """cosmic-ray's test command: exit as the forked pytest did."""
    with socket.socket(socket.AF_UNIX) as s:
        s.connect(sock_path)
        s.sendall((json.dumps({"args": args, "timeout": TIMEOUT - 30}) + "\n").encode())
        answer = json.loads(s.makefile().readline())
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


def _config(module: str, sock: Path, tests: list[str]) -> str:
    command = " ".join([sys.executable, str(Path(__file__).resolve()), "--client", str(sock),
                        "--", "-x", "-q", "-p", "no:cacheprovider", *tests])
    excluded = ", ".join(json.dumps(op) for op in EXCLUDED_OPERATORS)
    return (f'[cosmic-ray]\nmodule-path = "keras_gan/{module}.py"\ntimeout = {TIMEOUT}.0\n'
            f'excluded-modules = []\ntest-command = "{command}"\n\n'
            f'[cosmic-ray.distributor]\nname = "local"\n\n'
            f'[cosmic-ray.filters.operators-filter]\nexclude-operators = [{excluded}]\n')


def _cr(*args, cwd: Path) -> str:
    return subprocess.run(args, cwd=cwd, check=True, capture_output=True, text=True).stdout


def run_module(module: str, work: Path, sock: Path, resume: bool) -> dict:
    stem = module.replace("/", ".")
    cfg, session = work / f"{stem}.toml", work / f"{stem}.sqlite"
    cfg.write_text(_config(module, sock, TARGETS[module]))
    copy = work / "checkout"
    if not (resume and session.exists()):
        session.unlink(missing_ok=True)
        _cr("cosmic-ray", "init", str(cfg), str(session), cwd=copy)
        _cr("cr-filter-operators", str(session), str(cfg), cwd=copy)
        base = subprocess.run(["cosmic-ray", "baseline", str(cfg)], cwd=copy,
                              capture_output=True, text=True)
        if base.returncode:
            raise SystemExit(f"{module}: the unmutated tests fail:\n{base.stdout[-2000:]}")
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
            out.append(f"- `{module}.py:{s['line']}` ({s['function']}) {s['operator']}: "
                       f"`{s['source']}` -> `{s['diff']}`: "
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
    parser.add_argument("--report-only", action="store_true")
    parser.add_argument("--serve", nargs=2, metavar=("SOCKET", "ROOT"), help=argparse.SUPPRESS)
    parser.add_argument("--client", metavar="SOCKET", help=argparse.SUPPRESS)
    args, rest = parser.parse_known_args(argv)
    if args.serve:
        serve(*args.serve)
        return 0
    if args.client:
        return client(args.client, [a for a in rest if a != "--"])
    results = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    if not args.report_only:
        modules = args.modules.split(",")
        unknown = sorted(set(modules) - set(TARGETS))
        if unknown:
            parser.error(f"unknown modules {unknown}; choose from {', '.join(TARGETS)}")
        work = WORK / args.label
        work.mkdir(parents=True, exist_ok=True)
        if not args.resume:
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
                run["modules"][module] = run_module(module, work, sock, args.resume)
                c = run["modules"][module]["counts"]
                print(f"{module}: {c}", flush=True)
                RESULTS.write_text(json.dumps(results, indent=1) + "\n")
        finally:
            server.kill()
    REPORT.write_text(report(results))
    print(REPORT.read_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
