"""Presets: named sets of option values for ``ssnnbp train --preset NAME``, one JSON file per
README row (and the demo) in ``lava_ssnnbp/presets/``, installed with the package.

A preset file is ``{"description": one line, "source": where its numbers are (optional),
"values": {option: value}}``, its keys the options' destinations (the dataclass field names;
``hidden`` for the hidden sizes). A preset's values are the train parser's defaults, so an
option given explicitly overrides them, and an option the preset does not name keeps its
own default. Each value is read as the same option on the command line would be.

``ssnnbp train`` without ``--preset`` trains ``DEFAULT`` (the chip configuration on MNIST, the
README's headline row); ``--preset none`` starts from the dataclasses' own defaults."""
from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from importlib import resources
from typing import Optional

from .options import OnOff, Parser, UsageError

LIST = "list"   # --preset list: list the presets
NONE = "none"   # --preset none: no preset, the dataclasses' defaults
DEFAULT = "mnist-chip"   # train's preset when none is named: the chip configuration, the README's headline row
NONE_TEXT = ("no preset: the library's own defaults (SSNNConfig and RunSettings: the rate rule in floating point, "
             "T = 100, constant eta, 1 epoch, on the embedded 'default' MNIST subset)")
UNSET = object()   # an option's value in the parse that finds the options given explicitly


def preset_dir():
    return resources.files("lava_ssnnbp").joinpath("presets")


def preset_names() -> list:
    return sorted(p.name[:-len(".json")] for p in preset_dir().iterdir() if p.name.endswith(".json"))


@dataclass(frozen=True)
class Preset:
    name: str
    description: str
    values: dict
    source: Optional[str] = None


def load_preset(name: str, option: str = "--preset") -> Preset:
    """The preset ``name``; a UsageError naming ``option`` (and the presets there are) if there is none."""
    names = preset_names()
    if name not in names:
        raise UsageError(f"argument {option}: unknown preset {name!r} (choose from {', '.join(names)}, or {NONE} "
                         "for the library's defaults)")
    where = f"preset {name} (lava_ssnnbp/presets/{name}.json)"
    try:
        d = json.loads(preset_dir().joinpath(f"{name}.json").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as e:
        raise UsageError(f"{where}: unreadable ({e})") from None
    if not (isinstance(d, dict) and isinstance(d.get("description"), str) and isinstance(d.get("values"), dict)
            and set(d) <= {"description", "source", "values"} and isinstance(d.get("source", ""), str)):
        raise UsageError(f"{where}: need an object with a 'description' (text), 'values' (an object) and "
                         "optionally 'source' (text), nothing else")
    return Preset(name, d["description"], d["values"], d.get("source"))


def is_flag(action) -> bool:
    return isinstance(action, (argparse._StoreTrueAction, OnOff))


def option_value(action, value, where: str):
    """``value`` from a preset file as the option ``action`` reads it from the command line."""
    option = action.option_strings[0]
    if is_flag(action):
        if not isinstance(value, bool):
            raise UsageError(f"{where}: {action.dest}: {value!r} (need true or false for {option})")
        return value
    ok = (isinstance(value, (str, int, float)) and not isinstance(value, bool)) or (
        isinstance(value, list) and value and all(isinstance(v, (int, float)) and not isinstance(v, bool)
                                                  for v in value))
    if not ok:
        raise UsageError(f"{where}: {action.dest}: {value!r} (need a text, a number or a list of numbers, "
                         f"as {option} takes)")
    text = ",".join(map(str, value)) if isinstance(value, list) else str(value)
    try:
        converted = action.type(text) if action.type else text
    except (argparse.ArgumentTypeError, TypeError, ValueError) as e:
        raise UsageError(f"{where}: {action.dest}: {value!r} ({str(e) or 'not a value ' + option + ' takes'})") from None
    if action.choices is not None and converted not in action.choices:
        raise UsageError(f"{where}: {action.dest}: {value!r} (choose from {', '.join(map(str, action.choices))})")
    return converted


class CommandParser(Parser):
    """A command's parser; where it takes presets (train), ``--preset NAME`` (``DEFAULT`` when
    not given) makes the preset's values its defaults for this parse (checked and converted as
    command-line values), so explicit options win. The namespace's ``explicit`` maps each
    option given explicitly (its destination) to the value it overrode, the preset's or the
    option's default; ``preset`` is None with ``--preset none``, and ``default_preset`` says
    whether the preset is train's default (no --preset given)."""
    preset_dests: frozenset = frozenset()   # the options a preset may set (the fields' options); none: no presets

    def preset_defaults(self, preset: Preset) -> dict:
        actions = {a.dest: a for a in self._actions if a.option_strings}
        where = f"preset {preset.name}"
        unknown = sorted(set(preset.values) - self.preset_dests)
        if unknown:
            raise UsageError(f"{where}: unknown option(s) {', '.join(unknown)} (a preset sets the options of "
                             f"SSNNConfig and RunSettings fields: {', '.join(sorted(self.preset_dests))})")
        return {k: option_value(actions[k], v, where) for k, v in preset.values.items()}

    def given_explicitly(self, args) -> dict:
        """{destination: value} of the options on the command line ``args``, no defaults."""
        unset = argparse.Namespace(**{a.dest: UNSET for a in self._actions if a.dest != argparse.SUPPRESS})
        ns, _ = super().parse_known_args(args, unset)
        return {k: v for k, v in vars(ns).items() if v is not UNSET}

    def parse_known_args(self, args=None, namespace=None):
        if not self.preset_dests:
            return super().parse_known_args(args, namespace)
        given = self.given_explicitly(args)   # also finds the preset's name
        name = given.get("preset", self.get_default("preset"))
        if name == LIST:
            self._print_message("\n".join(preset_lines()) + "\n", sys.stdout)
            self.exit(0)
        values = {} if name == NONE else self.preset_defaults(load_preset(name))
        saved = {dest: self.get_default(dest) for dest in values}
        self.set_defaults(**values)
        try:   # again, the preset's values as defaults
            ns, rest = super().parse_known_args(args, namespace)
            ns.explicit = {dest: self.get_default(dest) for dest in given if dest in self.preset_dests}
            ns.default_preset = "preset" not in given
        finally:
            self.set_defaults(**saved)
        if name == NONE:
            ns.preset = None
        return ns, rest


def preset_lines() -> list:
    """One line per preset: its name and description (train's default marked), and 'none'."""
    presets = [load_preset(n) for n in preset_names()]
    width = max(len(p.name) for p in presets + [Preset(NONE, "", {})])
    return [f"{p.name:{width}s}  {'(the default of ssnnbp train) ' if p.name == DEFAULT else ''}{p.description}"
            for p in presets] + [f"{NONE:{width}s}  {NONE_TEXT}"]


def preset_flags(parser: CommandParser, preset: Preset) -> list:
    """The options that give the preset's values, in the preset file's order, after '--preset
    none' (a preset's values are on the options' own defaults, not on train's default preset)."""
    actions = {a.dest: a for a in parser._actions if a.option_strings}
    values = parser.preset_defaults(preset)   # checked
    out = ["--preset", NONE]
    for dest, value in values.items():
        option, raw = actions[dest].option_strings[0], preset.values[dest]
        if is_flag(actions[dest]):
            out.append(option if value else "--no-" + option[2:])
            continue
        text = ",".join(map(str, raw)) if isinstance(raw, list) else str(raw)
        out += [f"{option}={text}"] if text.startswith("-") else [option, text]   # '=': a value that looks like an option
    return out
