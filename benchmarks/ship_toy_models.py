"""Trains the 2D presets and ships their generators as saved_models/toy-{ring,grid}.

For each of `presets/toy-ring.yaml` and `presets/toy-grid.yaml` (seed 0, the
preset as it is): `keras-gan train --config ...`, then scores the generator
export takes (the EMA one) with the protocol of `benchmarks/toy_modes.py`
(2,500 samples, latents `sample_latents(2500, latent_dim, seed=1000)`), then
`keras-gan export` with those scores on the card, and a scatter plot as
`samples.png`. `tests/test_presets.py` re-scores the shipped ONNX files
against their cards. Run from the repository root:

    python benchmarks/ship_toy_models.py [--datasets ring,grid] [--runs runs]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout

import numpy as np  # noqa: E402

from export.runtime import sample_latents  # noqa: E402
from keras_gan.config import TrainConfig  # noqa: E402
from keras_gan.data.images import save_scatter  # noqa: E402
from keras_gan.data.sources import toy_mixture  # noqa: E402
from keras_gan.evaluation.metrics import mode_metrics  # noqa: E402
from keras_gan.training.run_folder import export_run, load_generator  # noqa: E402
from keras_gan.training.trainer import train  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
NUM_SAMPLES, EVAL_SEED = 2500, 1000  # benchmarks/toy_modes.py, seed 0


def ship(dataset: str, runs: Path) -> dict:
    preset = ROOT / "presets" / f"toy-{dataset}.yaml"
    run_dir = runs / f"toy-{dataset}"
    cfg = TrainConfig.from_yaml(preset, out=str(run_dir), verbose=2)
    t0 = time.perf_counter()
    train(cfg)
    print(f"{dataset}: trained in {time.perf_counter() - t0:.0f} s", flush=True)
    generator, _ = load_generator(run_dir)  # what export ships: the EMA generator
    z = sample_latents(NUM_SAMPLES, cfg.latent_dim, seed=EVAL_SEED)
    samples = np.asarray(generator(z, training=False))
    means, std = toy_mixture(dataset)
    m = mode_metrics(samples, means, std)
    metrics = {**m, "num_samples": NUM_SAMPLES, "eval_seed": EVAL_SEED,
               "protocol": "shared/protocols.md 2D mixtures: 2,500 samples, a sample is "
                           "high quality within 3 std of its nearest mode",
               "preset": f"presets/toy-{dataset}.yaml",
               "command": "python benchmarks/ship_toy_models.py"}
    out = ROOT / "saved_models" / f"toy-{dataset}"
    card = export_run(run_dir, out, name=f"toy-{dataset}", metrics=metrics, overwrite=True)
    title = (f"toy-{dataset}: {m['modes']}/{m['num_modes']} modes, "
             f"{100 * m['high_quality']:.1f}% high quality, reverse KL {m['reverse_kl']:.4f}")
    save_scatter(out / "samples.png", samples, means, title=title)
    print(title, flush=True)
    return card


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--datasets", default="ring,grid")
    p.add_argument("--runs", default="runs", help="parent of the run folders (runs)")
    args = p.parse_args(argv)
    for ds in [d.strip() for d in args.datasets.split(",") if d.strip()]:
        ship(ds, Path(args.runs))
    return 0


if __name__ == "__main__":
    sys.exit(main())
