"""keras-gan: train GANs with Keras 3 on TensorFlow.

The public API is re-exported here lazily (PEP 562), so `import keras_gan`
and `keras-gan --help` do not pay TensorFlow's import time; the first use of
`keras_gan.GAN` (or any name below) imports its module.
"""

from importlib import import_module
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # for static tools (type checkers, mkdocstrings): no import at run time
    from keras_gan.config import TrainConfig  # noqa: F401
    from keras_gan.data.pipeline import load_dataset, make_dataset  # noqa: F401
    from keras_gan.models.clusters import LatentCluster  # noqa: F401
    from keras_gan.models.gan import GAN  # noqa: F401
    from keras_gan.models.gans import build_gan, configure, get_gan, list_gans, register_gan  # noqa: F401
    from keras_gan.models.networks import build_networks  # noqa: F401
    from keras_gan.training.trainer import train  # noqa: F401

__version__ = "0.1.0"

_EXPORTS = {
    "GAN": "keras_gan.models.gan",
    "TrainConfig": "keras_gan.config",
    "train": "keras_gan.training.trainer",
    "build_networks": "keras_gan.models.networks",
    "make_dataset": "keras_gan.data.pipeline",
    "load_dataset": "keras_gan.data.pipeline",
    "build_gan": "keras_gan.models.gans",
    "get_gan": "keras_gan.models.gans",
    "list_gans": "keras_gan.models.gans",
    "register_gan": "keras_gan.models.gans",
    "configure": "keras_gan.models.gans",
    # Legacy: the layer in the generator.keras of older clustered runs (new
    # ones use Keras's own operations): touching it (or importing
    # keras_gan.models.clusters) registers it for keras.saving.load_model.
    "LatentCluster": "keras_gan.models.clusters",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name):
    # No submodule of keras_gan shares an exported name (the training
    # function lives in keras_gan.training.trainer), so an import of a
    # submodule never shadows one of these.
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'keras_gan' has no attribute {name!r}")
    return getattr(import_module(module), name)
