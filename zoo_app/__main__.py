"""``python -m zoo_app`` (also ``python -m zoo`` and the ``zoo`` command)."""
import sys

from zoo_app.cli import main

sys.exit(main())
