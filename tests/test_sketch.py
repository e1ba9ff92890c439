"""keras_gan.data.sketch: pen strokes on white, drawn from tiny images by hand."""

import numpy as np
import pytest

from keras_gan.data.sketch import sketch
from keras_gan.errors import DataError

# A 6 x 6 square in a 10 x 10 frame: Sobel marks the pixel on each side of
# its edge, so the outline is a ring two pixels wide; inside and outside
# stay white ('#' is a stroke, 0; '.' is paper, 255).
RING = ["..........",
        ".########.",
        ".########.",
        ".##....##.",
        ".##....##.",
        ".##....##.",
        ".##....##.",
        ".########.",
        ".########.",
        ".........."]


def drawing(rows):
    """'#' / '.' rows -> the uint8 (1, H, W, 1) sketch they picture."""
    return np.array([[[0 if ch == "#" else 255] for ch in row] for row in rows],
                    np.uint8)[None]


def square_rgba(rgb, size=10, lo=2, hi=8):
    """A filled opaque square of colour `rgb` on a transparent ground."""
    x = np.zeros((1, size, size, 4), np.uint8)
    x[0, :, :, :3] = (12, 200, 99)  # whatever lies under alpha 0 must not show
    x[0, lo:hi, lo:hi] = (*rgb, 255)
    return x


@pytest.mark.parametrize("rgb", [(0, 0, 0), (220, 40, 40), (255, 255, 255)],
                         ids=["black", "red", "white"])
def test_a_filled_square_is_outlined_by_a_ring_of_strokes(rgb):
    # White on a transparent ground has no edge in luminance (both are white
    # on the paper): only alpha's gradient draws it.
    np.testing.assert_array_equal(sketch(square_rgba(rgb)), drawing(RING))


def test_the_same_square_in_rgb_on_white_draws_the_same_ring():
    x = np.full((1, 10, 10, 3), 255, np.uint8)
    x[0, 2:8, 2:8] = 0
    np.testing.assert_array_equal(sketch(x), drawing(RING))


def test_a_step_draws_from_an_eighth_of_the_range():
    # Grey g | g + d: Sobel gives 4 * 1000 * d against THRESHOLD 127,500,
    # so a step of 32 levels draws its two columns and 31 levels draws none.
    def step(d):
        x = np.full((1, 4, 6, 3), 100, np.uint8)
        x[0, :, 3:] = 100 + d
        return sketch(x)[0, :, :, 0]

    np.testing.assert_array_equal(step(32), np.tile([255, 255, 0, 0, 255, 255], (4, 1)))
    assert (step(31) == 255).all()


def test_paper_and_soft_shading_stay_white():
    white = np.full((2, 8, 8, 3), 255, np.uint8)
    clear = np.zeros((2, 8, 8, 4), np.uint8)
    clear[..., :3] = 40  # dark, but fully transparent
    # Shading of 15 levels a pixel: Sobel's central difference spans two
    # pixels, 4 * 1000 * 30 = 120,000 < THRESHOLD.
    ramp = np.broadcast_to(np.arange(0, 120, 15, dtype=np.uint8)[None, None, :, None],
                           (1, 8, 8, 3)).copy()
    for x in (white, clear, ramp):
        assert (sketch(x) == 255).all()


@pytest.mark.parametrize("level", [150, 255], ids=["grey", "white"])
def test_a_shape_reaching_the_frame_is_outlined_there_a_photo_is_not(level):
    # Opaque, filling the frame: past it lies the transparent white ground,
    # so the frame is the shape's outline (a white shape's by alpha alone).
    rgba = np.full((1, 6, 6, 4), 255, np.uint8)
    rgba[..., :3] = level
    drawn = sketch(rgba)[0, :, :, 0]
    assert (drawn[[0, -1]] == 0).all() and (drawn[:, [0, -1]] == 0).all()
    assert (drawn[1:-1, 1:-1] == 255).all()
    assert (sketch(rgba[..., :3].copy()) == 255).all()  # RGB: it goes on past the frame


def test_shape_dtype_values_and_batches_are_independent(rng):
    x = rng.integers(0, 256, (3, 12, 16, 4), dtype=np.uint8)
    out = sketch(x)
    assert out.shape == (3, 12, 16, 1) and out.dtype == np.uint8
    assert set(np.unique(out)) <= {0, 255}
    for i in range(3):  # one image's strokes never depend on its neighbours
        np.testing.assert_array_equal(sketch(x[i:i + 1]), out[i:i + 1])


def test_same_input_same_output_and_the_input_is_left_alone(rng):
    x = rng.integers(0, 256, (2, 16, 16, 4), dtype=np.uint8)
    before = x.copy()
    np.testing.assert_array_equal(sketch(x), sketch(x.copy()))
    np.testing.assert_array_equal(x, before)


@pytest.mark.parametrize("x", [np.zeros((1, 4, 4, 4), np.float32), np.zeros((4, 4, 3), np.uint8),
                               np.zeros((1, 4, 4, 2), np.uint8)],
                         ids=["float", "no-batch", "two-channels"])
def test_bad_input_is_one_line(x):
    with pytest.raises(DataError, match=r"^sketch: expected uint8 images") as e:
        sketch(x)
    assert "\n" not in str(e.value)
