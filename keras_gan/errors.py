"""`UserError`: the base of errors whose message is meant for the user.

The CLI prints these as one line without a traceback; every other exception
is a bug and keeps its traceback. Each module defines its own subclass
(`ConfigError`, `DataError`, `TrainError`, `CheckpointError`) next to the
code that raises it. No imports here: the CLI loads this before TensorFlow.
"""


class UserError(Exception):
    """Bad input or state the user can fix; the message says what and how."""
