"""Train pix2pix on your own paired images with `model.fit`, then run it
through ONNX without TensorFlow.

Title: pix2pix on paired images
Description: two folders of matching file names (or an npz of `a` and `b`)
-> a translator, its ONNX file and a grid of held-out translations.

    python examples/pix2pix_pairs.py --pairs pairs:~/edges,~/photos --size 64 --epochs 50
    python examples/pix2pix_pairs.py --pairs emoji64:sketch --size 32 --epochs 5
    python examples/pix2pix_pairs.py --tiny      # seconds, on made-up 16x16 pairs

`load_pairs` reads the pairs (one-line errors for a missing partner or mixed
sizes); the last tenth is held out. `build_translator("pix2pix", ...)` is
the U-Net + conditional PatchGAN with L1 weight 100 (Isola et al. 2017);
the optimisers are the paper's (Adam 2e-4, beta_1 0.5). Everything else is
plain Keras: a `tf.data` pipeline, `fit`, `CSVLogger`. `export_translator`
writes translator.keras, a SavedModel and translator.onnx (checked for
parity), and `OnnxTranslator` runs the ONNX file with onnxruntime + numpy.
"""

import argparse
import tempfile
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from export.translator_runtime import OnnxTranslator
from export.translators import export_translator
from keras_gan.data.images import save_grid
from keras_gan.data.pairs import load_pairs
from keras_gan.models.translation.registry import build_translator


def write_tiny_pairs(path: Path, n: int = 24) -> Path:
    """n made-up pairs: a grey square on noise -> the same square in colour."""
    rng = np.random.default_rng(0)
    a = rng.uniform(0, 0.3, (n, 16, 16, 1))
    for i in range(n):
        y, x = rng.integers(0, 10, 2)
        a[i, y:y + 6, x:x + 6] = 1.0
    b = np.concatenate([a, a * 0.5, 1 - a], axis=-1)
    np.savez(path, a=a.astype("float32"), b=b.astype("float32"))
    return path


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--pairs", help="pairs:DIR_A,DIR_B, npz:PATH (arrays a, b) or emoji64:sketch")
    p.add_argument("--size", type=int, default=None, help="resize to size x size")
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--width", type=int, default=32, help="filters of the first U-Net layer")
    p.add_argument("--out", default="runs/example-pix2pix")
    p.add_argument("--tiny", action="store_true", help="seconds-long run on made-up pairs")
    args = p.parse_args(argv)
    if args.tiny:
        npz = write_tiny_pairs(Path(tempfile.mkdtemp()) / "pairs.npz")
        args.pairs, args.size, args.epochs, args.batch_size, args.width = (
            args.pairs or f"npz:{npz}", 16, 2, 4, 4)
    if not args.pairs:
        p.error("--pairs SOURCE is required (or --tiny)")
    out = Path(args.out)

    keras.utils.set_random_seed(0)
    pairs = load_pairs(args.pairs, size=args.size)
    held = max(1, len(pairs.a) // 10)  # the last tenth: translations nobody trained on
    train_a, train_b = pairs.a[:-held], pairs.b[:-held]
    test_a, test_b = pairs.a[-held:], pairs.b[-held:]
    data = (tf.data.Dataset.from_tensor_slices((train_a, train_b))
            .shuffle(len(train_a), seed=0).batch(args.batch_size, drop_remainder=True)
            .prefetch(tf.data.AUTOTUNE))

    size = pairs.size[0]
    model = build_translator("pix2pix", size, train_a.shape[-1], train_b.shape[-1],
                             args.width, seed=0)
    model.compile(d_optimizer=keras.optimizers.Adam(2e-4, beta_1=0.5),
                  g_optimizer=keras.optimizers.Adam(2e-4, beta_1=0.5))
    out.mkdir(parents=True, exist_ok=True)
    model.fit(data, epochs=args.epochs, verbose=2,
              callbacks=[keras.callbacks.CSVLogger(str(out / "metrics.csv"))])

    # Held-out pairs: source (grey as RGB), translation, truth, one pair per row.
    translated = model.generator.predict(test_a, verbose=0)
    source = np.repeat(test_a, 3, -1) if test_a.shape[-1] == 1 else test_a
    rows = np.stack([source, translated, test_b], axis=1)[:8]
    save_grid(out / "held_out.png", rows.reshape(-1, *rows.shape[2:]), cols=3, scale=4)
    print(f"held-out L1: {np.abs(translated - test_b).mean():.4f} "
          f"(the source as is: {np.abs(source - test_b).mean():.4f})")

    export_translator(model, out / "export", domains=pairs.domains, overwrite=True)
    onnx = OnnxTranslator(out / "export" / "translator.onnx")  # no TensorFlow needed here
    error = float(np.abs(onnx.translate(test_a) - translated).max())
    print(f"ONNX translations: largest difference from Keras {error:.2e}")
    return error


if __name__ == "__main__":
    main()
