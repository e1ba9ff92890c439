"""Named data sets kept outside the package: where keras-gan looks for them,
and how `keras-gan data NAME` obtains them.

`mnist-sample` ships inside the package (1.6 MB). `emoji64` (7,572 colour
emoji, 21 MB) is too large to ship, so `--dataset emoji64` reads it from the
data folder:

1. `$KERAS_GAN_DATA`, when set (a folder: e.g. one shared by several
   checkouts, or the `shared/data` folder of the project's CI);
2. else `datasets/` in Keras's cache folder (`$KERAS_HOME`, by default
   `~/.keras`), where `keras.datasets` keeps MNIST and CIFAR too.

`keras-gan data emoji64` writes it there: built from the npm packages with
the npm client (`keras_gan.data.emoji64.from_npm`), or copied from a file you
have (`--from PATH`), checked before it is copied. Nothing here imports
TensorFlow: the CLI runs this before it loads.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from keras_gan.errors import DataError

DATA_ENV = "KERAS_GAN_DATA"
# name -> its file in the data folder, the arrays it must hold, and one
# example of x's shape (the check of a copied file).
NAMED = {"emoji64": dict(file="emoji64.npz", keys=("x", "y", "class_names"),
                         shape=(64, 64, 4))}


def data_dir() -> Path:
    """The folder named data sets are read from and written to (see above)."""
    if os.environ.get(DATA_ENV):
        return Path(os.environ[DATA_ENV]).expanduser()
    return Path(os.environ.get("KERAS_HOME") or "~/.keras").expanduser() / "datasets"


def how_to_get(name: str) -> str:
    return (f"get it with `keras-gan data {name}` (npm), or `keras-gan data {name} "
            f"--from PATH` to copy a file you have")


def find(name: str) -> Path:
    """The file of named data set `name`; a one-line `DataError` naming the
    command that obtains it when it is not there."""
    path = data_dir() / NAMED[name]["file"]
    if not path.is_file():
        where = f"${DATA_ENV}" if os.environ.get(DATA_ENV) else "Keras's cache"
        raise DataError(f"{name}: no {path} ({where}); {how_to_get(name)}.")
    return path


def renamed(source: str | None) -> str | None:
    """`source` as a named data set when it is an `npz:` path to that set's
    file that is not there (a card written before the set had a name:
    `npz:../shared/data/emoji64.npz` -> `emoji64`); else `source`."""
    if not source or not source.startswith("npz:"):
        return source
    path = Path(source.removeprefix("npz:")).expanduser()
    for name, spec in NAMED.items():
        if path.name == spec["file"] and not path.is_file():
            return name
    return source


def check(name: str, path: Path) -> None:
    """Raises a one-line `DataError` unless `path` holds `name`'s arrays."""
    import zipfile

    import numpy as np

    spec = NAMED[name]
    if not zipfile.is_zipfile(path):  # np.load would try it as a pickle
        raise DataError(f"{path}: not a .npz file")
    try:
        with np.load(path, allow_pickle=False) as f:
            missing = [k for k in spec["keys"] if k not in f.files]
            shape = f["x"].shape[1:] if "x" in f.files else None
            dtype = f["x"].dtype if "x" in f.files else None
    except (OSError, ValueError) as e:
        raise DataError(f"{path}: not a readable .npz file ({e})") from None
    if missing:
        raise DataError(f"{path}: not {name} (no array {', '.join(missing)})")
    if shape != spec["shape"] or dtype != np.uint8:
        raise DataError(f"{path}: not {name} (x is {dtype} of rows {shape}, "
                        f"expected uint8 of {spec['shape']})")


def obtain(name: str, source: str | None = None) -> Path:
    """Puts named data set `name` in `data_dir()`: copied from `source` (a
    file, checked first), else built (emoji64: from its npm packages).
    Written under a temporary name, then renamed, so an interrupted copy or
    build never leaves a half file under the real name."""
    if name not in NAMED:
        raise DataError(f"no named data set {name!r}; choose from {', '.join(NAMED)}")
    out = data_dir() / NAMED[name]["file"]
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise DataError(f"cannot create the data folder {out.parent}: {e.strerror}") from None
    partial = out.with_name(out.name + ".partial.npz")
    try:
        if source is not None:
            src = Path(source).expanduser()
            if not src.is_file():
                raise DataError(f"--from {source}: no such file")
            check(name, src)
            shutil.copyfile(src, partial)
        else:
            from keras_gan.data.emoji64 import from_npm

            from_npm(partial)
            check(name, partial)
        os.replace(partial, out)
    finally:
        partial.unlink(missing_ok=True)
    return out
