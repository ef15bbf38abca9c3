"""``ssnnbp``: train, evaluate and inspect SSNN-BP networks from the shell.

Every invalid input ends in one line ``ssnnbp: error: ...`` and exit code 2.

The modules: ``options`` (the options, built from the field metadata of ``SSNNConfig`` and
``RunSettings``, and the values they give), ``presets`` (named sets of option values,
``lava_ssnnbp/presets/*.json``), ``parser`` (the commands and their options), ``train`` and
``info`` (what the commands do), ``program`` (``main``: exit codes, one-line errors, signals).
"""
from __future__ import annotations

import os
import sys

from .starting import interrupted_while_starting

# Ctrl-C while the modules below load is one line too (main() restores Python's handler); only
# when this is the program (the 'ssnnbp' script, or 'python -m lava_ssnnbp.cli', which imports
# this package while sys.argv[0] is '-m'), not when a test or a script imports it
if sys.argv[:1] == ["-m"] or os.path.basename(sys.argv[0] if sys.argv else "") == "ssnnbp":
    import signal
    signal.signal(signal.SIGINT, interrupted_while_starting)

from pathlib import Path  # noqa: E402

from ..config import SSNNConfig  # noqa: E402
from .options import UsageError, config_from_args, int_list, settings_from_args  # noqa: E402
from .parser import build_parser  # noqa: E402
from .program import main  # noqa: E402
from .train import VAL_SEED  # noqa: E402

DEFAULT = SSNNConfig()
# the root of default run folders; read at call time (lava_ssnnbp.cli.RUNS_ROOT), so tests may set it
RUNS_ROOT = Path(os.environ.get("SSNNBP_RUNS", "~/ssnnbp-runs")).expanduser()

# the names tests and scripts have used since the CLI was one module
_build_parser = build_parser
_config_from_args = config_from_args
_settings_from_args = settings_from_args

__all__ = ["main", "build_parser", "config_from_args", "settings_from_args", "int_list", "UsageError",
           "RUNS_ROOT", "VAL_SEED", "DEFAULT"]
