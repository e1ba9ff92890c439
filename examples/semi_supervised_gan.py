"""A classifier from a few labels and many unlabelled images.

Title: Semi-supervised GAN
Description: Salimans et al.'s semi-supervised GAN with plain fit, then its classifier in ONNX.

    python examples/semi_supervised_gan.py --epochs 100
    python examples/semi_supervised_gan.py --dataset npz:my_data.npz --labels-per-class 20
    python examples/semi_supervised_gan.py --tiny

The library's pieces, without the CLI: `load_labelled` splits a labelled
source into training and held-out rows, `select_labelled` picks N labelled
rows per class (seeded), and `semi_stream` yields (unlabelled batch,
(labelled batch, labels)), which `SemiSupervisedGAN.fit` takes as is. D is a
K-class classifier whose "real" probability is Z / (Z + 1); its
`plain_classifier` copy (images -> probabilities) is exported to ONNX and
run by the numpy-only runtime, which never imports TensorFlow.
"""

import argparse
from pathlib import Path

import keras
import numpy as np

from export.classifier import export_classifier
from export.classifier_runtime import OnnxClassifier
from keras_gan.data.labelled import load_labelled, select_labelled
from keras_gan.models.networks import build_mlp_generator
from keras_gan.models.semi_supervised import SemiSupervisedGAN, build_ssgan_discriminator
from keras_gan.models.semi_supervised.networks import init_from_data, plain_classifier
from keras_gan.training.semi import semi_stream


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--dataset", default="mnist-sample", help="a labelled data source")
    p.add_argument("--labels-per-class", type=int, default=10)
    p.add_argument("--epochs", type=int, default=100)
    p.add_argument("--batch-size", type=int, default=100)
    p.add_argument("--out", default="runs/example-ssgan")
    p.add_argument("--tiny", action="store_true", help="a few steps, tiny networks")
    args = p.parse_args(argv)
    width, g_width, steps = 1000, 500, None
    if args.tiny:
        args.epochs, args.batch_size, width, g_width, steps = 2, 20, 16, 16, 3
    out = Path(args.out)

    data = load_labelled(args.dataset)
    rows = select_labelled(data.y_train, args.labels_per_class, seed=0,
                           class_names=data.class_names)
    print(f"{len(rows)} labelled of {len(data.x_train)} training images; held out: "
          f"{len(data.x_test)} ({data.held_out})")

    keras.utils.set_random_seed(0)
    generator = build_mlp_generator(100, data.x_train.shape[1:], g_width)
    discriminator = build_ssgan_discriminator(data.x_train.shape[1:], data.num_classes, width)
    init_from_data(discriminator, data.x_train[:500])  # weight norm's data-dependent init
    gan = SemiSupervisedGAN(generator, discriminator, classes=data.num_classes, seed=0,
                            latent_dim=100)
    gan.compile(d_optimizer=keras.optimizers.Adam(3e-3, beta_1=0.5),
                g_optimizer=keras.optimizers.Adam(3e-3, beta_1=0.5))
    stream = semi_stream(data.x_train, data.x_train[rows], data.y_train[rows],
                         args.batch_size, seed=0)
    gan.fit(stream, epochs=args.epochs, verbose=0 if args.tiny else 2,
            steps_per_epoch=steps or len(data.x_train) // args.batch_size)

    classifier = plain_classifier(gan.discriminator)
    guess = classifier.predict(data.x_test, verbose=0).argmax(-1)
    accuracy = float(np.mean(guess == data.y_test))
    print(f"held-out accuracy: {accuracy:.2%} from {len(rows)} labels")
    export_classifier(classifier, out, {"class_names": list(data.class_names),
                                        "test_accuracy": accuracy,
                                        "held_out_examples": len(data.x_test),
                                        "labels_per_class": args.labels_per_class})
    onnx = OnnxClassifier(out / "classifier.onnx")
    top = onnx.top(data.x_test[0], k=1)[0][0]
    print(f"ONNX Runtime on the first held-out image: {top} (label "
          f"{data.class_names[data.y_test[0]]})")
    return accuracy, onnx


if __name__ == "__main__":
    main()
