"""The figures block of docs/web.md (issue 31), for readme_figures.py: made
from the committed results of benchmarks/web_page.py, never typed."""

from __future__ import annotations

from figures_classifiers import RESULTS, report  # benchmarks/, beside this file


def web_page() -> str:
    """The report's bullets and tables, without its title."""
    return report(RESULTS / "web_page.md", "python benchmarks/web_page.py")


BLOCKS = {"web-page": web_page}
