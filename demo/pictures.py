"""The user's picture, as the page sends it -> a checked array, shrunk.

It arrives as a numpy array (a Python caller) or as the image editor's dict
{"background", "layers", "composite"}, whose composite (what the user sees)
is an upload: the file's path (a `pathlib.Path`: `demo.app`'s editor hands
over gradio's upload undecoded) or the PNG bytes the page's canvas sent.
An upload is opened here and its size read from its header before a pixel
is decoded, so a picture over MAX_IMAGE_SIDE on a side is refused with the
same line whatever its size: also those PIL will not open at all, decoding
bombs over twice `Image.MAX_IMAGE_PIXELS` (about 179 million pixels), and
those it warns about, over the limit itself.
"""

from __future__ import annotations

import io
import math
import warnings
from pathlib import Path

import numpy as np
from PIL import Image

from demo.checks import blank, show
from demo.models import DemoError

MAX_IMAGE_SIDE = 4096  # pictures beyond 4096x4096 are refused, not decoded further
# Larger pictures are box-averaged down to this side first: to_model_input's
# resize costs (side x side) per output pixel, seconds at 800 px, and a 28 or
# 32 px model needs no more (a drawing a tenth of the side still keeps 50 px).
WORKING_SIDE = 512
FLAT = 4 / 255  # a picture whose every channel spans no more is blank
UPLOAD_MODE = "RGBA"  # uploads as the editor gives them: transparency kept


def check_image(value, what: str = "image A") -> tuple[np.ndarray, list[str]]:
    """The picture in `value` at most WORKING_SIDE on a side, and a note when
    it was shrunk; DemoError when there is none, it is blank, too large or
    no picture."""
    value = _picture(value)
    if blank(value):
        raise DemoError(f"{what} is empty: draw on it or upload a picture")
    if isinstance(value, (Path, bytes)):
        value = read_upload(value, what)
    if not isinstance(value, np.ndarray):
        raise DemoError(f"{what} must be a picture, got {show(value)}")
    if value.dtype.kind not in "fiu":
        raise DemoError(f"{what} must hold pixel values, got dtype {value.dtype}")
    if value.ndim not in (2, 3) or (value.ndim == 3 and value.shape[-1] not in (1, 2, 3, 4)):
        raise DemoError(f"{what} must be a picture (height, width) or (height, width, 1 to 4 "
                        f"channels), got shape {value.shape}")
    if min(value.shape[:2]) < 1:
        raise DemoError(f"{what} is empty: draw on it or upload a picture")
    check_side(*value.shape[:2], what)
    if value.dtype.kind == "f" and not np.isfinite(value).all():
        raise DemoError(f"{what} must hold finite pixel values")
    x = shrink(value if value.ndim == 3 else value[..., None], WORKING_SIDE)
    with np.errstate(over="ignore"):  # float64 beyond float32: inf, refused by the range
        channels = x.astype(np.float32)
    scale = 255.0 if value.dtype == np.uint8 or channels.max() > 1 else 1.0
    if x.shape[-1] in (2, 4) and channels[..., -1].max() == 0:  # all transparent
        raise DemoError(f"{what} is blank: draw on it or upload a picture")
    if np.ptp(channels.reshape(-1, x.shape[-1]), axis=0).max() <= FLAT * scale:
        raise DemoError(f"{what} is blank (one flat colour): draw on it or upload a picture")
    (h, w), (h2, w2) = value.shape[:2], x.shape[:2]
    return x, [f"shrunk {h}x{w} -> {h2}x{w2} (box average)"] * ((h, w) != (h2, w2))


def check_side(height: int, width: int, what: str) -> None:
    """The one line for every picture too large, an array or an upload."""
    if max(height, width) > MAX_IMAGE_SIDE:
        raise DemoError(f"{what} is {height} pixels high and {width} wide: "
                        f"at most {MAX_IMAGE_SIDE} on a side, shrink it first")


def read_upload(source: Path | bytes, what: str = "image A") -> np.ndarray:
    """An uploaded picture (its file's path, or its bytes) -> uint8 (H, W, 4)
    RGBA, its size checked (`check_side`) before it is decoded."""
    with open(source, "rb") if isinstance(source, Path) else io.BytesIO(source) as fp:
        try:
            with warnings.catch_warnings():
                # PIL warns over its limit and refuses twice that before telling
                # the size: both are read from the header below instead.
                warnings.simplefilter("error", Image.DecompressionBombWarning)
                im = Image.open(fp)
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            # Over 9,459 px on a side (PIL's default limit): check_side raises.
            check_side(*_header_size(fp), what)
            raise  # a limit lowered under MAX_IMAGE_SIDE**2 by whoever runs this
        except (OSError, SyntaxError, ValueError):  # no picture PIL knows
            raise DemoError(f"{what} is not a picture this demo can read: upload a PNG, "
                            "JPEG or WebP") from None
        with im:
            check_side(im.height, im.width, what)
            try:
                return np.asarray(im.convert(UPLOAD_MODE))
            except (OSError, SyntaxError, ValueError):  # a truncated or corrupt file
                raise DemoError(f"{what} is a damaged picture file: its pixels could not "
                                "be read") from None


def _header_size(fp) -> tuple[int, int]:
    """(height, width) from the header of the picture in `fp`, read by the
    format plugin that `Image.open` picks, called directly: without the
    decompression-bomb check with which Image.open refuses to tell it.
    (0, 0) if no plugin reads it (Image.open did: its error then goes up)."""
    fp.seek(0)
    prefix = fp.read(16)
    for name in Image.ID:  # Image.open's order; it has loaded the plugins
        factory, accept = Image.OPEN[name]
        found = accept is None or accept(prefix)
        if found and not isinstance(found, str):  # a str is a plugin's warning
            fp.seek(0)
            try:
                width, height = factory(fp, "").size
            except Exception:  # not this format after all: the next one
                continue
            return height, width
    return 0, 0


def _picture(value):
    """The picture in the image editor's dict (background, layers, composite):
    the composite, what the user sees; anything else as it is."""
    if isinstance(value, dict):
        return value.get("composite") if value.get("composite") is not None else (
            value.get("background"))
    return value


def shrink(x: np.ndarray, most: int) -> np.ndarray:
    """(H, W, C) box-averaged by the integer factor that brings its longer side
    to at most `most` (colour weighted by alpha when there is one: transparent
    pixels' colour is arbitrary); uint8 stays uint8. The last rows and columns
    that do not fill a box are dropped; a side shorter than the factor
    becomes one pixel."""
    h, w, c = x.shape
    k = math.ceil(max(h, w) / most)
    if k <= 1:
        return x
    ky, kx = min(k, h), min(k, w)
    out = np.empty((h // ky, w // kx, c), np.float64)
    for i in range(h // ky):  # a band of ky rows at a time: no float copy of it all
        band = x[i * ky:(i + 1) * ky, :w - w % kx].astype(np.float64).reshape(
            ky, w // kx, kx, c)
        if c in (2, 4):
            alpha = band[..., -1:]
            weight = np.maximum(alpha.sum(axis=(0, 2)), 1e-12)
            out[i, :, :-1] = (band[..., :-1] * alpha).sum(axis=(0, 2)) / weight
            out[i, :, -1] = alpha.mean(axis=(0, 2))[:, 0]
        else:
            out[i] = band.mean(axis=(0, 2))
    return np.rint(out).astype(np.uint8) if x.dtype == np.uint8 else out.astype(np.float32)
