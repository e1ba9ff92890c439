"""The demo's page and command line: `python -m demo` or `keras-gan demo`.

The page is thin wiring: each button calls a `demo.service.Service` method
and turns its `DemoError` into `gr.Error`, which gradio shows as a message
in the page (other exceptions show as a bare "Error", never a traceback).
gradio is imported when the page is built, not when this module is.

API (gradio_client):
- `/sample` (model, seed, n, truncation, class) -> PNG;
- `/interpolate` (model, seed_a, seed_b, steps, method, class_a, class_b) ->
  (strip PNG, GIF);
- `/project` (model, image, steps, radius) -> (PNG of the picture as the
  model sees it beside its reconstruction, Markdown line with the pixel error
  and the conversions, PNG of nearby samples);
- `/interpolate_images` (model, image_a, image_b, steps, frames) -> (strip
  PNG, GIF);
- `/guess` (model, image) -> the top 3 classes of the semi-supervised
  classifier beside the model (`demo.guessing`) as a gr.Label value
  {"label": the likeliest, "confidences": [{"label", "confidence"}, ...]},
  or {} (nothing shown) for a model without one. The page's Project button
  runs it first, then `/project` if the picture passed;
- `/translate` (translator, image, direction) -> (PNG of the translation,
  PNG of the steps, Markdown line): see `demo.translate_tab`.
Images are the image editor's value: {"background": handle_file(path),
"layers": [], "composite": handle_file(path)} (the composite is projected).
`steps` there are refinement steps on the latent (0: the encoder alone).
"""

from __future__ import annotations

import argparse
import functools
import os
import signal
import socket
import sys
from pathlib import Path

from demo.card import card_markdown
from demo.guessing import GUESSES
from demo.models import DEFAULT_MODELS, DemoError, Model, one_line
from demo.projecting import (
    DEFAULT_FRAMES,
    DEFAULT_PROJECTION_STEPS,
    DEFAULT_RADIUS,
    MAX_RADIUS,
    check_projectable,
)
from demo.service import ALL_CLASSES, MAX_SEED, MAX_TRUNCATION, METHODS, Limits, Service
from demo.translate_tab import translate_tab

DEFAULT_IMAGES, DEFAULT_POINTS, DEFAULT_STEPS = 16, 512, 10
CANVAS, BRUSH = 280, 12  # the sketch pad; a digit drawn in it gets MNIST's 2-3 px strokes


def _positive_or_zero(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be at least 0, got {value}")
    return value


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    defaults = Limits()
    parser.add_argument("--models", default=str(DEFAULT_MODELS), metavar="DIR",
                        help="folder of exported models; each sub-folder with a "
                             "generator.onnx or a translator.onnx is served (default: "
                             "the repository's saved_models/)")
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to bind (default: 127.0.0.1, this machine only; "
                             "0.0.0.0 serves the network)")
    parser.add_argument("--port", type=int, default=7860, help="port (default: 7860)")
    parser.add_argument("--max-images", type=_positive_int, default=defaults.max_images,
                        help=f"most images one request may ask for "
                             f"(default: {defaults.max_images})")
    parser.add_argument("--max-points", type=_positive_int, default=defaults.max_points,
                        help=f"most points one request to a 2D model may ask for "
                             f"(default: {defaults.max_points})")
    parser.add_argument("--max-steps", type=_positive_int, default=defaults.max_steps,
                        help=f"most interpolation steps (default: {defaults.max_steps})")
    parser.add_argument("--max-projection-steps", type=_positive_or_zero,
                        default=defaults.max_projection_steps,
                        help=f"most refinement steps when projecting a user's picture "
                             f"(default: {defaults.max_projection_steps}; 0: the encoder "
                             f"alone)")
    parser.add_argument("--concurrency", type=_positive_int, default=2,
                        help="requests run at once; the rest wait in the queue "
                             "(default: 2)")


def undecoded(file, flatten_on_white: bool = False):
    """The image editor's pictures as they came, for `demo.pictures` to read:
    an upload's path (in gradio's upload folder: it refuses others) as a
    Path, or the PNG bytes the page's canvas sent. gradio's own conversion
    decodes them first, so a 30,000 px upload, a decompression bomb to PIL,
    would fail there, before the service could say what is wrong."""
    if file is None or isinstance(file, (bytes, bytearray, memoryview)):
        return file if file is None else bytes(file)
    return Path(file.path)


def build_app(service: Service, concurrency: int = 2):
    """The gradio Blocks of the page, its queue set up; not launched."""
    # A local demo has no business phoning home (and CI has no network).
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    import gradio as gr

    def refusing(fn):
        @functools.wraps(fn)
        def wrapper(*args):
            try:
                return fn(*args)
            except DemoError as e:  # the user's request, not a bug: no traceback
                raise gr.Error(str(e), print_exception=False) from None
        return wrapper

    limits = service.limits
    first = service.model(service.names[0])
    # The slider's own bound must admit every model's cap (API calls are
    # checked against it); switching models narrows it in the page.
    most = max(limits.max_samples(m) for m in service.models.values())

    def classes(model: Model, allow_all: bool):
        pairs = [(name if name == str(i) else f"{i}: {name}", str(i))
                 for i, name in enumerate(model.class_names)]
        return [("all, in turn", ALL_CLASSES)] * allow_all + pairs

    def count_widget(model: Model) -> dict:
        most = limits.max_samples(model)
        return dict(maximum=most,
                    value=min(most, DEFAULT_POINTS if model.points else DEFAULT_IMAGES),
                    label="number of points" if model.points else "number of images")

    def projection_note(model: Model) -> str:
        try:
            check_projectable(model)
        except DemoError as e:
            return f"**Not for this model:** {e}" + (
                "; **Project** still shows its classifier's guess for A."
                if model.classifier else "")
        what = "a digit" if model.generator.output_shape[-1] == 1 else "something"
        return (f"Pick the brush and draw {what} in A (and B), or upload a picture; "
                f"**Project** finds the latent z of A"
                + (" (and the classifier beside the model guesses its class)"
                   if model.classifier else "")
                + ", **Interpolate A → B** walks from A's latent to B's.")

    def on_model(name):
        model = service.model(name)
        return (card_markdown(model), model.card, gr.update(**count_widget(model)),
                gr.update(choices=classes(model, True), value=ALL_CLASSES,
                          visible=model.conditional),
                *[gr.update(choices=classes(model, False), value="0",
                            visible=model.conditional)] * 2,
                projection_note(model),
                gr.update(value=None, visible=model.classifier is not None))

    def on_sample(model, seed, n, truncation, label):
        return str(service.sample(model, seed, n, truncation, label))

    def on_interpolate(model, seed_a, seed_b, steps, method, class_a, class_b):
        png, gif = service.interpolate(model, seed_a, seed_b, steps, method, class_a,
                                       class_b)
        return str(png), str(gif)

    def on_guess(name, image):
        # The widget is shown or hidden with the model (on_model): a value here.
        if service.model(name).classifier is None:  # nothing to show, nor to refuse
            return None
        return dict(service.guess(name, image))

    def on_project(model, image, steps, radius):
        png, text, nearby = service.project(model, image, steps, radius)
        return str(png), text, str(nearby)

    def on_interpolate_images(model, image_a, image_b, steps, frames):
        png, gif = service.interpolate_images(model, image_a, image_b, steps, frames)
        return str(png), str(gif)

    def editor(label: str, elem_id: str):
        # RGBA: transparent stays transparent, and the service composites it onto
        # white (what the pad shows); layers and transforms only get in the way.
        pad = gr.ImageEditor(
            label=label, type="filepath", image_mode="RGBA", sources=["upload", "clipboard"],
            brush=gr.Brush(default_size=BRUSH, colors=["#000000"], default_color="#000000",
                           color_mode="fixed"),
            eraser=gr.Eraser(default_size=BRUSH), layers=False, transforms=(),
            canvas_size=(CANVAS, CANVAS), format="png", elem_id=elem_id)
        # On the instance: gradio writes a .pyi file beside any subclass of its components.
        pad.convert_and_format_image = undecoded
        return pad

    def shown(label: str, elem_id: str, gif: bool = False):
        """An output picture: a PNG with download and full-screen buttons, or
        a GIF (gradio would re-encode it as PNG if given a format)."""
        if gif:
            return gr.Image(label=label, type="filepath", interactive=False,
                            elem_id=elem_id, buttons=["download"])
        return gr.Image(label=label, type="filepath", format="png", interactive=False,
                        elem_id=elem_id, buttons=["download", "fullscreen"])

    random_seed = f"() => Math.floor(Math.random() * {MAX_SEED + 1})"  # in the browser

    with gr.Blocks(title="keras-gan demo", analytics_enabled=False,
                   delete_cache=(3600, 3600)) as app:
        gr.Markdown("# keras-gan demo\nSample and interpolate the latent space of "
                    "generators exported by `keras-gan export`, run by ONNX Runtime. "
                    "The same seed gives the same picture here, in Keras and in the "
                    "SavedModel. **From your image** finds the latent z of a picture you "
                    "draw or upload (the guess of an encoder that `keras-gan encoder` "
                    "trains, refined by gradient steps on z) and walks between two"
                    + ("; a semi-supervised GAN's classifier also guesses its class" if any(
                        m.classifier for m in service.models.values()) else "") + "."
                    + (" **Translate** turns a picture into another domain's with an "
                       "image-to-image translator." if service.translators else ""))
        with gr.Row():
            with gr.Column(scale=3):
                model = gr.Dropdown(service.names, value=first.name, label="model",
                                    elem_id="model")
                with gr.Tabs():
                    with gr.Tab("Sample", elem_id="sample-tab"):
                        with gr.Row():
                            seed = gr.Number(0, label="seed", info=f"0 to {MAX_SEED}",
                                             elem_id="seed")
                            dice = gr.Button("random seed", size="sm", scale=0, min_width=120)
                        count = gr.Slider(minimum=1, step=1, elem_id="count",
                                          **{**count_widget(first), "maximum": most})
                        truncation = gr.Slider(
                            0, MAX_TRUNCATION, value=0, step=0.05, label="truncation",
                            info="redraw latents beyond ±t: cleaner, less varied (0 = off)")
                        label = gr.Dropdown(classes(first, True), value=ALL_CLASSES,
                                            label="class", visible=first.conditional,
                                            allow_custom_value=True, elem_id="class")
                        generate = gr.Button("Generate", variant="primary",
                                             elem_id="generate")
                        picture = shown("samples", "samples")
                    with gr.Tab("Interpolate", elem_id="interpolate-tab"):
                        with gr.Row():
                            seed_a = gr.Number(0, label="seed A", elem_id="seed-a")
                            dice_a = gr.Button("random", size="sm", scale=0, min_width=90)
                            seed_b = gr.Number(1, label="seed B", elem_id="seed-b")
                            dice_b = gr.Button("random", size="sm", scale=0, min_width=90)
                        with gr.Row():
                            class_a = gr.Dropdown(classes(first, False), value="0",
                                                  label="class A", allow_custom_value=True,
                                                  visible=first.conditional, elem_id="class-a")
                            class_b = gr.Dropdown(classes(first, False), value="0",
                                                  label="class B", allow_custom_value=True,
                                                  visible=first.conditional, elem_id="class-b")
                        steps = gr.Slider(2, limits.max_steps, value=min(DEFAULT_STEPS,
                                                                         limits.max_steps),
                                          step=1, label="steps", elem_id="steps")
                        method = gr.Radio(list(METHODS), value="slerp", label="path",
                                          info="slerp follows the sphere Gaussian latents "
                                               "live near; lerp cuts through it")
                        go = gr.Button("Interpolate", variant="primary",
                                       elem_id="interpolate")
                        strip = shown("path", "strip")
                        gif = shown("animation (GIF)", "gif", gif=True)
                    with gr.Tab("From your image", elem_id="project-tab"):
                        note = gr.Markdown(projection_note(first), elem_id="projection-note")
                        with gr.Row():
                            image_a = editor("A", "image-a")
                            image_b = editor("B", "image-b")
                        # --max-projection-steps 0 (the encoder alone) fixes it at 0; a
                        # slider needs a range, so its bound is then 1 (and 1 refused).
                        projection_steps = gr.Slider(
                            0, max(1, limits.max_projection_steps), step=1,
                            value=min(DEFAULT_PROJECTION_STEPS, limits.max_projection_steps),
                            interactive=limits.max_projection_steps > 0,
                            label="refinement steps", elem_id="projection-steps",
                            info="gradient steps on z after the encoder's guess "
                                 "(0 = the encoder alone)")
                        with gr.Row():
                            radius = gr.Slider(0, MAX_RADIUS, value=DEFAULT_RADIUS, step=0.05,
                                               label="nearby radius", elem_id="radius",
                                               info="the neighbours are G(z + r·e), "
                                                    "e ~ N(0, I), in z's class or cluster")
                            frames = gr.Slider(2, limits.max_steps, step=1,
                                               value=min(DEFAULT_FRAMES, limits.max_steps),
                                               label="frames A → B", elem_id="frames")
                        with gr.Row():
                            project = gr.Button("Project", variant="primary",
                                                elem_id="project")
                            walk = gr.Button("Interpolate A → B", variant="primary",
                                             elem_id="interpolate-images")
                        guess = gr.Label(num_top_classes=GUESSES, elem_id="guess",
                                         label="the classifier's guess for A",
                                         visible=first.classifier is not None)
                        with gr.Row():
                            projected = shown("A as the model sees it | G(z)", "projection")
                            nearby = shown("nearby: G(z) in the middle", "nearby")
                        info = gr.Markdown(label="error and conversions",
                                           elem_id="projection-info")
                        image_strip = shown("A → B", "image-strip")
                        image_gif = shown("A → B (GIF)", "image-gif", gif=True)
                    translate_tab(service, editor, shown, refusing)
            with gr.Column(scale=2):
                card = gr.Markdown(card_markdown(first), elem_id="card")
                with gr.Accordion("Full card (model.json)", open=False, elem_id="full-card"):
                    full_card = gr.JSON(first.card, show_label=False, elem_id="card-json")

        model.change(on_model, model,
                     [card, full_card, count, label, class_a, class_b, note, guess],
                     queue=False, api_visibility="private")
        for button, target in ((dice, seed), (dice_a, seed_a), (dice_b, seed_b)):
            button.click(None, None, target, js=random_seed, api_visibility="private")
        generate.click(refusing(on_sample), [model, seed, count, truncation, label],
                       picture, api_name="sample")
        go.click(refusing(on_interpolate),
                 [model, seed_a, seed_b, steps, method, class_a, class_b], [strip, gif],
                 api_name="interpolate")
        # The guess first (one forward pass): it shows at once, and a picture it
        # refuses is refused once, not again by the projection.
        project.click(refusing(on_guess), [model, image_a], guess, api_name="guess").success(
            refusing(on_project), [model, image_a, projection_steps, radius],
            [projected, info, nearby], api_name="project")
        walk.click(refusing(on_interpolate_images),
                   [model, image_a, image_b, projection_steps, frames],
                   [image_strip, image_gif], api_name="interpolate_images")
    app.queue(default_concurrency_limit=concurrency)
    return app


def start(service: Service, host: str = "127.0.0.1", port: int = 7860,
          concurrency: int = 2) -> None:
    """Builds the page and serves it until interrupted."""
    app = build_app(service, concurrency)
    # allowed_paths stays gradio's default: of our files it serves only those the
    # buttons return (the outputs, in a temporary folder), never the models.
    app.launch(server_name=host, server_port=port)


def check_address(host: str, port: int) -> None:
    """Binds (host, port) and lets go, so that a port in use or a bad --host is
    told in the system's words ("Address already in use", "Name or service not
    known") before the page is built; gradio would report either as "Cannot
    find empty port", and uvicorn log a line of its own. Raises OSError."""
    family, kind, proto, _, address = socket.getaddrinfo(host, port,
                                                         type=socket.SOCK_STREAM)[0]
    with socket.socket(family, kind, proto) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
        s.bind(address)


def serve(args: argparse.Namespace) -> int:
    """Runs the demo until interrupted; 2 with a message if it cannot start."""
    try:
        # A Namespace made by hand, without the newer flag, gets its default.
        limits = Limits(args.max_images, args.max_points, args.max_steps,
                        getattr(args, "max_projection_steps", Limits.max_projection_steps))
        service = Service.from_folder(args.models, limits)
    except DemoError as e:
        print(f"keras-gan demo: error: {one_line(e)}", file=sys.stderr)
        return 2
    for note in service.skipped:
        print(f"keras-gan demo: skipping {note}", file=sys.stderr)
    try:
        check_address(args.host, args.port)
    except OSError as e:  # a port in use, a --host that is no address of this machine
        return _cannot_serve(args, e.strerror or e)
    print(f"Serving {', '.join(service.names + list(service.translators))} from "
          f"{args.models}", flush=True)
    # SIGTERM (`kill`, a service manager) stops it like Ctrl+C: gradio closes
    # and the outputs folder is removed.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        start(service, args.host, args.port, args.concurrency)
    except OSError as e:  # gradio's "Cannot find empty port": taken since the check
        return _cannot_serve(args, e)
    return 0


def _cannot_serve(args: argparse.Namespace, reason) -> int:
    print(f"keras-gan demo: error: cannot serve on {args.host}:{args.port}: "
          f"{one_line(reason)}", file=sys.stderr)
    return 2


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m demo",
        description="Serve exported generators in a web page: sampling, "
                    "interpolation and projection of your own pictures on ONNX "
                    "Runtime.")
    add_arguments(parser)
    return serve(parser.parse_args(argv))
