"""`python -m demo [--models DIR] [--port 7860] ...`: see `demo.app`."""

import sys

from demo.app import main

sys.exit(main())
