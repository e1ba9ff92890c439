"""The models the demo serves and their cards.

`load_models(folder)` loads every sub-folder of `folder` that holds a
`generator.onnx` (others, like `digit-classifier/`, are not generators and
are passed over) with `export.runtime.OnnxGenerator`, and the
classifier.onnx a semi-supervised GAN's export holds beside it with
`export.classifier_runtime.OnnxClassifier` (`demo.guessing` shows its
guess); `demo.card` renders a model's card (`model.json`) for the model
panel.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from export.classifier_runtime import OnnxClassifier
from export.runtime import GeneratorError, OnnxGenerator

# The repository's shipped models, found from this file so that `python -m
# demo` works from any working directory of a checkout.
DEFAULT_MODELS = Path(__file__).resolve().parents[1] / "saved_models"
GENERATOR_FILE = "generator.onnx"
CLASSIFIER_FILE = "classifier.onnx"  # beside it: a semi-supervised GAN's classifier
CARD_FILE = "model.json"


class DemoError(ValueError):
    """A request or a setup the demo refuses; the message is shown as it is."""


@dataclass(frozen=True)
class Model:
    """One served generator: its folder name, runtime and card, and the
    runtime of the classifier beside it (None: the folder has none)."""

    name: str
    folder: Path
    generator: OnnxGenerator
    card: dict
    classifier: OnnxClassifier | None = None

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
        classifier = None
        if (sub / CLASSIFIER_FILE).is_file():
            try:  # the generator is served without its classifier, not dropped for it
                classifier = load_classifier(sub / CLASSIFIER_FILE, generator, max_batch)
            except (GeneratorError, DemoError) as e:
                skipped.append(f"{sub.name}/{CLASSIFIER_FILE}: {one_line(e)}")
        models[sub.name] = Model(sub.name, sub, generator, card, classifier)
    if not models:  # one line: the skipped folders' reasons after a semicolon each
        problems = "".join(f"; skipped {s}" for s in skipped)
        raise DemoError(f"no loadable {GENERATOR_FILE} in the sub-folders of {folder}: "
                        f"export one with `keras-gan export RUN --out {folder}/NAME`"
                        f"{problems}")
    return models, skipped


def load_classifier(path: Path, generator: OnnxGenerator, max_batch: int) -> OnnxClassifier:
    """The classifier at `path`, if it takes the pictures `generator` makes
    (the demo classifies the picture as the generator's projection sees it)."""
    classifier = OnnxClassifier(path, max_images=max_batch)
    if classifier.image_shape != tuple(generator.output_shape):
        shape = "x".join(map(str, classifier.image_shape))
        made = "x".join(map(str, generator.output_shape))
        raise DemoError(f"it classifies {shape} images and the generator beside it makes "
                        f"{made}: not this generator's classifier")
    return classifier


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
