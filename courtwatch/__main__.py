"""`python -m courtwatch` is the `courtwatch` command."""

import sys

from courtwatch.cli import main

sys.exit(main())
