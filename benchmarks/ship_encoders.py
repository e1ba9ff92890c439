"""Adds an encoder and projectors to each shipped image generator.

    python benchmarks/ship_encoders.py [--models mnist-dcgan mnist-cgan emoji-32] \
        [--steps 4000] [--threads 1]

For each `saved_models/NAME/` this is `keras-gan encoder saved_models/NAME
--steps STEPS` (the library call behind it, `keras_gan.models.encoder.encoder_for`),
with this command recorded on the card's "encoder" entry. The real images are
each model's training data at its size; for the digits, the digit
evaluator's 2,000 held-out rows are left out (benchmarks/projection.py
measures on 1,000 of them). Run it after `ship_mnist_models.py` /
`ship_emoji_models.py`, which rewrite the cards.
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout

ROOT = Path(__file__).resolve().parents[1]
MODELS = ("mnist-dcgan", "mnist-cgan", "mnist-ssgan", "emoji-32")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--models", nargs="+", default=list(MODELS))
    p.add_argument("--steps", type=int, default=4000)
    p.add_argument("--reuse", action="store_true",
                   help="train nothing: rewrite encoder.onnx and the projectors from each "
                        "folder's encoder.keras (its card entry kept)")
    p.add_argument("--threads", type=int, default=1,
                   help="TensorFlow intra- and inter-op threads (default: 1)")
    args = p.parse_args(argv)
    if args.threads:
        os.environ["TF_NUM_INTRAOP_THREADS"] = os.environ["TF_NUM_INTEROP_THREADS"] = str(
            args.threads)
    from keras_gan.models.encoder import encoder_for

    command = "python benchmarks/ship_encoders.py " + shlex.join(sys.argv[1:] if argv is None
                                                                 else argv)
    for name in args.models:
        folder = ROOT / "saved_models" / name
        entry = encoder_for(folder, steps=args.steps, reuse=args.reuse,
                            command=None if args.reuse else command.strip())
        print(f"{name}: {entry['train_seconds']} s, final {entry['final']}, projector "
              f"{entry['projector']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
