"""keras-gan: train GANs with Keras 3 on TensorFlow.

The public API is re-exported here lazily (PEP 562), so `import keras_gan`
and `keras-gan --help` do not pay TensorFlow's import time; the first use of
`keras_gan.GAN` (or any name below) imports its module.
"""

from importlib import import_module

__version__ = "0.1.0"

_EXPORTS = {
    "GAN": "keras_gan.gan",
    "TrainConfig": "keras_gan.config",
    "train": "keras_gan.train",
    "build_networks": "keras_gan.networks",
    "make_dataset": "keras_gan.data",
    "load_dataset": "keras_gan.data",
    "build_gan": "keras_gan.gans",
    "get_gan": "keras_gan.gans",
    "list_gans": "keras_gan.gans",
    "register_gan": "keras_gan.gans",
    "configure": "keras_gan.gans",
    # Legacy: the layer in the generator.keras of older clustered runs (new
    # ones use Keras's own operations): touching it (or importing
    # keras_gan.clusters) registers it for keras.saving.load_model.
    "LatentCluster": "keras_gan.clusters",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name):
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'keras_gan' has no attribute {name!r}")
    return getattr(import_module(module), name)
