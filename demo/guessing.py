"""The guess of a semi-supervised GAN's classifier for a user's picture.

A model folder exported from `keras-gan train --gan ssgan` holds, beside
its generator, the classifier its discriminator became (classifier.onnx,
`export/classifier.py`). The "From your image" tab shows its top classes
for picture A, converted exactly as the projection converts it
(`demo.projecting.model_input`: shrunk, grey, inverted and centred like
MNIST's digits): the classifier takes what the generator makes, so both
see the same picture, the one shown left of G(z). Models without a
classifier show nothing. Like the rest of the demo it never imports
TensorFlow: the classifier runs in ONNX Runtime.
"""

from __future__ import annotations

from demo.models import DemoError, Model
from demo.projecting import model_input
from export.runtime import GeneratorError

GUESSES = 3  # the top classes shown


def guess(model: Model, image, k: int = GUESSES) -> list[tuple[str, float]]:
    """The `k` likeliest classes of a user's picture (the image editor's
    value or an array) by `model`'s classifier, most likely first, as
    (class name, probability); DemoError for a model without one or a
    picture that is none."""
    if model.classifier is None:
        raise DemoError(f"{model.name} has no classifier: only a semi-supervised GAN's export "
                        "(`keras-gan train --gan ssgan`, then `keras-gan export`) has one")
    x, _ = model_input(model, image)
    try:
        return model.classifier.top(x, k)
    except GeneratorError as e:  # ClassifierError: a picture model_input let through
        raise DemoError(str(e)) from None

