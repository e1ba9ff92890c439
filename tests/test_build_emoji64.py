"""benchmarks/build_emoji64.py on tiny fake emoji-datasource package folders."""

import json
import sys
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

import build_emoji64  # noqa: E402

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
    emoji("1F44D", "+1", "People & Body", skins={"1F3FD": True, "1F3FB": True, "1F3FC": False}),
    emoji("1F9B0", "red_hair", "Component", google=False),
    emoji("0023-FE0F-20E3", "hash", "Symbols"),
]
ROWS = ["hash", "+1", "+1_1F3FB", "+1_1F3FD", "star"]
IMAGES = {"0023-fe0f-20e3.png": 1, "1f44d.png": 2, "1f44d-1f3fb.png": 3,
          "1f44d-1f3fd.png": 4, "2b50.png": 5}


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
    return [write_package(tmp_path / s, s, i) for i, s in enumerate(build_emoji64.STYLES)]


def test_builds_the_arrays_of_emoji64(tmp_path):
    arrays = build_emoji64.build(*packages(tmp_path), size=SIZE)
    assert sorted(arrays) == ["class_names", "name", "style", "style_names", "x", "y"]
    x = arrays["x"]
    assert x.shape == (10, SIZE, SIZE, 4) and x.dtype == np.uint8
    assert arrays["name"].tolist() == ROWS * 2
    # class_names: the sorted categories of the rows kept (no Component here).
    assert arrays["class_names"].tolist() == ["People & Body", "Symbols", "Travel & Places"]
    assert arrays["y"].dtype == np.uint8 and arrays["y"].tolist() == [1, 0, 0, 0, 2] * 2
    assert arrays["style"].dtype == np.uint8 and arrays["style"].tolist() == [0] * 5 + [1] * 5
    assert arrays["style_names"].tolist() == ["twitter", "google"]
    images = ["0023-fe0f-20e3.png", "1f44d.png", "1f44d-1f3fb.png", "1f44d-1f3fd.png",
              "2b50.png"]
    for s in (0, 1):
        for i, image in enumerate(images):
            assert (x[5 * s + i] == pixel(s, image)).all(), (s, image)


def test_main_writes_a_file_keras_gan_loads(tmp_path, capsys):
    from keras_gan.data import load_dataset

    twitter, google = packages(tmp_path)
    out = tmp_path / "emoji.npz"
    argv = [str(twitter), str(google), "--out", str(out), "--size", str(SIZE)]
    assert build_emoji64.main(argv) == 0
    assert "10 images (5 per style), 3 classes" in capsys.readouterr().out
    ds, info = load_dataset(f"npz:{out}", background="black")
    assert info.shape == (SIZE, SIZE, 3) and info.num_examples == 10
    assert info.class_names == ("People & Body", "Symbols", "Travel & Places")
    x = np.stack([a for a, _ in ds.as_numpy_iterator()])
    np.testing.assert_allclose(x[5:], -1)  # google's fake images are fully transparent
    np.testing.assert_allclose(x[0, 0, 0], np.array([10, 100, 7]) / 127.5 - 1, atol=1e-6)
