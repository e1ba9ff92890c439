"""The theory figures: classic GAN results drawn from real runs of the library.

One module per figure, each with `NAME`, `TITLE`, `FULL` / `TINY` settings
and `make(out_dir, *, tiny=False, seed=0, progress=True, **overrides) ->
dict` (the files it wrote, its settings and the numbers behind it: what the
tests check and docs/theory.md quotes). `make_figures` runs a selection,
times each, and writes them all to `figures.json` beside the images;
`keras-gan figures` is its command line, and `keras_gan.figures.doc`
renders docs/theory.md from that file, so every number in the page comes
from a committed run.

Importing this package is light (no TensorFlow): the CLI's --help stays
instant.
"""

from __future__ import annotations

import datetime
import json
import os
import platform
import resource
import sys
import time
from importlib import import_module
from pathlib import Path

from keras_gan.errors import UserError

# name -> module, in the order of the issue (#17) and of docs/theory.md.
FIGURES = {
    "optimal-d": "optimal_d",
    "saturation": "saturation",
    "disjoint": "disjoint",
    "noise": "noise",
    "mode-collapse": "mode_collapse",
    "progression": "progression",
    "progression-emoji": "progression_emoji",
    "gan-vs-vae": "gan_vs_vae",
}
RESULTS_FILE = "figures.json"


class FigureError(UserError, ValueError):
    """An unknown figure name or a bad option; the message says which."""


def list_figures() -> list[str]:
    return list(FIGURES)


def get_figure(name: str):
    """The module of figure `name`."""
    if name not in FIGURES:
        raise FigureError(f"unknown figure {name!r}; choose from {', '.join(FIGURES)}")
    return import_module(f"keras_gan.figures.{FIGURES[name]}")


def _cpu_seconds() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def _environment() -> dict:
    import keras
    import numpy as np
    import tensorflow as tf

    return dict(machine=f"{platform.machine()}, os.cpu_count() {os.cpu_count()}",
                versions=f"Python {platform.python_version()}, tensorflow {tf.__version__}, "
                         f"keras {keras.__version__}, numpy {np.__version__}")


def make_figures(out_dir, only=None, *, tiny: bool = False, seed: int = 0,
                 dataset: str | None = None, threads: int = 1, progress: bool = True,
                 command: str | None = None) -> dict:
    """Makes the figures `only` names (default: all) in `out_dir` and
    returns the results; writes them to `out_dir/figures.json`, keeping the
    entries of figures not remade from an existing file. `dataset` is the
    image source of the "progression" figure; `threads` TensorFlow's intra-
    and inter-op threads (1: steady timings on a shared CPU; 0: TF's
    defaults)."""
    names = list(only or FIGURES)
    modules = {name: get_figure(name) for name in names}  # unknown names fail first
    from keras_gan.figures import common

    common.set_threads(threads)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    path = out / RESULTS_FILE
    results = json.loads(path.read_text()) if path.exists() else {}
    figures = results.get("figures", {})
    for name in names:
        kwargs = {"dataset": dataset} if (name == "progression" and dataset) else {}
        wall, cpu = time.perf_counter(), _cpu_seconds()
        load = os.getloadavg()[0]
        made = modules[name].make(out, tiny=tiny, seed=seed, progress=progress, **kwargs)
        figures[name] = dict(title=modules[name].TITLE, command=command or "keras-gan figures",
                             date=datetime.datetime.now(datetime.UTC).strftime(
                                 "%Y-%m-%d %H:%M UTC"),
                             seconds=round(time.perf_counter() - wall, 1),
                             cpu_seconds=round(_cpu_seconds() - cpu, 1),
                             load_avg_1min=round(load, 2), **made)
        if progress:
            print(f"{name}: {', '.join(made['files'])} in {figures[name]['seconds']:.0f} s",
                  file=sys.stderr)
        # Written after each figure: a failure later keeps what was made.
        results.update(
            command=command or results.get("command") or "keras-gan figures",
            tiny=tiny, seed=seed, threads=threads, **_environment(),
            figures={n: figures[n] for n in FIGURES if n in figures})
        path.write_text(json.dumps(results, indent=1) + "\n")
    return results
