"""The data: sources (toy mixtures, arrays, folders, TFDS, named sets such
as emoji64), the tf.data pipeline that serves them, and image helpers.

Empty on purpose: `colors` and `named` stay light (no TensorFlow) for the
config and the CLI, which a package-level import would undo."""
