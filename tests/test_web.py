"""export/web.py and export/web_runtime.py (`keras-gan web`), without a browser:
what the page folder holds, every refusal and its message, the tarball's
checksum, and that none of it imports TensorFlow. The ONNX Runtime Web files
here are stand-ins (a folder or tarball made by the test, with the pinned
integrity patched where a tarball must pass): no network, no cache needed.
tests/test_web_browser.py runs the real files in Chromium."""

import io
import json
import os
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from export import web_runtime
from export.web import PAGE_FILES, export_page
from export.web_runtime import FILES, ORT_WEB_VERSION, WebRuntimeError

REPO = Path(__file__).resolve().parents[1]
MODELS = REPO / "saved_models"


def fake_package(root: Path, version: str = ORT_WEB_VERSION) -> Path:
    """An extracted onnxruntime-web package with stand-in dist files."""
    (root / "dist").mkdir(parents=True)
    (root / "package.json").write_text(json.dumps({"name": "onnxruntime-web",
                                                   "version": version}))
    for name in FILES[1:]:
        (root / name).write_bytes(b"stand-in " + name.encode())
    return root


def fake_tarball(path: Path, skip: str | None = None) -> bytes:
    """A .tgz laid out as `npm pack` lays it out (package/...)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name in FILES:
            if name == skip:
                continue
            data = (json.dumps({"version": ORT_WEB_VERSION}) if name == "package.json"
                    else f"tarball {name}").encode()
            info = tarfile.TarInfo(f"package/{name}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    path.write_bytes(buffer.getvalue())
    return buffer.getvalue()


@pytest.fixture
def ort_web(tmp_path):
    return fake_package(tmp_path / "ort-package")


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    """Every test's own cache: the user's is never read or written here."""
    monkeypatch.setenv(web_runtime.CACHE_ENV, str(tmp_path / "cache"))


def test_the_page_of_a_conditional_generator(tmp_path, ort_web):
    out = tmp_path / "page"
    manifest = export_page(MODELS / "mnist-cgan", out, ort_web=ort_web)
    for name in (*PAGE_FILES, "model.json", "manifest.json", "generator_fp16.onnx",
                 "ort/LICENSE.txt", "ort/ort.wasm.min.mjs", "ort/ort-wasm-simd-threaded.mjs",
                 "ort/ort-wasm-simd-threaded.wasm"):
        assert (out / name).is_file(), name
    assert not (out / "generator.onnx").exists()  # one model file, the one the page runs
    assert json.loads((out / "manifest.json").read_text()) == manifest
    assert manifest["ort_web"]["version"] == ORT_WEB_VERSION
    assert manifest["ort_web"]["integrity"] == web_runtime.ORT_WEB_INTEGRITY
    assert manifest["onnx"] == "generator_fp16.onnx" and manifest["precision"] == "float16"
    assert "0.005" in manifest["onnx_choice"]  # the card's measured fp16 error, cited
    sizes = {p.relative_to(out).as_posix(): p.stat().st_size
             for p in out.rglob("*") if p.is_file() and p.name != "manifest.json"}
    assert manifest["files"] == sizes and manifest["total_bytes"] == sum(sizes.values())
    assert manifest["model"] == {"kind": "image", "latent_dim": 64, "conditional": True,
                                 "num_classes": 10, "class_names": [str(i) for i in range(10)],
                                 "output_shape": [28, 28, 1]}
    assert (out / "model.json").read_bytes() == (MODELS / "mnist-cgan/model.json").read_bytes()
    assert "<title>mnist-cgan · keras-gan</title>" in (out / "index.html").read_text()
    assert "MIT License" in (out / "ort/LICENSE.txt").read_text()
    assert (out / "ort/ort.wasm.min.mjs").read_bytes() == b"stand-in dist/ort.wasm.min.mjs"


def test_fp32_where_asked_or_where_no_fp16_file(tmp_path, ort_web):
    asked = export_page(MODELS / "mnist-dcgan", tmp_path / "a", ort_web=ort_web, fp32=True)
    assert asked["onnx"] == "generator.onnx" and asked["precision"] == "float32"
    ring = export_page(MODELS / "toy-ring", tmp_path / "b", ort_web=ort_web)
    assert ring["onnx"] == "generator.onnx" and "no generator_fp16.onnx" in ring["onnx_choice"]
    assert ring["model"]["kind"] == "points"  # supported: the page plots them


def test_the_page_of_a_translator(tmp_path, ort_web):
    manifest = export_page(MODELS / "emoji-sketch", tmp_path / "t", ort_web=ort_web)
    assert manifest["onnx"] == "translator.onnx"
    assert manifest["model"] == {"kind": "translator", "image_shape": [32, 32, 1],
                                 "output_shape": [32, 32, 3], "source_domain": "sketch",
                                 "target_domain": "twitter", "direction": "ab"}


@pytest.mark.parametrize("model, message", [
    ("no-such-model", "no model folder at"),
    ("emoji-styles", "holds no generator.onnx or translator.onnx; it has model folders ab, "
                     "ba: pass one of them"),
])
def test_bad_model_dirs_are_refused(tmp_path, ort_web, model, message):
    with pytest.raises(WebRuntimeError, match=message):
        export_page(MODELS / model, tmp_path / "out", ort_web=ort_web)
    assert not (tmp_path / "out").exists()


def test_a_folder_without_a_card_or_a_model(tmp_path, ort_web):
    folder = tmp_path / "model"
    folder.mkdir()
    with pytest.raises(WebRuntimeError, match="holds no generator.onnx or translator.onnx; "
                                              "`keras-gan export` writes one"):
        export_page(folder, tmp_path / "out", ort_web=ort_web)
    (folder / "generator.onnx").write_bytes(b"not onnx")
    with pytest.raises(WebRuntimeError, match="has no model.json"):
        export_page(folder, tmp_path / "out", ort_web=ort_web)
    (folder / "model.json").write_text("{}")
    with pytest.raises(WebRuntimeError, match="generator.onnx is not a loadable ONNX model"):
        export_page(folder, tmp_path / "out", ort_web=ort_web)
    assert not (tmp_path / "out").exists()


def test_a_non_empty_out_dir_needs_overwrite(tmp_path, ort_web):
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    with pytest.raises(WebRuntimeError, match="exists and is not empty; pass --overwrite"):
        export_page(MODELS / "mnist-dcgan", out, ort_web=ort_web)
    assert (out / "keep.txt").read_text() == "mine"
    # --overwrite replaces an earlier page, never a folder of other files
    with pytest.raises(WebRuntimeError, match="holds no keras-gan page"):
        export_page(MODELS / "mnist-dcgan", out, ort_web=ort_web, overwrite=True)
    assert (out / "keep.txt").read_text() == "mine"
    (out / "manifest.json").write_text('{"not": "a page"}')
    with pytest.raises(WebRuntimeError, match="holds no keras-gan page"):
        export_page(MODELS / "mnist-dcgan", out, ort_web=ort_web, overwrite=True)
    page = tmp_path / "page"
    export_page(MODELS / "mnist-dcgan", page, ort_web=ort_web)
    (page / "stale.txt").write_text("from before")
    export_page(MODELS / "mnist-cgan", page, ort_web=ort_web, overwrite=True)
    assert not (page / "stale.txt").exists()
    assert json.loads((page / "manifest.json").read_text())["model"]["conditional"]
    with pytest.raises(WebRuntimeError, match="would hold MODEL_DIR"):
        export_page(MODELS / "mnist-dcgan", MODELS, ort_web=ort_web, overwrite=True)


def test_bad_ort_web_paths(tmp_path):
    with pytest.raises(WebRuntimeError, match="no such file or folder"):
        web_runtime.obtain(tmp_path / "nowhere.tgz")
    partial = fake_package(tmp_path / "partial")
    (partial / "dist/ort-wasm-simd-threaded.wasm").unlink()
    with pytest.raises(WebRuntimeError, match="lacks dist/ort-wasm-simd-threaded.wasm"):
        web_runtime.obtain(partial)
    pinned = f"holds onnxruntime-web 1.0.0; this keras-gan's page is pinned to and tested " \
             f"with {ORT_WEB_VERSION}"
    with pytest.raises(WebRuntimeError, match=pinned):
        web_runtime.obtain(fake_package(tmp_path / "old", "1.0.0"))


def test_a_corrupted_tarball_fails_its_checksum(tmp_path):
    tarball = tmp_path / f"onnxruntime-web-{ORT_WEB_VERSION}.tgz"
    fake_tarball(tarball)
    with pytest.raises(WebRuntimeError, match="checksum mismatch for .*: it is not "
                                              f"onnxruntime-web {ORT_WEB_VERSION} as published"):
        web_runtime.obtain(tarball)
    assert web_runtime.cached() is None  # nothing extracted


def test_a_good_tarball_is_extracted_once_and_reused(tmp_path, monkeypatch):
    tarball = tmp_path / "ort.tgz"
    monkeypatch.setattr(web_runtime, "ORT_WEB_INTEGRITY",
                        web_runtime.integrity(fake_tarball(tarball)))
    folder = web_runtime.obtain(tarball)
    cache = tmp_path / "cache" / f"onnxruntime-web-{ORT_WEB_VERSION}"
    assert folder == web_runtime.cache_dir() == cache
    assert sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*")
                  if p.is_file()) == sorted(FILES)
    monkeypatch.setattr(web_runtime, "download", lambda url: pytest.fail("downloaded again"))
    assert web_runtime.obtain() == folder  # the cache, no network


def test_a_tarball_missing_a_file(tmp_path, monkeypatch):
    tarball = tmp_path / "ort.tgz"
    data = fake_tarball(tarball, skip="dist/ort-wasm-simd-threaded.mjs")
    monkeypatch.setattr(web_runtime, "ORT_WEB_INTEGRITY", web_runtime.integrity(data))
    with pytest.raises(WebRuntimeError, match="lacks package/dist/ort-wasm-simd-threaded.mjs"):
        web_runtime.obtain(tarball)
    assert web_runtime.cached() is None


def test_no_network_says_so_and_how_to_go_offline():
    # Port 9 (discard) on this machine: refused at once, no outside host asked.
    with pytest.raises(WebRuntimeError, match=r"could not download http://127.0.0.1:9/x.tgz "
                                              r"\(no network\?\).*--ort-web"):
        web_runtime.obtain(url="http://127.0.0.1:9/x.tgz")


NO_TF = """
import sys
for name in ("tensorflow", "keras", "tf_keras"):
    sys.modules[name] = None  # `import tensorflow` now raises ImportError
from keras_gan.cli import main
code = main(["web", *sys.argv[1:]])
print("TF", any(m == "tensorflow" or m.startswith("tensorflow.")
                for m in sys.modules if sys.modules[m] is not None), "code", code)
"""


def test_web_never_imports_tensorflow(tmp_path, ort_web):
    # Through the CLI's own main(), with its default (quiet) start: `web` is
    # one of the commands it starts no TensorFlow for.
    proc = subprocess.run([sys.executable, "-c", NO_TF, str(MODELS / "mnist-cgan"),
                           str(tmp_path / "page"), "--ort-web", str(ort_web)],
                          cwd=REPO, capture_output=True, text=True, timeout=120,
                          env={k: v for k, v in os.environ.items()
                               if k != "TF_CPP_MIN_LOG_LEVEL"})
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().endswith("TF False code 0"), proc.stdout
    assert "Wrote the page of mnist-cgan" in proc.stdout
    assert (tmp_path / "page/index.html").is_file()


def test_the_cli_prints_one_line_errors(tmp_path, capsys):
    from keras_gan.cli import main

    assert main(["web", str(tmp_path / "missing"), str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.strip()
    assert err == f"keras-gan web: error: no model folder at {tmp_path / 'missing'}"
