"""`keras-gan`: the command line. `main(argv=None)` is the console script.

Subcommands live in `COMMANDS` (name -> (add_arguments, run), in
`keras_gan.cli.commands`); each later feature (eval, export, demo) adds one
entry. The `train` flags are generated from `TrainConfig`'s fields
(`keras_gan.cli.flags`), so the dataclass is the one definition of an
option. Precedence: defaults < --config YAML < flags; with --resume, the run
folder's saved config.json replaces the defaults and YAML.

TensorFlow is imported only when a command runs, so `--help` is instant.
"""

from __future__ import annotations

import argparse
import os
import sys

from keras_gan.cli.commands import COMMANDS
from keras_gan.errors import UserError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="keras-gan",
        description="Train GANs with Keras, export and serve their generators.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (add_arguments, run, help_text) in COMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=help_text)
        add_arguments(p)
        p.set_defaults(run=run)
    return parser


def one_line(error: BaseException) -> str:
    """The error's message on one line. Ours are one line already; this keeps
    the promise for text quoted from other libraries (Keras, h5py, onnxruntime),
    whose messages may span lines."""
    return " ".join(part.strip() for part in str(error).splitlines() if part.strip())


def _start_tensorflow_quietly() -> None:
    """Imports TensorFlow and finds its devices with file descriptor 2 pointed
    at a temporary file, shown only if that fails. TensorFlow 2.21 logs its
    start-up (oneDNN, "Could not find cuda drivers", a cuInit "error") through
    absl before any log level applies, so TF_CPP_MIN_LOG_LEVEL=3 no longer
    quiets it, and a user error would not be the one line on stderr."""
    import tempfile

    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as log:
        os.dup2(log.fileno(), 2)
        try:
            import tensorflow as tf

            tf.config.list_physical_devices()
        except BaseException:
            os.dup2(saved, 2)
            log.seek(0)
            sys.stderr.write(log.read().decode(errors="replace"))
            raise
        finally:
            os.dup2(saved, 2)
            os.close(saved)


def main(argv: list[str] | None = None) -> int:
    # Quiet TensorFlow's C++ start-up chatter (on a CPU machine it logs a CUDA
    # "error"); set TF_CPP_MIN_LOG_LEVEL=0 to see it. Python errors still show.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    parser = build_parser()
    args = parser.parse_args(argv)
    quiet = os.environ["TF_CPP_MIN_LOG_LEVEL"] not in ("0", "1")
    if args.command not in ("demo", "data", "web") and quiet:
        _start_tensorflow_quietly()  # the demo, `data` and `web` never import TensorFlow
    # The export layer's errors are user errors too (ValueErrors: export/ does
    # not import keras_gan). Both modules are light: numpy, no TensorFlow.
    from export.runtime import GeneratorError
    from export.writer import ExportError

    try:
        return args.run(args)
    except (UserError, ExportError, GeneratorError) as e:
        print(f"keras-gan {args.command}: error: {one_line(e)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\ninterrupted; continue with --resume", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())

