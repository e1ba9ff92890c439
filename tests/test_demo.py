"""demo/: request logic, pictures, the page's API through gradio_client, a load test.

The models are the shipped saved_models/mnist-dcgan (real weights, with the
encoder and projectors `keras-gan encoder` wrote beside it) and tiny exports
made here with `export_run` (conftest's `exported`): a conditional DCGAN and
a 2D MLP, with a card holding scores, neither with an encoder (a second
service serves the conditional one with a 20-step encoder, for projection).
"""

import dataclasses
import json
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import textwrap
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from demo import render
from demo.card import card_markdown, encoder_rows, metric_rows, scores_markdown
from demo.models import DEFAULT_MODELS, DemoError, load_models
from demo.pictures import shrink
from demo.projecting import (
    NEARBY_SEED,
    NEIGHBOURS,
    image_interpolation,
    model_input,
    project_inputs,
    projection,
)
from demo.service import (
    CLOUD,
    MAX_SEED,
    Limits,
    Service,
    check_class,
    check_seed,
    check_truncation,
    image_path,
    interpolation,
    sample,
)
from export.runtime import slerp, to_uint8

REPO = Path(__file__).resolve().parents[1]
SHIPPED = REPO / "saved_models" / "mnist-dcgan"
# What `keras-gan encoder` writes beside a generator (features: when an evaluator fits).
PROJECTION_FILES = ("encoder.onnx", "projector.onnx", "projector_features.onnx")
TOY_METRICS = {"modes": 8, "num_modes": 8, "high_quality": 0.93, "reverse_kl": 0.012}


@pytest.fixture(scope="module")
def models_dir(exported, tmp_path_factory):
    """mnist (shipped), cond (conditional, tiny), toy (2D, tiny, scored), and two
    folders that are not served: a classifier (no generator.onnx) and a broken one."""
    root = tmp_path_factory.mktemp("demo-models")
    for name, source in (("mnist", SHIPPED), ("cond", exported("dcgan", conditional=True)),
                         ("toy", exported("mlp"))):
        (root / name).mkdir()
        for f in ("generator.onnx", "model.json"):
            shutil.copy(source / f, root / name / f)
    for f in PROJECTION_FILES:
        if (SHIPPED / f).is_file():
            shutil.copy(SHIPPED / f, root / "mnist" / f)
    card = json.loads((root / "toy" / "model.json").read_text())
    card.update(dataset="ring", steps=2000, train_seconds=30.0, metrics=TOY_METRICS)
    (root / "toy" / "model.json").write_text(json.dumps(card))
    (root / "classifier").mkdir()
    (root / "classifier" / "model.json").write_text("{}")
    (root / "broken").mkdir()
    (root / "broken" / "generator.onnx").write_bytes(b"not onnx")
    return root


@pytest.fixture(scope="module")
def service(models_dir, tmp_path_factory):
    return Service.from_folder(models_dir, Limits(), tmp_path_factory.mktemp("outputs"))


@pytest.fixture(scope="module")
def mnist(service):
    return service.model("mnist")


@pytest.fixture(scope="module")
def cond(service):
    return service.model("cond")


@pytest.fixture(scope="module")
def toy(service):
    return service.model("toy")


# -- models and cards ---------------------------------------------------------------


def test_load_models_serves_generators_and_notes_broken_ones(service, models_dir, monkeypatch,
                                                            capfd):
    assert service.names == ["cond", "mnist", "toy"]  # not classifier/ nor broken/
    assert len(service.skipped) == 1 and service.skipped[0].startswith("broken: ")
    assert "not a loadable ONNX model" in service.skipped[0]
    # The command says so, one line per folder it skips, and serves the rest.
    import demo.app
    from keras_gan.cli import build_parser

    served = []
    monkeypatch.setattr(demo.app, "start", lambda service, *args: served.append(service.names))
    monkeypatch.setattr(demo.app.signal, "signal", lambda *args: None)
    args = build_parser().parse_args(["demo", "--models", str(models_dir),
                                      "--port", str(free_port())])
    assert demo.app.serve(args) == 0 and served == [["cond", "mnist", "toy"]]
    out, err = capfd.readouterr()
    assert err.startswith(f"keras-gan demo: skipping broken: {models_dir}/broken/generator.onnx "
                          "is not a loadable ONNX model: ")
    assert err.count("\n") == 1 and out == f"Serving cond, mnist, toy from {models_dir}\n"


def test_load_models_refuses_an_empty_or_missing_folder(tmp_path):
    with pytest.raises(DemoError) as e:
        load_models(tmp_path / "missing", max_batch=8)
    assert str(e.value) == (f"no models folder at {tmp_path}/missing: pass --models DIR, a "
                            "folder of `keras-gan export` outputs")
    with pytest.raises(DemoError) as e:
        load_models(tmp_path, max_batch=8)
    assert str(e.value) == (f"no loadable generator.onnx in the sub-folders of {tmp_path}: "
                            f"export one with `keras-gan export RUN --out {tmp_path}/NAME`")


def test_default_models_folder_is_the_repositorys():
    assert DEFAULT_MODELS == REPO / "saved_models"


def test_kinds(mnist, cond, toy):
    assert not mnist.points and not mnist.conditional and mnist.class_names == []
    assert cond.conditional and cond.class_names == [str(i) for i in range(10)]
    assert toy.points and not toy.conditional


def test_card_markdown(mnist, cond, toy):
    card = json.loads((SHIPPED / "model.json").read_text())  # re-exports change it
    text = card_markdown(mnist)
    assert text.startswith("### mnist")
    assert (f"**{card['gan']}** trained on **{card['dataset']}** for "
            f"**{card['steps']:,} steps**") in text
    assert "28×28×1 images, unconditional" in text
    assert f"latent: {card['latent_dim']} dims" in text
    assert text.endswith(scores_markdown(mnist.card))  # the scores under the summary
    assert "batch_size" not in text  # the training config is the full card's
    assert "conditional on 10 classes" in card_markdown(cond)
    toy_text = card_markdown(toy)
    assert "2D points" in toy_text and "**ring**" in toy_text and "(30 s)" in toy_text
    assert "| **modes covered**<br><sub>higher is better: " in toy_text
    assert "| 8 / 8 | 8 / 8 |" in toy_text and "| 93.0% | 98.9% |" in toy_text
    assert "- data:" not in text  # no attribution on the card, none shown
    credited = dataclasses.replace(mnist, card={**mnist.card, "attribution": "Twemoji, CC-BY"})
    assert "- data: Twemoji, CC-BY" in card_markdown(credited)


def shipped_card(name: str) -> dict:
    return json.loads((REPO / "saved_models" / name / "model.json").read_text())


def shown(rows) -> dict:
    """name -> (value, real data) of card rows."""
    return {r.name: (r.value, r.real) for r in rows}


def test_card_scores_of_digit_models_beside_real_halves():
    card = shipped_card("mnist-dcgan")
    m, ref = card["metrics"], card["metrics"]["reference"]
    rows = metric_rows(card)
    assert [r.name for r in rows] == ["FD", "KID", "score", "precision", "recall",
                                      "rarest class"]  # headline first, none of the rest
    assert shown(rows)["FD"] == (f"{m['fd']:.3g}", f"{ref['fd']:.3g}")
    assert shown(rows)["score"] == (f"{m['score']:.3g}", f"{ref['score']:.3g}")
    assert shown(rows)["rarest class"] == (f"{m['min_class_fraction']:.1%}",
                                           f"{ref['min_class_fraction']:.1%}")
    assert shown(rows)["precision"] == (f"{m['precision']:.3f}", "–")  # no reference: a dash
    assert rows[0].meaning == ("lower is better: Fréchet distance between generated and real "
                               "feature statistics (mean, covariance)")
    assert all(r.meaning.startswith(("lower is better: ", "higher is better"))
               for r in rows)
    cgan_card = shipped_card("mnist-cgan")
    cgan = metric_rows(cgan_card)
    asked = cgan_card["metrics"]["conditional_accuracy"]  # a share: 0.9873 shows as 98.7%
    assert cgan[-1].name == "class as asked" and cgan[-1].value == f"{100 * asked:.1f}%"
    text = scores_markdown(card)
    assert text.startswith("**Scores**: this model beside real data (the same measure "
                           "between two halves of the real data)\n\n"
                           "| measure | this model | real data |\n|---|---|---|\n"
                           "| **FD**<br><sub>lower is better: Fréchet distance ")
    assert f"| {m['fd']:.3g} | {ref['fd']:.3g} |\n" in text
    assert f"<sub>Protocol: {m['protocol']}.</sub>" in text
    assert "command" not in text and "reference.fd" not in text  # no raw keys


def test_card_scores_of_emoji_and_2d_models():
    card = shipped_card("emoji-32")
    m, ref = card["metrics"], card["metrics"]["reference"]
    rows = shown(metric_rows(card))
    assert rows["KID"] == (f"{m['kid']:.4f}", f"{ref['kid']:.4f}")
    assert rows["recall"] == (f"{m['recall']:.3f}", f"{ref['recall']:.3f}")
    assert rows["class imbalance"] == (f"{m['class_kl_to_uniform']:.3f}",
                                       f"{ref['class_kl_to_uniform']:.3f}")
    grid = shipped_card("toy-grid")["metrics"]
    rows = metric_rows(shipped_card("toy-grid"))
    assert shown(rows) == {"modes covered": (f"{grid['modes']} / 25", "25 / 25"),
                           "high quality": (f"{grid['high_quality']:.1%}", "98.9%"),
                           "reverse KL": (f"{grid['reverse_kl']:.2g}", "0")}
    assert rows[1].meaning == ("higher is better: share of samples within 3 std of their "
                               "nearest mode")
    assert "(what samples of the true mixture score, expected)" in scores_markdown(
        shipped_card("toy-grid"))


def test_card_encoder_rows_and_cards_without_scores(mnist):
    card = shipped_card("mnist-dcgan")
    final = card["encoder"]["final"]
    rows = encoder_rows(card)
    assert shown(rows) == {"reconstruction error": (f"{final['image_loss']:.4f}", "–"),
                           "latent error": (f"{final['latent_loss']:.4f}", "–"),
                           "class recovered": (f"{final['class_accuracy']:.1%}", "–")}
    assert ("**Encoder** (for *From your image*, after 4,000 training steps)\n\n| measure | "
            "last epoch |\n|---|---|\n| **reconstruction error**") in scores_markdown(card)
    assert encoder_rows(shipped_card("toy-ring")) == []
    # Nothing measured, or nothing this panel knows, or junk: a line, never an error.
    for metrics in (None, {}, "junk"):
        assert scores_markdown({"metrics": metrics}) == (
            "No scores on the card yet: `keras-gan eval` measures them.")
    assert scores_markdown({"metrics": {"sharpness": 3.5, "fd": "n/a", "reference": 1}}) == (
        "No scores on the card that this panel knows: see the full card below "
        "(`keras-gan eval` measures them).")
    assert shown(metric_rows({"metrics": {"fd": float("nan"), "kid": True}})) == {
        "FD": ("nan", "–")}  # True is no number
    # A hand-written card's odd fields are left out, not a failed page.
    odd = {"steps": "many", "train_seconds": None, "fp16_max_abs_error": "?"}
    text = card_markdown(dataclasses.replace(mnist, card=odd))
    assert "\nA generator.\n" in text and "steps**" not in text and "fp16" not in text
    assert text.endswith("\n\nNo scores on the card yet: `keras-gan eval` measures them.")


def test_the_full_card_is_one_click_away(service, toy):
    """The page's panel: the scores' Markdown, and under it the whole card as
    JSON in a closed accordion; picking a model changes both."""
    import gradio as gr

    from demo.app import build_app

    app = build_app(service)
    (full,) = [b for b in app.blocks.values() if isinstance(b, gr.JSON)]
    assert isinstance(full.parent, gr.Accordion) and full.parent.open is False
    assert full.parent.label == "Full card (model.json)"
    assert full.value == service.model("cond").card  # the first model's
    on_model = next(f for f in app.fns.values() if full in f.outputs)
    out = on_model.fn("toy")
    assert out[on_model.outputs.index(full)] == toy.card
    assert out[0] == card_markdown(toy)


# -- validation ---------------------------------------------------------------------


@pytest.mark.parametrize("seed", [0, 7, 3.0, np.int64(5), MAX_SEED])
def test_check_seed_accepts_whole_numbers(seed):
    assert check_seed(seed) == int(seed) and isinstance(check_seed(seed), int)


@pytest.mark.parametrize("seed, message", [
    (-1, "seed must be between 0 and 4294967295, got -1"),
    (MAX_SEED + 1, "seed must be between 0 and 4294967295, got 4294967296"),
    (1.5, "seed must be a whole number, got 1.5"),
    (float("nan"), "seed must be a whole number, got nan"),
    (float("inf"), "seed must be a whole number, got inf"),
    (True, "seed must be a whole number, got True"),
    ("3", "seed must be a whole number, got '3'"),
    (None, "seed is empty: enter a whole number from 0 to 4294967295"),
])
def test_check_seed_refuses(seed, message):
    with pytest.raises(DemoError) as e:
        check_seed(seed)
    assert str(e.value) == message


def test_check_truncation():
    assert check_truncation(0) is None and check_truncation(None) is None
    assert check_truncation(0.5) == 0.5 and check_truncation(4) == 4.0
    for bad, shown in ((0.05, "0.05"), (-1, "-1"), (4.5, "4.5"), (float("nan"), "nan")):
        with pytest.raises(DemoError) as e:
            check_truncation(bad)
        assert str(e.value) == f"truncation must be 0 (off) or between 0.1 and 4, got {shown}"
    with pytest.raises(DemoError) as e:
        check_truncation(4.5)
    assert str(e.value) == "truncation must be 0 (off) or between 0.1 and 4, got 4.5"


def test_check_class(mnist, cond):
    assert check_class(mnist, "7", allow_all=True) is None  # unconditional: ignored
    assert check_class(cond, "all", allow_all=True) is None  # every class in turn
    assert check_class(cond, "3", allow_all=True) == 3
    assert check_class(cond, 4, allow_all=False) == 4
    assert check_class(cond, None, allow_all=False) == 0
    for bad, shown in (("10", "10"), (-1, "-1"), ("cat", "'cat'"), (2.5, "2.5")):
        with pytest.raises(DemoError) as e:
            check_class(cond, bad, allow_all=True)
        assert str(e.value) == ("class must be one of 0, 1, 2, 3, 4, 5, 6, 7, 8, 9 (or an index "
                                f"0 to 9) for cond, got {shown}")
    with pytest.raises(DemoError) as e:  # an index as text is read as the index
        check_class(cond, "10", allow_all=True)
    assert str(e.value) == ("class must be one of 0, 1, 2, 3, 4, 5, 6, 7, 8, 9 (or an index 0 "
                            "to 9) for cond, got 10")
    with pytest.raises(DemoError) as e:
        check_class(cond, "all", allow_all=False)
    assert str(e.value) == "interpolation needs one class for each end, not 'all'"


# -- sampling -----------------------------------------------------------------------


def test_sample_grid_shape_dtype_and_seeding(mnist):
    picture = sample(mnist, 16, seed=0)
    tile = 28 * 3  # 28 px upscaled x3 to reach MIN_TILE
    assert picture.dtype == np.uint8 and picture.shape == (4 * (tile + 2) + 2,) * 2 + (3,)
    np.testing.assert_array_equal(picture, sample(mnist, 16, seed=0.0))
    assert not np.array_equal(picture, sample(mnist, 16, seed=1))
    # the grid holds the runtime's images: the first tile is image 0, upscaled
    first = mnist.generator.sample(1, seed=0)[0, :, :, 0]
    np.testing.assert_array_equal(picture[2:2 + tile:3, 2:2 + tile:3, 0], first)
    assert sample(mnist, 5, seed=0).shape == (2 * (tile + 2) + 2, 3 * (tile + 2) + 2, 3)


def test_sample_truncation_changes_the_latents(mnist):
    assert not np.array_equal(sample(mnist, 4, seed=0, truncation=0.5),
                              sample(mnist, 4, seed=0))


@pytest.mark.parametrize("n, message", [
    (65, "the number of images must be between 1 and 64, got 65"),
    (0, "between 1 and 64, got 0"),
    (2.5, "whole number"),
])
def test_sample_refuses_counts(mnist, n, message):
    with pytest.raises(DemoError, match=message):
        sample(mnist, n, seed=0)


def test_conditional_sample_honours_the_class(cond):
    threes = sample(cond, 4, seed=0, label="3")
    expected = render.grid(cond.generator.sample(4, seed=0, labels=3))
    np.testing.assert_array_equal(threes, expected)
    assert not np.array_equal(threes, sample(cond, 4, seed=0, label="4"))
    cycling = render.grid(cond.generator.sample(4, seed=0, labels=[0, 1, 2, 3]))
    np.testing.assert_array_equal(sample(cond, 4, seed=0, label="all"), cycling)


def test_points_sample_is_a_scatter_plot(toy):
    plot = sample(toy, 1000, seed=0)  # over max_images: points have their own cap
    assert plot.shape == (480, 480, 3) and plot.dtype == np.uint8
    np.testing.assert_array_equal(plot, sample(toy, 1000, seed=0))
    assert not np.array_equal(plot, sample(toy, 1000, seed=1))
    with pytest.raises(DemoError) as e:
        sample(toy, 1025, seed=0)
    assert str(e.value) == "the number of samples must be between 1 and 1024, got 1025"


# -- interpolation ------------------------------------------------------------------


def test_interpolation_strip_and_frames(mnist):
    strip, frames = interpolation(mnist, 0, 1, steps=8)
    assert strip.dtype == np.uint8 and strip.shape == (28 * 3 + 4, 8 * (28 * 3 + 2) + 2, 3)
    assert len(frames) == 8
    assert all(f.shape == (168 + render.BAR, 168, 3) for f in frames)
    path = mnist.generator.interpolate(0, 1, 8, method="slerp")
    np.testing.assert_array_equal(strip, render.grid(path, cols=8))
    lerp, _ = interpolation(mnist, 0, 1, steps=8, method="lerp")
    assert not np.array_equal(strip, lerp)


@pytest.mark.parametrize("kwargs, message", [
    (dict(steps=33), "steps must be between 2 and 32, got 33"),
    (dict(steps=1), "steps must be between 2 and 32, got 1"),
    (dict(method="cubic"), "method must be 'slerp' or 'lerp', got 'cubic'"),
    (dict(seed_a=-3), "seed A must be between 0 and 4294967295, got -3"),
    (dict(seed_b=0.5), "seed B must be a whole number, got 0.5"),
])
def test_interpolation_refuses(mnist, kwargs, message):
    args = dict(seed_a=0, seed_b=1, steps=4, method="slerp") | kwargs
    with pytest.raises(DemoError) as e:
        interpolation(mnist, **args)
    assert str(e.value) == message


def test_conditional_interpolation_switches_class_halfway(cond):
    strip, frames = interpolation(cond, 0, 1, steps=6, class_a="2", class_b="5")
    path = cond.generator.interpolate(0, 1, 6, labels=(2, 5))
    np.testing.assert_array_equal(strip, render.grid(path, cols=6))
    same, _ = interpolation(cond, 0, 1, steps=6, class_a="2")  # class B defaults to A
    np.testing.assert_array_equal(same, render.grid(
        cond.generator.interpolate(0, 1, 6, labels=2), cols=6))


def test_points_interpolation_draws_the_path(toy):
    strip, frames = interpolation(toy, 0, 1, steps=5)
    assert strip.shape == (480, 480, 3) and len(frames) == 5
    assert frames[0].shape == (360 + render.BAR, 360, 3)
    assert not np.array_equal(frames[0], frames[-1])


# -- the service's files ------------------------------------------------------------


def test_service_writes_the_png_and_a_gif_of_n_frames(service, mnist, cond):
    path = service.sample("mnist", 3, 9, 0, "all")
    assert path.name == "mnist_seed3_n9.png" and path.parent == service.outputs
    np.testing.assert_array_equal(np.asarray(Image.open(path)), sample(mnist, 9, 3))
    png, gif = service.interpolate("cond", 0, 1, 7, "lerp", "1", "2")
    assert png.name == "cond_lerp_0-1_7steps_class1-2.png" and gif.suffix == ".gif"
    with Image.open(gif) as im:
        assert im.n_frames == 7 and im.info["loop"] == 0
    assert not list(service.outputs.glob("tmp*"))  # written through temporary names


def test_service_refuses_unknown_models(service):
    with pytest.raises(DemoError, match="unknown model 'nope'; this demo serves cond, "
                                        "mnist, toy"):
        service.sample("nope", 0, 4)


def test_limits_are_checked():
    with pytest.raises(DemoError, match="max_steps must be at least 2"):
        Limits(max_steps=1)
    for bad in (-1, 2001):
        with pytest.raises(DemoError, match=f"max_projection_steps must be between 0 and "
                                            f"2000, got {bad}"):
            Limits(max_projection_steps=bad)
    assert Limits(max_projection_steps=0).max_projection_steps == 0  # the encoder alone
    assert Limits(max_images=8, max_points=16, max_steps=4).max_batch == CLOUD


def test_render_grid_layout():
    images = np.arange(5 * 2 * 3, dtype=np.uint8).reshape(5, 2, 3, 1)
    out = render.grid(images, pad=1, min_tile=1)
    assert out.shape == (2 * 3 + 1, 3 * 4 + 1, 3)  # 3 columns, 2 rows of 2x3 tiles
    np.testing.assert_array_equal(out[4:6, 5:8, 0], images[4, :, :, 0])  # row 1, col 1
    assert (out[:, 0] == render.BACKGROUND).all()
    with pytest.raises(ValueError, match="expected uint8 images"):
        render.grid(np.zeros((2, 4, 4, 1), np.float32))


# -- projection: the user's pictures -> latents --------------------------------------

GRID_TILE = 28 * 3  # render.MIN_TILE: grids and strips upscale 28 px x3
PAIR_TILE = render.GIF_TILE  # the input | G(z) pair: x6


@pytest.fixture(scope="module")
def held_out():
    """Digits the encoder never saw (the evaluator's held-out rows), as a PNG's
    pixels: uint8 (8, 28, 28)."""
    from keras_gan.evaluation.classifiers import mnist_splits

    (_, _), (x, _) = mnist_splits()
    return to_uint8(x[:8, ..., 0])


def drawing(kind: str = "one", size: int = 280, rgba: bool = False) -> np.ndarray:
    """What the sketch pad sends: black strokes on white (RGB) or on a
    transparent canvas (RGBA), about MNIST's stroke for the size."""
    from PIL import ImageDraw

    image = Image.new("RGBA", (size, size), (0, 0, 0, 0) if rgba else (255, 255, 255, 255))
    strokes = {"one": [(150, 40), (135, 240)], "seven": [(70, 50), (210, 50), (120, 240)]}
    ImageDraw.Draw(image).line(strokes[kind], fill=(0, 0, 0, 255), width=size // 14)
    return np.asarray(image if rgba else image.convert("RGB"))


def tile(picture: np.ndarray, i: int, cols: int, size: int, pad: int = 2) -> np.ndarray:
    """Tile i of a render.grid picture, back at the model's 28 px (one channel)."""
    r, c = divmod(i, cols)
    y, x = pad + r * (size + pad), pad + c * (size + pad)
    k = size // 28
    return picture[y:y + size:k, x:x + size:k, 0]


def test_projection_of_a_held_out_digit(mnist, held_out):
    digit = held_out[0]
    pair, nearby, text, found = projection(mnist, digit, steps=20, radius=0.3)
    # The model sees the digit itself (28x28 grey: only scaled), beside G(z).
    np.testing.assert_array_equal(tile(pair, 0, 2, PAIR_TILE), digit)
    np.testing.assert_array_equal(tile(pair, 1, 2, PAIR_TILE), to_uint8(found.images[0, ..., 0]))
    assert found.steps == 20 and found.error[0] < 0.2  # an inverted digit would be ~1
    assert text.startswith(f"**pixel error {found.error[0]:.4f}** (mean squared, on [-1, 1]) "
                           "after 20 refinement steps")
    assert text.endswith("; the picture was scaled 0-255 to 0-1.")
    # Nearby: 3x3, G(z) in the middle, neighbours that differ from it.
    assert nearby.shape == (3 * (GRID_TILE + 2) + 2,) * 2 + (3,)
    centre = to_uint8(mnist.generator.run(found.z))[0, ..., 0]
    np.testing.assert_array_equal(tile(nearby, 4, 3, GRID_TILE), centre)
    assert all(not np.array_equal(tile(nearby, i, 3, GRID_TILE), centre) for i in (0, 8))
    # They are G(z + 0.3 e), e ~ N(0, I) from NEARBY_SEED; mnist-dcgan is a
    # clustered GAN, whose z[0] picks the digit's cluster: kept.
    assert mnist.clustered
    z = found.z[0]
    e = np.random.default_rng(NEARBY_SEED).standard_normal((NEIGHBOURS, z.size))
    e[:, 0] = 0
    latents = np.insert(z + (0.3 * e).astype(np.float32), NEIGHBOURS // 2, z, axis=0)
    np.testing.assert_array_equal(
        nearby, render.grid(to_uint8(mnist.generator.run(latents)), cols=3))
    again = projection(mnist, digit, steps=20, radius=0.3)  # seeded: the same pictures
    np.testing.assert_array_equal(again[0], pair)
    np.testing.assert_array_equal(again[1], nearby)
    still = projection(mnist, digit, steps=0, radius=0)[1]  # radius 0: nine times G(z)
    assert all(np.array_equal(tile(still, i, 3, GRID_TILE), tile(still, 4, 3, GRID_TILE))
               for i in range(9))


def test_refinement_lowers_the_loss_and_never_raises_it(mnist, held_out):
    inputs = [model_input(mnist, digit)[0] for digit in held_out]
    encoded, refined = (project_inputs(mnist, inputs, steps) for steps in (0, 50))
    assert (refined.loss <= encoded.loss + 1e-6).all()  # the best latent seen is kept
    assert (refined.loss < encoded.loss - 1e-4).any()  # and steps do find better ones
    # The encoder alone lands near real digits; a broken conversion would not.
    assert encoded.error.max() < 0.25 and refined.error.mean() < 0.15


@pytest.mark.parametrize("rgba", [False, True], ids=["on-white", "on-transparent"])
def test_a_drawing_is_inverted_and_centred_like_mnist(mnist, rgba):
    sketch = drawing("one", rgba=rgba)
    x, notes = model_input(mnist, sketch)
    assert "inverted (dark on light -> light on dark)" in notes
    assert any(n.startswith("cropped to the drawing") for n in notes)
    assert ("composited alpha onto the background" in notes) == rgba
    # White strokes on black, centred by their box.
    assert x.shape == (28, 28, 1) and x.max() > 0.9
    assert (x[[0, -1]] == -1).all() and (x[:, [0, -1]] == -1).all()
    ink = (x[..., 0] + 1) / 2
    rows, cols = np.mgrid[:28, :28]
    assert abs((rows * ink).sum() / ink.sum() - 13.5) < 1.5
    assert abs((cols * ink).sum() / ink.sum() - 13.5) < 1.5
    # The image editor's value: its composite is what is projected.
    editor = {"background": None, "layers": [sketch], "composite": sketch}
    np.testing.assert_array_equal(model_input(mnist, editor)[0], x)
    _, _, text, found = projection(mnist, sketch, steps=0)
    assert "from the encoder alone (0 refinement steps)" in text and "inverted" in text
    assert found.error[0] < 0.2


def test_a_large_picture_is_shrunk_first(mnist):
    x, notes = model_input(mnist, drawing("one", size=1200))
    assert notes[0] == "shrunk 1200x1200 -> 400x400 (box average)"
    assert x.shape == (28, 28, 1) and x.max() > 0.9
    # Box averages, colour weighted by alpha: a transparent pixel's colour is no colour.
    rgba = np.zeros((6, 6, 4), np.uint8)
    rgba[..., 3] = 255
    rgba[:3, :3, :3] = 90
    rgba[3, :3] = (255, 0, 0, 0)
    out = shrink(rgba, 2)
    assert out.dtype == np.uint8 and out.shape == (2, 2, 4)
    np.testing.assert_array_equal(out[0, 0], [90, 90, 90, 255])
    np.testing.assert_array_equal(out[1, 0], [0, 0, 0, 170])  # 6 of 9 pixels opaque black
    grey = np.arange(16, dtype=np.float32).reshape(4, 4, 1) / 16
    np.testing.assert_allclose(shrink(grey, 2)[..., 0], [[2.5, 4.5], [10.5, 12.5]] / np.float32(16))


@pytest.mark.parametrize("name, image, steps, radius, message", [
    ("mnist", None, 20, 0.3, "image A is empty: draw on it or upload a picture"),
    ("mnist", {"background": None, "layers": [], "composite": None}, 20, 0.3,
     "image A is empty: draw on it or upload a picture"),
    ("mnist", np.full((280, 280, 3), 255, np.uint8), 20, 0.3,
     "image A is blank (one flat colour): draw on it or upload a picture"),
    ("mnist", np.zeros((280, 280, 4), np.uint8), 20, 0.3,
     "image A is blank: draw on it or upload a picture"),
    ("mnist", np.zeros((4097, 10), np.uint8), 20, 0.3,
     "image A is 4097 pixels high and 10 wide: at most 4096 on a side, shrink it first"),
    ("mnist", np.zeros((2, 28, 28, 1), np.uint8), 20, 0.3,
     "image A must be a picture (height, width) or (height, width, 1 to 4 channels), got "
     "shape (2, 28, 28, 1)"),
    ("mnist", "digit.png", 20, 0.3, "image A must be a picture, got 'digit.png'"),
    ("mnist", "drawing", 201, 0.3, "refinement steps must be between 0 and 200, got 201"),
    ("mnist", "drawing", 2.5, 0.3, "refinement steps must be a whole number, got 2.5"),
    ("mnist", "drawing", 20, 2.5, "radius must be between 0 and 2, got 2.5"),
    ("toy", "drawing", 20, 0.3, "toy makes 2D points: a 2D points model has no images to "
                                "project"),
])
def test_projection_refuses(service, name, image, steps, radius, message):
    image = drawing() if isinstance(image, str) and image == "drawing" else image
    with pytest.raises(DemoError) as e:
        service.project(name, image, steps, radius)
    assert str(e.value) == message


def big_png(path: Path, width: int, height: int) -> Path:
    """A black PNG written by hand, one bit a pixel: at 30,000 x 30,000 it is
    about 110 kB, and more pixels than PIL will open (a decompression bomb)."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data)))

    deflate, row = zlib.compressobj(9), bytes(1 + (width + 7) // 8)  # filter 0, black
    idat = b"".join(deflate.compress(row) for _ in range(height)) + deflate.flush()
    path.write_bytes(b"\x89PNG\r\n\x1a\n"
                     + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0))
                     + chunk(b"IDAT", idat) + chunk(b"IEND", b""))
    return path


# (width, height): over PIL's bomb limit (it refuses to open it), over its
# warning limit (it would decode 576 MB of RGBA), and under both (ours alone).
OVERSIZED = [(30000, 30000), (12000, 12000), (20, 5000)]


def oversized_message(size, what="image A") -> str:
    width, height = size
    return (f"{what} is {height} pixels high and {width} wide: at most 4096 on a side, "
            "shrink it first")


@pytest.fixture(scope="module")
def oversized(tmp_path_factory):
    root = tmp_path_factory.mktemp("oversized")
    return {size: big_png(root / "{}x{}.png".format(*size), *size) for size in OVERSIZED}


def uploaded(source) -> dict:
    """The image editor's value as `demo.app`'s editor hands it over: the
    upload's path (a Path), or the bytes the page's canvas sent."""
    return {"background": source, "layers": [], "composite": source}


def test_pil_alone_refuses_or_warns_about_the_oversized_pngs(oversized):
    with pytest.raises(Image.DecompressionBombError):
        Image.open(oversized[30000, 30000])
    with pytest.warns(Image.DecompressionBombWarning), Image.open(oversized[12000, 12000]) as im:
        assert im.size == (12000, 12000)


@pytest.mark.parametrize("size", OVERSIZED, ids=lambda s: "{}x{}".format(*s))
@pytest.mark.parametrize("as_bytes", [False, True], ids=["upload", "canvas"])
def test_every_oversized_upload_is_one_line_before_it_is_decoded(service, oversized, recwarn,
                                                                 monkeypatch, size, as_bytes):
    from PIL import ImageFile

    def decode(self):
        raise AssertionError("decoded an oversized picture")

    monkeypatch.setattr(ImageFile.ImageFile, "load", decode)  # no pixel may be read
    source = oversized[size].read_bytes() if as_bytes else oversized[size]
    with pytest.raises(DemoError) as e:
        service.project("mnist", uploaded(source), 20, 0.3)
    assert str(e.value) == oversized_message(size)
    with pytest.raises(DemoError) as e:
        service.interpolate_images("mnist", drawing(), uploaded(source), 0, 4)
    assert str(e.value) == oversized_message(size, "image B")
    assert not [w for w in recwarn if w.category is Image.DecompressionBombWarning]


def test_an_upload_is_read_as_the_editor_gave_it(service, mnist, held_out, tmp_path):
    path = tmp_path / "digit.png"
    Image.fromarray(held_out[1]).save(path)
    pair, nearby, expected, _ = projection(mnist, np.asarray(Image.open(path).convert("RGBA")),
                                           0, 0.3)
    for source in (path, path.read_bytes()):
        png, text, near = service.project("mnist", uploaded(source), 0, 0.3)
        np.testing.assert_array_equal(read(png), pair)
        assert text == expected
    (tmp_path / "notes.png").write_text("no picture")
    for source, message in (
            (tmp_path / "notes.png",
             "image A is not a picture this demo can read: upload a PNG, JPEG or WebP"),
            (path.read_bytes()[:200],
             "image A is a damaged picture file: its pixels could not be read")):
        with pytest.raises(DemoError) as e:
            service.project("mnist", uploaded(source), 0, 0.3)
        assert str(e.value) == message
    with pytest.raises(DemoError, match="image A must be a picture, got '/"):
        service.project("mnist", uploaded(str(path)), 0, 0.3)  # a path as text: never opened


def test_a_model_without_an_encoder_says_how_to_make_one(service, models_dir):
    message = (f"cond has no encoder: make one with `keras-gan encoder {models_dir.name}/cond`")
    with pytest.raises(DemoError) as e:
        service.project("cond", drawing(), 20, 0.3)
    assert str(e.value) == message
    with pytest.raises(DemoError) as e:
        service.interpolate_images("cond", drawing(), drawing("seven"), 20, 6)
    assert str(e.value) == message
    assert service.sample("cond", 0, 4).is_file()  # still served for sampling


def test_service_projection_defaults_are_the_projecting_modules():
    import inspect

    from demo import projecting

    def defaults(method):
        return {k: p.default for k, p in inspect.signature(method).parameters.items()
                if p.default is not p.empty}

    assert defaults(Service.project) == {"steps": projecting.DEFAULT_PROJECTION_STEPS,
                                         "radius": projecting.DEFAULT_RADIUS}
    assert defaults(Service.interpolate_images) == {
        "steps": projecting.DEFAULT_PROJECTION_STEPS, "frames": projecting.DEFAULT_FRAMES}


def test_image_interpolation_walks_between_the_projections(service, mnist, held_out):
    a, b = held_out[0], drawing("seven")
    png, gif = service.interpolate_images("mnist", a, b, 0, 7)
    strip = read(png)
    assert strip.shape == (GRID_TILE + 4, 7 * (GRID_TILE + 2) + 2, 3)
    with Image.open(gif) as im:
        assert im.n_frames == 7 and im.info["loop"] == 0
    found = project_inputs(mnist, [model_input(mnist, a)[0], model_input(mnist, b)[0]], 0)
    t = np.linspace(0.0, 1.0, 7)
    # mnist-dcgan is clustered: z[0] (the cluster) switches halfway, the rest slerps.
    z = np.empty((7, found.z.shape[1]), np.float32)
    z[:, 0] = np.where(t < 0.5, found.z[0, 0], found.z[1, 0])
    z[:, 1:] = slerp(found.z[0, 1:], found.z[1, 1:], t)
    path = to_uint8(mnist.generator.run(z))
    np.testing.assert_array_equal(strip, image_path(path)[0])
    ends = to_uint8(mnist.generator.run(found.z))[..., 0]  # the path starts at A, ends at B
    assert np.abs(tile(strip, 0, 7, GRID_TILE).astype(int) - ends[0]).max() <= 1
    assert np.abs(tile(strip, 6, 7, GRID_TILE).astype(int) - ends[1]).max() <= 1
    assert png.name.endswith("_0steps_7frames.png") and gif.suffix == ".gif"
    assert service.interpolate_images("mnist", a, b, 0, 7) == (png, gif)  # same request
    for args, message in (((a, np.full((9, 9), 7, np.uint8), 0, 7), "image B is blank"),
                          ((a, b, 0, 33), "frames must be between 2 and 32, got 33"),
                          ((None, b, 0, 7), "image A is empty")):
        with pytest.raises(DemoError, match=re.escape(message)):
            service.interpolate_images("mnist", *args)


@pytest.fixture(scope="module")
def cgan(exported, tmp_path_factory):
    """The tiny conditional model with a 20-step encoder (`keras-gan encoder`'s
    own function, a few seconds), served by a service of its own."""
    from keras_gan.models.encoder import encoder_for

    root = tmp_path_factory.mktemp("demo-cgan")
    shutil.copytree(exported("dcgan", conditional=True), root / "cgan")
    encoder_for(root / "cgan", dataset="mnist-sample", steps=20, batch_size=16,
                feature_weight=0)
    return Service.from_folder(root, Limits(), tmp_path_factory.mktemp("cgan-out")).model("cgan")


def test_conditional_projection_keeps_the_encoders_class(cgan, held_out):
    _, nearby, text, found = projection(cgan, held_out[0], steps=2, radius=0.5)
    label = int(found.labels[0])
    assert f"; class **{label}** (the encoder's pick);" in text
    z = found.z[0]
    e = np.random.default_rng(NEARBY_SEED).standard_normal((NEIGHBOURS, z.size))
    latents = np.insert(z + (0.5 * e).astype(np.float32), NEIGHBOURS // 2, z, axis=0)
    expected = render.grid(to_uint8(cgan.generator.run(latents, label)), cols=3)
    np.testing.assert_array_equal(nearby, expected)  # all nine in the projected class


def test_conditional_image_interpolation_switches_class_halfway(cgan, held_out):
    a, b = held_out[0], drawing("seven")
    strip, frames = image_interpolation(cgan, a, b, steps=1, frames=6)
    found = project_inputs(cgan, [model_input(cgan, a)[0], model_input(cgan, b)[0]], 1)
    t = np.linspace(0.0, 1.0, 6)
    labels = np.where(t < 0.5, found.labels[0], found.labels[1])
    path = to_uint8(cgan.generator.run(slerp(found.z[0], found.z[1], t), labels))
    np.testing.assert_array_equal(strip, image_path(path)[0])
    assert len(frames) == 6


# -- no TensorFlow, lazy imports ----------------------------------------------------

NO_TF = textwrap.dedent("""
    import sys

    def loaded(*names):
        return sorted(n for n in names if any(
            m == n or m.startswith(n + ".") for m in sys.modules if sys.modules[m]))

    import demo, demo.app, demo.card, demo.checks, demo.models, demo.pictures
    import demo.projecting, demo.render, demo.service
    import demo.translate_tab, demo.translating, demo.translators
    print("AT_IMPORT", loaded("gradio", "onnxruntime", "tensorflow", "keras", "keras_gan"))
    from demo.service import Service
    service = Service.from_folder(sys.argv[1])
    demo.app.build_app(service)
    service.sample(service.names[0], 0, 4)
    print("APP", loaded("tensorflow", "keras", "keras_gan", "tf_keras", "torch"))
    from keras_gan.cli import build_parser
    args = build_parser().parse_args(["demo", "--models", sys.argv[1]])
    print("CLI", loaded("tensorflow", "keras"), args.run.__name__)
""")


def test_demo_never_imports_tensorflow(models_dir):
    proc = subprocess.run([sys.executable, "-c", NO_TF, str(models_dir)], cwd=REPO,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    lines = dict(line.split(" ", 1) for line in proc.stdout.strip().splitlines())
    assert lines["AT_IMPORT"] == "[]"  # gradio and onnxruntime come when used
    assert lines["APP"] == "[]"
    assert lines["CLI"] == "[] _demo"


def test_cli_defaults_and_a_bad_models_folder(tmp_path, capsys):
    from keras_gan.cli import build_parser, main

    args = build_parser().parse_args(["demo"])
    assert (args.models, args.host, args.port) == (str(DEFAULT_MODELS), "127.0.0.1", 7860)
    assert (args.max_images, args.max_steps, args.concurrency) == (64, 32, 2)
    assert args.max_projection_steps == 200
    assert build_parser().parse_args(["demo", "--max-projection-steps", "0"]
                                     ).max_projection_steps == 0  # the encoder alone
    assert main(["demo", "--models", str(tmp_path / "missing")]) == 2
    assert capsys.readouterr().err == (f"keras-gan demo: error: no models folder at "
                                       f"{tmp_path}/missing: pass --models DIR, a folder of "
                                       "`keras-gan export` outputs\n")
    (tmp_path / "broken").mkdir()  # nothing loadable: one line, with the reason
    (tmp_path / "broken" / "generator.onnx").write_bytes(b"not onnx")
    assert main(["demo", "--models", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"keras-gan demo: error: no loadable generator.onnx in the "
                          f"sub-folders of {tmp_path}: export one with `keras-gan export RUN "
                          f"--out {tmp_path}/NAME`; skipped broken: {tmp_path}/broken/"
                          "generator.onnx is not a loadable ONNX model: ")
    assert err.count("\n") == 1
    with pytest.raises(SystemExit):  # argparse: its usage block, then the one error line
        main(["demo", "--max-images", "0"])
    lines = capsys.readouterr().err.splitlines()
    assert lines[0].startswith("usage: keras-gan demo ")
    assert lines[-1] == "keras-gan demo: error: argument --max-images: must be at least 1, got 0"


# -- the page's API, on a live server ------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def launch_demo(models, log_path, *flags, timeout=90):
    """`python -m demo` on a free port, in a subprocess (its own GIL, like a real
    server); returns (process, url) once the page answers."""
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    with open(log_path, "w") as log:  # the server writes to its own copy of the handle
        proc = subprocess.Popen([sys.executable, "-m", "demo", "--models", str(models),
                                 "--port", str(port), *flags], cwd=REPO, stdout=log,
                                stderr=subprocess.STDOUT)
    no_proxy = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"python -m demo exited with {proc.returncode}:\n"
                                 f"{Path(log_path).read_text()}")
        try:
            with no_proxy.open(url, timeout=2) as response:
                if response.status == 200:
                    return proc, url
        except OSError:
            time.sleep(0.25)
    proc.kill()
    raise AssertionError(f"python -m demo did not answer at {url} within {timeout} s:\n"
                         f"{Path(log_path).read_text()}")


def stop(proc):
    """Ctrl+C, as a user stops it: gradio closes and the outputs folder goes."""
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def serve_client(models_dir, tmp_path_factory):
    """Yields a gradio_client Client of a demo serving `models_dir`, then the
    server's log file; stops the server after."""
    from gradio_client import Client

    log = tmp_path_factory.mktemp("server") / "demo.log"
    proc, url = launch_demo(models_dir, log)
    try:
        yield Client(url, verbose=False), log
    finally:
        stop(proc)


@pytest.fixture(scope="module")
def client(models_dir, tmp_path_factory):
    serving = serve_client(models_dir, tmp_path_factory)
    served, log = next(serving)
    yield served
    next(serving, None)  # stops the server
    assert "Serving cond, mnist, toy" in log.read_text()


def read(path) -> np.ndarray:
    with Image.open(path) as im:
        return np.asarray(im.convert("RGB"))


def test_api_sample(client, mnist):
    image = client.predict("mnist", 0, 16, 0, "all", api_name="/sample")
    np.testing.assert_array_equal(read(image), sample(mnist, 16, 0))
    assert Path(image).name == "mnist_seed0_n16.png"  # the name the download gets


def test_api_conditional_and_points(client, cond, toy):
    image = client.predict("cond", 5, 4, 0, "3", api_name="/sample")
    np.testing.assert_array_equal(read(image), sample(cond, 4, 5, label="3"))
    image = client.predict("toy", 0, 500, 0, "all", api_name="/sample")
    np.testing.assert_array_equal(read(image), sample(toy, 500, 0))


def test_api_interpolate(client, cond):
    strip, gif = client.predict("cond", 0, 1, 6, "slerp", "2", "5", api_name="/interpolate")
    expected, _ = interpolation(cond, 0, 1, 6, "slerp", "2", "5")
    np.testing.assert_array_equal(read(strip), expected)
    with Image.open(gif) as im:
        assert im.format == "GIF" and im.n_frames == 6


@pytest.mark.parametrize("args, message", [
    (("mnist", -1, 4, 0, "all"), "seed must be between 0 and 4294967295, got -1"),
    (("mnist", 1.5, 4, 0, "all"), "seed must be a whole number, got 1.5"),
    (("mnist", 0, 65, 0, "all"), "number of images must be between 1 and 64, got 65"),
    (("mnist", 0, 4, 0.05, "all"), "truncation must be 0 (off) or between 0.1 and 4"),
    (("mnist", 0, 4, 9, "all"), "greater than maximum"),  # gradio's slider bound
    (("cond", 0, 4, 0, "12"), "class must be one of 0, 1"),
    (("nope", 0, 4, 0, "all"), "nope"),  # gradio's dropdown: not in the choices
])
def test_api_refuses_bad_requests_with_a_message(client, args, message):
    from gradio_client.exceptions import AppError

    with pytest.raises(AppError) as info:
        client.predict(*args, api_name="/sample")
    assert message in str(info.value) and "Traceback" not in str(info.value)


def test_api_refuses_too_many_steps(client):
    from gradio_client.exceptions import AppError

    with pytest.raises(AppError, match="greater than maximum value 32"):
        client.predict("mnist", 0, 1, 33, "slerp", "0", "0", api_name="/interpolate")
    with pytest.raises(AppError, match="seed B must be a whole number"):
        client.predict("mnist", 0, 0.5, 4, "slerp", "0", "0", api_name="/interpolate")


def editor_value(path) -> dict:
    """The image editor's value as gradio_client sends an uploaded picture."""
    from gradio_client import handle_file

    return {"background": handle_file(str(path)), "layers": [],
            "composite": handle_file(str(path))}


def test_api_project(client, mnist, held_out, tmp_path):
    path = tmp_path / "digit.png"
    Image.fromarray(held_out[1]).save(path)
    png, text, nearby = client.predict("mnist", editor_value(path), 20, 0.3,
                                       api_name="/project")
    # The page hands the service the PNG as RGBA (the editor's image_mode).
    rgba = np.asarray(Image.open(path).convert("RGBA"))
    pair, near, expected, _ = projection(mnist, rgba, 20, 0.3)
    np.testing.assert_array_equal(read(png), pair)
    np.testing.assert_array_equal(read(nearby), near)
    assert text == expected and text.startswith("**pixel error ")


def test_api_interpolate_images(client, tmp_path):
    a, b = tmp_path / "a.png", tmp_path / "b.png"
    Image.fromarray(drawing("one", rgba=True)).save(a)
    Image.fromarray(drawing("seven")).save(b)
    strip, gif = client.predict("mnist", editor_value(a), editor_value(b), 5, 6,
                                api_name="/interpolate_images")
    assert read(strip).shape == (GRID_TILE + 4, 6 * (GRID_TILE + 2) + 2, 3)
    with Image.open(gif) as im:
        assert im.format == "GIF" and im.n_frames == 6


@pytest.mark.parametrize("name, picture, steps, message", [
    ("mnist", "blank", 20, "image A is blank (one flat colour): draw on it or upload a picture"),
    ("mnist", None, 20, "image A is empty: draw on it or upload a picture"),
    ("mnist", "drawing", 201, "greater than maximum value 200"),  # gradio's slider bound
    ("cond", "drawing", 20, "cond has no encoder: make one with `keras-gan encoder "),
    ("toy", "drawing", 20, "a 2D points model has no images to project"),
])
def test_api_project_refuses_with_a_message(client, tmp_path, name, picture, steps, message):
    from gradio_client.exceptions import AppError

    value = {"background": None, "layers": [], "composite": None}
    if picture is not None:
        path = tmp_path / "picture.png"
        Image.fromarray(np.full((64, 64), 255, np.uint8) if picture == "blank"
                        else drawing()).save(path)
        value = editor_value(path)
    with pytest.raises(AppError) as info:
        client.predict(name, value, steps, 0.3, api_name="/project")
    assert message in str(info.value) and "Traceback" not in str(info.value)


@pytest.mark.parametrize("size", OVERSIZED[:2], ids=lambda s: "{}x{}".format(*s))
def test_api_refuses_an_oversized_upload_in_one_line(client, oversized, size):
    """The page's own message, not gradio's "The upstream Gradio app has raised
    an exception" (its editor decoded the upload first: PIL's bomb error)."""
    from gradio_client.exceptions import AppError

    with pytest.raises(AppError) as info:
        client.predict("mnist", editor_value(oversized[size]), 20, 0.3, api_name="/project")
    assert str(info.value) == oversized_message(size)


def test_load_50_concurrent_samples(client, capsys):
    """50 requests at once (16 images each) all succeed; the server's queue runs
    two at a time (--concurrency 2, the default)."""

    def one(seed):
        t0 = time.perf_counter()
        image = client.predict("mnist", seed, 16, 0, "all", api_name="/sample")
        return time.perf_counter() - t0, read(image)

    t0 = time.perf_counter()
    with ThreadPoolExecutor(max_workers=50) as pool:
        results = list(pool.map(one, range(50)))
    wall = time.perf_counter() - t0
    latencies = sorted(r[0] for r in results)
    assert len({r[1].tobytes() for r in results}) == 50  # 50 different seeds, pictures
    with capsys.disabled():
        print(f"\nload test: 50 concurrent /sample (16 images each), concurrency 2: "
              f"median {statistics.median(latencies):.2f} s, worst {latencies[-1]:.2f} s, "
              f"all in {wall:.2f} s")


# -- trust boundaries: the address and the files it serves ---------------------------


def test_launch_binds_this_machine_and_allows_no_extra_paths(service, monkeypatch):
    import gradio as gr

    from demo.app import start

    seen = {}
    monkeypatch.setattr(gr.Blocks, "launch", lambda self, **kwargs: seen.update(kwargs))
    start(service)
    assert seen["server_name"] == "127.0.0.1"
    assert not seen.get("allowed_paths") and not seen.get("share")


def test_api_serves_no_file_but_its_outputs(client, models_dir):
    """gradio serves what a button returned (copied into its cache) and
    nothing else: not the models, not the repository, not the system."""
    from gradio_client import Client

    base = client.src.rstrip("/")
    no_proxy = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    def status(url):
        try:
            with no_proxy.open(url, timeout=10) as response:
                return response.status
        except urllib.error.HTTPError as e:
            return e.code

    output = Client(base, verbose=False, download_files=False).predict(
        "mnist", 0, 4, 0, "all", api_name="/sample")
    assert status(output["url"]) == 200
    cache = Path(output["path"]).parent
    for path in (models_dir / "mnist" / "generator.onnx", models_dir / "toy" / "model.json",
                 REPO / "README.md", "README.md", "saved_models/mnist-dcgan/generator.onnx",
                 "/etc/passwd", f"{cache}/../../../etc/passwd"):
        assert status(f"{base}/gradio_api/file={path}") == 403, path
