"""Classification Accuracy Score (Ravuri & Vinyals 2019): what a conditional
generator gives a classifier.

A classifier trained on generated (image, label) pairs only, then tested on
real held-out images, does well only if the generator draws each class as
varied and as recognisable as the data: a generator that collapses within a
class, or draws the wrong class, leaves the classifier blind to the real
images it never resembled. Sample quality metrics (FD, score) can miss both.

`classification_accuracy_score` trains the same fixed classifier on
`examples_per_class` generated images per class, and (`real_accuracy`) on as
many real training images; their held-out accuracies and the ratio CAS /
real are the result. The classifier and its recipe never change with the
model scored (`build_cas_classifier`, `train_classifier`: the evaluators'
small CNN, Adam, a fixed number of epochs, one seed for weights and data
order), so CAS compares generators, and the real accuracy says what the
classifier reaches on the same budget of real data.
"""

from __future__ import annotations

import time

import keras
import numpy as np

from keras_gan.errors import UserError

# Ravuri & Vinyals train on as many generated images as the real training
# set holds: 1,000 per class, capped at the smallest real class (679 per class
# on mnist-sample, all of its training rows). 3 epochs: on mnist-sample, 5
# gave the same CAS and real accuracy within 0.01 for 1.5x the time.
EXAMPLES_PER_CLASS = 1000
EPOCHS = 3
BATCH_SIZE = 64
LEARNING_RATE = 1e-3
FEATURE_DIM = 128


class CasError(UserError, ValueError):
    """The classification accuracy score cannot be computed as asked."""


def cas_stages(side: int) -> tuple:
    """The conv stages of `build_cas_classifier` for images `side` px wide:
    Conv32 - pool - Conv64 - pool, then Conv128 - pool while the side is
    above 7 px (28 -> 7, 32 -> 4, 64 -> 4, 8 -> 2)."""
    stages, side = [32, "pool", 64, "pool"], side // 4
    while side > 7:
        stages += [128, "pool"]
        side //= 2
    return tuple(stages)


def build_cas_classifier(image_shape, num_classes: int) -> keras.Model:
    """The fixed CAS classifier for (H, W, C) images in [-1, 1]: the
    evaluators' small CNN (`keras_gan.evaluation.classifiers`) with
    `cas_stages`, 3x3 conv - ReLU stages and max-pools, then Dropout -
    Dense(128) ReLU - Dropout - Dense(num_classes) logits.

    Without the evaluators' batch norm: trained for a few epochs, its moving
    statistics lag the weights and the held-out accuracy swung between 0.2
    and 0.8 from one training budget to the next on the digits; they would
    also be statistics of generated images, applied to real ones."""
    shape = tuple(int(s) for s in image_shape)
    if len(shape) != 3 or shape[0] < 4:
        raise CasError(f"the classification accuracy score needs images of 4 px or more, "
                       f"got samples of shape {shape}")
    inputs = keras.Input(shape, name="images")
    x = inputs
    for filters in cas_stages(shape[0]):
        if filters == "pool":
            x = keras.layers.MaxPooling2D()(x)
        else:
            x = keras.layers.Conv2D(filters, 3, padding="same", activation="relu")(x)
    x = keras.layers.Flatten()(x)
    x = keras.layers.Dropout(0.3)(x)
    x = keras.layers.Dense(FEATURE_DIM, activation="relu", name="features")(x)
    x = keras.layers.Dropout(0.3)(x)
    logits = keras.layers.Dense(int(num_classes), name="logits", dtype="float32")(x)
    return keras.Model(inputs, logits, name="cas_classifier")


def train_classifier(x, y, num_classes: int, *, seed: int, epochs: int = EPOCHS,
                     batch_size: int = BATCH_SIZE) -> keras.Model:
    """`build_cas_classifier` trained on (x, y) with the one recipe: Adam
    `LEARNING_RATE`, `epochs` shuffled passes; `seed` sets its weights and
    the order of the data."""
    keras.utils.set_random_seed(seed)
    model = build_cas_classifier(x.shape[1:], num_classes)
    model.compile(keras.optimizers.Adam(LEARNING_RATE),
                  keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    model.fit(np.asarray(x, np.float32), np.asarray(y, np.int64), batch_size=batch_size,
              epochs=epochs, shuffle=True, verbose=0)
    return model


def accuracy(model, x, y, batch_size: int = 500) -> float:
    """The share of `x` that `model` classifies as `y`."""
    pred = [keras.ops.convert_to_numpy(model(x[i:i + batch_size], training=False)).argmax(1)
            for i in range(0, len(x), batch_size)]
    return float((np.concatenate(pred) == np.asarray(y)).mean())


def _check(x_test, y_test, num_classes, examples_per_class):
    if examples_per_class < 1:
        raise CasError(f"examples per class must be >= 1, got {examples_per_class}")
    if len(x_test) == 0 or len(x_test) != len(y_test):
        raise CasError(f"the real test set needs images and as many labels, got {len(x_test)} "
                       f"images and {len(y_test)} labels")
    if np.asarray(y_test).max() >= num_classes:
        raise CasError(f"the real test labels go up to {int(np.max(y_test))}, beyond the "
                       f"generator's {num_classes} classes")


def real_accuracy(x_train, y_train, x_test, y_test, num_classes: int,
                  examples_per_class: int, *, seed: int = 0, epochs: int = EPOCHS,
                  batch_size: int = BATCH_SIZE) -> dict:
    """Held-out accuracy of the CAS classifier trained on `examples_per_class`
    real training images per class (`select_labelled` with `seed`; capped at
    the smallest class, as CAS's own count is by `classification_accuracy_score`)."""
    from keras_gan.data.labelled import select_labelled

    _check(x_test, y_test, num_classes, examples_per_class)
    per_class = min(int(examples_per_class),
                    int(np.bincount(y_train, minlength=num_classes).min()))
    if per_class < 1:
        raise CasError("a class has no real training images to compare CAS with")
    rows = select_labelled(y_train, per_class, seed, class_names=range(num_classes))
    model = train_classifier(x_train[rows], y_train[rows], num_classes, seed=seed,
                             epochs=epochs, batch_size=batch_size)
    return {"accuracy": accuracy(model, x_test, y_test), "examples_per_class": per_class}


def classification_accuracy_score(sample_fn, x_real_test, y_real_test, num_classes: int,
                                  examples_per_class: int = EXAMPLES_PER_CLASS, *,
                                  seed: int = 0, epochs: int = EPOCHS,
                                  batch_size: int = BATCH_SIZE, x_real_train=None,
                                  y_real_train=None) -> dict:
    """CAS of a conditional generator, and (given real training data) the
    real-data accuracy it is read against.

    Args:
        sample_fn: labels (int64 (N,)) -> images (N, H, W, C) in [-1, 1] of
            those classes: the generator under test.
        x_real_test, y_real_test: real held-out images and labels.
        examples_per_class: generated training images per class; capped at
            the smallest real class when real training data are given, so
            both classifiers train on as many images.
        seed: weights and data order of both classifiers.
        x_real_train, y_real_train: real training images (optional).

    Returns:
        A dict: "cas" (held-out accuracy of the classifier trained on generated
        images), "real_accuracy" and "ratio" (CAS / real; None without real
        training data), the settings and the seconds it took.
    """
    _check(x_real_test, y_real_test, num_classes, examples_per_class)
    start = time.time()
    real = None
    if x_real_train is not None:
        real = real_accuracy(x_real_train, y_real_train, x_real_test, y_real_test,
                             num_classes, examples_per_class, seed=seed, epochs=epochs,
                             batch_size=batch_size)
        examples_per_class = real["examples_per_class"]
    labels = np.repeat(np.arange(num_classes, dtype=np.int64), examples_per_class)
    images = np.asarray(sample_fn(labels), np.float32)
    if images.shape[0] != len(labels) or images.shape[1:] != tuple(x_real_test.shape[1:]):
        raise CasError(f"the generator gave images of shape {images.shape[1:]} for "
                       f"{len(labels)} labels, the real test images are "
                       f"{tuple(x_real_test.shape[1:])}")
    model = train_classifier(images, labels, num_classes, seed=seed, epochs=epochs,
                             batch_size=batch_size)
    cas = accuracy(model, x_real_test, y_real_test)
    real_acc = real["accuracy"] if real else None
    return {
        "cas": cas, "real_accuracy": real_acc,
        "ratio": cas / real_acc if real_acc else None,
        "examples_per_class": int(examples_per_class), "num_classes": int(num_classes),
        "num_test": int(len(y_real_test)), "epochs": int(epochs), "seed": int(seed),
        "classifier": f"cas_classifier: {'-'.join(map(str, cas_stages(images.shape[1])))}, "
                      f"Dense {FEATURE_DIM}; Adam {LEARNING_RATE:g}, batch {batch_size}",
        "seconds": round(time.time() - start, 2),
    }
