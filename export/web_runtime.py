"""The ONNX Runtime Web files a static page needs, from the pinned npm tarball.

`obtain(ort_web=None)` returns a folder holding `FILES` (the package's
layout: package.json, dist/...) for `ORT_WEB_VERSION`, in this order:

- `ort_web` given (`keras-gan web --ort-web PATH`): a tarball made by
  `npm pack onnxruntime-web@<V>` (checked against the pinned sha512, so it
  is byte for byte the published one), or an extracted package folder
  (package.json of the pinned version and the files below);
- the cache, `$KERAS_GAN_CACHE/onnxruntime-web-<V>/` (default
  `~/.cache/keras-gan/onnxruntime-web-<V>/`), when it holds every file;
- else the tarball from the npm registry with urllib (no npm needed),
  checked against the pinned integrity, and only `FILES` kept in the cache.

Why a pin and a checksum: the page is tested with this version, and the
files are copied into a site other people load; a changed or corrupted
download must stop the export, not ship. Numpy-free, TensorFlow-free.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import shutil
import tarfile
import tempfile
import urllib.error
import urllib.request
from pathlib import Path

from export.latents import GeneratorError

ORT_WEB_VERSION = "1.31.1"
# `npm view onnxruntime-web@1.31.1 dist.integrity`: sha512 of the tarball.
ORT_WEB_INTEGRITY = ("sha512-5GeH+bWQ+HxM10z7erGlsWqryrwMbSvm/1tkIsKTT48g0fI19VXVVC435t4t7"
                     "VsPdSQeS7NmuZPXrQ73k82URw==")
TARBALL_URL = ("https://registry.npmjs.org/onnxruntime-web/-/"
               f"onnxruntime-web-{ORT_WEB_VERSION}.tgz")
# The wasm (CPU) build, not the bundle: the .mjs loader and the .wasm are
# separate files, fetched from beside ort.wasm.min.mjs (no CDN, no eval'd blob).
FILES = ("package.json", "dist/ort.wasm.min.mjs", "dist/ort-wasm-simd-threaded.mjs",
         "dist/ort-wasm-simd-threaded.wasm")
# The tarball has no LICENSE file; its package.json says "license": "MIT" and
# every dist file's header "Copyright (c) Microsoft Corporation ... MIT
# License". This is the MIT licence of the onnxruntime repository it names.
LICENSE_TEXT = """\
ONNX Runtime Web {version} (npm package onnxruntime-web, https://github.com/microsoft/onnxruntime)
The npm package ships no LICENSE file; its package.json declares "license": "MIT".

MIT License

Copyright (c) Microsoft Corporation

Permission is hereby granted, free of charge, to any person obtaining a copy
of this software and associated documentation files (the "Software"), to deal
in the Software without restriction, including without limitation the rights
to use, copy, modify, merge, publish, distribute, sublicense, and/or sell
copies of the Software, and to permit persons to whom the Software is
furnished to do so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in all
copies or substantial portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,
FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE
AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER
LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE
SOFTWARE.
"""
CACHE_ENV = "KERAS_GAN_CACHE"
HOW_TO_OFFLINE = (f"run `npm pack onnxruntime-web@{ORT_WEB_VERSION}` where there is network "
                  "and pass --ort-web onnxruntime-web-" f"{ORT_WEB_VERSION}.tgz")


class WebRuntimeError(GeneratorError):
    """The ONNX Runtime Web files cannot be had; the message says why and how.
    A GeneratorError (a ValueError) so that the CLI prints it as one line, as
    it does the export layer's other errors (export/ never imports keras_gan)."""


def cache_dir() -> Path:
    """Where the extracted files live: $KERAS_GAN_CACHE or ~/.cache/keras-gan."""
    root = os.environ.get(CACHE_ENV) or Path.home() / ".cache" / "keras-gan"
    return Path(root).expanduser() / f"onnxruntime-web-{ORT_WEB_VERSION}"


def integrity(data: bytes) -> str:
    """npm's `dist.integrity` form of `data`: "sha512-" + base64 digest."""
    return "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()


def check_tarball(data: bytes, where: str) -> None:
    got = integrity(data)
    if got != ORT_WEB_INTEGRITY:
        raise WebRuntimeError(
            f"checksum mismatch for {where}: it is not onnxruntime-web {ORT_WEB_VERSION} as "
            f"published (sha512 expected {ORT_WEB_INTEGRITY[7:23]}..., got {got[7:23]}...); "
            "a corrupted or different tarball")


def extract(data: bytes, target: Path) -> Path:
    """Writes `FILES` of the tarball `data` into `target` (atomically: a
    half-written cache never looks complete)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".partial-", dir=target.parent))
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
            for name in FILES:  # only these names: no path in the archive is trusted
                try:
                    member = tar.extractfile(f"package/{name}")
                except KeyError:
                    member = None
                if member is None:
                    raise WebRuntimeError(f"the onnxruntime-web tarball lacks package/{name}")
                (tmp / name).parent.mkdir(parents=True, exist_ok=True)
                (tmp / name).write_bytes(member.read())
        tmp.chmod(0o755)  # mkdtemp's 0700 would hide the cache from other users
        if target.exists():
            shutil.rmtree(target)
        tmp.rename(target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target


def check_folder(folder: Path, where: str) -> Path:
    """`folder` if it holds every file of the pinned version, else an error naming
    what is missing or which version it is."""
    missing = [n for n in FILES if not (folder / n).is_file()]
    if missing:
        raise WebRuntimeError(f"{where} is not an onnxruntime-web package folder: it lacks "
                              f"{', '.join(missing)}")
    try:
        version = json.loads((folder / "package.json").read_text()).get("version")
    except (ValueError, OSError) as e:
        raise WebRuntimeError(f"{where}/package.json is not readable JSON: {e}") from None
    if version != ORT_WEB_VERSION:
        raise WebRuntimeError(f"{where} holds onnxruntime-web {version}; this keras-gan's "
                              f"page is pinned to and tested with {ORT_WEB_VERSION}")
    return folder


def download(url: str = TARBALL_URL, timeout: float = 60.0) -> bytes:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.read()
    except (urllib.error.URLError, OSError) as e:
        reason = getattr(e, "reason", e)
        raise WebRuntimeError(f"could not download {url} (no network?): {reason}; "
                              f"{HOW_TO_OFFLINE}") from None


def obtain(ort_web=None, url: str = TARBALL_URL) -> Path:
    """The folder of the ONNX Runtime Web files (see the module's docstring)."""
    if ort_web is not None:
        path = Path(ort_web).expanduser()
        if path.is_dir():  # an extracted tarball has its files under package/
            inner = path / "package"
            return check_folder(inner if (inner / "package.json").is_file() else path,
                                str(path))
        if not path.is_file():
            raise WebRuntimeError(f"--ort-web {path}: no such file or folder; it takes an "
                                  "onnxruntime-web .tgz (npm pack) or its extracted folder")
        data = path.read_bytes()
        check_tarball(data, str(path))
        return extract(data, cache_dir())
    cached = cache_dir()
    try:
        return check_folder(cached, str(cached))
    except WebRuntimeError:
        pass  # not there yet (or damaged): fetch it again
    data = download(url)
    check_tarball(data, url)
    return extract(data, cached)


def cached() -> Path | None:
    """The cache folder when it is complete (what the tests read), else None."""
    try:
        return check_folder(cache_dir(), str(cache_dir()))
    except WebRuntimeError:
        return None
