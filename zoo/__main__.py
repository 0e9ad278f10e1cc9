"""``python -m zoo``: the command line of `zoo_app.cli` (this entry file is the one place under ``zoo/`` that
reaches up to it; ``import zoo`` never does)."""
import sys

from zoo_app.cli import main

sys.exit(main())
