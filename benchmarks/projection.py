"""From real digits to latents: the encoder, and refinement, measured.

    python benchmarks/projection.py [--models mnist-dcgan mnist-cgan] [--n 1000]

For each shipped digit generator with an encoder (benchmarks/ship_encoders.py),
on the first N digits of the digit evaluator's held-out split (never used to
train the encoder or the evaluator), with ONNX Runtime and numpy only
(`export.projection`, what the demo runs):

- reconstruction MSE (pixels in [-1, 1]) of G(z) against the digit, and the
  evaluator's agreement (G(z) classified as the digit's label), for the
  encoder alone and after 10, 50 and 200 refinement steps, with the pixel
  projector and with the evaluator's features in the loss (the judge's own
  features: the pixel rows are the fair ones);
- time per image on this CPU: the whole batch's time over N, and one image
  at a time (what a demo request does; median of 5);
- interpolation: 100 pairs of held-out digits of different labels, projected
  as the demo does (50 steps, features), 10 frames each on the demo's path
  (`export.projection.latent_path`: slerp, a conditional model's class and a
  clustered model's cluster switched halfway; for a clustered model also the
  slerp of all of z, for comparison); the share of
  frames the evaluator is confident about (top probability >= 0.9) beside the
  same share for the real digits, and a strip of 6 pairs (the real digits at
  both ends) written to docs/figures/projection_strips.png.

Writes benchmarks/results/projection.{md,json}. Images are taken as float
arrays (the evaluator's own [-1, 1] digits), so no conversion is measured.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
STEPS = (0, 10, 50, 200)
DEMO_STEPS = 50
CONFIDENT = 0.9
FRAMES = 10


def evaluate_model(name, x, y, ev, n_pairs, seed):
    from export.projection import latent_path
    from export.runtime import OnnxGenerator

    gen = OnnxGenerator(ROOT / "saved_models" / name / "generator.onnx")
    rows = []
    projector = _projector(gen)
    for features in (False, True):
        start, elapsed = time.perf_counter(), {}
        results = {}
        for p in projector.iterate(x, STEPS[-1], features=features, at=STEPS[:-1]):
            elapsed[p.steps] = time.perf_counter() - start
            results[p.steps] = p
        for steps in STEPS:
            if steps == 0 and features:
                continue  # the encoder alone does not depend on the loss
            p = results[steps]
            agree = float((ev.probs(p.images).argmax(1) == y).mean())
            single = []
            for i in range(5):
                t0 = time.perf_counter()
                projector.project(x[i:i + 1], steps=steps, features=features)
                single.append(time.perf_counter() - t0)
            rows.append({"model": name, "loss": "pixels + features" if features else (
                "encoder only" if steps == 0 else "pixels"), "steps": steps,
                "mse": float(p.error.mean()), "agreement": agree,
                "batch_ms_per_image": 1000 * elapsed[steps] / len(x),
                "single_ms": 1000 * float(np.median(single))})
            print(rows[-1], flush=True)
    # Interpolation between real digits of different labels.
    rng = np.random.default_rng(seed)
    pairs = []
    while len(pairs) < n_pairs:
        a, b = rng.integers(len(x), size=2)
        if y[a] != y[b]:
            pairs.append((a, b))
    idx = np.array(pairs)
    p = projector.project(x[idx.ravel()], steps=DEMO_STEPS)
    z = p.z.reshape(n_pairs, 2, -1)
    t = np.linspace(0, 1, FRAMES)
    clustered = gen.metadata.get("gan") == "clustered"
    labels = None if p.labels is None else np.concatenate([
        np.where(t < 0.5, p.labels[2 * k], p.labels[2 * k + 1]) for k in range(n_pairs)])
    interp = {"model": name, "pairs": n_pairs, "frames": FRAMES}
    # The demo's path (a clustered model's cluster switched halfway), and for a
    # clustered model also the slerp of all of z, for comparison.
    for key, switch in (("", clustered), ("slerp_all_", False)) if clustered else (("", False),):
        zs = np.concatenate([latent_path(z[k, 0], z[k, 1], FRAMES, switch)
                             for k in range(n_pairs)])
        images = np.concatenate([gen.run(zs[i:i + 500], None if labels is None else
                                         labels[i:i + 500]) for i in range(0, len(zs), 500)])
        conf = ev.probs(images).max(1).reshape(n_pairs, FRAMES)
        interp.update({f"{key}confident_frames": float((conf >= CONFIDENT).mean()),
                       f"{key}paths_all_confident": float((conf >= CONFIDENT).all(axis=1).mean()),
                       f"{key}min_confidence_median": float(np.median(conf.min(axis=1)))})
        if not key:
            shown = images
    images = shown
    print(interp, flush=True)
    strip = np.concatenate([x[idx[:6, 0]][:, None], images.reshape(
        n_pairs, FRAMES, *images.shape[1:])[:6], x[idx[:6, 1]][:, None]], axis=1)
    return rows, interp, strip


def _projector(gen):
    from export.projection import Projector

    return Projector(gen)


def write_strips(strips, names, path):
    from PIL import Image

    blocks = []
    for strip in strips:
        n, f, h, w, c = strip.shape
        gap = np.ones((n, f, h, 2, c), np.float32)  # white gaps between frames
        tiles = np.concatenate([strip, gap], axis=3).transpose(0, 2, 1, 3, 4)
        blocks.append(tiles.reshape(n * h, f * (w + 2), c))
        blocks.append(np.ones((4, f * (w + 2), c), np.float32))
    grid = np.concatenate(blocks[:-1])
    img = np.clip(np.rint((grid + 1) * 127.5), 0, 255).astype(np.uint8)[..., 0]
    Image.fromarray(img).resize((img.shape[1] * 3, img.shape[0] * 3), Image.NEAREST).save(path)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--models", nargs="+", default=["mnist-dcgan", "mnist-cgan"])
    p.add_argument("--n", type=int, default=1000, help="held-out digits (default: 1000)")
    p.add_argument("--pairs", type=int, default=100)
    p.add_argument("--seed", type=int, default=0, help="seed of the pairs (default: 0)")
    p.add_argument("--out", default="benchmarks/results/projection.md")
    p.add_argument("--strips", default="docs/figures/projection_strips.png")
    args = p.parse_args(argv)
    from keras_gan.evaluation.classifiers import mnist_splits
    from keras_gan.evaluation.evaluator import DigitEvaluator

    _, (xh, yh) = mnist_splits()
    x, y = xh[:args.n], yh[:args.n]
    ev = DigitEvaluator()
    real_confident = float((ev.probs(x).max(1) >= CONFIDENT).mean())
    real_accuracy = float((ev.probs(x).argmax(1) == y).mean())
    rows, interps, strips = [], [], []
    for name in args.models:
        r, i, s = evaluate_model(name, x, y, ev, args.pairs, args.seed)
        rows += r
        interps.append(i)
        strips.append(s)
    write_strips(strips, args.models, ROOT / args.strips)
    command = "python benchmarks/projection.py " + " ".join(
        sys.argv[1:] if argv is None else argv)
    result = {"command": command.strip(), "date": datetime.datetime.now(
        datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"), "n": len(x),
        "machine": f"{os.cpu_count()} CPUs, Python {platform.python_version()}",
        "real_confident": real_confident, "real_accuracy": real_accuracy,
        "rows": rows, "interpolation": interps, "strips": args.strips}
    out = ROOT / args.out
    out.with_suffix(".json").write_text(json.dumps(result, indent=2) + "\n")
    out.write_text(markdown(result))
    print(markdown(result))
    return 0


def markdown(r: dict) -> str:
    lines = [
        "# Projection: real digits -> latents -> digits",
        "",
        f"- Command: `{r['command']}`",
        f"- Date: {r['date']}; {r['machine']}",
        f"- {r['n']} digits of the digit evaluator's held-out split (never used to train "
        "the encoders or the evaluator). MSE: mean squared error of G(z) against the digit, "
        "pixels in [-1, 1]. Agreement: G(z) classified by the digit evaluator as the digit's "
        f"label (the evaluator on the real digits themselves: {r['real_accuracy']:.1%}).",
        "- ms / image: the whole batch's time over its size; one image: a single-image "
        "call, as a demo request makes (median of 5). ONNX Runtime on the CPU, no "
        "TensorFlow.",
        "- `pixels + features` puts the evaluator's own features in the loss: its "
        "agreement is partly the judge agreeing with itself; `pixels` rows are the fair ones.",
        "",
        "| model | loss | steps | MSE | agreement | ms / image (batch) | ms (one image) |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in r["rows"]:
        lines.append(f"| {row['model']} | {row['loss']} | {row['steps']} | {row['mse']:.4f} "
                     f"| {row['agreement']:.1%} | {row['batch_ms_per_image']:.1f} | "
                     f"{row['single_ms']:.0f} |")
    lines += ["", f"Interpolation between two real digits of different labels "
              f"({DEMO_STEPS}-step projections, as the demo; {FRAMES} frames; "
              f"confident: the evaluator's top probability >= {CONFIDENT}; real held-out "
              f"digits: {r['real_confident']:.1%} confident):", "",
              "| model | pairs | confident frames | paths confident throughout | "
              "median of each path's lowest confidence |", "|---|---|---|---|---|"]
    for i in r["interpolation"]:
        for key, how in (("", "demo's path"), ("slerp_all_", "slerp of all of z")):
            if f"{key}confident_frames" in i:
                lines.append(f"| {i['model']} ({how}) | {i['pairs']} | "
                             f"{i[key + 'confident_frames']:.1%} | "
                             f"{i[key + 'paths_all_confident']:.1%} | "
                             f"{i[key + 'min_confidence_median']:.3f} |")
    strips = os.path.relpath(ROOT / r["strips"], ROOT / "benchmarks/results")
    lines += ["", f"![interpolation strips]({strips})",
              "", "Strips: each row starts and ends with the real digits; the frames between "
              "are the generator's. Top block: " + ", then ".join(
                  i["model"] for i in r["interpolation"]) + ".", ""]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
