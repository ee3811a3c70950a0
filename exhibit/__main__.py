"""``python -m exhibit`` is the ``exhibit`` command."""

import sys

from exhibit.cli import main

sys.exit(main())
