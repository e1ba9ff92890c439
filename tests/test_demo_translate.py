"""demo/translators.py, demo/translating.py and the Translate tab: loading,
translation and its refusals through the service, the page's API through
gradio_client.

The translators are tiny and untrained, exported here with
`export_translator`: a pix2pix sketch -> emoji (one way, 1 -> 3 channels)
and a CycleGAN grey <-> colour (both ways), served beside a tiny generator
(the demo serves generators first; a folder of translators alone is no demo).
"""

import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from test_demo import (
    big_png,
    drawing,
    editor_value,
    free_port,
    oversized_message,
    read,
    serve_client,
    uploaded,
)

from demo.models import DemoError, load_models
from demo.service import Service
from demo.translating import TILE, translation
from demo.translators import load_translators, translator_markdown
from export.projection import to_model_input
from export.runtime import to_uint8
from export.translator_runtime import OnnxTranslator

REPO = Path(__file__).resolve().parents[1]
SIZE, WIDTH = 16, 4
SHOWN = SIZE * 11  # the smallest multiple of 16 px at least TILE (168) wide
STRIP = 2 + SHOWN  # a strip's tile and the padding before it


def make_models(root: Path, generator: Path) -> Path:
    """root/: gen/ (a generator), sketch2emoji/ (pix2pix, one folder), styles/
    (CycleGAN: ab/ and ba/) and broken/ (a translator.onnx that is not ONNX)."""
    import keras

    from export.translators import export_translator
    from keras_gan.models.translation.registry import build_translator

    (root / "gen").mkdir(parents=True)
    for f in ("generator.onnx", "model.json"):
        shutil.copy(generator / f, root / "gen" / f)
    keras.utils.set_random_seed(0)
    export_translator(build_translator("pix2pix", SIZE, 1, 3, WIDTH, seed=0),
                      root / "sketch2emoji", domains=("sketch", "emoji"),
                      card={"dataset": "emoji64:sketch", "attribution": "Twemoji, CC-BY 4.0"})
    keras.utils.set_random_seed(1)
    cyclegan = build_translator("cyclegan", SIZE, 1, 3, WIDTH, seed=1, identity_weight=0)
    export_translator(cyclegan, root / "styles", direction="both", domains=("grey", "colour"))
    (root / "broken").mkdir()
    (root / "broken" / "translator.onnx").write_bytes(b"not onnx")
    return root


@pytest.fixture(scope="module")
def models_dir(exported, tmp_path_factory):
    return make_models(tmp_path_factory.mktemp("translators") / "models", exported("dcgan"))


@pytest.fixture(scope="module")
def service(models_dir, tmp_path_factory):
    return Service.from_folder(models_dir, outputs=tmp_path_factory.mktemp("outputs"))


def runtime(models_dir, name, direction="") -> OnnxTranslator:
    return OnnxTranslator(models_dir / name / direction / "translator.onnx")


# -- loading and the panel -----------------------------------------------------------


def test_both_layouts_are_served_and_a_broken_one_noted(service, models_dir, monkeypatch,
                                                        capfd):
    assert service.names == ["gen"] and list(service.translators) == ["sketch2emoji", "styles"]
    one, both = service.translators["sketch2emoji"], service.translators["styles"]
    assert one.directions == ["ab"] and not one.two_way and one.domains == ("sketch", "emoji")
    assert both.directions == ["ab", "ba"] and both.two_way
    assert (both.label("ab"), both.label("ba")) == ("grey → colour", "colour → grey")
    assert [s.split(":")[0] for s in service.skipped] == ["broken"]
    assert "is not a loadable ONNX model" in service.skipped[0]
    assert load_translators(models_dir / "missing", 8) == ({}, [])
    # A generator's folder is no translator's and the other way round.
    assert list(load_models(models_dir, 8)[0]) == ["gen"]
    import demo.app
    from keras_gan.cli import build_parser

    monkeypatch.setattr(demo.app, "start", lambda service, *args: None)
    monkeypatch.setattr(demo.app.signal, "signal", lambda *args: None)
    args = build_parser().parse_args(["demo", "--models", str(models_dir),
                                      "--port", str(free_port())])
    assert demo.app.serve(args) == 0
    out, err = capfd.readouterr()
    assert out == f"Serving gen, sketch2emoji, styles from {models_dir}\n"
    assert err.startswith("keras-gan demo: skipping broken: ") and err.count("\n") == 1


def test_translator_markdown(service):
    text = translator_markdown(service.translators["sketch2emoji"])
    assert text.startswith("### sketch2emoji\n**pix2pix** trained on **emoji64:sketch**.")
    assert "- sketch → emoji: 16×16×1 → 16×16×3 images" in text
    assert "- data: Twemoji, CC-BY 4.0" in text and "round trip" not in text
    text = translator_markdown(service.translators["styles"])
    assert "- grey → colour: 16×16×1 → 16×16×3 images" in text
    assert "- colour → grey: 16×16×3 → 16×16×1 images" in text
    assert "- both ways: each picture also goes back, a round trip" in text
    assert translator_markdown(None).startswith("No translators are installed")


# -- translation -----------------------------------------------------------------------


@pytest.mark.parametrize("rgba", [False, True], ids=["rgb", "rgba"])
def test_a_drawing_is_what_translate_uint8_makes_of_it(service, models_dir, rgba):
    picture = drawing("seven", rgba=rgba)
    found = translation(service.translators["sketch2emoji"], picture)
    expected = runtime(models_dir, "sketch2emoji").translate_uint8(picture)
    assert found.result.shape == (SIZE, SIZE, 3) and found.result.dtype == np.uint8
    np.testing.assert_array_equal(found.result, expected)
    assert found.back is None and found.error is None and found.direction == "ab"
    png, steps, text = service.translate("sketch2emoji", picture, "ab")
    # Shown enlarged, nearest-neighbour: every 11th pixel is the translation.
    np.testing.assert_array_equal(read(png), expected.repeat(11, 0).repeat(11, 1))
    assert read(steps).shape == (STRIP + 2, 2 * STRIP + 2, 3)  # as seen | translation
    assert text.startswith("**sketch → emoji** by sketch2emoji; the picture was scaled "
                           "0-255 to 0-1, ")
    assert "resized 280x280 -> 16x16." in text and "inverted" not in text
    assert service.translate("sketch2emoji", picture)[0] == png  # no direction: its only one


@pytest.mark.parametrize("direction, channels", [("ab", (1, 3)), ("ba", (3, 1))])
def test_a_two_way_translator_makes_the_round_trip(service, models_dir, direction, channels):
    picture = drawing("one")
    found = translation(service.translators["styles"], picture, direction)
    there = runtime(models_dir, "styles", direction)
    back = runtime(models_dir, "styles", direction[::-1])
    source = to_model_input(picture, there.image_shape, invert=False)[0]
    out = there.translate(source[None])
    np.testing.assert_array_equal(found.source, to_uint8(source))
    np.testing.assert_array_equal(found.result, to_uint8(out[0]))
    np.testing.assert_array_equal(found.back, to_uint8(back.translate(out)[0]))
    assert (found.source.shape[-1], found.result.shape[-1]) == channels
    assert found.error == pytest.approx(float(np.abs(back.translate(out)[0] - source).mean()))
    png, steps, text = service.translate("styles", picture, direction)
    assert read(png).shape == (SHOWN, SHOWN, 3)
    assert read(steps).shape == (STRIP + 2, 3 * STRIP + 2, 3)  # as seen | there | back
    a, b = ("grey", "colour")[::1 if direction == "ab" else -1]
    assert text.startswith(f"**{a} → {b}** by styles; round trip {a} → {b} → {a}: mean "
                           f"absolute error **{found.error:.4f}** (on [-1, 1]); ")
    assert TILE <= SHOWN < TILE + SIZE


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    root = tmp_path_factory.mktemp("uploads")
    Image.fromarray(drawing()).save(root / "one.png")
    (root / "notes.png").write_text("no picture")
    return {"png": root / "one.png", "text": root / "notes.png",
            "bomb": big_png(root / "bomb.png", 30000, 30000)}


EMPTY = "the source image is empty: draw on it or upload a picture"


@pytest.mark.parametrize("name, image, direction, message", [
    ("nope", "drawing", "ab", "unknown translator 'nope'; this demo serves sketch2emoji, "
                              "styles"),
    (None, "drawing", "ab", "unknown translator None; this demo serves sketch2emoji, styles"),
    ("sketch2emoji", None, "ab", EMPTY),
    ("sketch2emoji", {"background": None, "layers": [], "composite": None}, "ab", EMPTY),
    ("sketch2emoji", np.full((280, 280, 3), 255, np.uint8), "ab",
     "the source image is blank (one flat colour): draw on it or upload a picture"),
    ("sketch2emoji", np.zeros((280, 280, 4), np.uint8), "ab",
     "the source image is blank: draw on it or upload a picture"),
    ("sketch2emoji", np.zeros((4097, 10), np.uint8), "ab",
     "the source image is 4097 pixels high and 10 wide: at most 4096 on a side, shrink it "
     "first"),
    ("sketch2emoji", "text", "ab",
     "the source image is not a picture this demo can read: upload a PNG, JPEG or WebP"),
    ("sketch2emoji", "truncated", "ab",
     "the source image is a damaged picture file: its pixels could not be read"),
    ("sketch2emoji", "bomb", "ab", oversized_message((30000, 30000), "the source image")),
    ("sketch2emoji", np.linspace(0, 300, 64).reshape(8, 8), "ab",
     "the source image: pixel values must be in [0, 255], [0, 1] or [-1, 1], got [0, 300]"),
    ("sketch2emoji", "drawing", "ba",
     "sketch2emoji translates one way only: direction must be 'ab' (sketch → emoji), got 'ba'"),
    ("styles", "drawing", "AB",
     "direction must be 'ab' (grey → colour) or 'ba' (colour → grey), got 'AB'"),
    ("styles", "drawing", 1, "direction must be 'ab' (grey → colour) or 'ba' (colour → "
                             "grey), got 1"),
])
def test_translation_refuses(service, files, name, image, direction, message):
    if isinstance(image, str):
        image = {"drawing": drawing(), "text": uploaded(files["text"]),
                 "truncated": uploaded(files["png"].read_bytes()[:200]),
                 "bomb": uploaded(files["bomb"])}[image]
    with pytest.raises(DemoError) as e:
        service.translate(name, image, direction)
    assert str(e.value) == message


def test_without_translators_the_tab_is_hidden_and_says_so(service, tmp_path):
    from demo.app import build_app

    alone = Service(service.models, outputs=tmp_path)
    with pytest.raises(DemoError) as e:
        alone.translate("sketch2emoji", drawing())
    assert str(e.value) == "unknown translator 'sketch2emoji'; this demo serves no translators"

    def tab(app):
        return next(b for b in app.blocks.values()
                    if getattr(b, "elem_id", None) == "translate-tab")

    assert tab(build_app(service)).visible and not tab(build_app(alone)).visible


NO_TF = textwrap.dedent("""
    import sys

    import numpy as np

    import demo.app, demo.translate_tab, demo.translating, demo.translators
    from demo.service import Service
    service = Service.from_folder(sys.argv[1])
    demo.app.build_app(service)
    picture = np.full((64, 64), 255, np.uint8)
    picture[10:50, 30:34] = 0
    service.translate("styles", picture, "ba")
    print(sorted(n for n in ("tensorflow", "keras", "keras_gan", "torch") if n in sys.modules))
""")


def test_translating_never_imports_tensorflow(models_dir):
    proc = subprocess.run([sys.executable, "-c", NO_TF, str(models_dir)], cwd=REPO,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"


# -- the page's API, on a live server ------------------------------------------------


@pytest.fixture(scope="module")
def client(models_dir, tmp_path_factory):
    for served, _ in serve_client(models_dir, tmp_path_factory):
        yield served


def test_api_translate(client, service, files):
    png, steps, text = client.predict("sketch2emoji", editor_value(files["png"]), "ab",
                                      api_name="/translate")
    # The page hands the service the PNG as RGBA (the editor's image_mode).
    rgba = np.asarray(Image.open(files["png"]).convert("RGBA"))
    found = translation(service.translators["sketch2emoji"], rgba)
    np.testing.assert_array_equal(read(png), found.picture)
    np.testing.assert_array_equal(read(steps), found.steps)
    assert text.startswith("**sketch → emoji** by sketch2emoji; ")
    png, steps, text = client.predict("styles", editor_value(files["png"]), "ba",
                                      api_name="/translate")
    assert read(steps).shape == (STRIP + 2, 3 * STRIP + 2, 3) and "round trip" in text


@pytest.mark.parametrize("name, picture, direction, message", [
    ("sketch2emoji", None, "ab", EMPTY),
    ("nope", "png", "ab", "unknown translator 'nope'; this demo serves sketch2emoji, styles"),
    ("sketch2emoji", "png", "ba", "sketch2emoji translates one way only: direction must be "
                                  "'ab' (sketch → emoji), got 'ba'"),
    ("styles", "png", "xy", "'xy'"),  # gradio's radio: not in the choices
    ("sketch2emoji", "bomb", "ab", oversized_message((30000, 30000), "the source image")),
])
def test_api_translate_refuses_with_a_message(client, files, name, picture, direction,
                                              message):
    from gradio_client.exceptions import AppError

    value = ({"background": None, "layers": [], "composite": None} if picture is None
             else editor_value(files[picture]))
    with pytest.raises(AppError) as info:
        client.predict(name, value, direction, api_name="/translate")
    assert message in str(info.value) and "Traceback" not in str(info.value)
