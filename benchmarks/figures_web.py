"""The figures block of docs/web.md (issue 31), for readme_figures.py: made
from the committed results of benchmarks/web_page.py, never typed."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REPORT = ROOT / "benchmarks" / "results" / "web_page.md"


def web_page() -> str:
    """The report's bullets and tables, without its title."""
    if not REPORT.exists():
        return "Not measured yet: `python benchmarks/web_page.py` writes these figures."
    body = [line for line in REPORT.read_text().splitlines() if not line.startswith("# ")]
    while body and not body[0].strip():
        body.pop(0)
    return "\n".join(body).rstrip() + f"\n\n(From `{REPORT.relative_to(ROOT)}`.)"


BLOCKS = {"web-page": web_page}
