"""A conditional GAN: ask the generator for a class.

Title: Conditional GAN on digits
Description: class-conditional generator and projection discriminator, then one row per class.

    python examples/conditional_gan.py --epochs 20
    python examples/conditional_gan.py --dataset npz:my_data.npz   # any labelled source
    python examples/conditional_gan.py --tiny

The registered `cgan` variant (Mirza and Osindero 2014; projection
discriminator, Miyato and Koyama 2018) around the library's DCGAN pair
built with `num_classes`: the data must yield (images, labels), which
`make_dataset(..., with_labels=True)` does for labelled sources (the
embedded MNIST digits by default). After training, `generator([z, labels])`
makes the class asked for; the grid has one row per class.
"""

import argparse
from pathlib import Path

import keras
import numpy as np

from keras_gan.data.images import save_grid
from keras_gan.data.pipeline import make_dataset
from keras_gan.models.gans import build_gan
from keras_gan.models.networks import build_networks


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--dataset", default="mnist-sample", help="a labelled data source")
    p.add_argument("--epochs", type=int, default=20)
    p.add_argument("--steps-per-epoch", type=int, default=156)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--latent-dim", type=int, default=64)
    p.add_argument("--width", type=int, default=32)
    p.add_argument("--out", default="runs/example-cgan")
    p.add_argument("--tiny", action="store_true", help="a few steps, tiny networks")
    args = p.parse_args(argv)
    if args.tiny:
        args.epochs, args.steps_per_epoch, args.batch_size = 1, 2, 8
        args.latent_dim, args.width = 8, 4
    out = Path(args.out)

    keras.utils.set_random_seed(0)
    dataset, info = make_dataset(args.dataset, args.batch_size, with_labels=True)
    k = info.num_classes
    generator, discriminator = build_networks("dcgan", args.latent_dim, info.shape,
                                              args.width, num_classes=k)
    gan = build_gan("cgan", generator, discriminator, num_classes=k, seed=0)
    gan.compile(d_optimizer=keras.optimizers.Adam(2e-4, beta_1=0.5),
                g_optimizer=keras.optimizers.Adam(2e-4, beta_1=0.5))
    gan.fit(dataset, epochs=args.epochs, steps_per_epoch=args.steps_per_epoch,
            verbose=0 if args.tiny else "auto",
            callbacks=[keras.callbacks.CSVLogger(str(out / "metrics.csv"))])

    per_class = 8
    labels = np.repeat(np.arange(k), per_class).astype("int64")  # row i: class i
    z = np.random.default_rng(1).standard_normal((len(labels), args.latent_dim))
    images = generator([z.astype("float32"), labels], training=False)
    path = save_grid(out / "by_class.png", keras.ops.convert_to_numpy(images), cols=per_class,
                     scale=2)
    names = ", ".join(info.class_names or map(str, range(k)))
    print(f"rows are the classes {names}: {path}")
    return images


if __name__ == "__main__":
    main()
