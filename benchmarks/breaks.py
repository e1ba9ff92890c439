"""Break the library one line at a time, as a reviewer would, and check that
the tests meant to guard each line fail.

Each break is a one-line edit of a source file (a bug that would leave a run
quietly worse) and the test nodes that must catch it. The script copies the
checkout to a temporary folder, applies one break there, runs the named
tests in that copy, restores the line, and writes a table: the break, the
tests, and whether they failed (the break was caught). The last row, the
unbroken code, must pass. Usage (from the repository root):

    python benchmarks/breaks.py --out benchmarks/results/breaks.md

The working tree is never edited. A break whose line is no longer in its file
is reported as "line gone", so the list cannot silently rot.
"""

from __future__ import annotations

import argparse
import datetime
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
COPY = ("keras_gan", "export", "demo", "tests", "presets", "saved_models", "docs", "examples",
        "benchmarks", "pyproject.toml", "README.md")


@dataclass(frozen=True)
class Break:
    name: str
    path: str
    old: str
    new: str
    tests: tuple[str, ...]


BREAKS = (
    Break("R1 taken at the fakes", "keras_gan/models/gan.py",
          "zero_centered_penalty(critic, real))", "zero_centered_penalty(critic, fake))",
          ("tests/test_penalties.py::test_r1_is_taken_at_the_reals_and_r2_at_the_fakes",)),
    Break("ADA never augments", "keras_gan/models/gan.py",
          "        if self.ada_target:\n            samples = tricks.ada_augment",
          "        if False and self.ada_target:\n            samples = tricks.ada_augment",
          ("tests/test_tricks.py::test_d_sees_ada_augmented_images_with_probability_p",)),
    Break("ADA counts one batch per adjustment", "keras_gan/models/gan.py",
          "images = self.ada_interval * replicas * ops.shape(real_logits)[0]",
          "images = ops.shape(real_logits)[0]",
          ("tests/test_tricks.py::test_ada_moves_p_by_the_real_images_seen_over_its_interval",)),
    Break("RpGAN's G step without the real logits", "keras_gan/models/gan.py",
          "loss = self.generator_loss(fake_logits, fake, real_logits=real_logits,",
          "loss = self.generator_loss(fake_logits, fake, real_logits=None if real_logits is "
          "None else ops.zeros_like(real_logits),",
          ("tests/test_gan.py::test_relativistic_generator_loss_pairs_its_fakes_with_the_real_"
           "minibatch",)),
    Break("projector features up-sample by tiling", "export/encoder.py",
          "images = tf.reshape(tf.broadcast_to(images[:, :, None, :, None, :],\n"
          "                                                [batch, h, factor, w, factor, c]),\n"
          "                                [batch, h * factor, w * factor, c])",
          "images = tf.tile(images, [1, factor, factor, 1])",
          ("tests/test_projection.py::test_loss_is_pixels_plus_features_plus_prior_by_hand",)),
    Break("penalties given the un-augmented batch", "keras_gan/models/gan.py",
          "terms = self.d_regularizers(seen_real, seen_fake, labels)",
          "terms = self.d_regularizers(real, fake, labels)",
          ("tests/test_penalties.py::test_a_d_step_penalises_the_samples_its_loss_saw",)),
)


def copy_checkout(to: Path) -> None:
    """The parts of the checkout the tests need, without caches."""
    for name in COPY:
        src = ROOT / name
        if src.is_dir():
            shutil.copytree(src, to / name, ignore=shutil.ignore_patterns("__pycache__"))
        elif src.exists():
            shutil.copy2(src, to / name)


def _pytest(where: Path, tests) -> tuple[int, float, str]:
    start = time.perf_counter()
    # -p no:cacheprovider: nothing written beside the copy; the copy's own
    # modules come first on sys.path (python -m puts the cwd there).
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider",
                           *tests], cwd=where, capture_output=True, text=True)
    last = (proc.stdout.strip().splitlines() or [""])[-1]
    return proc.returncode, time.perf_counter() - start, last


def run(breaks=BREAKS) -> list[dict]:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        where = Path(tmp)
        copy_checkout(where)
        for b in breaks:
            path = where / b.path
            text = path.read_text()
            if text.count(b.old) != 1:
                rows.append(dict(name=b.name, tests=b.tests, verdict="line gone", seconds=0,
                                 last=f"{b.path} holds the line {text.count(b.old)} times"))
                continue
            path.write_text(text.replace(b.old, b.new))
            try:
                code, seconds, last = _pytest(where, b.tests)
            finally:
                path.write_text(text)
            verdict = "caught" if code == 1 else ("NOT caught" if code == 0 else f"error {code}")
            rows.append(dict(name=b.name, tests=b.tests, verdict=verdict, seconds=seconds,
                             last=last))
            print(f"{b.name}: {verdict} ({last})", flush=True)
        tests = sorted({t for b in breaks for t in b.tests})
        code, seconds, last = _pytest(where, tests)
        rows.append(dict(name="(no break)", tests=tuple(tests),
                         verdict="pass" if code == 0 else f"FAIL {code}", seconds=seconds,
                         last=last))
    return rows


def report(rows, command: str) -> str:
    lines = ["# Breaks the tests must catch", "",
             f"`{command}`, {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC", "",
             "| break | tests | verdict | pytest's last line |", "|---|---|---|---|"]
    for r in rows:
        tests = "<br>".join(f"`{t.split('::')[-1]}`" for t in r["tests"])
        lines.append(f"| {r['name']} | {tests} | {r['verdict']} | {r['last']} |")
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default="benchmarks/results/breaks.md")
    args = parser.parse_args(argv)
    rows = run()
    text = report(rows, "python benchmarks/breaks.py --out " + args.out)
    Path(args.out).write_text(text)
    print(text)
    bad = [r for r in rows[:-1] if r["verdict"] != "caught"] + (
        [rows[-1]] if rows[-1]["verdict"] != "pass" else [])
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
