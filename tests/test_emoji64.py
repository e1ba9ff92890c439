"""keras_gan/data/emoji64.py on tiny fake emoji-datasource package folders, and
`keras-gan data emoji64` fetching them with a fake npm client."""

import functools
import json
import os
import tarfile

import numpy as np
import pytest
from PIL import Image

from keras_gan.cli import main
from keras_gan.data import emoji64
from keras_gan.data.named import NAMED
from keras_gan.data.pipeline import load_dataset

SIZE = 4


def emoji(unified, short_name, category, google=True, skins=None):
    entry = {"unified": unified, "short_name": short_name, "category": category,
             "image": unified.lower() + ".png", "has_img_twitter": True,
             "has_img_google": google}
    if skins:
        entry["skin_variations"] = {
            key: {"unified": f"{unified}-{key}", "image": f"{unified}-{key}.png".lower(),
                  "has_img_twitter": True, "has_img_google": has_google}
            for key, has_google in skins.items()}
    return entry


# Listed out of `unified` order, skin keys too; the thumbs-up's 1F3FC and the
# hair component have no google image, so neither style keeps them.
ENTRIES = [
    emoji("2B50", "star", "Travel & Places"),
    emoji("1F344-200D-1F7EB", "brown_mushroom", "Food & Drink"),
    emoji("1F344", "mushroom", "Food & Drink"),
    emoji("1F44D", "+1", "People & Body", skins={"1F3FD": True, "1F3FB": True, "1F3FC": False}),
    emoji("1F9B0", "red_hair", "Component", google=False),
    emoji("0023-FE0F-20E3", "hash", "Symbols"),
]
# In emoji.json's order (not `unified`'s), each emoji followed by its skin
# variants in the order listed (not sorted), as the reference copy has them.
ROWS = ["star", "brown_mushroom", "mushroom", "+1", "+1_1F3FD", "+1_1F3FB", "hash"]
IMAGES = {"0023-fe0f-20e3.png": 1, "1f344-200d-1f7eb.png": 6, "1f344.png": 7, "1f44d.png": 2,
          "1f44d-1f3fb.png": 3, "1f44d-1f3fd.png": 4, "2b50.png": 5}


def pixel(style, image):
    """A colour that tells the style and the image apart; alpha varies too."""
    return (10 * IMAGES[image], 100 + style, 7, 0 if style else 255)


def write_package(root, style, s):
    (root / "img" / style / "64").mkdir(parents=True)
    (root / "emoji.json").write_text(json.dumps(ENTRIES))
    for e in ENTRIES:
        for v in [e, *(e.get("skin_variations") or {}).values()]:
            if v[f"has_img_{style}"]:
                colour = pixel(s, v["image"]) if v["image"] in IMAGES else (9, 9, 9, 9)
                Image.new("RGBA", (SIZE, SIZE), colour).save(root / "img" / style / "64" /
                                                            v["image"])
    return root


def packages(tmp_path):
    return [write_package(tmp_path / s, s, i) for i, s in enumerate(emoji64.STYLES)]


def test_builds_the_arrays_of_emoji64(tmp_path):
    arrays = emoji64.build(*packages(tmp_path), size=SIZE)
    assert sorted(arrays) == ["class_names", "name", "style", "style_names", "x", "y"]
    x = arrays["x"]
    assert x.shape == (14, SIZE, SIZE, 4) and x.dtype == np.uint8
    assert arrays["name"].tolist() == ROWS * 2
    # class_names: the sorted categories of the rows kept (no Component here).
    assert arrays["class_names"].tolist() == ["Food & Drink", "People & Body", "Symbols",
                                              "Travel & Places"]
    assert arrays["y"].dtype == np.uint8 and arrays["y"].tolist() == [3, 0, 0, 1, 1, 1, 2] * 2
    assert arrays["style"].dtype == np.uint8 and arrays["style"].tolist() == [0] * 7 + [1] * 7
    assert arrays["style_names"].tolist() == ["twitter", "google"]
    images = ["2b50.png", "1f344-200d-1f7eb.png", "1f344.png", "1f44d.png", "1f44d-1f3fd.png",
              "1f44d-1f3fb.png", "0023-fe0f-20e3.png"]
    for s in (0, 1):
        for i, image in enumerate(images):
            assert (x[7 * s + i] == pixel(s, image)).all(), (s, image)


def fake_npm(tmp_path, monkeypatch, fail=None):
    """An `npm` on PATH whose `pack` writes the fake packages' tarballs, as
    the real one writes emoji-datasource-<style>-<version>.tgz (or fails)."""
    made = tmp_path / "made"
    made.mkdir()
    for i, style in enumerate(emoji64.STYLES):
        folder = write_package(made / style / "package", style, i)
        with tarfile.open(made / f"emoji-datasource-{style}-{emoji64.VERSION}.tgz",
                          "w:gz") as tgz:
            tgz.add(folder, arcname="package")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    script = bin_dir / "npm"
    body = (f"echo 'npm error {fail}' >&2; exit 1" if fail else
            f'echo "$@" > {tmp_path}/npm-args; cp {made}/*.tgz "${{@: -1}}"')
    script.write_text(f"#!/bin/bash\n{body}\n")
    script.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")


def small(monkeypatch):
    """Builds and checks at the fake packages' SIZE, not 64."""
    monkeypatch.setattr(emoji64, "build", functools.partial(emoji64.build,
                                                          size=SIZE))
    monkeypatch.setitem(NAMED["emoji64"], "shape", (SIZE, SIZE, 4))


def test_keras_gan_data_builds_emoji64_with_npm_into_the_data_folder(tmp_path, monkeypatch,
                                                                    capsys):
    """`keras-gan data emoji64`: npm packs both packages at VERSION, the arrays
    are built at 64 px... here at SIZE (the fake PNGs'), into $KERAS_GAN_DATA,
    where `--dataset emoji64` then finds them."""
    fake_npm(tmp_path, monkeypatch)
    small(monkeypatch)
    monkeypatch.setenv("KERAS_GAN_DATA", str(tmp_path / "data"))
    assert main(["data", "emoji64"]) == 0
    out = tmp_path / "data" / "emoji64.npz"
    assert f"emoji64: {out}" in capsys.readouterr().out
    args = (tmp_path / "npm-args").read_text().split()
    assert args[:3] == ["pack", f"emoji-datasource-twitter@{emoji64.VERSION}",
                        f"emoji-datasource-google@{emoji64.VERSION}"]
    assert sorted(os.listdir(tmp_path / "data")) == ["emoji64.npz"]  # no partial file left
    ds, info = load_dataset("emoji64", background="black")
    assert info.shape == (SIZE, SIZE, 3) and info.num_examples == 14
    assert info.class_names == ("Food & Drink", "People & Body", "Symbols", "Travel & Places")
    x = np.stack([a for a, _ in ds.as_numpy_iterator()])
    np.testing.assert_allclose(x[7:], -1)  # google's fake images are fully transparent
    np.testing.assert_allclose(x[0, 0, 0], np.array([50, 100, 7]) / 127.5 - 1, atol=1e-6)


def test_npm_failing_or_missing_is_one_line_and_leaves_no_file(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("KERAS_GAN_DATA", str(tmp_path / "data"))
    fake_npm(tmp_path, monkeypatch, fail="code ENOTFOUND request to https://registry.npmjs.org")
    assert main(["data", "emoji64"]) == 2
    err = capsys.readouterr().err
    assert err == ("keras-gan data: error: npm pack emoji-datasource-twitter@16.0.0 "
                   "emoji-datasource-google@16.0.0 failed: npm error code ENOTFOUND request to "
                   "https://registry.npmjs.org\n")
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    assert main(["data", "emoji64"]) == 2
    assert capsys.readouterr().err == (
        "keras-gan data: error: npm not found: install Node.js's npm client, or copy a file "
        "you have with `keras-gan data emoji64 --from PATH`\n")
    assert os.listdir(tmp_path / "data") == []


def test_data_from_a_file_is_checked_then_copied(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("KERAS_GAN_DATA", str(tmp_path / "data"))
    small(monkeypatch)
    good = tmp_path / "mine.npz"
    np.savez(good, **emoji64.build(*packages(tmp_path), size=SIZE))
    digits = tmp_path / "digits.npz"
    np.savez(digits, x=np.zeros((3, SIZE, SIZE), np.uint8), y=np.zeros(3, np.uint8))
    rgb = tmp_path / "rgb.npz"
    np.savez(rgb, x=np.zeros((3, SIZE, SIZE, 3), np.uint8), y=np.zeros(3), class_names=["a"])
    (tmp_path / "text.npz").write_text("not an archive")
    for path, message in [
            (tmp_path / "none.npz", f"--from {tmp_path}/none.npz: no such file"),
            (tmp_path / "text.npz", f"{tmp_path}/text.npz: not a .npz file"),
            (digits, f"{digits}: not emoji64 (no array class_names)"),
            (rgb, f"{rgb}: not emoji64 (x is uint8 of rows (4, 4, 3), expected uint8 of "
                  "(4, 4, 4))")]:
        assert main(["data", "emoji64", "--from", str(path)]) == 2
        assert capsys.readouterr().err == f"keras-gan data: error: {message}\n"
    assert not (tmp_path / "data" / "emoji64.npz").exists()
    assert main(["data", "emoji64", "--from", str(good)]) == 0
    copied = tmp_path / "data" / "emoji64.npz"
    assert copied.read_bytes() == good.read_bytes()


def test_a_missing_named_data_set_names_the_command_that_gets_it(tmp_path, monkeypatch):
    from keras_gan.data.pipeline import DataError

    monkeypatch.setenv("KERAS_GAN_DATA", str(tmp_path))
    with pytest.raises(DataError) as e:
        load_dataset("emoji64")
    assert str(e.value) == (
        f"emoji64: no {tmp_path}/emoji64.npz ($KERAS_GAN_DATA); get it with `keras-gan data "
        "emoji64` (npm), or `keras-gan data emoji64 --from PATH` to copy a file you have.")
    monkeypatch.delenv("KERAS_GAN_DATA")
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    with pytest.raises(DataError, match="no .*/keras/datasets/emoji64.npz .Keras's cache."):
        load_dataset("emoji64")


def test_a_card_naming_the_file_by_an_old_path_is_read_as_the_named_data_set(tmp_path,
                                                                           monkeypatch):
    from keras_gan.data.named import renamed

    monkeypatch.chdir(tmp_path)
    old = "npz:../shared/data/emoji64.npz"  # saved_models/emoji-32's card
    assert renamed(old) == "emoji64"
    (tmp_path / "emoji64.npz").write_bytes(b"")
    assert renamed("npz:emoji64.npz") == "npz:emoji64.npz"  # there: the user's own file
    assert renamed("npz:../x/other.npz") == "npz:../x/other.npz"
    assert renamed("mnist-sample") == "mnist-sample" and renamed(None) is None
