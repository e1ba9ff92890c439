"""The image-to-image translators the demo serves, and their cards.

`load_translators(folder)` loads every sub-folder of `folder` that holds a
translator written by `keras-gan export` (`export/translators.py`) with
`export.translator_runtime.OnnxTranslator`, in either layout:

    NAME/translator.onnx, NAME/model.json           one direction (pix2pix)
    NAME/ab/{translator.onnx, model.json}, NAME/ba/  both (CycleGAN)

Generators' folders (`generator.onnx`) are `demo.models`'; a folder is
one or the other. `translator_markdown` is the Translate tab's panel.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from demo.card import trained_what
from demo.checks import show
from demo.models import DemoError, one_line, read_card
from export.translator_runtime import OnnxTranslator, TranslatorError

TRANSLATOR_FILE = "translator.onnx"
DIRECTIONS = ("ab", "ba")  # A -> B and B -> A, as `export_translator` names them


@dataclass(frozen=True)
class Translator:
    """One served translator: its folder name, one runtime per direction
    ("ab", "ba" or both) and each direction's card."""

    name: str
    folder: Path
    runtimes: dict[str, OnnxTranslator]
    cards: dict[str, dict]

    @property
    def directions(self) -> list[str]:
        return list(self.runtimes)

    @property
    def two_way(self) -> bool:
        """True for a CycleGAN's pair: each picture also goes back (a round trip)."""
        return len(self.runtimes) == 2

    @property
    def domains(self) -> tuple[str, str]:
        """The names of A and B (the exported card's source and target)."""
        d, runtime = next(iter(self.runtimes.items()))
        source = runtime.source_domain or ("A" if d == "ab" else "B")
        target = runtime.target_domain or ("B" if d == "ab" else "A")
        return (source, target) if d == "ab" else (target, source)

    def label(self, direction: str) -> str:
        """"sketch → emoji" for direction "ab" of a sketch -> emoji translator."""
        a, b = self.domains
        return f"{a} → {b}" if direction == "ab" else f"{b} → {a}"

    def reverse(self, direction: str) -> OnnxTranslator | None:
        """The runtime that translates `direction`'s results back, if served."""
        return self.runtimes.get("ba" if direction == "ab" else "ab")


def load_translators(folder, max_batch: int) -> tuple[dict[str, Translator], list[str]]:
    """The translators under `folder`, by folder name, and notes on the
    folders that hold a translator but could not be loaded. None is fine:
    the demo then serves its generators alone."""
    folder = Path(folder).expanduser()
    translators, skipped = {}, []
    if not folder.is_dir():
        return translators, skipped
    for sub in sorted(p for p in folder.iterdir() if p.is_dir()):
        if (sub / TRANSLATOR_FILE).is_file():
            parts = {None: sub}
        else:
            parts = {d: sub / d for d in DIRECTIONS if (sub / d / TRANSLATOR_FILE).is_file()}
        if not parts:
            continue
        try:
            translators[sub.name] = _load(sub, parts, max_batch)
        except (TranslatorError, DemoError) as e:
            skipped.append(f"{sub.name}: {one_line(e)}")
    return translators, skipped


def _load(sub: Path, parts: dict, max_batch: int) -> Translator:
    runtimes, cards = {}, {}
    for d, path in parts.items():
        runtime = OnnxTranslator(path / TRANSLATOR_FILE, max_images=max_batch)
        d = d or runtime.direction or "ab"  # one folder: the direction it was exported for
        if d not in DIRECTIONS:
            raise DemoError(f"{path / TRANSLATOR_FILE} has direction {d!r}, not 'ab' or 'ba'")
        runtimes[d] = runtime
        cards[d] = {**runtime.metadata, **read_card(path)}
    if len(runtimes) == 2:  # a round trip needs the two to undo each other's shapes
        ab, ba = runtimes["ab"], runtimes["ba"]
        if (ab.output_shape != ba.image_shape or ba.output_shape != ab.image_shape
                or (ab.source_domain, ab.target_domain) != (ba.target_domain,
                                                            ba.source_domain)):
            raise DemoError(f"{sub}/ab and {sub}/ba do not translate between the same two "
                            f"domains and shapes: not one translator's two directions")
    return Translator(sub.name, sub, runtimes, cards)


def pick_translator(translators: dict[str, Translator], name) -> Translator:
    """translators[name], or a DemoError naming those served."""
    if not isinstance(name, str) or name not in translators:
        raise DemoError(f"unknown translator {show(name)}; this demo serves "
                        + (", ".join(translators) or "no translators"))
    return translators[name]


def translator_markdown(translator: Translator | None) -> str:
    """The Translate tab's panel: what the translator is and was trained on."""
    if translator is None:
        return ("No translators are installed: export one with `keras-gan export RUN "
                "--out DIR/NAME` and serve DIR.")
    card = next(iter(translator.cards.values()))
    lines = [f"### {translator.name}", trained_what(card, "translator", "A translator") + ".\n"]
    for d, runtime in translator.runtimes.items():
        shapes = " → ".join("×".join(str(s) for s in shape)
                            for shape in (runtime.image_shape, runtime.output_shape))
        lines.append(f"- {translator.label(d)}: {shapes} images")
    if translator.two_way:
        lines.append("- both ways: each picture also goes back, a round trip")
    lines.append(f"- runs on: ONNX Runtime, {next(iter(translator.runtimes.values())).provider}")
    if card.get("attribution"):  # the training images' credit: CC-BY asks for it
        lines.append(f"- data: {card['attribution']}")
    return "\n".join(lines)
