"""Rehearse the README's two commands as a new user would, and time them.

    python benchmarks/rehearse.py [--out benchmarks/results/rehearsal.json]
    python benchmarks/rehearse.py --alone --blocks test \
        --out benchmarks/results/rehearsal_alone.json

Clones this checkout's HEAD into a temporary folder, makes a fresh virtual
environment there (Python 3.11, no packages), and runs in it, timed:
1. the README's `ci:train` block (install, then `keras-gan train`), then
   `keras-gan eval` on the run it made (10,000 samples, the protocol's);
2. the README's `ci:test` block (install the test tools, the browser, then
   the whole test suite), exactly as `.ci/run` does.
Writes the wall times, the pytest summary line, the eval's figures and the
commit to --out; the README's "first commands" figures are made from it
(benchmarks/readme_figures.py). Needs network access to the package
registries, as a new user's install does.

By default the clone gets `../shared` beside it, as CI's checkout has (the
emoji data: its tests run). `--alone` leaves nothing beside the clone and
points Keras's cache (KERAS_HOME) into the temporary folder, so the clone
sees what a user's first clone sees: the tests that need the emoji data skip,
each naming the command that gets it; the skip reasons are recorded.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def block(readme: str, name: str) -> str:
    """The commands of the README's `<!-- ci:NAME -->` block."""
    m = re.search(rf"<!-- ci:{name} -->\n```bash\n(.*?)```\n<!-- /ci:{name} -->", readme,
                  re.DOTALL)
    if not m:
        raise SystemExit(f"README.md has no ci:{name} block")
    return m.group(1).strip()


def timed(command: str, cwd: Path, env: dict, log: Path) -> tuple[float, int, str]:
    print(f"+ {command}", flush=True)
    t0 = time.perf_counter()
    with log.open("w") as f:
        rc = subprocess.run(["bash", "-euo", "pipefail", "-c", command], cwd=cwd, env=env,
                            stdout=f, stderr=subprocess.STDOUT).returncode
    seconds = time.perf_counter() - t0
    tail = log.read_text()[-3000:]
    print(f"  exit {rc} after {seconds:.0f} s", flush=True)
    return seconds, rc, tail


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "rehearsal.json"))
    p.add_argument("--keep", action="store_true", help="keep the clone and its venv")
    p.add_argument("--alone", action="store_true",
                   help="nothing beside the clone (no ../shared, an empty Keras cache)")
    p.add_argument("--blocks", default="train,test",
                   help="which README blocks to run, of train,test (default: both)")
    args = p.parse_args(argv)
    commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True,
                            text=True, check=True).stdout.strip()
    dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT,
                           capture_output=True, text=True).stdout.strip()
    tmp = Path(tempfile.mkdtemp(prefix="rehearse_"))
    clone = tmp / "keras-gan"
    subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
    # The shared data folder sits beside a checkout (benchmarks and CI read it).
    shared = ROOT.parent / "shared"
    if shared.exists() and not args.alone:
        os.symlink(shared, tmp / "shared")
    subprocess.run([sys.executable, "-m", "venv", str(tmp / "venv")], check=True)
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PYTHON", "VIRTUAL_ENV", "KERAS_GAN_DATA"))}
    if args.alone:
        env["KERAS_HOME"] = str(tmp / "keras-home")  # no data cached by earlier runs
    env["PATH"] = f"{tmp / 'venv' / 'bin'}:{env['PATH']}"
    env["VIRTUAL_ENV"] = str(tmp / "venv")
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    readme = (clone / "README.md").read_text()
    result = {"commit": commit, "uncommitted_changes": bool(dirty),
              "date": f"{datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC",
              "cpus": len(os.sched_getaffinity(0)), "load_before": os.getloadavg()[0],
              "beside_the_clone": "nothing" if args.alone else "../shared"}
    blocks = [b for b in ("train", "test") if b in args.blocks.split(",")]
    for name in blocks:
        command = block(readme, name)
        seconds, rc, tail = timed(command, clone, env, tmp / f"{name}.log")
        entry = {"command": command, "seconds": round(seconds, 1), "exit": rc}
        if name == "test":
            summary = re.findall(r"^=* ?(\d+ passed.*?) in [\d.]+s", tail, re.MULTILINE)
            entry["summary"] = summary[-1] if summary else tail.splitlines()[-1:]
            # pytest -ra's "SKIPPED [n] file:line: reason" lines, counted by reason
            log = (tmp / "test.log").read_text()
            skipped = Counter()
            for m in re.finditer(r"^SKIPPED \[(\d+)\] [^:]+:\d+: (.*)$", log, re.MULTILINE):
                skipped[m.group(2)] += int(m.group(1))
            entry["skipped"] = dict(skipped)
        result[name] = entry
        if name == "train" and rc == 0:
            run = clone / "runs" / "clustered-mnist-sample"
            ev_s, ev_rc, _ = timed(f"keras-gan eval {run}", clone, env, tmp / "eval.log")
            ev = json.loads((run / "eval" / "eval.json").read_text()) if ev_rc == 0 else {}
            m = ev.get("metrics", {})
            result["eval"] = {"seconds": round(ev_s, 1), "exit": ev_rc,
                              "train_seconds": ev.get("train_seconds"),
                              "steps": ev.get("steps"), "fd": m.get("fd"),
                              "score": m.get("score"),
                              "min_class": m.get("class_coverage", {}).get("min_fraction"),
                              "reference": m.get("reference")}
    result["load_after"] = os.getloadavg()[0]
    # A rehearsal of some blocks keeps the others' last figures from --out,
    # each with the commit and date it was measured at.
    old = json.loads(Path(args.out).read_text()) if Path(args.out).exists() else {}
    for name in ("train", "eval", "test"):
        if name not in result and name in old:
            result[name] = {"commit": old.get("commit"), "date": old.get("date"),
                            **old[name]}
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    if not args.keep:
        subprocess.run(["rm", "-rf", str(tmp)])
    return 0 if all(result[n]["exit"] == 0 for n in blocks) else 1


if __name__ == "__main__":
    sys.exit(main())
