"""What every benchmark does with its figures: print the markdown report and,
with --out, write it there plus the raw figures as JSON beside it."""

from __future__ import annotations

import json
from pathlib import Path


def publish(text: str, data: dict, out: str | None) -> None:
    print(text)
    if not out:
        return
    path = Path(out)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text if text.endswith("\n") else text + "\n")
    path.with_suffix(".json").write_text(json.dumps(data, indent=2, default=float) + "\n")
