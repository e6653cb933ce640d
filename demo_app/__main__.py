"""``python -m demo_app [ini]``: serve the demo with waitress (pserve), development.ini by default."""

import os
import sys

from pyramid.scripts.pserve import main as pserve

here = os.path.dirname(os.path.abspath(__file__))
arguments = sys.argv[1:] or [os.path.join(here, "development.ini")]
sys.exit(pserve(["pserve", *arguments]))
