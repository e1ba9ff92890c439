"""Scores an image-to-image translator on held-out pairs (protocols.md,
"Image-to-image translation").

Ground truth exists for emoji64: every emoji is drawn in both art styles, and
the sketch task's target is the emoji its sketch was drawn from. So beside
the set metrics the GAN literature uses (FD, KID against real target-style
images) a translation is compared with its own truth:

- per pair: L1 on [-1, 1], and the L2 distance between the translation's and
  the truth's features in the evaluator (the emoji classifier);
- per set: FD and KID of the translations against the real targets;
- style share: the translations the evaluator puts in the target art style
  (its 20 classes are category x style; a style's probability is the sum
  over the categories); content share: those it puts in the source's
  category (the sum over the styles).

Every figure comes with two references computed the same way: "identity",
the sources themselves taken as translations (what no translation at all
scores), and "truth", the real targets (FD and KID between two halves of
them; their style and content shares are the evaluator's own accuracy on
this split, the ceiling a translator is measured against).

`evaluate_translator(run)` applies this to a run folder of
`keras_gan.training.translate`; `keras-gan eval RUN` calls it.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np

from keras_gan.data.images import save_grid
from keras_gan.evaluation import metrics as M

NUM_STYLES = 2  # the emoji classifier's classes are category * 2 + style
GRID_PAIRS = 8


def style_and_category(probs: np.ndarray, num_styles: int = NUM_STYLES):
    """(style, category) the evaluator predicts for each image: the argmax
    of the class probabilities summed over categories, and over styles."""
    p = np.asarray(probs, np.float64).reshape(len(probs), -1, num_styles)
    return p.sum(axis=1).argmax(axis=1), p.sum(axis=2).argmax(axis=1)


def _colour(images: np.ndarray) -> np.ndarray:
    """Grey images (a sketch) as RGB, so the colour evaluator can score them."""
    return np.repeat(images, 3, axis=-1) if images.shape[-1] == 1 else images


def _scores(outputs, targets, f_out, p_out, f_target, *, target_style, categories,
            seed) -> dict:
    diff = np.abs(outputs.astype(np.float64) - targets.astype(np.float64))
    result = {"l1": float(diff.mean()),
              "feature_distance": float(np.linalg.norm(f_out - f_target, axis=1).mean()),
              "fd": M.frechet_distance_from_features(f_out, f_target),
              "kid": M.kernel_inception_distance(f_out, f_target, seed=seed)[0]}
    style, category = style_and_category(p_out)
    result["style_share"] = (None if target_style is None
                             else float(np.mean(style == target_style)))
    result["content_share"] = (None if categories is None
                               else float(np.mean(category == categories)))
    return result


def translation_metrics(translated, sources, targets, evaluator=None, *, target_style=None,
                        categories=None, seed: int = 0) -> dict:
    """The protocol's figures for `translated` = G(`sources`) against `targets`.

    Args:
        translated, sources, targets: float [-1, 1] (N, H, W, C); row i of
            each is one pair. Sources may be grey (a sketch).
        evaluator: a `keras_gan.evaluation.evaluator.Evaluator` scoring the
            target images (None: L1 alone).
        target_style: the target's art-style index in the evaluator's classes
            (emoji64: 0 twitter, 1 google), or None when it has no style.
        categories: each pair's category index, or None.
        seed: of KID's subsets and of the truth's two halves.

    Returns:
        {"translation": {...}, "identity": {...}, "truth": {...}} with
        l1, feature_distance, fd, kid, style_share, content_share (None
        where they do not apply).
    """
    translated, sources, targets = (np.asarray(x, np.float32)
                                    for x in (translated, sources, targets))
    if not translated.shape == targets.shape or len(sources) != len(targets):
        raise ValueError(f"translations {translated.shape}, sources {sources.shape} and "
                         f"targets {targets.shape} must be N pairs of one shape")
    if evaluator is None:
        return {name: {"l1": float(np.abs(x - targets).mean())}
                for name, x in (("translation", translated), ("identity", _colour(sources)))
                if x.shape == targets.shape}
    f_target, p_target = evaluator.features_and_probs(targets)
    f_out, p_out = evaluator.features_and_probs(translated)
    kwargs = dict(target_style=target_style, categories=categories, seed=seed)
    result = {"extractor": evaluator.name,
              "translation": _scores(translated, targets, f_out, p_out, f_target, **kwargs)}
    identity = _colour(sources)
    if identity.shape == targets.shape:
        f_id, p_id = evaluator.features_and_probs(identity)
        result["identity"] = _scores(identity, targets, f_id, p_id, f_target, **kwargs)
    order = np.random.default_rng(seed).permutation(len(targets))
    a, b = order[:len(order) // 2], order[len(order) // 2:2 * (len(order) // 2)]
    truth = _scores(targets, targets, f_target, p_target, f_target, **kwargs)
    halves = len(a) >= 2  # FD and KID need two rows a side
    truth.update(fd=M.frechet_distance_from_features(f_target[a], f_target[b]) if halves
                 else None,
                 kid=M.kernel_inception_distance(f_target[a], f_target[b], seed=seed)[0]
                 if halves else None)
    result["truth"] = truth
    return result


def translate(generator, images: np.ndarray, batch_size: int = 64) -> np.ndarray:
    """G(images) in inference mode (dropout off), as numpy."""
    return np.asarray(generator.predict(images, batch_size=batch_size, verbose=0), np.float32)


def evaluate_translator(source, *, split: str = "test", direction: str = "ab",
                        evaluator: str = "auto", classifier=None, seed: int = 0) -> dict:
    """Scores the translator of run folder `source` on `split` of its data.

    Args:
        source: a run folder of `keras_gan.training.translate`.
        split: "test" (the held-out bases of the shipped split), "val" or
            "train" (your own data only has "train").
        direction: "ab", or "ba" for a CycleGAN's other generator.
        evaluator, classifier: as for `keras-gan eval` ("auto": the emoji
            classifier for emoji64, none for data it does not know).
    """
    import keras

    import keras_gan.models.translation.cyclegan  # noqa: F401  (registers the classes)
    import keras_gan.models.translation.pix2pix  # noqa: F401
    from export.translators import pick_generator
    from keras_gan.data.pairs import STYLES, load_pairs
    from keras_gan.evaluation.evaluator import choose_evaluator
    from keras_gan.training import run_folder as rf

    source = Path(source).expanduser()
    config = rf.read_config(source) or {}
    model = keras.saving.load_model(source / rf.GAN_FILE, safe_mode=True, compile=False)
    generator, _ = pick_generator(model, direction)
    pairs = load_pairs(config["dataset"], split, size=config.get("image_size"),
                       background=config.get("background") or "white")
    a, b, domains = pairs.a, pairs.b, pairs.domains
    if direction == "ba":
        a, b, domains = b, a, domains[::-1]
    start = time.time()
    out = translate(generator, a)
    # The grid's pairs spread over the split (emoji64 is in category order).
    picks = np.unique(np.linspace(0, len(a) - 1, GRID_PAIRS).astype(int))
    chosen = None
    if evaluator != "none":
        # "auto" picks the emoji classifier by emoji64's category names.
        chosen = choose_evaluator(evaluator, config["dataset"], b.shape[1:],
                                  pairs.category_names, classifier)
    target_style = STYLES.index(domains[1]) if domains[1] in STYLES else None
    metrics = translation_metrics(out, a, b, chosen, target_style=target_style,
                                  categories=pairs.categories, seed=seed)
    return {"source": str(source), "kind": "translation", "translator": config.get("gan"),
            "dataset": config["dataset"], "split": split, "direction": direction,
            "domains": list(domains), "num_pairs": int(len(a)), "seed": seed,
            "steps": rf.run_summary(source).get("steps"), "metrics": metrics,
            "eval_seconds": round(time.time() - start, 2),
            "_grid": np.stack([_colour(a[picks]), out[picks], b[picks]], axis=1)}


ROWS = (("l1", "L1 per pair (lower is better)"),
        ("feature_distance", "feature distance per pair (lower is better)"),
        ("fd", "FD to the real targets (lower is better)"), ("kid", "KID"),
        ("style_share", "in the target style (higher is better)"),
        ("content_share", "in the source's category (higher is better)"))


def _cell(value) -> str:
    return "-" if value is None else f"{value:.4g}"


def write_translation_report(result: dict, out_dir) -> Path:
    """eval.json, report.md and grid.png (rows: source | translation | truth)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    grid = result["_grid"]
    save_grid(out / "grid.png", grid.reshape(-1, *grid.shape[2:]), cols=3, scale=2)
    m = result["metrics"]
    cols = [c for c in ("translation", "identity", "truth") if c in m]
    a, b = result["domains"]
    lines = [f"# Evaluation of `{result['source']}`", "",
             f"{result['translator']} {a} -> {b}, {result['num_pairs']} pairs of the "
             f"{result['split']} split of `{result['dataset']}`, in {result['eval_seconds']} s. "
             f"Features: {m.get('extractor', 'none')}. Identity: the sources taken as "
             "translations; truth: the real targets (FD/KID between two halves of them).", "",
             "| metric | " + " | ".join(cols) + " |", "|---" * (len(cols) + 1) + "|"]
    for key, label in ROWS:
        if any(key in m[c] for c in cols):
            lines.append(f"| {label} | " + " | ".join(_cell(m[c].get(key)) for c in cols) + " |")
    lines += ["", "Each row: source, translation, truth.", "", "![grid](grid.png)"]
    (out / "report.md").write_text("\n".join(lines) + "\n")
    public = {k: v for k, v in result.items() if not k.startswith("_")}
    (out / "eval.json").write_text(json.dumps(public, indent=2) + "\n")
    return out
