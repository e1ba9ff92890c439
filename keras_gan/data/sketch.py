"""`sketch`: an emoji (or any picture) as a person would draw it: dark pen
strokes on white paper, the input side of the sketch -> emoji translation.

pix2pix's edges2shoes drew its inputs with HED, a learned edge detector we
cannot ship. This is the classic pipeline instead, numpy only:

1. composite RGBA on white (`sources._composite`, exact in integers): the
   pad the demo draws on is white, so is the paper here;
2. luminance, BT.601 in integers: Y = 299 R + 587 G + 114 B (0 .. 255,000);
3. Sobel gradients of Y and of alpha (alpha scaled by 1,000 to the same
   units); alpha's draws the outline of a white or pale shape that
   luminance alone would lose against the white paper. Past the frame an
   RGBA image is transparent white (a shape that reaches the frame is
   outlined there) and an RGB one repeats its border (a photo goes on past
   its frame, which draws no line);
4. a pixel is a stroke when either gradient's magnitude reaches
   `THRESHOLD`, compared squared, so no square root and no float: the same
   input gives the same output bit for bit on every machine.

No thinning and no dilation: Sobel marks the pixels on both sides of a
step, a stroke 2 px wide at 64 px, about the demo's pen (a 12 px brush on a
280 px pad is 2.7 px at 64). Strokes are 0 (black), the rest 255 (white).

One channel, not three: a pen sketch has no colour, and one channel is
what the demo's pad gives once made grey, whatever colour the pen was; a
translator takes (H, W, 1) in and gives (H, W, 3) out (pix2pix's
generators set their input and output channels apart).
"""

from __future__ import annotations

import numpy as np

from keras_gan.data.sources import _composite
from keras_gan.errors import DataError

# Sobel's response to a step of contrast c (in Y's units, 0 .. 255,000) is
# 4c beside the step. 4 * 255,000 / 8: a step of an eighth of the range (32
# grey levels: skin to hair, a face to its eyes) draws a line; the soft
# shading inside an emoji, a few levels a pixel, does not. Chosen by eye on
# both styles at 1/8, 3/16, 1/4 and 3/8: above 1/8 eyes and mouths go first.
THRESHOLD = 127_500
_PAD = ((0, 0), (1, 1), (1, 1))  # one pixel around each image, for Sobel's 3 x 3


def sketch(images) -> np.ndarray:
    """uint8 RGBA (N, H, W, 4) or RGB (N, H, W, 3) -> uint8 (N, H, W, 1):
    0 on the edges of shapes and colours, 255 elsewhere (see the module).

    Raises:
        DataError: for anything but uint8 (N, H, W, 3 or 4) images.
    """
    x = np.asarray(images)
    if x.dtype != np.uint8 or x.ndim != 4 or x.shape[-1] not in (3, 4):
        raise DataError(f"sketch: expected uint8 images (N, H, W, 3 or 4), got "
                        f"{x.dtype} {x.shape}.")
    alpha = x[..., 3].astype(np.int64) * 1000 if x.shape[-1] == 4 else None
    rgb = _composite("sketch", x, (255, 255, 255)) if alpha is not None else x
    rgb = rgb.astype(np.int64)
    luma = 299 * rgb[..., 0] + 587 * rgb[..., 1] + 114 * rgb[..., 2]
    if alpha is None:  # a picture: it goes on past its frame, which draws no line
        return _stroke(_strong(np.pad(luma, _PAD, mode="edge")))
    # A shape on a transparent ground: transparent (and white) past the frame
    # too, so a shape that reaches the frame is outlined there.
    edges = _strong(np.pad(luma, _PAD, constant_values=255_000))
    edges |= _strong(np.pad(alpha, _PAD, constant_values=0))
    return _stroke(edges)


def _stroke(edges):
    return np.where(edges, 0, 255).astype(np.uint8)[..., None]


def _strong(p):
    """Whether Sobel's gradient magnitude reaches THRESHOLD inside int64
    (N, H + 2, W + 2), a padded channel: (N, H, W) booleans."""
    # Smooth across, difference along: [1, 2, 1] x [-1, 0, 1].
    rows = p[:, :-2] + 2 * p[:, 1:-1] + p[:, 2:]  # (N, H, W + 2)
    cols = p[:, :, :-2] + 2 * p[:, :, 1:-1] + p[:, :, 2:]  # (N, H + 2, W)
    gx = rows[:, :, 2:] - rows[:, :, :-2]
    gy = cols[:, 2:] - cols[:, :-2]
    # At most (4 * 255,000)^2 * 2 ~ 2e12: far inside int64.
    return gx * gx + gy * gy >= THRESHOLD * THRESHOLD
