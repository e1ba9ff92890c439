"""emoji64: 7,572 real colour emoji, built from two npm packages.

`keras-gan data emoji64` obtains it (see `keras_gan.data.named`): `npm pack`
fetches emoji-datasource-twitter and emoji-datasource-google at `VERSION`,
and `build` turns their PNGs into the arrays below. Nothing else here
touches the network.

Each package folder holds `emoji.json` (one entry per emoji: `unified`,
`short_name`, `category`, `image`, `has_img_<style>`, and `skin_variations`,
a mapping such as "1F3FB" or "1F3FB-1F3FC" -> {image, has_img_<style>, ...})
and `img/<style>/64/<image>` PNGs. The arrays:

- `x`: uint8 (N, 64, 64, 4), the RGBA images as stored (transparent
  background; keras-gan composites it onto `--background` when it loads);
- `y`: uint8 index into `class_names`, the sorted categories of the rows;
- `name`: `short_name`, plus `_<skin key>` (e.g. `+1_1F3FB`,
  `man-heart-man_1F3FB-1F3FC`) for a skin-tone variant;
- `style`: uint8, 0 = twitter, 1 = google (`style_names`).

Rows: every emoji and skin variant that has an image in both styles (its
`has_img_<style>` is true and its PNG is there), so that both styles hold
the same images in the same order: emoji in the order of the twitter
package's emoji.json (its sprite-sheet order: brown_mushroom before
mushroom, woman-running before woman_running_facing_right), each followed
by its skin variants in the order emoji.json lists them; first all the
twitter rows, then all the google rows. Not shuffled.
Built from the 16.0.0 packages, the file equals the project's reference copy
array for array (checked with npm on 2026-12-04; tests/test_emoji64.py pins
the order on small fake packages).

Licences: the packages' code is MIT; the images are Twemoji graphics by
Twitter, Inc. and other contributors (CC-BY 4.0) and Noto Emoji by Google
(Apache 2.0). Anything that ships them, or models trained on them, carries
that attribution.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path

import numpy as np

from keras_gan.errors import DataError

STYLES = ("twitter", "google")
SIZE = 64
VERSION = "16.0.0"  # the packages the reference copy was built from


def rows(package: Path, style: str) -> dict[tuple[str, str], tuple[str, str, Path]]:
    """(unified, skin key) -> (name, category, PNG path) of every image this
    package has for `style`, in emoji.json's order, each emoji followed by
    its skin variants in the order listed."""
    entries = json.loads((package / "emoji.json").read_text(encoding="utf-8"))
    folder = package / "img" / style / "64"
    found = {}
    for e in entries:
        variants = [("", e), *(e.get("skin_variations") or {}).items()]
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
    # emoji.json's own order (the packages' sprite-sheet order), skin variants
    # after their emoji: `rows` reads them so.
    keys = [k for k in per_style[0] if k in per_style[1]]
    if not keys:
        raise DataError("no emoji has an image in both packages: are these the unpacked "
                        "package/ folders of emoji-datasource-twitter and -google?")
    class_names = sorted({per_style[0][k][1] for k in keys})
    n = len(keys)
    x = np.zeros((2 * n, size, size, 4), np.uint8)
    names, labels = [], []
    for s, found in enumerate(per_style):
        for i, key in enumerate(keys):
            name, category, path = found[key]
            with Image.open(path) as im:
                if im.size != (size, size):
                    raise DataError(f"{path} is {im.size[0]}x{im.size[1]}, not {size}x{size}")
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


def from_npm(out: Path, npm: str = "npm") -> Path:
    """Fetches both packages with the npm client, builds the arrays and
    writes them to `out` (a compressed .npz). One-line `DataError`s: npm
    missing, or npm failing (offline, say)."""
    if shutil.which(npm) is None:
        raise DataError(f"{npm} not found: install Node.js's npm client, or copy a file "
                        "you have with `keras-gan data emoji64 --from PATH`")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        specs = [f"emoji-datasource-{style}@{VERSION}" for style in STYLES]
        done = subprocess.run([npm, "pack", *specs, "--pack-destination", str(tmp)],
                              capture_output=True, text=True)
        if done.returncode:
            last = (done.stderr.strip().splitlines() or ["(no output)"])[-1]
            raise DataError(f"npm pack {' '.join(specs)} failed: {last}")
        folders = []
        for style in STYLES:
            tgz = tmp / f"emoji-datasource-{style}-{VERSION}.tgz"
            with tarfile.open(tgz) as archive:
                archive.extractall(tmp / style, filter="data")
            folders.append(tmp / style / "package")
        arrays = build(*folders)
        np.savez_compressed(out, **arrays)
    return out
