"""Dataclass fields that describe themselves: what they mean, their unit and how the command
line spells them, as field metadata. ``SSNNConfig`` and ``RunSettings`` declare their fields
with :func:`described`; the CLI (``lava_ssnnbp.cli``) builds its options from that metadata,
so a new field appears in ``ssnnbp train --help`` without a second edit. Plain data: this
module knows nothing of argparse."""
from __future__ import annotations

import dataclasses
from typing import Any, Optional, Sequence, Union

# the metadata keys, and what the CLI does with each
KEYS = {
    "help": "what the field is, a phrase (the CLI appends the unit and the default)",
    "unit": "the value's unit, e.g. 'steps' (shown in --help)",
    "flag": "option strings, e.g. ('--steps', '-T'); default '--' + the name with '-' for '_' (a bool's: "
            "--x / --no-x); False: no command-line option (the dataclass default always applies)",
    "metavar": "the value's placeholder in --help",
    "choices": "the values allowed (the dataclass checks them as well)",
    "group": "the --help section of a run setting: 'data', 'run' or 'baselines'",
    "default_text": "the default in words where its value alone would not say it (e.g. 'T/10')",
    "loihi2": "the value with --target loihi2 unless the option is given (the chip configuration's)",
    "parse": "a stricter reading of the text than the field's type: 'path' (not empty), "
             "'positive_int' (>= 1)",
}


def described(default: Any, help: str, *, unit: Optional[str] = None,
              flag: Union[None, bool, str, Sequence[str]] = None, metavar: Optional[str] = None,
              choices: Optional[Sequence] = None, group: Optional[str] = None,
              default_text: Optional[str] = None, loihi2: Any = None, parse: Optional[str] = None) -> Any:
    """A dataclass field with ``default`` and metadata for the command line (see KEYS)."""
    given = {"help": help, "unit": unit, "flag": flag, "metavar": metavar, "choices": choices,
             "group": group, "default_text": default_text, "loihi2": loihi2, "parse": parse}
    return dataclasses.field(default=default, metadata={k: v for k, v in given.items() if v is not None})
