"""`keras-gan web MODEL_DIR OUT_DIR`: an exported model as a static web page.

The folder written runs the model in the visitor's browser with ONNX Runtime
Web (wasm), with no server code and no other host: any static host (or
`python -m http.server`) serves it. It holds

- index.html, page.js, card.js, lib.js, style.css: the page
  (export/web_page/, plain ES modules, no build step);
- the model's ONNX file (see `choose_onnx`) and its card, model.json;
- ort/: the ONNX Runtime Web files (export/web_runtime.py) and their licence;
- manifest.json: what the page loads and shows (the model's inputs and
  shapes, read from the ONNX file), the ORT Web version and integrity, why
  this ONNX file, and every file's size.

Reads an export folder only: numpy and onnxruntime, never TensorFlow (a test
runs it with TensorFlow made unimportable).
"""

from __future__ import annotations

import datetime
import html
import json
import shutil
from pathlib import Path

from export.latents import GeneratorError
from export.web_runtime import (
    FILES,
    LICENSE_TEXT,
    ORT_WEB_INTEGRITY,
    ORT_WEB_VERSION,
    WebRuntimeError,
    obtain,
)

PAGE = Path(__file__).with_name("web_page")
PAGE_FILES = ("index.html", "page.js", "card.js", "lib.js", "style.css")
ORT_DIR = "ort"
LICENSE_NAME = f"{ORT_DIR}/LICENSE.txt"
# The fp16 file's error against float32 (the card's fp16_max_abs_error,
# measured by `keras-gan export --fp16`) must stay below this for the page to
# ship it: a pixel step is 2/255 ~ 0.0078, so this keeps the rounded pictures
# within one step of float32's.
FP16_MAX_ERROR = 0.01


class WebError(WebRuntimeError):
    """MODEL_DIR or OUT_DIR is wrong; the message says which and how."""


def _card(model_dir: Path) -> dict:
    path = model_dir / "model.json"
    if not path.is_file():
        raise WebError(f"{model_dir} has no model.json (the card); `keras-gan export` writes it")
    try:
        return json.loads(path.read_text())
    except ValueError as e:
        raise WebError(f"{path} is not JSON: {e}") from None


def choose_onnx(model_dir: Path, card: dict, fp32: bool = False) -> tuple[str, str, str]:
    """(file name, precision, why) of the ONNX file the page runs.

    generator_fp16.onnx is half the download and runs on ORT Web's wasm
    backend (its float16 kernels, or casts around them; inputs and outputs
    stay float32), within the error the export measured: it is chosen when
    that error is on the card and below FP16_MAX_ERROR. The browser test
    checks the page's output against onnxruntime's on the same file.
    """
    fp16 = model_dir / "generator_fp16.onnx"
    error = card.get("fp16_max_abs_error")
    if fp32:
        return "generator.onnx", "float32", "--fp32 asked for the float32 file"
    if not fp16.is_file():
        return "generator.onnx", "float32", "no generator_fp16.onnx in the export"
    if not isinstance(error, (int, float)) or not error < FP16_MAX_ERROR:
        return "generator.onnx", "float32", (
            f"the card's fp16_max_abs_error ({error}) is missing or not below "
            f"{FP16_MAX_ERROR}")
    return "generator_fp16.onnx", "float16", (
        f"half the download of generator.onnx; its error against float32 is {error:.2g} "
        f"(< {FP16_MAX_ERROR}, under one pixel step of 2/255), and ONNX Runtime Web "
        f"{ORT_WEB_VERSION}'s wasm backend runs it (float32 inputs and outputs)")


def _model(model_dir: Path, card: dict, fp32: bool) -> tuple[dict, str, str, str]:
    """(what the page needs to know of the model, ONNX file, precision, why),
    read from the ONNX file itself through the Python runtime, which checks
    the contract."""
    if (model_dir / "translator.onnx").is_file():
        from export.translator_runtime import OnnxTranslator

        t = OnnxTranslator(model_dir / "translator.onnx", providers=["CPUExecutionProvider"])
        model = {"kind": "translator", "image_shape": list(t.image_shape),
                 "output_shape": list(t.output_shape), "source_domain": t.source_domain,
                 "target_domain": t.target_domain, "direction": t.direction}
        return model, "translator.onnx", "float32", "translators are exported in float32 only"
    from export.runtime import OnnxGenerator

    name, precision, why = choose_onnx(model_dir, card, fp32)
    g = OnnxGenerator(model_dir / name, providers=["CPUExecutionProvider"])
    model = {"kind": g.kind, "latent_dim": g.latent_dim, "conditional": g.conditional,
             "num_classes": g.num_classes, "class_names": g.class_names,
             "output_shape": list(g.output_shape)}
    return model, name, precision, why


def _out_dir(out_dir: Path, model_dir: Path, overwrite: bool) -> None:
    if out_dir.exists() and not out_dir.is_dir():
        raise WebError(f"OUT_DIR {out_dir} is a file, not a folder")
    if out_dir.resolve() in (model_dir.resolve(), *model_dir.resolve().parents):
        raise WebError(f"OUT_DIR {out_dir} would hold MODEL_DIR {model_dir}: pick another folder")
    if out_dir.is_dir() and any(out_dir.iterdir()):
        if not overwrite:
            raise WebError(f"OUT_DIR {out_dir} exists and is not empty; pass --overwrite to "
                           "replace an earlier page there")
        # --overwrite deletes the folder, so it must be one this command
        # wrote: a mistyped OUT_DIR would otherwise lose the user's files.
        if not _is_page(out_dir):
            raise WebError(f"OUT_DIR {out_dir} is not empty and holds no keras-gan page "
                           "(no manifest.json written by `keras-gan web`); --overwrite "
                           "replaces only such a page: pick a new or empty folder")
        shutil.rmtree(out_dir)


def _is_page(folder: Path) -> bool:
    try:
        manifest = json.loads((folder / "manifest.json").read_text())
    except (OSError, ValueError):
        return False
    return isinstance(manifest, dict) and "keras_gan_web" in manifest


def export_page(model_dir, out_dir, overwrite: bool = False, ort_web=None,
                fp32: bool = False) -> dict:
    """Writes the page of the export folder `model_dir` into `out_dir`;
    returns the manifest (also written as out_dir/manifest.json)."""
    model_dir, out_dir = Path(model_dir).expanduser(), Path(out_dir).expanduser()
    if not model_dir.is_dir():
        raise WebError(f"no model folder at {model_dir}")
    if not any((model_dir / f).is_file() for f in ("generator.onnx", "translator.onnx")):
        subs = sorted(p.name for p in model_dir.iterdir()
                      if p.is_dir() and (p / "model.json").is_file())
        hint = (f"; it has model folders {', '.join(subs)}: pass one of them" if subs
                else "; `keras-gan export` writes one")
        raise WebError(f"{model_dir} holds no generator.onnx or translator.onnx{hint}")
    card = _card(model_dir)
    try:
        model, onnx_name, precision, why = _model(model_dir, card, fp32)
    except GeneratorError as e:  # a file that breaks the contract
        raise WebError(f"{model_dir}: {e}") from None
    runtime = obtain(ort_web)  # before anything is written: a failure leaves no half page
    _out_dir(out_dir, model_dir, overwrite)
    (out_dir / ORT_DIR).mkdir(parents=True, exist_ok=True)
    title = html.escape(f"{card.get('name') or model_dir.name} · keras-gan")
    for name in PAGE_FILES:
        text = (PAGE / name).read_text(encoding="utf-8")
        (out_dir / name).write_text(text.replace("{{title}}", title), encoding="utf-8")
    shutil.copyfile(model_dir / onnx_name, out_dir / onnx_name)
    shutil.copyfile(model_dir / "model.json", out_dir / "model.json")
    for name in FILES[1:]:  # the dist files; package.json's version is in the manifest
        shutil.copyfile(runtime / name, out_dir / ORT_DIR / Path(name).name)
    (out_dir / LICENSE_NAME).write_text(LICENSE_TEXT.format(version=ORT_WEB_VERSION))
    files = {p.relative_to(out_dir).as_posix(): p.stat().st_size
             for p in sorted(out_dir.rglob("*")) if p.is_file()}
    manifest = {
        "keras_gan_web": 1,
        "name": card.get("name") or model_dir.name,
        "source": str(model_dir),
        "created": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "model": model,
        "onnx": onnx_name, "precision": precision, "onnx_choice": why,
        "ort_web": {"package": "onnxruntime-web", "version": ORT_WEB_VERSION,
                    "integrity": ORT_WEB_INTEGRITY, "backend": "wasm",
                    "files": [f"{ORT_DIR}/{Path(n).name}" for n in FILES[1:]],
                    "license": LICENSE_NAME},
        "files": files,  # bytes of each file but this manifest
        "total_bytes": sum(files.values()),
    }
    (out_dir / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest
