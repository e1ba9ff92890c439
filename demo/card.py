"""The model panel: a model's card (`model.json`) as Markdown for people.

`card_markdown(model)` heads the panel with what the model is; below it
`scores_markdown(card)` shows the card's headline scores beside what real
data scores on the same measure, each with one line on what it means:

- image models (`keras-gan eval`): FD, KID, score, precision, recall,
  class coverage, each beside the same measure between two halves of the
  real data (the card's `metrics.reference`);
- 2D toy models: modes covered, high-quality share, reverse KL, beside what
  samples of the true mixture score;
- an encoder's training (`keras-gan encoder`): its final errors.

The rest of the card (protocol details, training config, files) is the
page's "Full card" JSON, one click away. Pure functions of the card dict:
tested without a server.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from demo.models import Model

LOWER, HIGHER = "lower is better", "higher is better"
# A sample of a 2D Gaussian lies within 3 std of its mean with chance
# P(chi2 with 2 dof <= 9) = 1 - exp(-9 / 2): the high-quality share of real data.
REAL_HIGH_QUALITY = 1 - math.exp(-4.5)


@dataclass(frozen=True)
class Measure:
    """How to show one number of the card."""

    key: str  # in card["metrics"] (and its "reference"), or card["encoder"]["final"]
    name: str
    better: str
    meaning: str
    spec: str = ".3g"  # the format of its value
    of: str | None = None  # the key of the whole it is a count of, shown "3 / 8"


@dataclass(frozen=True)
class Row:
    """One line of the scores table, as shown."""

    name: str
    value: str
    real: str  # the same measure on real data, "–" when there is none
    meaning: str  # "lower is better: ..."


IMAGE_MEASURES = (
    Measure("fd", "FD", LOWER, "Fréchet distance between generated and real feature "
            "statistics (mean, covariance)"),
    Measure("kid", "KID", LOWER, "kernel distance between generated and real features; "
            "about 0 between real halves", ".4f"),
    Measure("score", "score", HIGHER, "confident and varied class predictions "
            "(Inception-score style; at most the number of classes)"),
    Measure("precision", "precision", HIGHER, "share of samples that look like real data "
            "(within its feature manifold): fidelity", ".3f"),
    Measure("recall", "recall", HIGHER, "share of real data the samples cover: diversity",
            ".3f"),
    Measure("min_class_fraction", "rarest class", "higher is better, up to real data's",
            "share of samples in the class made least often; 0% = a class never made",
            ".1%"),
    Measure("class_kl_to_uniform", "class imbalance", "closer to real data is better",
            "KL of the predicted classes' shares to uniform", ".3f"),
    Measure("class_tv", "class shares vs real", LOWER, "total variation between the "
            "predicted classes' shares of samples and of real data", ".3f"),
    Measure("conditional_accuracy", "class as asked", HIGHER, "share of samples the "
            "classifier puts in the class they were drawn for", ".1%"),
)
POINT_MEASURES = (
    Measure("modes", "modes covered", HIGHER, "mixture components nearest to at least one "
            "high-quality sample", of="num_modes"),
    Measure("high_quality", "high quality", HIGHER, "share of samples within 3 std of "
            "their nearest mode", ".1%"),
    Measure("reverse_kl", "reverse KL", LOWER, "KL of the modes' shares of samples to "
            "uniform: 0 = every mode as often", ".2g"),
)
ENCODER_MEASURES = (
    Measure("image_loss", "reconstruction error", LOWER, "mean squared error of G(E(x)) "
            "against real pictures x, on [-1, 1] (the pixel error of *From your image* "
            "before refining)",
            ".4f"),
    Measure("latent_loss", "latent error", LOWER, "mean squared error of E(G(z)) against "
            "z, on the generator's own samples", ".4f"),
    Measure("class_accuracy", "class recovered", HIGHER, "share of the generator's samples "
            "whose class (or cluster) the encoder names", ".1%"),
)


def trained_what(card: dict, kind_key: str, unknown: str) -> str:
    """"**dcgan** trained on **mnist** for **3,000 steps** (4 min)", from
    what the card holds (`kind_key` names the model's kind: gan, translator)."""
    what = f"**{card[kind_key]}**" if card.get(kind_key) else unknown
    if card.get("dataset"):
        what += f" trained on **{card['dataset']}**"
    if _is_number(card.get("steps")):
        what += f" for **{card['steps']:,} steps**"
    if _is_number(card.get("train_seconds")):
        what += f" ({_duration(card['train_seconds'])})"
    return what


def card_markdown(model: Model) -> str:
    """The panel's Markdown: what the model is, what it was trained on and for
    how long, and what it scores."""
    card, g = model.card, model.generator
    lines = [f"### {model.name}", trained_what(card, "gan", "A generator") + "."]
    shape = "×".join(str(s) for s in g.output_shape)
    output = "2D points" if model.points else f"{shape} images"
    classes = (f"conditional on {g.num_classes} classes ({', '.join(model.class_names)})"
               if model.conditional else "unconditional")
    lines.append(f"\n- output: {output}, {classes}\n- latent: {g.latent_dim} dims, "
                 f"z ~ N(0, I)\n- runs on: ONNX Runtime, {g.provider}")
    if _is_number(card.get("fp16_max_abs_error")):
        lines.append(f"- fp16 copy: max abs error {card['fp16_max_abs_error']:.2g} vs fp32")
    if card.get("attribution"):  # the training images' credit: CC-BY asks for it
        lines.append(f"- data: {card['attribution']}")
    if model.classifier is not None:
        lines.append(classifier_line(model.classifier.num_classes,
                                     _dict(card.get("classifier"))))
    return "\n".join(lines) + "\n\n" + scores_markdown(card)


def classifier_line(num_classes: int, entry: dict) -> str:
    """The semi-supervised classifier beside the generator, and how well it
    does on held-out data (the card's "classifier" entry)."""
    line = f"- classifier: {num_classes} classes"
    if _is_number(entry.get("test_accuracy")):
        line += f", **{entry['test_accuracy']:.1%}** right on "
        line += (f"{entry['held_out_examples']:,} held-out images"
                 if _is_number(entry.get("held_out_examples")) else "held-out images")
    if _is_number(entry.get("labels_per_class")):
        line += f", trained from {entry['labels_per_class']:,} labels per class"
    return line + "; *From your image* shows its guess"


def scores_markdown(card: dict) -> str:
    """The card's scores as Markdown tables with their meaning, or a line
    saying there are none."""
    metrics, rows = _dict(card.get("metrics")), metric_rows(card)
    if rows:
        points = "modes" in metrics
        real = ("what samples of the true mixture score, expected" if points else
                "the same measure between two halves of the real data")
        text = f"**Scores**: this model beside real data ({real})\n\n" + _table(
            rows, "this model")
        if isinstance(metrics.get("protocol"), str):
            text += f"\n\n<sub>Protocol: {_cell(metrics['protocol'])}.</sub>"
    elif metrics:
        text = ("No scores on the card that this panel knows: see the full card below "
                "(`keras-gan eval` measures them).")
    else:
        text = "No scores on the card yet: `keras-gan eval` measures them."
    encoder = encoder_rows(card)
    if encoder:
        steps = _dict(card.get("encoder")).get("steps")
        trained = f", after {steps:,} training steps" if isinstance(steps, int) else ""
        text += (f"\n\n**Encoder** (for *From your image*{trained})\n\n"
                 + _table(encoder, "last epoch", real=False))
    return text


def metric_rows(card: dict) -> list[Row]:
    """The headline scores of `card["metrics"]` that it holds, in order."""
    metrics = _dict(card.get("metrics"))
    reference = _dict(metrics.get("reference"))
    if "modes" in metrics:  # a 2D mixture (`keras_gan.evaluation.metrics.mode_metrics`)
        expected = {"modes": metrics.get("num_modes"), "num_modes": metrics.get("num_modes"),
                    "high_quality": REAL_HIGH_QUALITY, "reverse_kl": 0}
        return _rows(POINT_MEASURES, metrics, expected)
    return _rows(IMAGE_MEASURES, metrics, reference)


def encoder_rows(card: dict) -> list[Row]:
    """The encoder's final training errors (`card["encoder"]["final"]`)."""
    return _rows(ENCODER_MEASURES, _dict(_dict(card.get("encoder")).get("final")), {})


def _rows(measures, values: dict, reference: dict) -> list[Row]:
    return [Row(m.name, _shown(m, values), _shown(m, reference), f"{m.better}: {m.meaning}")
            for m in measures if _is_number(values.get(m.key))]


def _shown(m: Measure, values: dict) -> str:
    value, whole = values.get(m.key), values.get(m.of) if m.of else None
    if not _is_number(value):
        return "–"
    if isinstance(value, float) and math.isnan(value):
        return "nan"
    return format(value, m.spec) + (f" / {whole}" if _is_number(whole) else "")


def _table(rows: list[Row], value: str, real: bool = True) -> str:
    head = (f"| measure | {value} |" + " real data |" * real + "\n|---|---|" + "---|" * real)
    return head + "".join(
        f"\n| **{r.name}**<br><sub>{r.meaning}</sub> | {r.value} |" + f" {r.real} |" * real
        for r in rows)


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _dict(value) -> dict:
    return value if isinstance(value, dict) else {}


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"
