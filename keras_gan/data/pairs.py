"""Paired and unpaired image sets for image-to-image translation (#29).

A translator maps domain A to domain B: paired (pix2pix) when each a has
its b, unpaired (CycleGAN) when the two are just two sets. The sources, as
strings (`parse_pair_source`) or calls:

- `emoji64:styles` (twitter -> google), `emoji64:sketch` (sketch ->
  twitter): `emoji_pairs`, with the held-out split of `keras_gan.data.splits`;
  options after another colon: `reverse` (B -> A), and for sketch the
  emoji's style (`emoji64:sketch:google`);
- `pairs:DIR_A,DIR_B`: two folders whose images pair by file name (the path
  under the folder, extension aside: `a/cat.png` pairs with `b/cat.jpg`);
- `unpaired:DIR_A,DIR_B`: two folders, any numbers of images;
- `npz:PATH` or `pairs:PATH`: one .npz with arrays `a` and `b` of the same
  length, row i of each a pair; `unpaired:PATH`: `a` and `b` of any lengths.

Images come back as float32 in [-1, 1], (N, H, W, C), transparent ones
composited onto `background` (white by default, the sketch pad's). Bad
input raises a one-line `DataError` naming the first file or array at
fault. Numpy only: a tf.data step can build on `Pairs` later.
"""

from __future__ import annotations

import dataclasses
import zipfile
from pathlib import Path

import numpy as np

from keras_gan.data.colors import parse_background
from keras_gan.data.named import find as find_named
from keras_gan.data.sketch import sketch
from keras_gan.data.sources import (
    IMAGE_EXTENSIONS,
    _check_path,
    _composite,
    _read_folder,
    _scale_images,
)
from keras_gan.data.splits import split_rows
from keras_gan.errors import DataError

TASKS = ("styles", "sketch")
STYLES = ("twitter", "google")  # emoji64's style_names, in its order
PAIR_SOURCES_HELP = ("emoji64:styles, emoji64:sketch (options :reverse, :google), "
                     "pairs:DIR_A,DIR_B, unpaired:DIR_A,DIR_B, npz:PATH or unpaired:PATH.npz")


@dataclasses.dataclass(frozen=True)
class Pairs:
    """Two image sets, A and B: float32 (N, H, W, C) in [-1, 1].

    When `paired`, row i of `a` and of `b` are one pair (and `names_b` is
    `names`). `names` are the emoji's names, the files' paths under their
    folder without extension, or the row numbers of an npz; `categories`
    index `category_names` (emoji64 only, else None); `domains` name A and B
    (e.g. ("twitter", "google")).
    """

    source: str
    a: np.ndarray
    b: np.ndarray
    paired: bool
    names: tuple[str, ...]
    names_b: tuple[str, ...]
    domains: tuple[str, str]
    categories: np.ndarray | None = None
    category_names: tuple[str, ...] | None = None

    @property
    def size(self) -> tuple[int, int]:
        """(H, W) of every image, A and B alike."""
        return tuple(self.a.shape[1:3])


@dataclasses.dataclass(frozen=True)
class PairSource:
    """A parsed source: kind "emoji64" (with task, reverse, style),
    "pairs" or "unpaired" (with paths: two folders or one .npz)."""

    spec: str
    kind: str
    task: str | None = None
    reverse: bool = False
    style: str | None = None
    paths: tuple[Path, ...] = ()


def parse_pair_source(spec: str) -> PairSource:
    """Parses a source string (see the module); a one-line `DataError` for
    anything else, naming the sources there are."""
    kind, _, rest = spec.partition(":")
    bad = f"Unknown pair source {spec!r}; use {PAIR_SOURCES_HELP}."
    if kind == "emoji64":
        task, *options = rest.split(":")
        unknown = [o for o in options if o not in ("reverse", *STYLES)]
        styles = [o for o in options if o in STYLES]
        if task not in TASKS or unknown or len(styles) > 1 or len(set(options)) < len(options):
            raise DataError(bad)
        if styles and task == "styles":
            raise DataError(f"{spec}: emoji64:styles pairs both styles; a style option is "
                            "for emoji64:sketch (use :reverse for google -> twitter).")
        return PairSource(spec, kind, task, "reverse" in options, (styles or [None])[0])
    parts = rest.split(",")
    if kind == "npz" and len(parts) == 1 and rest:  # npz:PATH, whatever its name
        return PairSource(spec, "pairs", paths=(Path(rest).expanduser(),))
    if kind not in ("pairs", "unpaired") or not rest:
        raise DataError(bad)
    if len(parts) == 1 and rest.lower().endswith(".npz") or len(parts) == 2 and all(parts):
        return PairSource(spec, kind, paths=tuple(Path(p).expanduser() for p in parts))
    raise DataError(f"{spec}: expected {kind}:DIR_A,DIR_B (two folders) or {kind}:PATH.npz.")


def load_pairs(spec: str, split: str = "train", *, size: int | None = None,
               background="white") -> Pairs:
    """The `Pairs` a source string names (see the module).

    Args:
        spec: e.g. "emoji64:sketch", "pairs:photos,labels".
        split: "train", "val" or "test" for emoji64 (`keras_gan.data.splits`);
            your own data is all "train" (keep held-out images apart yourself).
        size: resize to size x size: folders as the folder loader does
            (Lanczos), emoji64 and npz arrays by box averaging (size must
            divide theirs).
        background: "white", "black", "#RRGGBB" or (r, g, b): what
            transparent images are composited onto.
    """
    source = parse_pair_source(spec)
    if source.kind == "emoji64":
        return emoji_pairs(source.task, split, reverse=source.reverse, style=source.style,
                           size=size, background=background)
    if split != "train":
        raise DataError(f"{spec}: your own data has no {split!r} split (it is all train); "
                        "keep held-out images in folders of their own and load those.")
    paired = source.kind == "pairs"
    if len(source.paths) == 1:
        return npz_pairs(source.paths[0], paired=paired, size=size, background=background)
    return folder_pairs(*source.paths, paired=paired, size=size, background=background)


def emoji_pairs(task: str, split: str = "train", *, reverse: bool = False,
                style: str | None = None, size: int = 64, background="white",
                path=None, split_file=None) -> Pairs:
    """emoji64 as pairs, in its row order (emoji.json's), rows of `split`.

    - "styles": twitter -> google, the two images of one `name` a pair.
    - "sketch": `sketch(emoji)` -> emoji, in `style` ("twitter" by default:
      Twemoji's flat colours give clean, closed outlines that decide the
      picture; Noto's shading draws stray lines and adds what no sketch
      says). The sketch is drawn on white at 64 px, whatever `background`.

    `reverse` swaps A and B. `size` (a divisor of 64, e.g. 32) box-averages
    both sides after compositing, so a sketch's strokes go grey at their
    edges as a scanned pen drawing does. `path` and `split_file` default to
    the named set (`keras-gan data emoji64`) and the shipped split.
    """
    if task not in TASKS:
        raise DataError(f"Unknown emoji64 task {task!r}; use {', '.join(TASKS)}.")
    if style is not None and (task == "styles" or style not in STYLES):
        raise DataError(f"style={style!r}: the sketch task takes one of {', '.join(STYLES)}; "
                        "the styles task pairs both.")
    bg = _background(background)
    data = _read_emoji(Path(path) if path else find_named("emoji64"))
    first = STYLES.index(style or "twitter")
    rows = np.flatnonzero(data["style"] == first)
    rows = rows[split_rows(data["name"][rows], data["y"][rows], split, split_file)]
    names = data["name"][rows]
    source = ":".join(["emoji64", task, *([style] if style else []), *(["reverse"] * reverse)])
    x = data["x"][rows]
    if task == "styles":
        other = np.flatnonzero(data["style"] == 1 - first)
        by_name = dict(zip(data["name"][other].tolist(), other.tolist(), strict=True))
        missing = [n for n in names.tolist() if n not in by_name]
        if missing:
            raise DataError(f"{source}: {missing[0]!r} has no {STYLES[1 - first]} image.")
        a = _scale_images(source, _composite(source, x, bg))
        b = _scale_images(source, _composite(source, data["x"][[by_name[n] for n in names]], bg))
        domains = STYLES
    else:
        a = _scale_images(source, sketch(x))
        b = _scale_images(source, _composite(source, x, bg))
        domains = ("sketch", STYLES[first])
    a, b = _box(source, a, size), _box(source, b, size)
    if reverse:
        a, b, domains = b, a, domains[::-1]
    names = tuple(names.tolist())
    return Pairs(source, a, b, True, names, names, tuple(domains),
                 data["y"][rows].astype(np.int64), data["class_names"])


def folder_pairs(dir_a, dir_b, *, paired: bool = True, size: int | None = None,
                 background="white") -> Pairs:
    """Two folders of images (searched with sub-folders, as `folder:` is), in
    name order. Paired, they match by path under the folder, extension
    aside; the first file (in name order) without its pair is named."""
    dir_a, dir_b = Path(dir_a).expanduser(), Path(dir_b).expanduser()
    keys = []
    for folder in (dir_a, dir_b):
        _check_path(folder, True, "Pair sources take two folders or one .npz.")
        keys.append(_keys(folder))
    if paired:
        for key in sorted(keys[0].keys() ^ keys[1].keys()):
            file, lack = (keys[0][key], dir_b) if key in keys[0] else (keys[1][key], dir_a)
            raise DataError(f"{str(file)!r} has no pair in "
                            f"{str(lack)!r} (paired folders match by file name).")
    bg = _background(background)
    xs = [_read_folder(folder, size, bg) for folder in (dir_a, dir_b)]
    # _read_folder's rows follow its sorted file list, as `_keys` does; a
    # path's order is not its name's ("a-b.png" < "a.png", "a" < "a-b").
    orders = [sorted(range(len(k)), key=list(k).__getitem__) for k in keys]
    names = [tuple(sorted(k)) for k in keys]
    a, b = (_scale_images(str(f), x[o]) for f, x, o in zip((dir_a, dir_b), xs, orders,
                                                            strict=True))
    if a.shape[1:3] != b.shape[1:3]:
        fa, fb = (repr(str(k[n[0]])) for k, n in zip(keys, names, strict=True))
        raise DataError(f"{fa} is {a.shape[2]}x{a.shape[1]} but {fb} is "
                        f"{b.shape[2]}x{b.shape[1]}; pass size=N (image_size) to resize "
                        "both folders to N x N.")
    domains = (dir_a.name or str(dir_a), dir_b.name or str(dir_b))
    source = f"{'pairs' if paired else 'unpaired'}:{dir_a},{dir_b}"
    return Pairs(source, a, b, paired, names[0], names[1], domains)


def npz_pairs(path, *, paired: bool = True, size: int | None = None,
              background="white") -> Pairs:
    """One .npz holding `a` and `b`: uint8 [0, 255] or float [0, 1] / [-1, 1]
    images (N, H, W) or (N, H, W, C), C in 1, 3, 4 (RGBA: composited).
    Paired, row i of each is a pair, so the lengths must match."""
    path = Path(path).expanduser()
    source = str(path)
    _check_path(path, False, "For two folders use pairs:DIR_A,DIR_B.")
    if not zipfile.is_zipfile(path):  # else numpy tries it as a pickle, and says so
        raise DataError(f"Could not read npz file {source!r}: it is not a zip of .npy "
                        "arrays; write one with np.savez(path, a=a, b=b).")
    try:
        with np.load(path, allow_pickle=False) as data:
            found = data.files
            arrays = [data[k] for k in ("a", "b") if k in found]
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as e:
        raise DataError(f"Could not read npz file {source!r}: {e}") from None
    if len(arrays) < 2:
        raise DataError(f"{source!r} has no arrays 'a' and 'b' (found {found}); use "
                        "np.savez(path, a=a, b=b).")
    bg = _background(background)
    a, b = (_box(f"{source} {k}", _images(f"{source} {k}", x, bg), size)
            for k, x in zip("ab", arrays, strict=True))
    if paired and len(a) != len(b):
        raise DataError(f"{source}: a has {len(a)} images but b has {len(b)}; paired "
                        "arrays need one b per a (unpaired:PATH takes any lengths).")
    if a.shape[1:3] != b.shape[1:3]:
        raise DataError(f"{source}: a's images are {a.shape[2]}x{a.shape[1]} but b's are "
                        f"{b.shape[2]}x{b.shape[1]}; A and B need one size.")
    rows = [tuple(str(i) for i in range(len(x))) for x in (a, b)]
    kind = "pairs" if paired else "unpaired"
    return Pairs(f"{kind}:{path}", a, b, paired, rows[0], rows[1], ("a", "b"))


def _keys(folder):
    """{path under `folder` without extension: file}, in the order of the
    folder loader's files (`sources._read_folder`: sorted paths)."""
    files = sorted(p for p in folder.rglob("*") if p.suffix.lower() in IMAGE_EXTENSIONS)
    keys = {}
    for file in (p for p in files if p.is_file()):
        key = file.relative_to(folder).with_suffix("").as_posix()
        if key in keys:
            raise DataError(f"{str(keys[key])!r} and {str(file)!r} are both {key!r}: "
                            "paired folders match by file name, extension aside.")
        keys[key] = file
    return keys


def _images(source, x, background):
    """npz images -> float32 (N, H, W, C) in [-1, 1], RGBA composited."""
    if x.ndim == 3:
        x = x[..., None]
    if x.ndim != 4 or x.shape[-1] not in (1, 3, 4) or x.size == 0:
        raise DataError(f"{source}: expected images (N, H, W) or (N, H, W, C) with C in "
                        f"1, 3, 4, got shape {x.shape}.")
    if x.dtype.kind == "f" and not np.isfinite(x).all():
        raise DataError(f"{source}: holds NaN or infinite values.")
    if x.shape[-1] == 4:
        x = _composite(source, x, background)
    return _scale_images(source, x)


def _box(source, x, size):
    """Box-averages float (N, H, W, C) down to size x size; size divides H = W."""
    n, h, w, c = x.shape
    if size is None or (size, size) == (h, w):
        return x
    if h != w or size < 1 or h % size:
        raise DataError(f"{source}: size {size} must divide the images' {w}x{h} "
                        "(box averaging, e.g. 64 -> 32).")
    f = h // size
    return x.reshape(n, size, f, size, f, c).mean(axis=(2, 4), dtype=np.float32)


def _background(value):
    try:
        return parse_background(value)
    except ValueError as e:
        raise DataError(f"{e}.") from None


def _read_emoji(path):
    """emoji64's arrays, with name and style that `_read_npz` leaves out."""
    keys = ("x", "y", "name", "style", "class_names")
    try:
        with np.load(path, allow_pickle=False) as data:
            missing = [k for k in keys if k not in data.files]
            arrays = {k: data[k] for k in keys if k in data.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as e:
        raise DataError(f"Could not read emoji64 from {str(path)!r}: {e}") from None
    if missing:
        raise DataError(f"{str(path)!r} is not emoji64: no array {', '.join(missing)}.")
    if arrays["x"].dtype != np.uint8 or arrays["x"].shape[1:] != (64, 64, 4):
        raise DataError(f"{str(path)!r} is not emoji64: x is {arrays['x'].dtype} "
                        f"{arrays['x'].shape}, expected uint8 (N, 64, 64, 4).")
    arrays["class_names"] = tuple(str(n) for n in arrays["class_names"])
    return arrays
