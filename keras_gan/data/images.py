"""The uint8 edge: float [-1, 1] images to uint8, grids and plots on disk.

Inside the library images are float in [-1, 1]; this module is where they
become pixels. numpy + Pillow only (matplotlib, for scatter plots, is
imported lazily), so the ONNX runtime and the demo can use it too.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np


def to_uint8(images) -> np.ndarray:
    """[-1, 1] floats -> uint8 [0, 255], same shape. Out-of-range values clip."""
    x = np.asarray(images, dtype=np.float32)
    return np.clip(np.rint((x + 1.0) * 127.5), 0, 255).astype(np.uint8)


def make_grid(images: np.ndarray, cols: int | None = None, pad: int = 2) -> np.ndarray:
    """Tiles uint8 images (N, H, W, C) into one (rows*(H+pad)+pad, ..., C) image."""
    images = np.asarray(images)
    if images.ndim != 4:
        raise ValueError(f"make_grid expects (N, H, W, C) images, got shape {images.shape}")
    n, h, w, c = images.shape
    cols = cols or math.ceil(math.sqrt(n))
    rows = math.ceil(n / cols)
    grid = np.zeros((rows * (h + pad) + pad, cols * (w + pad) + pad, c), images.dtype)
    for i, image in enumerate(images):
        r, col = divmod(i, cols)
        y, x = pad + r * (h + pad), pad + col * (w + pad)
        grid[y:y + h, x:x + w] = image
    return grid


def save_grid(path, images, cols: int | None = None, scale: int = 1) -> Path:
    """Writes float [-1, 1] images (N, H, W, C) as one PNG grid."""
    from PIL import Image

    grid = make_grid(to_uint8(images), cols)
    if grid.shape[-1] == 1:
        grid = grid[..., 0]
    image = Image.fromarray(grid)
    if scale > 1:
        image = image.resize((image.width * scale, image.height * scale), Image.NEAREST)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path)
    return path


def save_scatter(path, points, centres=None, title: str | None = None,
                 limit: float | None = None) -> Path:
    """Scatter plot of 2D samples, with the mixture's mode centres if given;
    1D samples (N, 1) are drawn as a density histogram instead."""
    import matplotlib

    matplotlib.use("Agg")  # no display on servers and in CI
    import matplotlib.pyplot as plt

    points = np.asarray(points)
    if points.ndim == 2 and points.shape[1] == 1:
        return _save_histogram(path, points[:, 0], title)
    fig, ax = plt.subplots(figsize=(4, 4), dpi=100)
    ax.scatter(points[:, 0], points[:, 1], s=2, alpha=0.5, label="samples")
    if centres is not None:
        centres = np.asarray(centres)
        ax.scatter(centres[:, 0], centres[:, 1], s=30, marker="x", c="red",
                   label="mode centres")
    if limit is None and centres is not None:
        limit = 1.5 * float(np.abs(centres).max())
    if limit:
        ax.set_xlim(-limit, limit)
        ax.set_ylim(-limit, limit)
    ax.set_aspect("equal")
    if title:
        ax.set_title(title)
    ax.legend(loc="upper right", fontsize=7)
    return _save_figure(fig, path)


def _save_figure(fig, path) -> Path:
    """Writes a matplotlib figure (its folder made) and closes it."""
    import matplotlib.pyplot as plt

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, bbox_inches="tight")
    plt.close(fig)
    return path


def _save_histogram(path, values, title: str | None = None) -> Path:
    """Density histogram of 1D samples (the `gauss1d` sources)."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(4, 3), dpi=100)
    ax.hist(values, bins=60, density=True, alpha=0.7, label="samples")
    if title:
        ax.set_title(title)
    ax.set_xlabel("x")
    ax.legend(loc="upper right", fontsize=7)
    return _save_figure(fig, path)
