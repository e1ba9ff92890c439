"""Train a GAN on your own folder of images, with `model.fit` and standard
Keras callbacks.

Title: DCGAN on an image folder
Description: any folder of .png/.jpg images -> a trained generator, in ~40 lines.

    python examples/gan_image_folder.py --images ~/faces --size 64 --epochs 20
    python examples/gan_image_folder.py --tiny      # a few steps on digits written as PNGs

The folder is read by `keras_gan.data.pipeline.make_dataset("folder:PATH")` (searched
recursively, resized to --size, scaled to [-1, 1], transparent images
composited onto white). The networks are the library's DCGAN pair, the
model the registered `dcgan` variant; everything else is plain Keras:
`fit`, `CSVLogger`, `TensorBoard`, `BackupAndRestore` (resume an interrupted
run by re-running the command), and a `LambdaCallback` that saves a sample
grid per epoch.
"""

import argparse
import tempfile
from pathlib import Path

import keras
import numpy as np

from keras_gan.data.images import save_grid
from keras_gan.data.pipeline import make_dataset
from keras_gan.models.gans import build_gan
from keras_gan.models.networks import build_networks


def write_demo_folder(folder: Path, n: int = 64) -> Path:
    """A folder of n real digit PNGs (from the embedded MNIST sample), for --tiny."""
    from PIL import Image

    from keras_gan.data.pipeline import first_examples, load_dataset

    ds, _ = load_dataset("mnist-sample")
    folder.mkdir(parents=True, exist_ok=True)
    for i, x in enumerate(first_examples(ds, n)):
        pixels = np.clip((x[..., 0] + 1) * 127.5, 0, 255).astype("uint8")
        Image.fromarray(pixels).save(folder / f"digit_{i:03d}.png")
    return folder


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--images", help="folder of images (searched recursively)")
    p.add_argument("--size", type=int, default=32, help="side the images are resized to")
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--steps-per-epoch", type=int, default=200)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--latent-dim", type=int, default=64)
    p.add_argument("--width", type=int, default=32, help="filters of the DCGAN pair")
    p.add_argument("--out", default="runs/example-folder")
    p.add_argument("--tiny", action="store_true", help="seconds-long run on generated PNGs")
    args = p.parse_args(argv)
    if args.tiny:
        args.images = args.images or str(write_demo_folder(Path(tempfile.mkdtemp()) / "pngs"))
        args.size, args.epochs, args.steps_per_epoch = 32, 2, 2
        args.batch_size, args.latent_dim, args.width = 8, 8, 4
    if not args.images:
        p.error("--images FOLDER is required (or --tiny)")
    out = Path(args.out)

    keras.utils.set_random_seed(0)
    dataset, info = make_dataset(f"folder:{args.images}", args.batch_size,
                                 image_size=args.size)
    generator, discriminator = build_networks("dcgan", args.latent_dim, info.shape, args.width)
    gan = build_gan("dcgan", generator, discriminator, seed=0)
    gan.compile(d_optimizer=keras.optimizers.Adam(2e-4, beta_1=0.5),
                g_optimizer=keras.optimizers.Adam(2e-4, beta_1=0.5))

    z = keras.random.normal((16, args.latent_dim), seed=1)  # fixed: epochs are comparable

    def save_samples(epoch, logs):
        save_grid(out / "samples" / f"epoch_{epoch + 1:03d}.png", gan.predict(z, verbose=0),
                  scale=2)

    gan.fit(dataset, epochs=args.epochs, steps_per_epoch=args.steps_per_epoch,
            verbose=0 if args.tiny else "auto",
            callbacks=[keras.callbacks.CSVLogger(str(out / "metrics.csv")),
                       keras.callbacks.TensorBoard(str(out / "logs")),
                       keras.callbacks.BackupAndRestore(str(out / "backup")),
                       keras.callbacks.LambdaCallback(on_epoch_end=save_samples)])
    generator.save(out / "generator.keras")
    print(f"{info.num_examples} images of {info.shape}; samples, metrics.csv, logs/ and "
          f"generator.keras in {out}/")
    return gan


if __name__ == "__main__":
    main()
