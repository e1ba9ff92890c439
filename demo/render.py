"""Pictures from generator outputs, with numpy and PIL only.

- `grid(images)`: uint8 (N, H, W, C) images -> one uint8 RGB picture;
- `scatter(points)`: (N, 2) points -> a uint8 RGB plot (the 2D toy models);
- `with_progress(frame, t)`: a bar under a GIF frame showing where on the
  path it is (it also keeps consecutive frames distinct: PIL merges equal
  ones, and a GIF of `steps` frames should have `steps` frames);
- `image_path(path)`: images along a latent path -> the strip and GIF frames;
- `save_png` / `save_gif`: files for the page's downloads.

Every picture is uint8 RGB (H, W, 3), what a browser shows as it is.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

BACKGROUND = 96  # grey between tiles: visible against MNIST's black and white
MIN_TILE = 84  # small images (28x28) are upscaled, nearest, to at least this size
GIF_TILE = 168
BAR = 6  # height of the progress bar under GIF frames
# Plot colours (matplotlib's first ones): samples, the path, its current point.
BLUE, PALE, ORANGE, RED = (31, 119, 180), (174, 199, 232), (255, 127, 14), (214, 39, 40)
NICE_BOUNDS = (0.5, 1, 1.5, 2, 3, 4, 5, 6, 8, 10)


def to_rgb(images: np.ndarray) -> np.ndarray:
    """uint8 (N, H, W, 1 or 3) -> uint8 (N, H, W, 3)."""
    if images.dtype != np.uint8 or images.ndim != 4 or images.shape[-1] not in (1, 3):
        raise ValueError(f"expected uint8 images (N, H, W, 1 or 3), got {images.dtype} "
                         f"{images.shape}")
    return np.repeat(images, 3, axis=-1) if images.shape[-1] == 1 else images


def upscale(images: np.ndarray, min_size: int) -> np.ndarray:
    """Nearest-neighbour upscale of (N, H, W, C) by the smallest integer factor
    that makes the images at least `min_size` pixels: the browser would blur them."""
    k = max(1, math.ceil(min_size / max(images.shape[1:3])))
    return images.repeat(k, axis=1).repeat(k, axis=2) if k > 1 else images


def grid(images: np.ndarray, cols: int | None = None, pad: int = 2,
         min_tile: int = MIN_TILE) -> np.ndarray:
    """N uint8 images in rows of `cols` (default: a near square) -> uint8 RGB."""
    tiles = to_rgb(upscale(images, min_tile))
    n, h, w, _ = tiles.shape
    cols = min(cols or math.ceil(math.sqrt(n)), n)
    rows = math.ceil(n / cols)
    out = np.full((rows * (h + pad) + pad, cols * (w + pad) + pad, 3), BACKGROUND, np.uint8)
    for i, tile in enumerate(tiles):
        r, c = divmod(i, cols)
        y, x = pad + r * (h + pad), pad + c * (w + pad)
        out[y:y + h, x:x + w] = tile
    return out


def nice_bound(*arrays: np.ndarray) -> float:
    """A round half-width for the plot that holds every finite point with a margin."""
    values = np.concatenate([np.abs(a).ravel() for a in arrays])
    values = values[np.isfinite(values)]
    largest = 1.15 * float(values.max()) if values.size else 1.0
    for bound in NICE_BOUNDS:
        if largest <= bound:
            return float(bound)
    return float(10 * math.ceil(largest / 10))


def scatter(points: np.ndarray, bound: float | None = None, size: int = 480,
            path: np.ndarray | None = None, current: np.ndarray | None = None) -> np.ndarray:
    """A square plot of (N, 2) points over [-bound, bound]^2 -> uint8 RGB (size, size, 3).

    With `path` (an interpolation), the points are the pale background (the
    model's distribution) and the path is drawn over them in order; `current`
    marks one point (a GIF frame's).
    """
    bound = bound or nice_bound(points, *([] if path is None else [path]))
    margin = 32  # room for the axis labels
    scale = (size - 2 * margin) / (2 * bound)

    def xy(p):
        return margin + (p[0] + bound) * scale, size - margin - (p[1] + bound) * scale

    image = Image.new("RGB", (size, size), "white")
    draw = ImageDraw.Draw(image)
    step = 0.5 if bound <= 2 else 1.0 if bound <= 6 else bound / 5
    ticks = np.arange(-bound, bound + step / 2, step)
    for v in ticks:  # grid lines, the axes darker
        shade = (150, 150, 150) if abs(v) < 1e-9 else (228, 228, 228)
        (x0, y0), (x1, y1) = xy((v, -bound)), xy((v, bound))
        draw.line([(x0, y0), (x1, y1)], fill=shade)
        (x0, y0), (x1, y1) = xy((-bound, v)), xy((bound, v))
        draw.line([(x0, y0), (x1, y1)], fill=shade)
    draw.rectangle([margin, margin, size - margin, size - margin], outline=(90, 90, 90))
    for v in (-bound, 0.0, bound):
        x, _ = xy((v, -bound))
        draw.text((x - 8, size - margin + 6), f"{v:g}", fill="black")
        _, y = xy((-bound, v))
        draw.text((4, y - 6), f"{v:g}", fill="black")

    def dots(array, radius, fill):
        for p in array:
            if np.isfinite(p).all():
                x, y = xy(p)
                draw.ellipse([x - radius, y - radius, x + radius, y + radius], fill=fill)

    dots(points, 2, BLUE if path is None else PALE)
    if path is not None:
        finite = [xy(p) for p in path if np.isfinite(p).all()]
        if len(finite) > 1:
            draw.line(finite, fill=ORANGE, width=2)
        dots(path, 3, ORANGE)
    if current is not None:
        dots([current], 6, RED)
    return np.asarray(image)


def with_progress(frame: np.ndarray, t: float) -> np.ndarray:
    """`frame` with a bar under it filled to the fraction t in [0, 1]."""
    h, w, _ = frame.shape
    bar = np.full((BAR, w, 3), 230, np.uint8)
    bar[:, :max(1, round(t * w))] = ORANGE
    return np.concatenate([frame, bar], axis=0)


def image_path(path: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
    """uint8 (S, H, W, C) images along a path -> (the strip: one row of them,
    one GIF frame per image with a progress bar under it)."""
    ts = np.linspace(0.0, 1.0, len(path))
    frames = to_rgb(upscale(path, GIF_TILE))
    return (grid(path, cols=len(path)),
            [with_progress(f, t) for f, t in zip(frames, ts, strict=True)])


def save_png(picture: np.ndarray, path) -> Path:
    Image.fromarray(picture).save(path, format="PNG")
    return Path(path)


def save_gif(frames: list[np.ndarray], path, ms_per_frame: int = 120) -> Path:
    """An endlessly looping GIF of the frames."""
    images = [Image.fromarray(f) for f in frames]
    images[0].save(path, format="GIF", save_all=True, append_images=images[1:],
                   duration=ms_per_frame, loop=0)
    return Path(path)
