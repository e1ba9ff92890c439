"""Rehearse the README's two commands as a new user would, and time them.

    python benchmarks/rehearse.py [--out benchmarks/results/rehearsal.json]

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
    if shared.exists() and not (tmp / "shared").exists():
        os.symlink(shared, tmp / "shared")
    subprocess.run([sys.executable, "-m", "venv", str(tmp / "venv")], check=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    env["PATH"] = f"{tmp / 'venv' / 'bin'}:{env['PATH']}"
    env["VIRTUAL_ENV"] = str(tmp / "venv")
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    readme = (clone / "README.md").read_text()
    result = {"commit": commit, "uncommitted_changes": bool(dirty),
              "date": f"{datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC",
              "cpus": len(os.sched_getaffinity(0)), "load_before": os.getloadavg()[0]}
    for name in ("train", "test"):
        command = block(readme, name)
        seconds, rc, tail = timed(command, clone, env, tmp / f"{name}.log")
        entry = {"command": command, "seconds": round(seconds, 1), "exit": rc}
        if name == "test":
            summary = re.findall(r"^=* ?(\d+ passed.*?) in [\d.]+s", tail, re.MULTILINE)
            entry["summary"] = summary[-1] if summary else tail.splitlines()[-1:]
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
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    if not args.keep:
        subprocess.run(["rm", "-rf", str(tmp)])
    return 0 if all(result[n]["exit"] == 0 for n in ("train", "test")) else 1


if __name__ == "__main__":
    sys.exit(main())
