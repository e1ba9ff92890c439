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
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

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


def main() -> int:
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
