"""demo/guessing.py and the classifier beside a semi-supervised GAN's
generator: loading it, its guess for a user's picture through the service,
the page's widget, and the `/guess` API through gradio_client.

The models: ssgan/ (a tiny `--gan ssgan` run, exported by `export_run`:
generator.onnx and classifier.onnx), plain/ (a generator alone), and two
folders whose classifier.onnx is not served: mismatch/ (a classifier of
other pictures than its generator's) and broken/ (not ONNX).
"""

import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from test_classifier import small_classifier, train_tiny_ssgan
from test_demo import drawing, editor_value, serve_client

from demo.card import card_markdown
from demo.guessing import guess
from demo.models import DemoError
from demo.projecting import model_input
from demo.service import Service

REPO = Path(__file__).resolve().parents[1]
EMPTY = "image A is empty: draw on it or upload a picture"


def make_models(root: Path, generator: Path) -> Path:
    """root/models/ as above (the run trained in root/run); `generator`: an
    export folder whose generator.onnx the other three serve."""
    from export.classifier import export_classifier
    from keras_gan.training.run_folder import export_run

    train_tiny_ssgan(root / "run")
    models = root / "models"
    export_run(root / "run", models / "ssgan")
    for name in ("plain", "mismatch", "broken"):
        (models / name).mkdir()
        for f in ("generator.onnx", "model.json"):
            shutil.copy(generator / f, models / name / f)
    export_classifier(small_classifier(), models / "mismatch")  # 8x8 pictures
    (models / "broken" / "classifier.onnx").write_bytes(b"not onnx")
    return models


@pytest.fixture(scope="module")
def models_dir(exported, tmp_path_factory):
    return make_models(tmp_path_factory.mktemp("guess"), exported("dcgan"))


@pytest.fixture(scope="module")
def service(models_dir, tmp_path_factory):
    return Service.from_folder(models_dir, outputs=tmp_path_factory.mktemp("outputs"))


def test_the_classifier_is_loaded_beside_its_generator(service, models_dir):
    # Every generator is served; a classifier that cannot serve is noted, not fatal.
    assert service.names == ["broken", "mismatch", "plain", "ssgan"]
    assert [n for n in service.names if service.model(n).classifier] == ["ssgan"]
    assert service.model("ssgan").classifier.class_names == [str(i) for i in range(10)]
    broken, mismatch = service.skipped
    assert broken.startswith(f"broken/classifier.onnx: {models_dir}/broken/classifier.onnx "
                             "is not a loadable ONNX model: ")
    assert mismatch == ("mismatch/classifier.onnx: it classifies 8x8x1 images and the "
                        "generator beside it makes 28x28x1: not this generator's classifier")


@pytest.mark.parametrize("rgba", [False, True])
def test_the_guess_sees_the_picture_as_the_projection_does(service, rgba):
    model = service.model("ssgan")
    picture = drawing("seven", rgba=rgba)
    top = service.guess("ssgan", picture)
    x, _ = model_input(model, picture)  # inverted, centred: MNIST's way
    p = model.classifier.predict(x[None])[0]
    assert len(top) == 3 and [q for _, q in top] == sorted((q for _, q in top), reverse=True)
    assert [name for name, _ in top] == [str(j) for j in np.argsort(-p, kind="stable")[:3]]
    np.testing.assert_allclose([q for _, q in top], np.sort(p)[::-1][:3], atol=1e-6)
    assert guess(model, picture, k=10) and sum(q for _, q in guess(model, picture, k=10)) == \
        pytest.approx(1, abs=1e-5)


@pytest.mark.parametrize("name, image, message", [
    ("plain", "drawing", "plain has no classifier: only a semi-supervised GAN's export "
                         "(`keras-gan train --gan ssgan`, then `keras-gan export`) has one"),
    ("ssgan", None, EMPTY),
    ("ssgan", np.full((50, 50), 255, np.uint8),
     "image A is blank (one flat colour): draw on it or upload a picture"),
    ("nope", "drawing", "unknown model 'nope'; this demo serves broken, mismatch, plain, ssgan"),
])
def test_the_guess_refuses(service, name, image, message):
    image = drawing() if isinstance(image, str) else image
    with pytest.raises(DemoError) as e:
        service.guess(name, image)
    assert str(e.value) == message


def test_the_card_and_the_page_show_the_classifier_only_where_there_is_one(service, tmp_path):
    from demo.app import build_app

    text = card_markdown(service.model("ssgan"))
    accuracy = service.model("ssgan").card["classifier"]["test_accuracy"]
    assert (f"- classifier: 10 classes, **{accuracy:.1%}** right on 2,000 held-out images, "
            "trained from 2 labels per class; *From your image* shows its guess") in text
    assert "classifier" not in card_markdown(service.model("plain"))

    def widget(app, elem_id):
        return next(b for b in app.blocks.values() if getattr(b, "elem_id", None) == elem_id)

    alone = Service({"ssgan": service.model("ssgan")}, outputs=tmp_path)
    guessing = build_app(alone)
    assert widget(guessing, "guess").visible
    # No encoder: no projection, but the Project button still guesses.
    assert widget(guessing, "projection-note").value.endswith(
        "; **Project** still shows its classifier's guess for A.")
    plain = build_app(Service({"plain": service.model("plain")}, outputs=tmp_path))
    assert not widget(plain, "guess").visible
    assert "guess" not in widget(plain, "projection-note").value


NO_TF = textwrap.dedent("""
    import sys

    import numpy as np

    import demo.app, demo.guessing
    from demo.service import Service
    service = Service.from_folder(sys.argv[1])
    demo.app.build_app(service)
    picture = np.full((64, 64), 255, np.uint8)
    picture[10:50, 30:34] = 0
    assert len(service.guess("ssgan", picture)) == 3
    print(sorted(n for n in ("tensorflow", "keras", "keras_gan", "torch") if n in sys.modules))
""")


def test_guessing_never_imports_tensorflow(models_dir):
    proc = subprocess.run([sys.executable, "-c", NO_TF, str(models_dir)], cwd=REPO,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"


# -- the page's API, on a live server ------------------------------------------------


@pytest.fixture(scope="module")
def client(models_dir, tmp_path_factory):
    for served, _ in serve_client(models_dir, tmp_path_factory):
        yield served


def test_api_guess(client, service, tmp_path):
    path = tmp_path / "seven.png"
    Image.fromarray(drawing("seven")).save(path)
    shown = client.predict("ssgan", editor_value(path), api_name="/guess")
    # The page hands the service the PNG as RGBA (the editor's image_mode).
    top = service.guess("ssgan", np.asarray(Image.open(path).convert("RGBA")))
    assert shown["label"] == top[0][0]
    assert [c["label"] for c in shown["confidences"]] == [label for label, _ in top]
    assert [c["confidence"] for c in shown["confidences"]] == pytest.approx(
        [p for _, p in top])
    # No classifier: nothing to show, and no refusal (the page's Project runs it first).
    assert client.predict("plain", editor_value(path), api_name="/guess") == {}


def test_api_guess_refuses_and_project_still_answers(client, tmp_path):
    from gradio_client.exceptions import AppError

    empty = {"background": None, "layers": [], "composite": None}
    with pytest.raises(AppError) as info:
        client.predict("ssgan", empty, api_name="/guess")
    assert EMPTY in str(info.value) and "Traceback" not in str(info.value)
    path = tmp_path / "one.png"
    Image.fromarray(drawing("one")).save(path)
    with pytest.raises(AppError, match="ssgan has no encoder: make one with `keras-gan encoder"):
        client.predict("ssgan", editor_value(path), 5, 0.3, api_name="/project")
