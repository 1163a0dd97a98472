"""``python -m propgrad``: see :mod:`propgrad.cli`."""
import sys

from .cli import main

sys.exit(main())
