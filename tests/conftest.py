"""Shared fixtures: tiny networks and a quiet, deterministic TensorFlow."""

import os
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

# The named data sets (keras_gan.data.named: emoji64) are not in the checkout.
# The project's CI keeps them in shared/data beside it: when KERAS_GAN_DATA is
# not set, that folder is used, so they run there. Elsewhere, without the
# data in Keras's cache, the tests that need it skip, naming the command
# that obtains it (`needs_data`).
_SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
if not os.environ.get("KERAS_GAN_DATA") and (_SHARED_DATA / "emoji64.npz").is_file():
    os.environ["KERAS_GAN_DATA"] = str(_SHARED_DATA)

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402


def named_data(name):
    """The file of named data set `name`, or None when it is not here."""
    from keras_gan.data.named import NAMED, data_dir

    path = data_dir() / NAMED[name]["file"]
    return path if path.is_file() else None


def needs_data(name):
    """Skips a test (or a parameter: `pytest.param(..., marks=needs_data(...))`)
    when named data set `name` is not here, saying how to get it."""
    from keras_gan.data.named import how_to_get

    return pytest.mark.skipif(named_data(name) is None,
                              reason=f"needs the {name} data set: {how_to_get(name)}")


@pytest.fixture(autouse=True)
def _float32_policy():
    """Every test starts and ends under the float32 policy."""
    keras.mixed_precision.set_dtype_policy("float32")
    yield
    keras.mixed_precision.set_dtype_policy("float32")


@pytest.fixture
def rng():
    return np.random.default_rng(0)


def tiny_image_gan(d_steps=1, loss="non_saturating", seed=0, name="dcgan",
                   latent_dim=8, shape=(28, 28, 1), width=4):
    """A compiled GAN with DCGAN networks a few kilobytes in size."""
    from keras_gan.models.gans import build_gan
    from keras_gan.models.networks import build_networks

    keras.utils.set_random_seed(seed)
    g, d = build_networks("dcgan", latent_dim, shape, width)
    gan = build_gan(name, g, d, d_steps=d_steps, loss=loss, seed=seed)
    gan.compile(keras.optimizers.Adam(1e-3), keras.optimizers.Adam(1e-3))
    return gan


def tiny_points_gan(d_steps=1, loss="non_saturating", seed=0, name="gan",
                    latent_dim=4, width=16):
    from keras_gan.models.gans import build_gan
    from keras_gan.models.networks import build_networks

    keras.utils.set_random_seed(seed)
    g, d = build_networks("mlp", latent_dim, (2,), width, depth=2)
    gan = build_gan(name, g, d, d_steps=d_steps, loss=loss, seed=seed)
    gan.compile(keras.optimizers.Adam(1e-3), keras.optimizers.Adam(1e-3))
    return gan


def tiny_generator(kind="dcgan", conditional=False, latent_dim=8, seed=0):
    """An (untrained, randomly initialised) generator of each kind the
    exporter must handle: "dcgan" images, "mlp" 2D points."""
    from keras_gan.models.networks import build_networks

    keras.utils.set_random_seed(seed)
    shape = (28, 28, 1) if kind == "dcgan" else (2,)
    g, _ = build_networks(kind, latent_dim, shape, 4 if kind == "dcgan" else 16,
                          num_classes=10 if conditional else None)
    return g


@pytest.fixture(scope="session")
def exported(tmp_path_factory):
    """exported(kind, conditional) -> folder written by `keras-gan export`'s
    `export_run`, cached."""
    from keras_gan.training.run_folder import export_run

    cache = {}

    def make(kind="dcgan", conditional=False):
        key = (kind, conditional)
        if key not in cache:
            root = tmp_path_factory.mktemp(f"export-{kind}-{int(conditional)}")
            path = root / "generator.keras"
            tiny_generator(kind, conditional).save(path)
            export_run(path, root / "model")
            cache[key] = root / "model"
        return cache[key]

    return make
