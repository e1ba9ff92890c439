"""Tests for keras_gan.data.pipeline: every source, the pipeline and every bad input."""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import needs_data
from PIL import Image

from keras_gan.data.pipeline import SOURCES_HELP, DataError, load_dataset, make_dataset
from keras_gan.data.sources import DataInfo, sample_toy, toy_mixture

ROOT = Path(__file__).resolve().parents[1]
MNIST_FILE = ROOT / "keras_gan" / "assets" / "mnist10k.npz"


def first_batch(ds):
    return next(iter(ds))


def take(ds, n):
    """The first n batches as numpy arrays."""
    return [np.asarray(b) for b in ds.take(n)]


def assert_images(x, shape):
    x = np.asarray(x)
    assert x.shape == shape
    assert x.dtype == np.float32
    assert x.min() >= -1.0 and x.max() <= 1.0


def write_png(path, size, mode="L", value=128):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new(mode, size, value).save(path)


def write_npz(path, **arrays):
    np.savez(path, **arrays)
    return f"npz:{path}"


# Toy mixtures.


def test_ring_means_are_8_distinct_points_on_unit_circle():
    means, std = toy_mixture("ring")
    assert means.shape == (8, 2) and means.dtype == np.float32
    assert std == pytest.approx(0.01)
    np.testing.assert_allclose(np.linalg.norm(means, axis=1), 1.0, atol=1e-6)
    assert len(np.unique(means.round(4), axis=0)) == 8
    np.testing.assert_allclose(means[0], [1.0, 0.0], atol=1e-6)


def test_grid_means_are_the_25_points_of_the_5x5_grid():
    means, std = toy_mixture("grid")
    assert means.shape == (25, 2) and means.dtype == np.float32
    assert std == pytest.approx(0.05)
    expected = {(a, b) for a in (-4, -2, 0, 2, 4) for b in (-4, -2, 0, 2, 4)}
    assert {tuple(m) for m in means.tolist()} == expected


def test_unknown_toy_mixture():
    with pytest.raises(DataError, match="spiral"):
        toy_mixture("spiral")


@pytest.mark.parametrize("name", ["ring", "grid"])
def test_sample_toy_points_lie_near_their_modes(name):
    means, std = toy_mixture(name)
    x, modes = sample_toy(name, 2000, seed=3)
    assert x.shape == (2000, 2) and x.dtype == np.float32
    assert modes.shape == (2000,) and modes.dtype == np.int64
    dist = np.linalg.norm(x[:, None, :] - means[None], axis=-1)
    assert dist.min(axis=1).max() < 6 * std
    np.testing.assert_array_equal(dist.argmin(axis=1), modes)
    assert set(modes.tolist()) == set(range(len(means)))
    np.testing.assert_array_equal(sample_toy(name, 2000, seed=3)[0], x)
    assert not np.array_equal(sample_toy(name, 2000, seed=4)[0], x)


@pytest.mark.parametrize("name,k", [("ring", 8), ("grid", 25)])
def test_toy_sources_yield_point_batches(name, k):
    ds, info = make_dataset(name, 500, num_points=2000, with_labels=True)
    assert info == DataInfo(name, "points", (2,), 2000, k, None)
    x, y = first_batch(ds)
    assert x.shape == (500, 2) and x.dtype == np.float32
    assert y.shape == (500,) and y.dtype == np.int64
    means, std = toy_mixture(name)
    dist = np.linalg.norm(x.numpy()[:, None] - means[None], axis=-1)
    assert dist.min(axis=1).max() < 6 * std
    np.testing.assert_array_equal(dist.argmin(axis=1), y.numpy())
    # Without labels the batches are just x.
    (x,) = take(make_dataset(name, 7, num_points=100)[0], 1)
    assert x.shape == (7, 2)


# The embedded MNIST sample.


def test_mnist_sample():
    ds, info = load_dataset("mnist-sample")
    assert info.kind == "image" and info.shape == (28, 28, 1)
    assert info.num_examples == 10_000 and info.num_classes == 10
    assert info.class_names == tuple("0123456789")
    with np.load(MNIST_FILE) as f:
        want_x, want_y = f["x"][0], f["y"][0]
    x, y = first_batch(ds)
    np.testing.assert_allclose(x.numpy()[..., 0], want_x / 127.5 - 1, atol=1e-6)
    assert y.dtype == np.int64 and y.numpy() == want_y

    ds, _ = make_dataset("mnist-sample", 32, with_labels=True)
    x, y = first_batch(ds)
    assert_images(x, (32, 28, 28, 1))
    assert x.numpy().min() == -1.0 and x.numpy().max() == 1.0
    assert y.shape == (32,) and set(y.numpy().tolist()) <= set(range(10))


def test_mnist_sample_resized():
    ds, info = make_dataset("mnist-sample", 8, image_size=16, shuffle=False)
    assert info.shape == (16, 16, 1)
    assert_images(first_batch(ds), (8, 16, 16, 1))


# folder:PATH


def test_folder_grey_images_stay_one_channel(tmp_path):
    for i in range(3):
        write_png(tmp_path / f"{i}.png", (10, 8), value=i * 100)
    write_png(tmp_path / "sub" / "deep.png", (10, 8), value=255)
    (tmp_path / "notes.txt").write_text("not an image")
    ds, info = make_dataset(f"folder:{tmp_path}", 4, shuffle=False)
    assert info == DataInfo(f"folder:{tmp_path}", "image", (8, 10, 1), 4)
    x = first_batch(ds).numpy()
    assert_images(x, (4, 8, 10, 1))
    # Sorted by path, searched recursively, 0..255 mapped to [-1, 1].
    np.testing.assert_allclose(x[:, 0, 0, 0], [-1, 100 / 127.5 - 1, 200 / 127.5 - 1, 1])


def test_folder_with_a_colour_image_is_all_rgb(tmp_path):
    write_png(tmp_path / "a.png", (6, 6), value=0)
    write_png(tmp_path / "b.png", (6, 6), "RGB", (255, 0, 0))
    write_png(tmp_path / "c.png", (6, 6), "RGBA", (0, 255, 0, 128))
    Image.new("P", (6, 6), 0).save(tmp_path / "d.gif")
    Image.new("RGB", (6, 6), (0, 0, 255)).save(tmp_path / "e.jpg")
    ds, info = load_dataset(f"folder:{tmp_path}")
    assert info.shape == (6, 6, 3) and info.num_examples == 5
    assert info.num_classes is None
    xs = [x.numpy() for x, _ in ds]
    assert_images(np.stack(xs), (5, 6, 6, 3))
    np.testing.assert_allclose(xs[0][0, 0], [-1, -1, -1])  # grey -> RGB
    np.testing.assert_allclose(xs[1][0, 0], [1, -1, -1])
    # Half-transparent green on the default white: R and B round(127 * 255 / 255).
    np.testing.assert_allclose(xs[2][0, 0], [127 / 127.5 - 1, 1, 127 / 127.5 - 1], atol=1e-6)
    assert {int(y) for _, y in ds} == {-1}


def test_folder_mixed_sizes(tmp_path):
    mixed = tmp_path / "mixed"
    write_png(mixed / "small.png", (8, 8))
    write_png(mixed / "wide.png", (16, 12), "RGB", (10, 20, 30))
    with pytest.raises(DataError) as e:
        load_dataset(f"folder:{mixed}")
    assert str(e.value) == (f"Images in '{tmp_path}/mixed' have different sizes: "
                            f"'{tmp_path}/mixed/small.png' is 8x8 and "
                            f"'{tmp_path}/mixed/wide.png' is 16x12; pass --image-size N "
                            "(image_size=N) to resize them all to N x N.")
    ds, info = make_dataset(f"folder:{mixed}", 2, image_size=12)
    assert info.shape == (12, 12, 3)
    assert_images(first_batch(ds), (2, 12, 12, 3))


def test_folder_errors(tmp_path):
    def message(source, image_size=None):
        with pytest.raises(DataError) as e:
            load_dataset(source, image_size=image_size)
        return str(e.value)

    assert message("folder:/no/such/dir") == "Path '/no/such/dir' does not exist."
    assert message(f"folder:{tmp_path}/nowhere") == f"Path '{tmp_path}/nowhere' does not exist."
    empty = tmp_path / "empty"
    empty.mkdir()
    no_images = (f"No images found in folder '{tmp_path}/empty' (looked for .png, .jpg, .jpeg, "
                 ".bmp, .gif, .webp, searching sub-folders).")
    assert message(f"folder:{empty}") == no_images
    (empty / "readme.txt").write_text("hi")
    assert message(f"folder:{empty}") == no_images
    (tmp_path / "file").write_text("hi")
    assert message(f"folder:{tmp_path}/file") == (
        f"'{tmp_path}/file' is a file, not a folder. For a .npz file use npz:PATH.")
    bad = tmp_path / "bad"
    write_png(bad / "good.png", (4, 4))
    (bad / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\nthis is not a png")
    assert message(f"folder:{bad}") == (f"Could not read image '{tmp_path}/bad/broken.png': "
                                        f"cannot identify image file '{tmp_path}/bad/broken.png'")
    assert message(f"folder:{bad}", image_size=0) == "image_size must be >= 1, got 0."


def test_folder_has_no_labels(tmp_path):
    write_png(tmp_path / "cats" / "a.png", (4, 4))
    write_png(tmp_path / "dogs" / "b.png", (4, 4))
    with pytest.raises(DataError) as e:
        make_dataset(f"folder:{tmp_path}", 2, with_labels=True)
    assert str(e.value) == (f"Data source 'folder:{tmp_path}' has no labels, so it cannot be "
                            "used with labels (with_labels=True); use a labelled source such "
                            "as mnist-sample.")


# npz:PATH


def test_npz_uint8_grey_with_labels(tmp_path):
    x = np.random.default_rng(0).integers(0, 256, (12, 5, 7), dtype=np.uint8)
    y = np.arange(12) % 4
    source = write_npz(tmp_path / "d.npz", x=x, y=y)
    ds, info = make_dataset(source, 12, shuffle=False, with_labels=True)
    assert info == DataInfo(source, "image", (5, 7, 1), 12, 4)
    bx, by = first_batch(ds)
    assert_images(bx, (12, 5, 7, 1))
    np.testing.assert_allclose(bx.numpy()[..., 0], x / 127.5 - 1, atol=1e-6)
    np.testing.assert_array_equal(by.numpy(), y)


def test_npz_float_rgb(tmp_path):
    x = np.random.default_rng(0).random((6, 4, 4, 3))
    ds, info = load_dataset(write_npz(tmp_path / "unit.npz", x=x), image_size=8)
    assert info.shape == (8, 8, 3) and info.num_classes is None
    assert_images(np.stack([a for a, _ in ds]), (6, 8, 8, 3))
    ds, info = load_dataset(write_npz(tmp_path / "unit.npz", x=x))
    np.testing.assert_allclose(np.stack([a for a, _ in ds]), x * 2 - 1, atol=1e-6)
    signed = (x * 2 - 1).astype(np.float32)
    signed[0, 0, 0, 0] = -1.0  # keeps it out of the [0, 1] case
    ds, _ = load_dataset(write_npz(tmp_path / "signed.npz", x=signed))
    np.testing.assert_array_equal(np.stack([a for a, _ in ds]), signed)


def test_npz_points_are_not_scaled(tmp_path):
    x = np.random.default_rng(0).normal(0, 10, (20, 3))
    source = write_npz(tmp_path / "p.npz", x=x)
    ds, info = make_dataset(source, 20, shuffle=False)
    assert info.kind == "points" and info.shape == (3,)
    b = first_batch(ds)
    assert b.dtype == np.float32
    np.testing.assert_allclose(b.numpy(), x, rtol=1e-6)


def test_npz_errors(tmp_path):
    def message(source):
        with pytest.raises(DataError) as e:
            load_dataset(source)
        return str(e.value)

    def written(name, **arrays):
        return message(write_npz(tmp_path / name, **arrays))

    accepted = ("accepted are (N, H, W) or (N, H, W, C) with C in {1, 3, 4} (4: RGBA) for "
                "images, and (N, D) for points.")
    assert written("shape.npz", x=np.zeros((2, 3, 4, 4, 1))) == (
        f"npz:{tmp_path}/shape.npz: x has shape (2, 3, 4, 4, 1); accepted are (N, H, W) or "
        "(N, H, W, C) with C in {1, 3, 4} (4: RGBA) for images, and (N, D) for points.")
    assert written("c2.npz", x=np.zeros((2, 4, 4, 2))) == (
        f"npz:{tmp_path}/c2.npz: x has shape (2, 4, 4, 2); " + accepted)
    assert written("flat.npz", x=np.zeros(5)) == (
        f"npz:{tmp_path}/flat.npz: x has shape (5,); " + accepted)
    assert written("y.npz", x=np.zeros((3, 4, 4)), y=np.zeros(4, np.int64)) == (
        f"npz:{tmp_path}/y.npz: y must be integer labels of shape (3,) to match x, got int64 "
        "(4,).")
    assert written("range.npz", x=np.linspace(0, 3, 27).reshape(3, 3, 3)) == (
        f"npz:{tmp_path}/range.npz: float images have values in [0.0, 3.0]; accepted are "
        "floats in [0, 1] or [-1, 1], or uint8 in [0, 255].")
    assert written("nox.npz", images=np.zeros((3, 4, 4))) == (
        f"'{tmp_path}/nox.npz' has no array 'x' (found ['images']); use "
        "np.savez(path, x=x[, y=y]).")
    assert message(f"npz:{tmp_path}/missing.npz") == (
        f"Path '{tmp_path}/missing.npz' does not exist.")
    assert message(f"npz:{tmp_path}") == (
        f"'{tmp_path}' is a folder, not a file. For a folder of images use folder:PATH.")
    (tmp_path / "junk.npz").write_bytes(b"definitely not a zip file")
    assert message(f"npz:{tmp_path}/junk.npz") == (
        f"Could not read npz file '{tmp_path}/junk.npz': it is not a zip of .npy arrays; "
        "write one with np.savez(path, x=x[, y=y]).")


# Transparency: RGBA composited onto the background.

COLOUR = (40, 200, 90)  # the known colour of the transparent test images
BACKGROUNDS = {"white": (255, 255, 255), "black": (0, 0, 0), "#ff0000": (255, 0, 0)}


def rgba_images():
    """(3, 2, 3, 4) uint8: three images of COLOUR; in each, column 0 has alpha 0,
    column 1 alpha 128 and column 2 alpha 255."""
    x = np.zeros((3, 2, 3, 4), np.uint8)
    x[..., :3] = COLOUR
    x[..., 3] = [0, 128, 255]
    return x


def composited(background):
    """What every image of `rgba_images` must become in [-1, 1], per column."""
    bg = np.array(BACKGROUNDS[background], np.float64)
    c = np.array(COLOUR, np.float64)
    half = np.round((128 * c + 127 * bg) / 255)  # alpha 128, rounded to uint8
    return np.stack([bg, half, c]) / 127.5 - 1


@pytest.mark.parametrize("background", list(BACKGROUNDS))
def test_folder_of_transparent_pngs_is_composited(tmp_path, background):
    for i, image in enumerate(rgba_images()):
        Image.fromarray(image, "RGBA").save(tmp_path / f"{i}.png")
    ds, info = load_dataset(f"folder:{tmp_path}", background=background)
    assert info.shape == (2, 3, 3)
    x = np.stack([a for a, _ in ds.as_numpy_iterator()])
    assert_images(x, (3, 2, 3, 3))
    np.testing.assert_allclose(x, np.broadcast_to(composited(background), x.shape), atol=1e-6)


@pytest.mark.parametrize("background", list(BACKGROUNDS))
def test_rgba_npz_is_composited(tmp_path, background):
    source = write_npz(tmp_path / "rgba.npz", x=rgba_images(), y=np.array([0, 1, 1]))
    ds, info = make_dataset(source, 3, shuffle=False, with_labels=True, background=background)
    assert info == DataInfo(source, "image", (2, 3, 3), 3, 2)
    x, y = first_batch(ds)
    assert_images(x, (3, 2, 3, 3))
    np.testing.assert_allclose(x.numpy(), np.broadcast_to(composited(background), x.shape),
                               atol=1e-6)
    np.testing.assert_array_equal(y.numpy(), [0, 1, 1])
    # Float RGBA in [0, 1] composites in float, without rounding.
    unit = rgba_images() / 255.0
    ds, _ = load_dataset(write_npz(tmp_path / "unit.npz", x=unit), background=background)
    a = unit[0, :, :, 3:]
    bg = np.array(BACKGROUNDS[background]) / 255
    want = (a * unit[0, :, :, :3] + (1 - a) * bg) * 2 - 1
    np.testing.assert_allclose(next(iter(ds))[0].numpy(), want, atol=1e-6)


def test_transparent_grey_pngs_stay_grey(tmp_path):
    """LA images stay one channel on a grey background, turn RGB on a colour one;
    a palette image with a transparent index is composited too."""
    for i, alpha in enumerate((0, 128, 255)):
        Image.new("LA", (4, 4), (60, alpha)).save(tmp_path / f"{i}.png")
    ds, info = load_dataset(f"folder:{tmp_path}", background="black")
    assert info.shape == (4, 4, 1)
    x = np.stack([a[0, 0] for a, _ in ds.as_numpy_iterator()])
    np.testing.assert_allclose(x[:, 0], np.array([0, 30, 60]) / 127.5 - 1, atol=1e-6)
    _, info = load_dataset(f"folder:{tmp_path}", background="#ff0000")
    assert info.shape == (4, 4, 3)
    palette = Image.new("P", (4, 4), 1)
    palette.putpalette([0, 0, 0, 200, 10, 10] + [0] * 762)
    palette.save(tmp_path / "3.png", transparency=1)
    ds, info = load_dataset(f"folder:{tmp_path}")
    assert info.shape == (4, 4, 3)
    last = [a for a, _ in ds.as_numpy_iterator()][-1]
    np.testing.assert_allclose(last[0, 0], [1, 1, 1])  # fully transparent -> white


def test_bad_background_is_refused(tmp_path):
    source = write_npz(tmp_path / "rgba.npz", x=rgba_images())
    for bad in ("blue", "#fff", "ff0000", "#gg0000", ""):
        with pytest.raises(DataError) as e:
            load_dataset(source, background=bad)
        assert str(e.value) == f"background must be 'white', 'black' or '#RRGGBB', got {bad!r}."
    with pytest.raises(DataError) as e:
        make_dataset(source, 4, background="blue")
    assert str(e.value) == "background must be 'white', 'black' or '#RRGGBB', got 'blue'."
    with pytest.raises(DataError, match="background must be"):
        make_dataset("mnist-sample", 4, background=(0, 0, 256))
    assert load_dataset(source, background=(255, 0, 0))[1].shape == (2, 3, 3)


def test_npz_class_names_are_read(tmp_path):
    x = np.zeros((4, 2, 2), np.uint8)
    source = write_npz(tmp_path / "n.npz", x=x, y=np.array([0, 1, 1, 0], np.uint8),
                       class_names=np.array(["cat", "dog", "eel"]), name=np.array(list("abcd")))
    _, info = load_dataset(source)
    assert (info.num_classes, info.class_names) == (3, ("cat", "dog", "eel"))
    source = write_npz(tmp_path / "few.npz", x=x, y=np.array([0, 1, 2, 0]),
                       class_names=np.array(["cat", "dog"]))
    with pytest.raises(DataError, match="class_names has 2 names but the labels go up to 2"):
        load_dataset(source)
    _, info = load_dataset(write_npz(tmp_path / "nolabels.npz", x=x,
                                     class_names=np.array(["cat"])))
    assert (info.num_classes, info.class_names) == (None, None)


@needs_data("emoji64")
def test_emoji64_loads_as_rgb_on_white():
    ds, info = load_dataset("emoji64")
    assert info.shape == (64, 64, 3) and info.num_examples == 7572
    assert info.num_classes == 10 and len(info.class_names) == 10
    assert info.class_names[0] == "Activities" and info.class_names[6] == "People & Body"
    x = np.stack([a for a, _ in ds.take(50).as_numpy_iterator()])
    assert_images(x, (50, 64, 64, 3))
    corners = x[:, [0, 0, -1, -1], [0, -1, 0, -1]]
    np.testing.assert_array_equal(corners, 1.0)  # transparent corners -> white


# The pipeline.


def test_unknown_source_points_to_the_help():
    """One line, pointing to `keras-gan train --help`, whose epilog lists them."""
    for source, message in (
            ("nowhere", "Unknown data source 'nowhere'; see `keras-gan train --help` for the "
                        "sources."),
            ("mnist", "Unknown data source 'mnist'; see `keras-gan train --help` for the "
                      "sources."),
            ("folder:", "Unknown data source 'folder:'; see `keras-gan train --help` for the "
                        "sources."),
            ("csv:data.csv", "Unknown data source 'csv:data.csv'; see `keras-gan train --help` "
                             "for the sources.")):
        with pytest.raises(DataError) as e:
            load_dataset(source)
        assert str(e.value) == message
    assert "tfds:NAME[:SPLIT]" in SOURCES_HELP and "folder:PATH" in SOURCES_HELP


def test_bad_arguments():
    with pytest.raises(DataError, match="batch_size"):
        make_dataset("ring", 0, num_points=10)
    with pytest.raises(DataError, match="image_size"):
        make_dataset("mnist-sample", 4, image_size=-3)


def test_pipeline_options(tmp_path):
    x = np.arange(10, dtype=np.float32)[:, None] * np.ones((1, 2), np.float32)
    source = write_npz(tmp_path / "p.npz", x=x)
    opts = dict(shuffle=False, repeat=False)
    batches = take(make_dataset(source, 4, drop_remainder=False, **opts)[0], 10)
    assert [len(b) for b in batches] == [4, 4, 2]
    np.testing.assert_array_equal(np.concatenate(batches), x)
    batches = take(make_dataset(source, 4, **opts)[0], 10)
    assert [len(b) for b in batches] == [4, 4]
    batches = take(make_dataset(source, 4, cache=False, skip_batches=1, **opts)[0], 10)
    np.testing.assert_array_equal(np.concatenate(batches), x[4:8])
    # Shuffled and repeated: every epoch is a permutation, reshuffled each time.
    ds, _ = make_dataset(source, 10, seed=1)
    e1, e2 = take(ds, 2)
    assert sorted(e1[:, 0]) == sorted(e2[:, 0]) == list(range(10))
    assert not np.array_equal(e1, e2)


def resumed_batches(source, seed, skip, n):
    ds, _ = make_dataset(source, 8, seed=seed, skip_batches=skip)
    return take(ds, n)


def test_skip_batches_resumes_where_an_uninterrupted_run_left_off(tmp_path):
    import keras

    # tf.data mixes TensorFlow's global seed into the shuffle's: set it as
    # train() does in every process (an earlier test may have set another).
    keras.utils.set_random_seed(7)
    # 30 examples in batches of 8: skipping 5 batches crosses epoch boundaries.
    x = np.random.default_rng(0).random((30, 2)).astype(np.float32)
    source = write_npz(tmp_path / "p.npz", x=x)
    full = take(make_dataset(source, 8, seed=7)[0], 9)
    for skip in (1, 5):
        resumed = resumed_batches(source, 7, skip, 9 - skip)
        np.testing.assert_array_equal(np.stack(resumed), np.stack(full[skip:]))
    other_seed = resumed_batches(source, 8, 0, 9)
    assert not np.array_equal(np.stack(other_seed), np.stack(full))

    # A resumed run is a new process: the order must not depend on process state.
    script = (
        "import sys, keras, numpy as np\n"
        "from keras_gan.data.pipeline import make_dataset\n"
        "keras.utils.set_random_seed(7)\n"
        "ds, _ = make_dataset(sys.argv[1], 8, seed=7, skip_batches=5)\n"
        "np.save(sys.argv[2], np.stack([b.numpy() for b in ds.take(4)]))\n"
    )
    out = tmp_path / "resumed.npy"
    env = dict(os.environ, PYTHONPATH=str(ROOT), TF_CPP_MIN_LOG_LEVEL="3")
    subprocess.run(
        [sys.executable, "-c", script, source, str(out)],
        cwd=ROOT,
        env=env,
        check=True,
        timeout=120,
    )
    np.testing.assert_array_equal(np.load(out), np.stack(full[5:]))


# tfds:NAME[:SPLIT], with mocked data only: nothing is downloaded.


@pytest.fixture
def mock_tfds(tmp_path):
    tfds = pytest.importorskip("tensorflow_datasets")
    with tfds.testing.mock_data(num_examples=20, data_dir=str(tmp_path)):
        yield


@pytest.mark.parametrize("source", ["tfds:mnist", "tfds:mnist:test"])
def test_tfds_mnist(mock_tfds, source):
    ds, info = make_dataset(source, 8, with_labels=True)
    assert info.kind == "image" and info.shape == (28, 28, 1)
    assert info.num_classes == 10 and len(info.class_names) == 10
    x, y = first_batch(ds)
    assert_images(x, (8, 28, 28, 1))
    assert y.shape == (8,) and y.dtype == np.int64
    assert set(y.numpy().tolist()) <= set(range(10))


def test_tfds_cifar10_resized(mock_tfds):
    ds, info = make_dataset("tfds:cifar10", 4, image_size=16)
    assert info.shape == (16, 16, 3) and info.num_classes == 10
    assert_images(first_batch(ds), (4, 16, 16, 3))


def test_tfds_unknown_name():
    pytest.importorskip("tensorflow_datasets")
    with pytest.raises(DataError) as e:
        load_dataset("tfds:no_such_dataset_xyz")
    assert str(e.value) == ("Unknown TFDS data set 'no_such_dataset_xyz' (the names are at "
                            "https://www.tensorflow.org/datasets/catalog); see "
                            "`keras-gan train --help` for the sources.")
