"""The models the demo serves and their cards.

`load_models(folder)` loads every sub-folder of `folder` that holds a
`generator.onnx` (others, like `digit-classifier/`, are not generators and
are passed over) with `export.runtime.OnnxGenerator`; `demo.card` renders
a model's card (`model.json`) for the model panel.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from export.runtime import GeneratorError, OnnxGenerator

# The repository's shipped models, found from this file so that `python -m
# demo` works from any working directory of a checkout.
DEFAULT_MODELS = Path(__file__).resolve().parents[1] / "saved_models"
GENERATOR_FILE = "generator.onnx"
CARD_FILE = "model.json"


class DemoError(ValueError):
    """A request or a setup the demo refuses; the message is shown as it is."""


@dataclass(frozen=True)
class Model:
    """One served generator: its folder name, runtime and card."""

    name: str
    folder: Path
    generator: OnnxGenerator
    card: dict

    @property
    def points(self) -> bool:
        """True for 2D toy models (outputs (N, 2)): shown as scatter plots."""
        return len(self.generator.output_shape) == 1

    @property
    def conditional(self) -> bool:
        return self.generator.conditional

    @property
    def clustered(self) -> bool:
        """True for clustered GANs: z[0] picks a k-means cluster of the data
        (a digit), the rest of z the picture within it."""
        return self.card.get("gan") == "clustered"

    @property
    def class_names(self) -> list[str]:
        """One name per class ([] for unconditional models)."""
        if not self.conditional:
            return []
        names = self.card.get("class_names") or self.generator.class_names or []
        n = self.generator.num_classes
        return [str(c) for c in names] if len(names) == n else [str(i) for i in range(n)]


def load_models(folder, max_batch: int) -> tuple[dict[str, Model], list[str]]:
    """The generators under `folder`, by folder name, and notes on the folders
    that hold a generator.onnx but could not be loaded (the demo serves the
    rest rather than not starting). `max_batch` is the largest batch one
    request may run.

    Raises DemoError when `folder` is missing or holds no loadable generator.
    """
    folder = Path(folder).expanduser()
    if not folder.is_dir():
        raise DemoError(f"no models folder at {folder}: pass --models DIR, a folder of "
                        f"`keras-gan export` outputs")
    models, skipped = {}, []
    for sub in sorted(p for p in folder.iterdir() if (p / GENERATOR_FILE).is_file()):
        try:
            generator = OnnxGenerator(sub / GENERATOR_FILE, max_images=max_batch)
            card = read_card(sub)
        except (GeneratorError, DemoError) as e:
            skipped.append(f"{sub.name}: {one_line(e)}")
            continue
        # The runtime's metadata (the card's copy inside the ONNX file) fills in
        # a missing model.json, so a bare generator.onnx still gets a panel.
        card = {**generator.metadata, "name": sub.name, **card}
        models[sub.name] = Model(sub.name, sub, generator, card)
    if not models:  # one line: the skipped folders' reasons after a semicolon each
        problems = "".join(f"; skipped {s}" for s in skipped)
        raise DemoError(f"no loadable {GENERATOR_FILE} in the sub-folders of {folder}: "
                        f"export one with `keras-gan export RUN --out {folder}/NAME`"
                        f"{problems}")
    return models, skipped


def one_line(error) -> str:
    """An error's message on one line (onnxruntime's may span lines)."""
    return " ".join(part.strip() for part in str(error).splitlines() if part.strip())


def read_card(folder: Path) -> dict:
    path = folder / CARD_FILE
    if not path.is_file():
        return {}
    try:
        card = json.loads(path.read_text())
    except (OSError, ValueError) as e:
        raise DemoError(f"{path} is not a readable JSON card: {e}") from None
    if not isinstance(card, dict):
        raise DemoError(f"{path} is not a JSON object")
    return card
