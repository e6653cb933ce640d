"""``python -m pyramid_polydatum check development.ini`` (see ``pyramid_polydatum.check``)."""

import sys

from .check import main

sys.exit(main())
