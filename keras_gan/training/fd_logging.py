"""The FD logged while training: which evaluator fits the data, and the
callback. Shared by the GAN trainer and the semi-supervised one (`semi.py`),
so neither imports the other."""

from __future__ import annotations

import sys

import keras

from keras_gan.config import TrainConfig
from keras_gan.training.callbacks import FrechetDistance

FD_EXAMPLES = 10_000  # real examples the training-time FD compares with


def sampler_classes(sampler) -> int | None:
    """The classes `sampler` takes as labels (from its label embedding), None
    if it takes z alone."""
    if len(sampler.inputs) != 2:
        return None
    for layer in sampler.layers:
        if isinstance(layer, keras.layers.Embedding):
            return int(layer.input_dim)
    raise ValueError("a conditional generator without a label Embedding layer")


def fd_callback(cfg: TrainConfig, evaluator, sampler, examples) -> list:
    """[FrechetDistance] when an evaluator fits the data (`evaluator_for`)."""
    if not cfg.fd_every or evaluator is None:
        return []
    return [FrechetDistance(evaluator, examples(FD_EXAMPLES), cfg.fd_samples,
                            cfg.fd_every, seed=cfg.seed, num_classes=sampler_classes(sampler))]


def evaluator_for(cfg: TrainConfig, info):
    """The FD's extractor, chosen (and a named one checked) before anything is
    written. auto without a shipped classifier, or on data none was trained
    on (the user's own), logs no FD, and says so once, here at the start:
    else the missing column looks like a bug, and the way to get one is hidden."""
    if not cfg.fd_every or info.kind != "image":
        return None
    from keras_gan.evaluation.evaluator import MissingClassifierError, choose_evaluator

    try:
        evaluator = choose_evaluator(cfg.evaluator, info.source, info.shape, info.class_names)
    except MissingClassifierError as e:
        if cfg.evaluator != "auto":
            raise
        print(f"note: FD not logged: {e}", file=sys.stderr)
        return None
    if evaluator is None and cfg.evaluator == "auto":
        print(f"note: FD not logged: no evaluator knows {info.source} "
              f"({'x'.join(map(str, info.shape))} images); pass --evaluator inception to log "
              "inception_fd (ImageNet InceptionV3 features; Keras downloads the weights once), "
              "or --evaluator none to silence this", file=sys.stderr)
    return evaluator
