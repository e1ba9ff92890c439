"""The page's Translate tab: a picture the user draws or uploads, through an
image-to-image translator (`demo.translating`), wired to widgets.

`demo.app.build_app` builds it among its tabs and hands it the page's own
helpers (the sketch pad, the output pictures, the refusal wrapper), so the
tab draws, shows and refuses as the others do. It is hidden when the
service has no translators. gradio is imported when the tab is built, not
when this module is.

API (gradio_client): `/translate` (translator, image, direction) -> (PNG of
the translation, enlarged; PNG of the picture as the translator sees it |
its translation | and back, for two-way translators; Markdown line).
`image` is the image editor's value, as for `/project`; `direction` is
"ab" or "ba" (None: the translator's first).
"""

from __future__ import annotations

from demo.translators import DIRECTIONS, Translator, pick_translator, translator_markdown

HOW = ("Pick the brush and draw (dark strokes on white), or upload a picture; **Translate** "
       "turns it into a picture of the translator's other domain.")


def direction_choices(translator: Translator | None) -> list[tuple[str, str]]:
    """The direction picker's (label, value) pairs. Both values always:
    gradio checks an API call's value against the choices the page was
    built with, whichever translator it names."""
    if translator is None:
        return [("A → B", "ab"), ("B → A", "ba")]
    return [(translator.label(d), d) for d in DIRECTIONS]


def translator_choices(translators: dict[str, Translator]) -> list[tuple[str, str]]:
    """The translator picker's (label, name) pairs: "emoji-sketch: sketch →
    emoji", "emoji-styles: twitter ↔ google"."""
    return [(f"{name}: " + (" ↔ ".join(t.domains) if t.two_way else t.label(t.directions[0])),
             name) for name, t in translators.items()]


def steps_label(translator: Translator | None) -> str:
    back = translator is not None and translator.two_way
    return "as the translator sees it | translation" + " | back (round trip)" * back


def translate_tab(service, editor, shown, refusing) -> None:
    """Adds the tab to the gr.Tabs being built, and its events.

    Args:
        service: the `demo.service.Service`.
        editor: (label, elem_id) -> the page's sketch pad.
        shown: (label, elem_id) -> an output picture.
        refusing: wraps an event's function: DemoError -> gr.Error.
    """
    import gradio as gr

    translators = service.translators
    first = next(iter(translators.values()), None)

    def on_translator(name):
        t = pick_translator(translators, name)
        return (gr.update(choices=direction_choices(t), value=t.directions[0],
                          visible=t.two_way),
                translator_markdown(t), gr.update(label=steps_label(t)))

    def on_translate(name, image, direction):
        png, steps, text = service.translate(name, image, direction)
        return str(png), str(steps), text

    with gr.Tab("Translate", elem_id="translate-tab", visible=first is not None):
        gr.Markdown(HOW, elem_id="translate-note")
        with gr.Row():
            translator = gr.Dropdown(translator_choices(translators),
                                     value=first and first.name, label="translator",
                                     allow_custom_value=True, elem_id="translator")
            direction = gr.Radio(direction_choices(first),
                                 value=first.directions[0] if first else "ab",
                                 label="direction", visible=bool(first and first.two_way),
                                 elem_id="direction")
        about = gr.Markdown(translator_markdown(first), elem_id="translator-card")
        with gr.Row():
            source = editor("your picture", "translate-source")
            result = shown("translation", "translation")
        button = gr.Button("Translate", variant="primary", elem_id="translate")
        steps = shown(steps_label(first), "translation-steps")
        info = gr.Markdown(label="conversions", elem_id="translation-info")
    translator.change(refusing(on_translator), translator, [direction, about, steps],
                      queue=False, api_visibility="private")
    button.click(refusing(on_translate), [translator, source, direction],
                 [result, steps, info], api_name="translate")
