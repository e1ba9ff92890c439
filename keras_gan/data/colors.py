"""The `background` option: the colour transparent images are composited onto.

Kept free of heavy imports: keras_gan/config.py validates the option with it
before TensorFlow loads, and keras_gan/data/pipeline.py composites with it.
"""

import re

BACKGROUNDS_HELP = "'white', 'black' or '#RRGGBB'"
_NAMED = {"white": (255, 255, 255), "black": (0, 0, 0)}
_HEX = re.compile(r"#[0-9a-f]{6}")


def parse_background(value) -> tuple[int, int, int]:
    """'white', 'black' or '#RRGGBB' (any case) -> (r, g, b) in 0..255.

    An (r, g, b) tuple of ints in 0..255 is accepted as it is (the Python API).

    Raises:
        ValueError: naming the option and what it accepts.
    """
    if isinstance(value, str):
        text = value.strip().lower()
        if text in _NAMED:
            return _NAMED[text]
        if _HEX.fullmatch(text):
            return tuple(int(text[i:i + 2], 16) for i in (1, 3, 5))
    elif (isinstance(value, tuple | list) and len(value) == 3
          and all(isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= 255
                  for v in value)):
        return tuple(value)
    raise ValueError(f"background must be {BACKGROUNDS_HELP}, got {value!r}")
