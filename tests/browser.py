"""The Chromium the browser test drives: find it, or install it.

    python tests/browser.py      # the README's test command runs this first

finds a Chromium (KERAS_GAN_CHROMIUM, Debian's `chromium`, or Playwright's own
download) and, when there is none, installs one: Debian's package with
apt-get where this user is root (or has sudo), else Playwright's own
download (`python -m playwright install chromium`, which needs its download
host). It prints the path it found or installed and exits 0, or says why it
could not and exits 1 (set KERAS_GAN_SKIP_BROWSER=1 to skip the browser test
on purpose: then it only reports). tests/test_demo_browser.py uses
`find_chromium` to pick the same binary.

It also fetches the ONNX Runtime Web files that `keras-gan web` pages ship
(export/web_runtime.py: the pinned npm tarball, checked, into
$KERAS_GAN_CACHE or ~/.cache/keras-gan), so that tests/test_web_browser.py
finds them without the network; `static_server` serves such a page.
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

DEBIAN_NAMES = ("chromium", "chromium-browser", "/usr/lib/chromium/chromium")


def playwright_chromium() -> str | None:
    """Playwright's own Chromium, when it was downloaded (and the package is there)."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return None
    try:
        with sync_playwright() as p:
            path = p.chromium.executable_path
    except Exception:  # no driver, no browser registry: nothing to use
        return None
    return path if path and Path(path).exists() else None


def find_chromium() -> str | None:
    """The Chromium binary to drive, or None."""
    given = os.environ.get("KERAS_GAN_CHROMIUM")
    if given:
        return given if Path(given).exists() else None
    found = next(filter(None, map(shutil.which, DEBIAN_NAMES)), None)
    return found or playwright_chromium()


def _run(argv: list[str]) -> bool:
    print("+ " + " ".join(argv), flush=True)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    return subprocess.run(argv, env=env).returncode == 0


def _as_root() -> list[str] | None:
    if os.geteuid() == 0:
        return []
    if shutil.which("sudo") and subprocess.run(["sudo", "-n", "true"],
                                               capture_output=True).returncode == 0:
        return ["sudo", "-n"]
    return None


def install() -> str | None:
    """Installs a Chromium: Debian's package if possible, else Playwright's."""
    root = _as_root()
    if shutil.which("apt-get") and root is not None:
        quiet = ["-y", "-qq", "--no-install-recommends"]
        if (_run([*root, "apt-get", "update", "-qq"])
                and _run([*root, "apt-get", "install", *quiet, "chromium"])):
            return find_chromium()
    if _run([sys.executable, "-m", "playwright", "install", "chromium"]):
        return find_chromium()
    return None


def fetch_web_runtime() -> bool:
    """The ONNX Runtime Web files in the cache (downloaded once); False with
    the reason on stderr when they cannot be had."""
    sys.path.insert(0, str(REPO))
    from export.web_runtime import WebRuntimeError, obtain

    try:
        print(f"web page tests: ONNX Runtime Web files at {obtain()}")
        return True
    except WebRuntimeError as e:
        print(f"web page tests: {e}", file=sys.stderr)
        return False


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # no line per request in the test output
        pass


@contextlib.contextmanager
def static_server(folder):
    """Serves `folder` on 127.0.0.1 (a free port) from a thread; yields its URL."""
    handler = functools.partial(_QuietHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def main() -> int:
    browser = _chromium()
    if os.environ.get("KERAS_GAN_SKIP_BROWSER") == "1":
        fetch_web_runtime()  # only reported: no browser test will need it
        return browser
    runtime = fetch_web_runtime()
    return browser or (0 if runtime else 1)


def _chromium() -> int:
    """0 when a Chromium is there (found or installed), else 1."""
    path = find_chromium()
    if path:
        print(f"browser test: Chromium at {path}")
        return 0
    if os.environ.get("KERAS_GAN_SKIP_BROWSER") == "1":
        print("browser test: no Chromium, and KERAS_GAN_SKIP_BROWSER=1 skips the test")
        return 0
    print("browser test: no Chromium found; installing one", flush=True)
    path = install()
    if path:
        print(f"browser test: Chromium at {path}")
        return 0
    print("browser test: could not install Chromium (apt-get needs root or sudo; "
          "Playwright's download needs its host): install one and set "
          "KERAS_GAN_CHROMIUM, or set KERAS_GAN_SKIP_BROWSER=1 to skip the browser test",
          file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
