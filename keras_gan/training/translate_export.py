"""`keras-gan export` of a translator's run folder (pix2pix, CycleGAN, ...):
the trained model's generator(s) through `export.translators`, the card
filled from the run folder (its config, data.json's domains, steps).

A run folder of `keras_gan.training.translate` holds `gan.keras` (the whole
model); a CycleGAN exports both directions (`OUT/ab`, `OUT/ba`)."""

from __future__ import annotations

from pathlib import Path

from keras_gan.training import run_folder as rf


def is_translator_run(source) -> bool:
    """A run folder that `keras_gan.training.translate` wrote."""
    from keras_gan.training.translate import TRANSLATOR_FILE

    source = Path(source).expanduser()
    return source.is_dir() and (source / TRANSLATOR_FILE).exists() and (
        rf.read_config(source) is not None)


def export_translator_run(source, out_dir, *, name: str | None = None,
                          overwrite: bool = False, attribution: str | None = None,
                          metrics: dict | None = None) -> dict:
    """Writes the translator(s) of run folder `source` to `out_dir`; returns
    the card (CycleGAN: {"ab": card, "ba": card}).

    `metrics`: figures for the cards beside the run's last val_l1, by
    direction ({"ab": {...}, "ba": {...}}), e.g. the held-out scores of
    `keras_gan.evaluation.translation`."""
    import keras

    # Registers Pix2Pix and CycleGAN for load_model.
    import keras_gan.models.translation.cyclegan  # noqa: F401
    import keras_gan.models.translation.pix2pix  # noqa: F401
    from export.translators import check_target, export_translator

    source = Path(source).expanduser()
    out = check_target(out_dir, overwrite)  # a wrong --out before a model loads
    config = rf.read_config(source) or {}
    data = rf.read_data_info(source) or {}
    # safe_mode: a .keras file can hold Lambda layers with arbitrary code.
    model = keras.saving.load_model(source / rf.GAN_FILE, safe_mode=True, compile=False)
    summary = rf.run_summary(source)
    rows = rf.read_metrics(source)
    last_l1 = rows[-1].get("val_l1") if rows else None  # on the validation pairs
    card = {"name": name or out.name, "translator": config.get("gan"),
            "dataset": config.get("dataset"), "steps": summary.get("steps"),
            "train_seconds": summary.get("train_seconds"), "training_config": config,
            "metrics": {} if last_l1 is None else {"val_l1": last_l1},
            "attribution": attribution}
    domains = tuple(data.get("domains") or ("a", "b"))
    metrics = metrics or {}
    if not hasattr(model, "generator_ba"):
        card["metrics"] = {**card["metrics"], **metrics.get("ab", {})}
        return export_translator(model, out, direction="ab", domains=domains, card=card,
                                 overwrite=True)  # `out` was checked above
    # A CycleGAN: both directions, as export_translator's "both" lays them
    # out, each card with its own direction's figures.
    return {d: export_translator(model, out / d, direction=d, domains=domains, overwrite=True,
                                 card={**card, "name": f"{card['name']}-{d}",
                                       "metrics": {**card["metrics"], **metrics.get(d, {})}})
            for d in ("ab", "ba")}
