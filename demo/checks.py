"""The caps on one request and the generic checks of what the page sends.

`demo.service` (sampling, interpolation) and `demo.projecting` (the user's
pictures) both import this module and nothing of each other's but what
they call, so neither imports the other in a circle.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from demo.models import DemoError, Model
from export.projection import MAX_STEPS as MOST_PROJECTION_STEPS

CLOUD = 512  # samples drawn behind a 2D interpolation path, to show the distribution


@dataclass(frozen=True)
class Limits:
    """Caps on one request: they bound its time and memory."""

    max_images: int = 64
    max_points: int = 1024  # 2D models: a sample is a point, cheap, and few show nothing
    max_steps: int = 32
    max_projection_steps: int = 200  # refinement steps on the latent of a user's picture

    def __post_init__(self):
        for name in ("max_images", "max_points", "max_steps"):
            if not getattr(self, name) >= 1:
                raise DemoError(f"{name} must be at least 1, got {getattr(self, name)}")
        if self.max_steps < 2:
            raise DemoError(f"max_steps must be at least 2, got {self.max_steps}")
        if not 0 <= self.max_projection_steps <= MOST_PROJECTION_STEPS:
            raise DemoError(f"max_projection_steps must be between 0 and "
                            f"{MOST_PROJECTION_STEPS}, got {self.max_projection_steps}")

    @property
    def max_batch(self) -> int:
        """The largest batch a request runs (the runtime's own cap)."""
        return max(self.max_images, self.max_points, self.max_steps, CLOUD)

    def max_samples(self, model: Model) -> int:
        return self.max_points if model.points else self.max_images


def show(value, limit: int = 60) -> str:
    """What was sent, for a message: 3.0 as 3, anything long cut short."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    text = repr(value)
    return text if len(text) <= limit else text[:limit - 3] + "..."


def blank(value) -> bool:
    """None or "": what an untouched or cleared widget sends."""
    return value is None or (isinstance(value, str) and value == "")


def whole_number(value, what: str, lo: int, hi: int) -> int:
    """`value` as an int in [lo, hi]; floats are fine if whole (a Number widget
    sends 3.0), anything else is refused rather than rounded."""
    if blank(value):
        raise DemoError(f"{what} is empty: enter a whole number from {lo} to {hi}")
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise DemoError(f"{what} must be a whole number, got {show(value)}")
    # Ints need no check (and 10**400 would overflow math.isfinite).
    if not isinstance(value, (int, np.integer)) and (
            not math.isfinite(value) or value != math.floor(value)):
        raise DemoError(f"{what} must be a whole number, got {show(value)}")
    if not lo <= value <= hi:
        raise DemoError(f"{what} must be between {lo} and {hi}, got {show(value)}")
    return int(value)
