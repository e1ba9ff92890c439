"""Mutation testing of the core: cosmic-ray changes one operator, number,
comparison or keyword at a time in a module, and the module's tests must
fail for each change ("killed"). A change they pass ("survived") is a line
whose behaviour no test pins down, or an equivalent mutant (one that cannot
change behaviour), explained in `benchmarks/mutation_equivalent.yaml`.

    python benchmarks/mutation.py --modules models/losses,models/penalties
    python benchmarks/mutation.py --modules models/losses --label before --tests-at 13b5f46
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
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from breaks import copy_checkout  # noqa: E402  (beside this file)
from mutation_runner import (  # noqa: E402
    TIMEOUT,
    ask,
    client,
    serve,
)

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "mutation.json"
REPORT = ROOT / "benchmarks" / "results" / "mutation.md"
EQUIVALENT = ROOT / "benchmarks" / "mutation_equivalent.yaml"
WORK = ROOT / "runs" / "mutation"
# module (its path under keras_gan/, without .py) -> the tests that cover it
# (pytest -x stops at the first failure, so a killed mutant costs little;
# each mutant runs only the tests that called its function, see `plan_tests`).
TARGETS = {
    "models/losses": ["tests/test_losses.py", "tests/test_gan.py"],
    "models/penalties": ["tests/test_penalties.py"],
    "models/tricks": ["tests/test_tricks.py", "tests/test_gan.py"],
    "models/gan": ["tests/test_gan.py", "tests/test_penalties.py", "tests/test_tricks.py",
                   "tests/test_gans.py"],
    "models/variant": ["tests/test_variant.py", "tests/test_gans.py"],
    "models/gans/__init__": ["tests/test_gans.py", "tests/test_variant.py"],
    "models/gans/clustered": ["tests/test_clusters.py", "tests/test_gans.py",
                              "tests/test_variant.py"],
    "models/gans/pacgan": ["tests/test_gans.py", "tests/test_variant.py"],
    "models/gans/unrolled": ["tests/test_gans.py", "tests/test_gan.py"],
    "models/gans/wgan": ["tests/test_gans.py"],
    "training/checkpoints": ["tests/test_checkpoints.py", "tests/test_callbacks.py",
                             "tests/test_faults.py", "tests/test_run_folder.py"],
}
# Where a module holds more than the core, only these top-level names are
# mutated (none now: the checkpoint code, once a part of callbacks.py, is a
# module of its own).
SCOPES: dict[str, tuple[str, ...]] = {}
# The keys of runs before keras_gan/ had subpackages (benchmarks/results/
# mutation.json keeps them as they were run) -> the module's key now; the
# report and mutation_equivalent.yaml match a module under either.
RENAMED = {"losses": "models/losses", "penalties": "models/penalties",
           "tricks": "models/tricks", "gan": "models/gan", "variant": "models/variant",
           **{f"gans/{m}": f"models/gans/{m}"
              for m in ("__init__", "clustered", "pacgan", "unrolled", "wgan")},
           "callbacks": "training/checkpoints"}
NOT_SAMPLED = "not sampled"  # the output of a mutant left out by --sample
EXCLUDED_OPERATORS = ["core/ReplaceBinaryOperator_.*_(RShift|LShift|BitOr|BitAnd|BitXor)$",
                      "core/ReplaceBinaryOperator_(RShift|LShift|BitOr|BitAnd|BitXor)_.*"]


# -- a run ----------------------------------------------------------------------------


def _copy(to: Path, tests_at: str | None) -> None:
    if to.exists():
        shutil.rmtree(to)
    to.mkdir(parents=True)
    copy_checkout(to)
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


def _sample(session: Path, size: int, seed: int = 0) -> int:
    """Keeps a uniform random sample of `size` of the module's in-scope
    mutants (seeded, so a resumed or rechecked run keeps the same sample) and
    marks the others "not sampled": skipped, and dropped from the counts,
    even those an earlier full run had already run, so that the sample stays
    uniform. Returns the sample's size."""
    import random

    from cosmic_ray.work_db import WorkDB, use_db
    from cosmic_ray.work_item import WorkerOutcome, WorkResult

    with use_db(str(session), WorkDB.Mode.open) as db:
        done = {job: r for job, r in db.results}
        # the mutants in play: not filtered out or out of scope (skipped), but
        # those an earlier --sample left out are, so a re-sample is the same
        ids = sorted(item.job_id for item in db.work_items
                     if (r := done.get(item.job_id)) is None
                     or r.worker_outcome != WorkerOutcome.SKIPPED or r.output == NOT_SAMPLED)
        keep = set(random.Random(seed).sample(ids, min(size, len(ids))))
        for job in ids:
            if job not in keep:
                db.set_result(job, WorkResult(output=NOT_SAMPLED,
                                              worker_outcome=WorkerOutcome.SKIPPED))
    return len(keep)


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


def run_module(module: str, work: Path, sock: Path, resume: bool, recheck: bool = False,
               collect: bool = False, sample: int | None = None) -> dict:
    stem = module.replace("/", ".")
    cfg, session = work / f"{stem}.toml", work / f"{stem}.sqlite"
    copy = work / "checkout"
    target = copy / "keras_gan" / f"{module}.py"
    pristine, callmap, plan = (work / f"{stem}.pristine.py", work / f"{stem}.calls.json",
                               work / f"{stem}.plan.json")
    plan.write_text(json.dumps(dict(pristine=str(pristine), target=str(target),
                                    callmap=str(callmap), files=TARGETS[module])))
    cfg.write_text(_config(module, sock, plan))
    if (resume or recheck or collect) and not session.exists():
        raise SystemExit(f"{module}: no cosmic-ray session in {work}; run it without "
                         "--resume / --recheck / --collect first")
    if collect:  # an interrupted run's results so far
        pass
    elif recheck:  # the tests changed: a new call map, then the survivors again
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
    if sample:
        print(f"{module}: a sample of {_sample(session, sample)} mutants", flush=True)
    start = time.perf_counter()
    if not collect:
        _cr("cosmic-ray", "exec", str(cfg), str(session), cwd=copy)
    return summarise(module, _cr("cosmic-ray", "dump", str(session), cwd=copy), copy,
                     time.perf_counter() - start)


def summarise(module: str, dump: str, copy: Path, seconds: float) -> dict:
    lines = (copy / "keras_gan" / f"{module}.py").read_text().splitlines()
    counts = {"killed": 0, "survived": 0, "timed out": 0, "incompetent": 0, "not run yet": 0}
    sampled_out = 0
    survivors = []
    for row in dump.splitlines():
        job, result = json.loads(row)
        if not result:
            counts["not run yet"] += 1  # an unfinished run (see --resume)
            continue
        if result["worker_outcome"] == "skipped":
            sampled_out += result["output"] == NOT_SAMPLED
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
    # sampled: how many of the module's mutants the counts stand for
    total = sum(counts.values())
    return dict(counts=counts, survivors=survivors, tests=TARGETS[module],
                minutes=round(seconds / 60, 1),
                sampled=dict(of=total + sampled_out) if sampled_out else None)


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


def wilson(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """The 95% Wilson score interval of a share k / n (a sample's)."""
    if not n:
        return 0.0, 1.0
    p = k / n
    centre, half = p + z * z / (2 * n), z * ((p * (1 - p) + z * z / (4 * n)) / n) ** 0.5
    return (centre - half) / (1 + z * z / n), (centre + half) / (1 + z * z / n)


def equivalents() -> list[dict]:
    import yaml

    return yaml.safe_load(EQUIVALENT.read_text()) or [] if EQUIVALENT.exists() else []


def explanation(module: str, survivor: dict, known: list[dict]) -> str | None:
    for e in known:
        if (RENAMED.get(e["module"], e["module"]) == RENAMED.get(module, module)
                and e["operator"] == survivor["operator"]
                and e["source"] in survivor["source"]
                and e.get("mutant", "") in survivor.get("diff", "")):
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
        out += [f"## {label}", "", f"{run['note']} (last run {run['date']}; each module's "
                "code and tests are those of its commit).", "",
                "| module | mutants | killed | timed out | survived | equivalent | not run yet | "
                "killed share | minutes | commit | tests |",
                "|---|---|---|---|---|---|---|---|---|---|---|"]
        weighed = []  # (share, the mutants it stands for) per module
        for module, r in run["modules"].items():
            c = {"not run yet": 0, **r["counts"]}
            eq = sum(1 for s in r["survivors"] if explanation(module, s, known))
            share = killed_share(c)
            of = (r.get("sampled") or {}).get("of")
            mutants = f"{sum(c.values())} of {of}" if of else f"{sum(c.values())}"
            if share is not None:
                weighed.append((share, of or sum(c.values())))
                low, high = wilson(c["killed"] + c["timed out"],
                                   c["killed"] + c["timed out"] + c["survived"])
                share_text = f"{100 * share:.1f}%" + (
                    f" ({100 * low:.0f}-{100 * high:.0f}%)" if of else "")
            out.append(f"| {module} | {mutants} | {c['killed']} | {c['timed out']} | "
                       f"{c['survived']} | {eq} | {c['not run yet']} | "
                       f"{'' if share is None else share_text} | "
                       f"{'' if r['minutes'] is None else r['minutes']} | "
                       f"`{r.get('commit', run['commit'])}` {r.get('date', run['date'])} | "
                       f"{', '.join(t.split('/')[-1] for t in r['tests'])} |")
        if len(weighed) > 1:
            total = sum(n for _, n in weighed)
            out.append(f"| all of the above | {total} |  |  |  |  |  | "
                       f"{100 * sum(sh * n for sh, n in weighed) / total:.1f}% |  |  |  |")
        partial = [m for m, r in run["modules"].items() if r["counts"].get("not run yet")]
        if partial:
            out += ["", f"Stopped before the end (`--resume` finishes them): {', '.join(partial)}."
                    " Their shares are of the mutants run so far, in file order."]
        if any(r.get("sampled") for r in run["modules"].values()):
            out += ["", "\"N of M\": a seeded uniform random sample of N of the module's M "
                    "mutants (`--sample N`); its killed share has a 95% Wilson interval. \"All of "
                    "the above\" weighs each module's share by its mutants."]
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
    parser.add_argument("--modules", default="models/losses,models/penalties",
                        help=f"comma-separated, of: {', '.join(TARGETS)}")
    parser.add_argument("--label", default="after")
    parser.add_argument("--note", default="the tests as committed")
    parser.add_argument("--tests-at", default=None, help="take tests/ from this git revision")
    parser.add_argument("--resume", action="store_true")
    parser.add_argument("--recheck", action="store_true",
                        help="after adding tests: take tests/ from the working tree and run "
                             "the last run's survivors again (killed mutants stay killed)")
    parser.add_argument("--sample", type=int, metavar="N",
                        help="run a seeded uniform random sample of N of each module's "
                             "mutants (the rest: 'not sampled'); with --resume, samples the "
                             "run so far (its results inside the sample are kept)")
    parser.add_argument("--report-only", action="store_true")
    parser.add_argument("--collect", action="store_true",
                        help="store what an interrupted run has so far (its 'not run yet' "
                             "are counted); --resume finishes it")
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
        again = [f for f in ("resume", "recheck", "collect") if getattr(args, f)]
        if again and not (work / "checkout").is_dir():
            parser.error(f"--{again[0]}: no run of {args.modules} under label {args.label!r} "
                         f"in {work}; start one without --{again[0]}")
        if args.tests_at and subprocess.run(
                ["git", "rev-parse", "--verify", "--quiet", f"{args.tests_at}^{{commit}}"],
                cwd=ROOT, capture_output=True).returncode:
            parser.error(f"--tests-at: {args.tests_at!r} is not a commit of this repository")
        work.mkdir(parents=True, exist_ok=True)
        if args.recheck:
            shutil.rmtree(work / "checkout" / "tests")
            shutil.copytree(ROOT / "tests", work / "checkout" / "tests",
                            ignore=shutil.ignore_patterns("__pycache__"))
        elif not (args.resume or args.collect):
            _copy(work / "checkout", args.tests_at)
        # A socket path may hold at most 107 bytes (AF_UNIX), fewer than a run
        # folder named after several modules takes: the socket lives in /tmp.
        sock = Path(tempfile.mkdtemp(prefix="kg-mutation-")) / "server.sock"
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
                again = args.resume or args.recheck or args.collect
                before = run["modules"].get(module, {}).get("minutes", 0) if again else 0
                run["modules"][module] = r = run_module(module, work, sock, args.resume,
                                                        args.recheck, args.collect,
                                                        args.sample)
                # a resumed run's total; unknown for a collected (interrupted) one
                r["minutes"] = None if args.collect else round(r["minutes"] + before, 1)
                # Modules of one label are run at different times: each keeps its own.
                r.update({k: run[k] for k in ("commit", "tests_at", "date")})
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
