"""A training run: the loop (`trainer.train`), its callbacks and
checkpoints, TensorBoard summaries, distribution strategies and the run
folder it writes (its layout, and the disk space a run needs).

Empty on purpose: `run_folder` stays light (no TensorFlow) for the CLI and
the exporter, which a package-level import would undo."""
