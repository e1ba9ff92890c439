"""`keras-gan web` pages: their weight and their time to first image in Chromium.

    python benchmarks/web_page.py --loads 5 --out benchmarks/results/web_page.md

For each shipped model folder (generators and translators) it writes the
page (export/web.py) into a temporary folder, serves it from 127.0.0.1 (a
thread, tests/browser.py's `static_server`) and loads it --loads times in
headless Chromium (Debian's, found as the browser tests find it), each time
in a fresh browser context, so nothing comes from the HTTP cache. Time to
first image is the page's own `kg-first-image` performance mark, set when
the first grid picture (or translation, or point plot) is drawn, measured
from navigation start; `kg-session` marks the model loaded. Served over
loopback: download time is near zero, so the figures are what the browser
spends (parsing, compiling the wasm, creating the session, the first run),
not what a visitor's network adds for the page weight. Writes FILE.md and
FILE.json (the command, date, Chromium and ONNX Runtime Web versions).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import shlex
import statistics
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # `export` from a checkout
sys.path.insert(0, str(REPO / "tests"))  # browser.py: Chromium and the static server

MODELS = ("mnist-dcgan", "mnist-cgan", "mnist-ssgan", "emoji-32", "toy-ring", "toy-grid",
          "emoji-sketch", "emoji-styles/ab", "emoji-styles/ba")
MARKS = """() => Object.fromEntries(['kg-session', 'kg-first-image'].map(
  n => [n, performance.getEntriesByName(n)[0]?.startTime ?? null]))"""


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--models", nargs="+", default=list(MODELS), metavar="NAME",
                   help="folders under saved_models/ (default: every shipped one)")
    p.add_argument("--loads", type=int, default=5, help="page loads per model (median)")
    p.add_argument("--out", default="benchmarks/results/web_page.md", metavar="FILE.md")
    p.add_argument("--note", default="", help="a line on the conditions (e.g. other load)")
    return p.parse_args(argv)


def time_loads(browser, url: str, loads: int) -> list[dict]:
    """The marks of `loads` cold loads of the page at `url`."""
    runs = []
    for _ in range(loads):
        context = browser.new_context()  # a fresh HTTP cache each load
        page = context.new_page()
        page.goto(url)
        page.wait_for_function("() => performance.getEntriesByName('kg-first-image').length",
                               timeout=60_000)
        runs.append(page.evaluate(MARKS))
        context.close()
    return runs


def measure(browser, name: str, loads: int, root: Path) -> dict:
    from browser import static_server

    from export.web import export_page

    manifest = export_page(REPO / "saved_models" / name, root / name.replace("/", "-"))
    with static_server(root / name.replace("/", "-")) as url:
        runs = time_loads(browser, url, loads)
    first = [r["kg-first-image"] for r in runs]
    session = [r["kg-session"] for r in runs]
    return {"model": name, "kind": manifest["model"]["kind"], "onnx": manifest["onnx"],
            "precision": manifest["precision"], "total_bytes": manifest["total_bytes"],
            "files": manifest["files"], "first_image_ms": first, "session_ms": session,
            "first_image_median_ms": statistics.median(first),
            "session_median_ms": statistics.median(session)}


def write(rows: list[dict], meta: dict, out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".json").write_text(json.dumps({**meta, "rows": rows}, indent=2) + "\n")
    mb = lambda b: f"{b / 1e6:.2f}"  # noqa: E731
    lines = [
        "# Static web pages (`keras-gan web`): page weight and time to first image", "",
        f"- Command: `{meta['command']}`", f"- Date: {meta['date']}",
        f"- Browser: Chromium {meta['chromium']} (headless), ONNX Runtime Web "
        f"{meta['ort_web']} (wasm, 1 thread: no cross-origin isolation)",
        f"- Machine: {meta['machine']}",
        f"- Method: {meta['method']}", *([f"- Note: {meta['note']}"] if meta["note"] else []),
        "",
        "| Model | Kind | ONNX file | Page MB | ONNX MB | Runtime MB | First image, ms "
        "median (min-max) | Model loaded, ms median |",
        "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        runtime = sum(v for k, v in r["files"].items() if k.startswith("ort/"))
        lines.append(
            f"| {r['model']} | {r['kind']} | `{r['onnx']}` ({r['precision']}) | "
            f"{mb(r['total_bytes'])} | {mb(r['files'][r['onnx']])} | {mb(runtime)} | "
            f"{r['first_image_median_ms']:.0f} ({min(r['first_image_ms']):.0f}-"
            f"{max(r['first_image_ms']):.0f}) | {r['session_median_ms']:.0f} |")
    first = rows[0]
    lines += ["", f"Files of the {first['model']} page, bytes:", "",
              "| File | Bytes |", "|---|---|"]
    lines += [f"| `{k}` | {v:,} |" for k, v in first["files"].items()]
    out.write_text("\n".join(lines) + "\n")


def main(argv=None) -> int:
    args = parse_args(argv)
    from browser import find_chromium
    from playwright.sync_api import sync_playwright

    from export.web_runtime import ORT_WEB_VERSION

    chromium = find_chromium()
    if not chromium:
        sys.exit("no Chromium: run `python tests/browser.py`")
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, headless=True)
        rows = []
        for name in args.models:
            rows.append(measure(browser, name, args.loads, Path(tmp)))
            print(f"{name}: first image {rows[-1]['first_image_median_ms']:.0f} ms, "
                  f"{rows[-1]['total_bytes'] / 1e6:.2f} MB", flush=True)
        version = browser.version
        browser.close()
    meta = {
        "command": "python benchmarks/web_page.py " + shlex.join(sys.argv[1:] if argv is None
                                                                 else argv),
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "chromium": version, "ort_web": ORT_WEB_VERSION,
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPU "
                   f"cores, {platform.system()}, Python {platform.python_version()}",
        "note": args.note,
        "method": f"median of {args.loads} cold loads per page (a fresh browser context "
                  "each), served over loopback by a Python thread; first image = the page's "
                  "kg-first-image mark from navigation start",
    }
    write(rows, meta, REPO / args.out if not Path(args.out).is_absolute() else Path(args.out))
    print(f"Wrote {args.out} and its .json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
