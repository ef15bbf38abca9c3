"""``python -m lava_ssnnbp.cli``: the ``ssnnbp`` command."""
import sys

from . import main

sys.exit(main())
