"""Rebuilds ../shared/data/emoji64.npz from the two emoji-datasource npm packages.

It downloads nothing: get the packages with npm and unpack them, e.g.

    npm pack emoji-datasource-twitter@16.0.0 emoji-datasource-google@16.0.0
    mkdir twitter google
    tar -xzf emoji-datasource-twitter-16.0.0.tgz -C twitter
    tar -xzf emoji-datasource-google-16.0.0.tgz -C google
    python benchmarks/build_emoji64.py twitter/package google/package --out emoji64.npz

Each package folder holds `emoji.json` (one entry per emoji: `unified`,
`short_name`, `category`, `image`, `has_img_<style>`, and `skin_variations`,
a mapping such as "1F3FB" or "1F3FB-1F3FC" -> {image, has_img_<style>, ...})
and `img/<style>/64/<image>` PNGs. The arrays, as ../shared/data/README.md
describes them:

- `x`: uint8 (N, 64, 64, 4), the RGBA images as stored (transparent
  background; keras-gan composites it onto `--background` when it loads);
- `y`: uint8 index into `class_names`, the sorted categories of the rows;
- `name`: `short_name`, plus `_<skin key>` (e.g. `+1_1F3FB`,
  `man-heart-man_1F3FB-1F3FC`) for a skin-tone variant;
- `style`: uint8, 0 = twitter, 1 = google (`style_names`).

Rows: every emoji and skin variant that has an image in both styles (its
`has_img_<style>` is true and its PNG is there), so that both styles hold
the same images in the same order: emoji sorted by `unified`, each followed
by its skin variants in key order; first all the twitter rows, then all the
google rows. Not shuffled. This order is inferred from the shared file
(its first rows are hash, keycap_star, zero, ..., copyright, registered,
mahjong, and `+1` is followed by `+1_1F3FB` ... `+1_1F3FF`; its twitter and
google halves hold the same names in the same order); without the packages
on this machine it could not be checked that the rebuilt file equals the
shared one row for row.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

STYLES = ("twitter", "google")
SIZE = 64


def rows(package: Path, style: str) -> dict[str, tuple[str, str, Path]]:
    """unified (with the skin key) -> (name, category, PNG path) of every
    image this package has for `style`."""
    entries = json.loads((package / "emoji.json").read_text(encoding="utf-8"))
    folder = package / "img" / style / "64"
    found = {}
    for e in entries:
        variants = [("", e)] + sorted((e.get("skin_variations") or {}).items())
        for key, v in variants:
            path = folder / v["image"]
            if v.get(f"has_img_{style}") and path.is_file():
                name = f"{e['short_name']}_{key}" if key else e["short_name"]
                found[(e["unified"], key)] = (name, e["category"], path)
    return found


def build(twitter: Path, google: Path, size: int = SIZE) -> dict[str, np.ndarray]:
    """The arrays of emoji64.npz from the two unpacked package folders.

    Args:
        twitter, google: the `package/` folders of emoji-datasource-twitter and
            emoji-datasource-google.
        size: the images' side (64 for `img/<style>/64`); others are an error.
    """
    from PIL import Image

    per_style = [rows(Path(p), s) for p, s in zip((twitter, google), STYLES, strict=True)]
    keys = sorted(set(per_style[0]) & set(per_style[1]))  # by unified, then skin key
    if not keys:
        raise SystemExit("no emoji has an image in both packages: are these the "
                         "unpacked package/ folders of emoji-datasource-twitter and -google?")
    class_names = sorted({per_style[0][k][1] for k in keys})
    n = len(keys)
    x = np.zeros((2 * n, size, size, 4), np.uint8)
    names, labels = [], []
    for s, found in enumerate(per_style):
        for i, key in enumerate(keys):
            name, category, path = found[key]
            with Image.open(path) as im:
                if im.size != (size, size):
                    raise SystemExit(f"{path} is {im.size[0]}x{im.size[1]}, not {size}x{size}")
                x[s * n + i] = np.asarray(im.convert("RGBA"), np.uint8)
            names.append(name)
            labels.append(class_names.index(category))
    return {
        "x": x,
        "y": np.array(labels, np.uint8),
        "name": np.array(names),
        "style": np.repeat(np.arange(2, dtype=np.uint8), n),
        "style_names": np.array(STYLES),
        "class_names": np.array(class_names),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("twitter", type=Path, help="unpacked emoji-datasource-twitter package/")
    parser.add_argument("google", type=Path, help="unpacked emoji-datasource-google package/")
    parser.add_argument("--out", type=Path, default=Path("emoji64.npz"), help="the .npz to write")
    parser.add_argument("--size", type=int, default=SIZE,
                        help=f"the images' side (default: {SIZE}, for img/<style>/64)")
    args = parser.parse_args(argv)
    arrays = build(args.twitter, args.google, args.size)
    np.savez_compressed(args.out, **arrays)
    per_style = len(arrays["x"]) // 2
    print(f"Wrote {args.out}: {len(arrays['x'])} images ({per_style} per style), "
          f"{len(arrays['class_names'])} classes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
