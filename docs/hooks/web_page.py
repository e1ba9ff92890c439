"""MkDocs hook: the documentation site embeds the static page of one shipped
model (docs/web.md's iframe), so a reader generates digits in the docs.

After each build, `keras-gan web saved_models/mnist-cgan` is written into
the site as web/mnist-cgan/ (`export.web.export_page`: numpy and the cached
ONNX Runtime Web files, downloaded once from the npm registry and checked,
see export/web_runtime.py). Written at build time, not committed: the
runtime's 15 MB of WebAssembly stays out of the repository, and the page
always matches the shipped model and the page template of this checkout.
"""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MODEL = "mnist-cgan"
SITE_FOLDER = f"web/{MODEL}"  # docs/web.md's iframe points here


def on_post_build(config, **kwargs):
    from export.web import export_page

    export_page(ROOT / "saved_models" / MODEL, Path(config["site_dir"]) / SITE_FOLDER,
                overwrite=True)
