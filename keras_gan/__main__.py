"""`python -m keras_gan ...` is the `keras-gan` command."""

import sys

from keras_gan.cli import main

sys.exit(main())
