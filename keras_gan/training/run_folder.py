"""The run folder of `keras-gan train`: its layout, and reading and writing it.

This module is the one place that names the files of a run folder:

    config.json            the resolved config (what --resume continues)
    data.json              what the data source turned out to be (shape, classes)
    metrics.csv            one row per epoch: epoch, step, seconds, then the logs
    logs/                  TensorBoard
    samples/epoch_NNN.png  fixed-latent samples (a scatter plot for 2D data)
    checkpoints/           the last --keep-checkpoints complete training states
    generator.keras        the trained generator (what `sampler` returns), alone
    generator_ema.keras    its weights' moving average (with --ema-decay)
    gan.keras              the whole GAN: both networks and optimizers

A run folder holds no path of its own: it may be moved or copied, then
resumed or exported where it is now (config.json's `out` says where it was
last trained; `load_generator` reports the folder it read).
Training writes it (`write_config`, `write_data_info`, `append_metrics`);
`load_generator` and `export_run` (`keras-gan export`), `keras_gan.evaluation.evaluate`
(`keras-gan eval`) read it. The file formats of an export are `export.writer`'s.
Keras and TensorFlow are imported by the functions that load models, so
importing this module is instant.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import zipfile
from pathlib import Path

from export.writer import CARD_FILE, ExportError

CONFIG_FILE = "config.json"
DATA_FILE = "data.json"
METRICS_FILE = "metrics.csv"
LOGS_DIR = "logs"
SAMPLES_DIR = "samples"
CHECKPOINTS_DIR = "checkpoints"
GENERATOR_FILE = "generator.keras"
GENERATOR_EMA_FILE = "generator_ema.keras"
GAN_FILE = "gan.keras"
# metrics.csv's first columns, in this order, in every row ever written.
METRICS_INDEX = ("epoch", "step", "seconds")
# Model files come from outside (downloads, other people's runs): Keras's safe
# mode refuses those that would run Python code when loaded.
UNSAFE_MODEL = ("{path} holds Python code (a Lambda layer), which keras-gan does not run: "
                "model files are loaded in Keras safe mode")


# -- writing, atomically -----------------------------------------------------------


def fsync(path) -> None:
    """Flushes a file (or a folder's entries) to disk. A kill -9 loses nothing
    the kernel has; this is for a power cut or an OS crash after a rename."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_atomic(path, tmp, write) -> None:
    """`write(tmp)`, flush, rename to `path`: readers see the old file or the
    new one, never a part (also when the disk fills up)."""
    path, tmp = Path(path), Path(tmp)
    try:
        write(tmp)
        fsync(tmp)
        os.replace(tmp, path)
    except OSError:
        tmp.unlink(missing_ok=True)
        raise


def write_text_atomic(path, text: str) -> None:
    path = Path(path)
    write_atomic(path, path.with_name(path.name + ".tmp"), lambda tmp: tmp.write_text(text))


def free_space(path) -> int:
    """Free bytes (for an unprivileged user) on the disk of `path`, or of
    its nearest existing parent when it does not exist yet."""
    path = Path(path).absolute()
    while not path.exists() and path != path.parent:
        path = path.parent
    return shutil.disk_usage(path).free


def human_bytes(n: float) -> str:
    """1234567 -> '1.2 MB' (decimal units, as disks are sold)."""
    if n < 1000:
        return f"{int(n)} bytes"
    for unit in ("kB", "MB", "GB", "TB"):
        n /= 1000
        if n < 1000 or unit == "TB":
            break
    return f"{n:.1f} {unit}"


# -- config.json, data.json ----------------------------------------------------------


def _write_json(run_dir, name: str, value: dict) -> Path:
    # Atomic: other workers of a multiworker run may be reading it (--resume).
    path = Path(run_dir) / name
    write_text_atomic(path, json.dumps(value, indent=2) + "\n")
    return path


def _read_json(run_dir, name: str) -> dict | None:
    path = Path(run_dir) / name
    return json.loads(path.read_text()) if path.exists() else None


def write_config(run_dir, config: dict) -> Path:
    """Writes config.json, the resolved config; returns its path."""
    return _write_json(run_dir, CONFIG_FILE, config)


def read_config(run_dir) -> dict | None:
    """The config dict a run folder was trained with, None if it holds none."""
    return _read_json(run_dir, CONFIG_FILE)


def write_data_info(run_dir, info: dict) -> Path:
    """Writes data.json: what the data source turned out to be (a dict, e.g.
    `dataclasses.asdict(DataInfo)`); returns its path."""
    return _write_json(run_dir, DATA_FILE, info)


def read_data_info(run_dir) -> dict | None:
    """What the data source of a run turned out to be, None if not recorded."""
    return _read_json(run_dir, DATA_FILE)


# -- metrics.csv ---------------------------------------------------------------------


def _format(value) -> str:
    return "" if value is None else str(value)


def _read_table(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    """metrics.csv's header and its rows as {column: cell} (every column, in
    the header's order; "" for an empty cell). A row with another number of
    cells than the header (appended by keras-gan before columns could be
    added on --resume) keeps only its `METRICS_INDEX` cells, which every
    row starts with: which column its other cells belong to is unknown."""
    lines = path.read_text().splitlines() if path.exists() else []
    if not lines:
        return [], []
    header = lines[0].split(",")
    rows = []
    for line in lines[1:]:
        if not line:
            continue
        cells = line.split(",")
        if len(cells) != len(header):
            known = dict(zip(METRICS_INDEX, cells, strict=False))
            cells = [known.get(name, "") if header[:len(METRICS_INDEX)] == list(METRICS_INDEX)
                     else "" for name in header]
        rows.append(dict(zip(header, cells, strict=True)))
    return header, rows


def append_metrics(path, row: dict) -> None:
    """Appends `row` ({column: number}) to the metrics CSV at `path`.

    The header is the union of every row's columns, in order of appearance.
    A row with columns the file lacks (a --resume that adds the FD, say)
    rewrites the file atomically with the wider header, the older rows'
    new cells empty; otherwise the row is appended, an empty cell for each
    column it lacks.
    """
    path = Path(path)
    header, rows = _read_table(path)
    new = [k for k in row if k not in header]
    if not new and path.exists():
        with path.open("a") as f:
            f.write(",".join(_format(row.get(k)) for k in header) + "\n")
        return
    header += new
    rows.append({k: _format(v) for k, v in row.items()})
    lines = [",".join(header)] + [",".join(r.get(k, "") for k in header) for r in rows]
    write_text_atomic(path, "\n".join(lines) + "\n")


def read_metrics(source) -> list[dict[str, float]]:
    """The rows of a metrics CSV (a run folder or the file itself), each
    {column: float} over every column of the header, in its order; an empty
    cell (a column the row's epoch did not log) is NaN."""
    path = Path(source)
    if path.is_dir():
        path = path / METRICS_FILE
    header, rows = _read_table(path)
    return [{k: float(r[k]) if r[k] else math.nan for k in header} for r in rows]


def run_summary(run_dir) -> dict:
    """{"steps", "train_seconds"} of a run, from metrics.csv's last row ({}
    without one)."""
    rows = read_metrics(run_dir)
    if not rows or math.isnan(rows[-1].get("step", math.nan)):
        return {}
    return {"steps": int(rows[-1]["step"]), "train_seconds": rows[-1]["seconds"]}


# -- models --------------------------------------------------------------------------


def generator_file(run_dir) -> Path | None:
    """The generator a run folder (or an export) ships: the EMA one when kept."""
    for name in (GENERATOR_EMA_FILE, GENERATOR_FILE):
        if (Path(run_dir) / name).exists():
            return Path(run_dir) / name
    return None


def load_generator(source):
    """The generator in `source` and what is known of its training.

    `source`: a run folder, a .keras file (a generator, or a whole GAN or
    VAE: its sampling generator) or an earlier export folder. Returns
    (generator, info) where info may hold "config" (the training config
    dict), "data" (the run's data info dict), "metrics", "steps" and
    "train_seconds". Loads in Keras safe mode; raises `ExportError` with a
    one-line reason for anything that is not a keras-gan generator.
    """
    # Registers GAN, its variants (and the legacy LatentCluster layer of older
    # clustered generators) and the VAE for load_model: a whole GAN names them.
    import keras

    import keras_gan.models.gans  # noqa: F401
    import keras_gan.models.vae  # noqa: F401
    from keras_gan.models.clusters import upgrade_legacy_sampler

    source = Path(source).expanduser()
    info: dict = {}
    if source.is_dir():
        if (source / CARD_FILE).exists():  # an earlier export
            card = json.loads((source / CARD_FILE).read_text())
            info = {"config": card.get("training_config"), "metrics": card.get("metrics"),
                    "steps": card.get("steps"), "train_seconds": card.get("train_seconds"),
                    "data": {"class_names": card.get("class_names")},
                    "attribution": card.get("attribution")}
        elif (config := read_config(source)) is not None:  # a run folder
            # Where it is now: it may have been moved or copied since it ran.
            info["config"] = {**config, "out": str(source)}
            if (data := read_data_info(source)) is not None:
                info["data"] = data
            info.update(run_summary(source))
        path = generator_file(source)
        if path is None:
            raise ExportError(f"{source} holds no {GENERATOR_FILE}: is it a finished "
                              "keras-gan run or export?")
    elif source.is_file():
        path = source
    else:
        raise ExportError(f"no model at {source}: give a run folder, a "
                          ".keras file or an exported model folder")
    if path.suffix != ".keras":
        raise ExportError(f"{path} is not a .keras file")
    if not zipfile.is_zipfile(path):  # Keras would say "File not found"
        raise ExportError(f"cannot load {path}: it is not a zip archive, so not a .keras "
                          "file (corrupt, or another format renamed)")
    try:
        # safe_mode: a .keras file can hold Lambda layers with arbitrary code.
        model = keras.saving.load_model(path, safe_mode=True, compile=False)
    except Exception as e:
        if "safe_mode" in str(e):  # Keras's advice (pass safe_mode=False) is not ours
            raise ExportError(UNSAFE_MODEL.format(path=path)) from None
        detail = (str(e).strip().splitlines() or [""])[0][:300]
        raise ExportError(f"cannot load {path}: {type(e).__name__}: {detail}") from None
    # A whole GAN -> the generator it samples from (the EMA one when kept),
    # the same one a run folder exports.
    generator = getattr(model, "sampling_generator", None) or getattr(model, "generator", model)
    names = [i.name for i in generator.inputs]
    if names not in (["z"], ["z", "labels"]):
        raise ExportError(f"{path} is not a keras-gan generator: inputs {names}, "
                          "expected z (and labels)")
    # An older clustered run's sampler holds a keras-gan layer: the same
    # sampler from Keras's own operations, so what is written from it loads
    # with Keras alone.
    return upgrade_legacy_sampler(generator), info


def export_run(source, out_dir, *, name: str | None = None, fp16: bool = False,
               metrics: dict | None = None, overwrite: bool = False,
               attribution: str | None = None) -> dict:
    """`keras-gan export`: writes every form of the generator in `source`
    (see `load_generator`) to `out_dir` with `export.writer`, the card
    filled from what the source knows of its training plus `metrics`;
    returns the card.

    A semi-supervised run (`--gan ssgan`) or its export also holds
    classifier.keras: it is written beside the generator by
    `export.classifier` (classifier.keras, classifier.onnx), its entry on
    the card under "classifier", filled from the run's labels.json and
    data.json (or the earlier export's card)."""
    from export.classifier import KERAS_FILE as CLASSIFIER_FILE
    from export.classifier import ONNX_FILE as CLASSIFIER_ONNX
    from export.classifier import export_classifier
    from export.writer import check_target, write_generator

    # The target first: a wrong --out should not wait for a model to load.
    out = check_target(out_dir, overwrite)
    generator, info = load_generator(source)
    config = info.get("config") or {}
    fields = {
        "name": name or out.name,
        "class_names": (info.get("data") or {}).get("class_names"),
        "gan": config.get("gan"),
        "dataset": config.get("dataset"),
        "steps": info.get("steps"),
        "train_seconds": info.get("train_seconds"),
        "training_config": config or None,
        "metrics": {**(info.get("metrics") or {}), **(metrics or {})},
        "attribution": attribution or info.get("attribution"),
    }
    card = write_generator(generator, out, fields, fp16=fp16, overwrite=overwrite)
    classifier_path = Path(source).expanduser() / CLASSIFIER_FILE
    if not classifier_path.is_file():
        # An earlier export's classifier in --out (--overwrite) is another model's.
        for stale in (CLASSIFIER_FILE, CLASSIFIER_ONNX):
            (out / stale).unlink(missing_ok=True)
        return card
    import keras  # loaded already, by load_generator

    try:
        classifier = keras.saving.load_model(classifier_path, safe_mode=True, compile=False)
    except Exception as e:
        if "safe_mode" in str(e):
            raise ExportError(UNSAFE_MODEL.format(path=classifier_path)) from None
        detail = (str(e).strip().splitlines() or [""])[0][:300]
        raise ExportError(f"cannot load {classifier_path}: {type(e).__name__}: "
                          f"{detail}") from None
    # labels.json and data.json: what keras_gan.training.semi writes beside it;
    # an earlier export keeps the same fields on its card.
    labels = _read_json(source, "labels.json") or {}
    known = {**labels, **(info.get("data") or {}), **((_read_json(source, CARD_FILE) or {})
                                                       .get("classifier") or {})}
    if "labelled_rows" in labels:
        known.setdefault("labelled_examples", len(labels["labelled_rows"]))
    card["classifier"] = export_classifier(classifier, out, {
        k: known.get(k) for k in ("class_names", "test_accuracy", "held_out",
                                  "held_out_examples", "labels_per_class",
                                  "labelled_examples", "seed")})
    card["files"].update(classifier_keras=CLASSIFIER_FILE, classifier_onnx=CLASSIFIER_ONNX)
    write_text_atomic(out / CARD_FILE, json.dumps(card, indent=2) + "\n")
    return card
