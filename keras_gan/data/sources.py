"""Data sources for keras-gan: reading what a source string names.

The toy mixtures and 1D Gaussians (drawn with numpy), .npz files, folders
of images and the bundled MNIST sample, checked and scaled as numpy arrays;
`keras_gan.data.pipeline` turns them (and TFDS sets) into `tf.data`
pipelines. Bad sources raise `DataError` with a message that says what is
wrong and how to fix it. No TensorFlow here.
"""

import dataclasses
import zipfile
from pathlib import Path

import numpy as np

from keras_gan.errors import DataError

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp")
_MNIST_SAMPLE = Path(__file__).parents[1] / "assets" / "mnist10k.npz"

# How a bad source's one-line message ends. The list itself, SOURCES_HELP, is
# the epilog of `keras-gan train --help`; it lives in keras_gan/config.py,
# which imports nothing heavy, so that --help does not load TensorFlow.
SOURCES_POINTER = "see `keras-gan train --help` for the sources"


@dataclasses.dataclass(frozen=True)
class DataInfo:
    """What a source holds: kind is "image" or "points"; shape is one example's,
    (H, W, C) or (D,); counts are None when unknown or unlabelled."""

    source: str
    kind: str
    shape: tuple[int, ...]
    num_examples: int | None
    num_classes: int | None = None
    class_names: tuple[str, ...] | None = None


def toy_mixture(name: str) -> tuple[np.ndarray, float]:
    """Returns the (K, 2) float32 means and the std of a 2D benchmark mixture.

    Args:
        name: "ring" (8 modes on the unit circle, std 0.01) or "grid"
            (25 modes at {-4, -2, 0, 2, 4}^2, std 0.05).
    """
    if name == "ring":
        # i / 8 for i < 8, not linspace(0, 2*pi, 8), which repeats the first mode.
        angles = 2 * np.pi * np.arange(8) / 8
        return np.stack([np.cos(angles), np.sin(angles)], 1).astype(np.float32), 0.01
    if name == "grid":
        xs, ys = np.meshgrid(np.arange(-4, 5, 2), np.arange(-4, 5, 2), indexing="ij")
        return np.stack([xs.ravel(), ys.ravel()], 1).astype(np.float32), 0.05
    raise DataError(f"Unknown toy mixture {name!r}; use 'ring' or 'grid'.")


def sample_toy(name: str, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Draws n points from a toy mixture, modes chosen uniformly.

    Args:
        name: "ring" or "grid" (see `toy_mixture`).
        n: Number of points.
        seed: Seed for `numpy.random.default_rng`.

    Returns:
        The float32 (n, 2) points and the int64 mode index of each.
    """
    means, std = toy_mixture(name)
    rng = np.random.default_rng(seed)
    modes = rng.integers(0, len(means), size=n, dtype=np.int64)
    points = means[modes] + std * rng.standard_normal((n, 2))
    return points.astype(np.float32), modes


GAUSS1D_DEFAULT = (0.0, 1.0)  # `gauss1d` alone: N(0, 1)


def gauss1d_params(source: str) -> tuple[float, float]:
    """The (mean, std) of a 1D Gaussian source: `gauss1d` is N(0, 1),
    `gauss1d:MEAN,STD` is N(MEAN, STD^2) (e.g. `gauss1d:2,0.5`).

    The 1D data of the theory (Goodfellow et al. 2014, Figure 1; Arjovsky et
    al. 2017, Figure 2), where densities, D*(x) = p(x) / (p(x) + p_g(x)) and
    the JSD can be computed exactly and drawn.

    Raises:
        DataError: if `source` is not of that form or STD is not > 0.
    """
    name, sep, rest = source.partition(":")
    if name != "gauss1d" or (sep and not rest):
        raise DataError(f"Not a 1D Gaussian source: {source!r}; use gauss1d or "
                        "gauss1d:MEAN,STD.")
    if not sep:
        return GAUSS1D_DEFAULT
    parts = rest.split(",")
    try:
        mean, std = (float(v) for v in parts)
    except ValueError:
        raise DataError(f"{source}: expected gauss1d:MEAN,STD with two numbers, "
                        f"e.g. gauss1d:2,0.5.") from None
    if not (np.isfinite(mean) and np.isfinite(std) and std > 0):
        raise DataError(f"{source}: MEAN must be finite and STD > 0, got {mean}, {std}.")
    return mean, std


def sample_gauss1d(source: str, n: int, seed: int) -> np.ndarray:
    """n float32 draws (n, 1) of the 1D Gaussian `source` (`gauss1d_params`),
    from `numpy.random.default_rng(seed)`."""
    mean, std = gauss1d_params(source)
    rng = np.random.default_rng(seed)
    return (mean + std * rng.standard_normal((n, 1))).astype(np.float32)


def _composite(source, x, background):
    """(N, H, W, 4) RGBA -> (N, H, W, 3) RGB: alpha * rgb + (1 - alpha) * background.

    uint8 stays uint8 (exactly rounded, in integers); float images (either
    range `_scale_images` accepts) come back as float32 in [0, 1].
    """
    if x.dtype == np.uint8:
        alpha = x[..., 3:].astype(np.uint16)
        bg = np.asarray(background, np.uint16)
        # a * c + (255 - a) * b <= 255 * 255, and + 127 then // 255 rounds to nearest.
        mixed = alpha * x[..., :3] + (255 - alpha) * bg + 127
        return (mixed // 255).astype(np.uint8)
    if x.dtype.kind != "f":
        raise DataError(f"{source}: images must be uint8 or float, got {x.dtype}.")
    x = (_scale_images(source, x) + 1) / 2
    alpha = x[..., 3:]
    bg = np.asarray(background, np.float32) / 255
    return np.clip(alpha * x[..., :3] + (1 - alpha) * bg, 0, 1).astype(np.float32)


def _scale_images(source, x):
    """Maps uint8 [0, 255] or float [0, 1] / [-1, 1] images to float32 [-1, 1]."""
    if x.dtype == np.uint8:
        return (x.astype(np.float32) / 127.5 - 1).astype(np.float32)
    if x.dtype.kind != "f":
        raise DataError(f"{source}: images must be uint8 or float, got {x.dtype}.")
    lo, hi = float(x.min()), float(x.max())
    if lo >= 0 and hi <= 1:
        return (x * 2 - 1).astype(np.float32)
    if lo >= -1 and hi <= 1:
        return x.astype(np.float32)
    raise DataError(
        f"{source}: float images have values in [{lo}, {hi}]; accepted "
        "are floats in [0, 1] or [-1, 1], or uint8 in [0, 255]."
    )


def _check_path(path, want_dir, hint):
    if not path.exists():
        raise DataError(f"Path {str(path)!r} does not exist.")
    if want_dir and not path.is_dir():
        raise DataError(f"{str(path)!r} is a file, not a folder. {hint}")
    if not want_dir and path.is_dir():
        raise DataError(f"{str(path)!r} is a folder, not a file. {hint}")


def _read_npz(path):
    """Returns (x, y or None, class_names tuple or None) from a .npz file."""
    _check_path(path, False, "For a folder of images use folder:PATH.")
    if not zipfile.is_zipfile(path):  # else numpy tries it as a pickle, and says so
        raise DataError(f"Could not read npz file {str(path)!r}: it is not a zip of .npy "
                        "arrays; write one with np.savez(path, x=x[, y=y]).")
    try:
        data = np.load(path, allow_pickle=False)
        if not isinstance(data, np.lib.npyio.NpzFile):
            raise DataError(f"{str(path)!r} is not a .npz file; see np.savez.")
        with data:
            names = data.files
            arrays = {k: data[k] for k in ("x", "y", "class_names") if k in names}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as e:
        if isinstance(e, DataError):  # DataError is a ValueError.
            raise
        raise DataError(f"Could not read npz file {str(path)!r}: {e}") from e
    if "x" not in arrays:
        msg = f"has no array 'x' (found {names}); use np.savez(path, x=x[, y=y])"
        raise DataError(f"{str(path)!r} {msg}.")
    class_names = arrays.get("class_names")
    if class_names is not None:
        if class_names.ndim != 1 or class_names.dtype.kind not in "US":
            raise DataError(f"{str(path)!r}: class_names must be a 1D array of strings, got "
                            f"{class_names.dtype} {class_names.shape}.")
        class_names = tuple(str(n) for n in class_names.astype(str))
    return arrays["x"], arrays.get("y"), class_names


def _read_folder(path, image_size, background=(255, 255, 255)):
    """Reads every image under `path` into one uint8 (N, H, W, C) array,
    images with alpha composited onto `background` before any resize."""
    from PIL import Image  # Only folder sources need PIL.

    _check_path(path, True, "For a .npz file use npz:PATH.")
    exts = IMAGE_EXTENSIONS
    files = sorted(p for p in path.rglob("*") if p.suffix.lower() in exts)
    files = [p for p in files if p.is_file()]
    if not files:
        raise DataError(
            f"No images found in folder {str(path)!r} (looked for "
            f"{', '.join(IMAGE_EXTENSIONS)}, searching sub-folders)."
        )
    images = []
    for file in files:
        try:
            with Image.open(file) as im:
                im.load()
                images.append(im.copy())
        except (OSError, SyntaxError, ValueError) as e:
            raise DataError(f"Could not read image {str(file)!r}: {e}") from e
    if image_size is None:
        sizes = {im.size: f for im, f in zip(images, files, strict=True)}
        if len(sizes) > 1:
            (s1, f1), (s2, f2) = list(sizes.items())[:2]
            raise DataError(
                f"Images in {str(path)!r} have different sizes: {str(f1)!r} is "
                f"{s1[0]}x{s1[1]} and {str(f2)!r} is {s2[0]}x{s2[1]}; pass "
                "--image-size N (image_size=N) to resize them all to N x N."
            )
    # Keep one channel only when everything is grey (and transparent grey
    # images lie on a grey background); one colour image makes all RGB.
    alphas = [_has_alpha(im) for im in images]
    grey = all(im.mode in ("1", "L", "LA", "La") for im in images)
    mode = "L" if grey and (not any(alphas) or len(set(background)) == 1) else "RGB"
    arrays = []
    for im, alpha in zip(images, alphas, strict=True):
        if alpha:
            rgba = np.asarray(im.convert("RGBA"), np.uint8)
            im = Image.fromarray(_composite(str(path), rgba, background)).convert(mode)
        else:
            im = im.convert(mode)
        if image_size is not None and im.size != (image_size, image_size):
            im = im.resize((image_size, image_size), Image.Resampling.LANCZOS)
        arrays.append(np.asarray(im, np.uint8))
    x = np.stack(arrays)
    return x[..., None] if x.ndim == 3 else x


def _has_alpha(im):
    """Whether a PIL image has transparency: an alpha band or a tRNS colour."""
    return im.mode in ("RGBA", "RGBa", "LA", "La", "PA") or "transparency" in im.info
