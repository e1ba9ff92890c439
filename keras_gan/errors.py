"""`UserError`: the base of errors whose message is meant for the user.

The CLI prints these as one line without a traceback; every other exception
is a bug and keeps its traceback. Each module defines its own subclass
(`ConfigError`, `TrainError`, `CheckpointError`) next to the code that
raises it; `DataError` lives here because the data code is split between a
TensorFlow module (`keras_gan.data.pipeline`, which re-exports it) and modules the
CLI loads without TensorFlow (`keras_gan.data.named`, `keras_gan.data.emoji64`).
No imports here: the CLI loads this before TensorFlow.
"""


class UserError(Exception):
    """Bad input or state the user can fix; the message says what and how."""


class DataError(UserError, ValueError):
    """Bad data source or contents; the message names the problem and how to fix it."""
