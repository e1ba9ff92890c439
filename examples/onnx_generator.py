"""Export a generator to ONNX and run it without TensorFlow.

Title: From a trained generator to an ONNX file
Description: export a .keras generator, then sample and interpolate with onnxruntime.

    python examples/onnx_generator.py                            # the shipped digit model
    python examples/onnx_generator.py --model runs/x/generator.keras --out exported/x
    python examples/onnx_generator.py --tiny

`keras_gan.training.run_folder.export_run` (what `keras-gan export` runs) writes the
generator as .keras, SavedModel and ONNX with a model card;
`export.runtime.OnnxGenerator` runs the ONNX file with onnxruntime and numpy
alone (copy export/runtime.py and export/latents.py into any app). The same seed gives the same
latents in Keras and ONNX, so the script checks the two agree.
"""

import argparse
import tempfile
from pathlib import Path

import keras
import numpy as np

from export.runtime import OnnxGenerator, sample_latents
from keras_gan.data.images import save_grid
from keras_gan.training.run_folder import export_run, load_generator

SHIPPED = Path(__file__).resolve().parents[1] / "saved_models" / "mnist-dcgan" / "generator.keras"


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model", default=str(SHIPPED), help="a .keras generator or a run folder")
    p.add_argument("--out", default=None, help="export folder (default: a temporary one)")
    p.add_argument("--tiny", action="store_true",
                   help="export a tiny untrained DCGAN generator instead (seconds)")
    args = p.parse_args(argv)
    out = Path(args.out or tempfile.mkdtemp()) / "model"
    model = args.model
    if args.tiny:
        from keras_gan.models.networks import build_networks

        keras.utils.set_random_seed(0)
        generator, _ = build_networks("dcgan", 8, (28, 28, 1), 4)
        model = Path(tempfile.mkdtemp()) / "generator.keras"
        generator.save(model)

    card = export_run(model, out, overwrite=True)
    print(f"exported {card['name']}: {', '.join(card['files'].values())}")

    onnx = OnnxGenerator(out / card["files"]["onnx"])
    images = onnx.sample(16, seed=7)  # uint8 (16, H, W, C)
    path = save_grid(out / "onnx_samples.png", images.astype("float32") / 127.5 - 1, scale=2)
    walk = onnx.interpolate(1, 2, steps=8)  # slerp between the latents of seeds 1 and 2
    save_grid(out / "onnx_interpolation.png", walk.astype("float32") / 127.5 - 1, cols=8,
              scale=2)

    keras_generator, _ = load_generator(model)
    z = sample_latents(16, onnx.latent_dim, seed=7)
    reference = keras.ops.convert_to_numpy(keras_generator(z, training=False))
    error = float(np.abs(onnx.run(z) - reference).max())
    print(f"ONNX samples: {path}; largest difference from Keras: {error:.2e}")
    return error


if __name__ == "__main__":
    main()
