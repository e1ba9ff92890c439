"""The learning-rate schedule of pix2pix and CycleGAN: constant, then
linear decay to zero (Zhu et al. 2017, Section 7.1: 100 epochs at 0.0002,
then 100 decaying linearly to 0)."""

from __future__ import annotations

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="keras_gan")
class ConstantThenLinearDecay(keras.optimizers.schedules.LearningRateSchedule):
    """`initial_learning_rate` for `constant_steps` optimizer steps, then
    falling linearly to 0 over `decay_steps` more, and 0 after.

    Counted in optimizer steps: for the paper's schedule pass
    `constant_steps = decay_steps = 100 * steps_per_epoch`. Serializable, so
    an optimizer using it is saved and resumed with the model.
    """

    def __init__(self, initial_learning_rate, constant_steps, decay_steps):
        if int(constant_steps) < 0 or int(decay_steps) < 1:
            raise ValueError(f"need constant_steps >= 0 and decay_steps >= 1, got "
                             f"{constant_steps} and {decay_steps}")
        self.initial_learning_rate = float(initial_learning_rate)
        self.constant_steps = int(constant_steps)
        self.decay_steps = int(decay_steps)

    def __call__(self, step):
        step = ops.cast(step, "float32")
        done = ops.clip((step - self.constant_steps) / self.decay_steps, 0.0, 1.0)
        return self.initial_learning_rate * (1.0 - done)

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate,
                "constant_steps": self.constant_steps, "decay_steps": self.decay_steps}
