"""The command line's options, built from the field metadata of ``SSNNConfig`` and
``RunSettings`` (``lava_ssnnbp.fields``): each described field is one option, with its type,
choices, unit and default from the dataclass; and the config and settings the options give.
A field added to either dataclass is an option of ``ssnnbp train`` with no edit here."""
from __future__ import annotations

import argparse
import dataclasses
from typing import Iterable

from ..config import ConfigError, SSNNConfig
from ..fields import KEYS


class UsageError(Exception):
    """Bad command-line input, reported as one line with exit code 2."""


class Parser(argparse.ArgumentParser):
    def error(self, message):   # one line, no usage dump
        raise UsageError(f"{message} (see '{self.prog} --help')")


class OnOff(argparse.BooleanOptionalAction):
    """--x / --no-x whose help states its default itself (argparse would add '(default: True)' again)."""

    def __init__(self, *args, help=None, **kw):
        super().__init__(*args, help=None, **kw)
        self.help = help


# ------------------------------------------------------------------ values as typed
def _numbers(text: str, kind, what: str):
    # an empty list or item is a typo, not "use the default" (--hidden '' used to read as no hidden layer)
    try:
        items = [kind(v) for v in text.split(",")]
    except ValueError:
        items = []
    if not items:
        raise argparse.ArgumentTypeError(f"expected comma-separated {what}, got {text!r}")
    return tuple(items)


def floats(text: str):
    return _numbers(text, float, "numbers")


def int_list(text: str):
    """Comma-separated integers, as an argparse type (the benchmark scripts use it too)."""
    return _numbers(text, int, "integers")


def positive_int(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        n = 0
    if n < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return n


def path(text: str) -> str:
    """A file or folder name, as an argparse type: an empty one is a typo, not "here" (--out ''
    used to put a run folder in the working directory)."""
    if not text.strip():
        raise argparse.ArgumentTypeError(f"expected a path, got an empty one ({text!r})")
    return text


def dataset(text: str) -> str:
    """A built-in data set's name, or a data set's path made absolute, as an argparse type."""
    from ..data import DataError, dataset_name
    try:
        return dataset_name(text)
    except DataError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


# a field's type (its annotation, Optional[...] removed) -> how the command line reads it
TYPES = {"int": int, "float": float, "str": str, "Tuple[int, ...]": int_list, "Tuple[float, ...]": floats}
PARSES = {"path": path, "positive_int": positive_int, "dataset": dataset}   # the metadata's "parse"


def value_type(f: dataclasses.Field) -> str:
    t = f.type
    return t[len("Optional["):-1] if t.startswith("Optional[") else t


# ------------------------------------------------------------------ fields as options
def has_option(f: dataclasses.Field) -> bool:
    return f.metadata.get("flag") is not False


def dest_of(f: dataclasses.Field) -> str:
    """The option's destination: the field's name, except ``sizes``, whose option gives the
    hidden sizes only (the data set gives the input and output sizes)."""
    return "hidden" if f.name == "sizes" else f.name


def flags_of(f: dataclasses.Field) -> list:
    flag = f.metadata.get("flag")
    if flag is None:
        return ["--" + f.name.replace("_", "-")]
    return [flag] if isinstance(flag, str) else list(flag)


def field_default(f: dataclasses.Field):
    """The field's default as its option gives it (the hidden sizes for ``sizes``)."""
    return f.default[1:-1] if f.name == "sizes" else f.default


def cli_default(f: dataclasses.Field):
    """The option's default: the field's, or None where --target loihi2 has its own
    (``fill_target_defaults`` sets it once the target is known)."""
    return None if "loihi2" in f.metadata else field_default(f)


def words(value) -> str:
    """A value as --help writes it: on/off, comma lists, none."""
    if isinstance(value, bool):
        return "on" if value else "off"
    if value is None:
        return "none"
    if isinstance(value, tuple):
        return ",".join(map(str, value))
    return str(value)


def help_of(f: dataclasses.Field, default_text: str = None) -> str:
    """The field's help, unit and default (the chip configuration's too), as --help shows it."""
    m = f.metadata
    if "help" not in m:
        raise TypeError(f"field {f.name} has no help: declare it with lava_ssnnbp.fields.described "
                        "(flag=False where it has no option)")
    unknown = set(m) - set(KEYS)
    if unknown:
        raise TypeError(f"field {f.name}: unknown metadata {sorted(unknown)} (known: {', '.join(KEYS)})")
    default = default_text or m.get("default_text") or words(field_default(f))
    if "loihi2" in m and default_text is None:
        default += f"; {words(m['loihi2'])} with --target loihi2"
    unit = f"in {m['unit']}; " if "unit" in m else ""
    return f"{m['help']} ({unit}default: {default})".replace("%", "%%")


def add_field_option(group, f: dataclasses.Field, default_text: str = None, default=dataclasses.MISSING,
                     help: str = None):
    """Add field ``f`` as an option of ``group`` (a parser or argument group); ``default_text``,
    ``default`` and ``help`` replace the field's where a command reads the field otherwise."""
    m = f.metadata
    kw = {"dest": dest_of(f), "default": cli_default(f) if default is dataclasses.MISSING else default,
          "help": help or help_of(f, default_text)}
    if value_type(f) == "bool":
        kw["action"] = OnOff   # --x / --no-x: an explicit option overrides a preset's value either way
    else:
        kw.update(type=PARSES[m["parse"]] if "parse" in m else TYPES[value_type(f)], metavar=m.get("metavar"),
                  choices=m.get("choices"))
    return group.add_argument(*flags_of(f), **kw)


def add_field_options(group, fields: Iterable[dataclasses.Field]):
    for f in fields:
        if has_option(f):
            add_field_option(group, f)


def field_options(parser, classes) -> dict:
    """{field name: its option string} for the fields of ``classes`` that ``parser`` has."""
    spelled = {a.dest: a.option_strings[0] for a in parser._actions if a.option_strings}
    return {f.name: spelled[dest_of(f)] for cls in classes for f in dataclasses.fields(cls)
            if dest_of(f) in spelled}


# ------------------------------------------------------------------ options as config and settings
def fill_target_defaults(args, model=SSNNConfig):
    """Fill the model options left unset: the chip configuration's choices with --target
    loihi2 (an option given explicitly stays, and the config says if it does not fit the
    target), the dataclass's defaults otherwise."""
    chip = args.target == "loihi2"
    for f in dataclasses.fields(model):
        if "loihi2" not in f.metadata or getattr(args, dest_of(f), None) is not None:
            continue
        value = f.metadata["loihi2"] if chip else f.default
        if chip and value_type(f).startswith("Tuple["):   # one per synapse layer
            value = (value,) * (len(args.hidden) + 1)
        setattr(args, dest_of(f), value)


def _given(args, cls) -> dict:
    """The values ``args`` holds for the fields of ``cls`` (lists as tuples)."""
    kw = {}
    for f in dataclasses.fields(cls):
        if hasattr(args, dest_of(f)):
            v = getattr(args, dest_of(f))
            kw[f.name] = tuple(v) if isinstance(v, list) else v
    return kw


def config_from_args(args, input_size: int, num_classes: int, model=SSNNConfig) -> SSNNConfig:
    """The model the options give: ``resolve_target`` first, so that it is the run ``ssnnbp
    train`` would train (which also prints why where a preset's target was dropped)."""
    resolve_target(args, input_size, num_classes, model)
    return _config(args, input_size, num_classes, model)


def _config(args, input_size: int, num_classes: int, model) -> SSNNConfig:
    from ..runs import model_kind
    kw = _given(args, model)
    kw["sizes"] = (input_size, *kw["sizes"], num_classes)
    if not model_kind(args.model).records_dropout:   # the torch baselines have no dropout (as published)
        kw["dropout"] = ()
    return model(**kw)


def settings_from_args(args, settings=None):
    from ..runs import RunSettings
    settings = settings or RunSettings
    return settings(**_given(args, settings))


# ------------------------------------------------------------------ the chip configuration, or not
def resolve_target(args, input_size: int, num_classes: int, model=SSNNConfig, settings=None):
    """Fill the model options left unset (``fill_target_defaults``), first dropping the target
    where it came from a preset (the default one included) rather than from --target and the
    options given explicitly make it invalid (--mode rate, --no-fixed-point, --model ann, ...):
    such a run is not the chip configuration. Returns that line, naming the options that
    conflict, or None where the target stands or was never set, or where the options are
    invalid without it too (the error then reported is theirs, not the target's)."""
    explicit = getattr(args, "explicit", None)   # the train parser's: {option given: the value it overrode}
    if (args.target is None or explicit is None or "target" in explicit
            or _chip_problem(args, input_size, num_classes, model, settings) is None):
        fill_target_defaults(args, model)
        return None
    plain = argparse.Namespace(**{**vars(args), "target": None})
    invalid_anyway = _chip_problem(plain, input_size, num_classes, model, settings) is not None
    conflicting = []
    for dest in () if invalid_anyway else explicit:   # alone on the preset's values, it makes the target invalid
        alone = argparse.Namespace(**{**vars(args), **{d: v for d, v in explicit.items() if d != dest}})
        if _chip_problem(alone, input_size, num_classes, model, settings) is not None:
            conflicting.append(_spelled(dest, getattr(args, dest), model, settings))
    why = ", ".join(conflicting) or _chip_problem(args, input_size, num_classes, model, settings)
    args.target = None
    fill_target_defaults(args, model)
    return None if invalid_anyway else f"not the chip configuration ({why}): target none"


def _chip_problem(args, input_size: int, num_classes: int, model, settings):
    """Why the options ``args`` give are no valid run (a chip configuration's checks included),
    or None; ``args`` itself is left as it is."""
    from ..errors import RunError
    from ..runs import check_chip_settings
    trial = argparse.Namespace(**vars(args))
    fill_target_defaults(trial, model)
    try:
        cfg = _config(trial, input_size, num_classes, model)
        s = settings_from_args(trial, settings)
        if cfg.target is not None:
            check_chip_settings(cfg, s)
    except (ConfigError, RunError) as e:
        return str(e)
    return None


def _spelled(dest: str, value, model, settings) -> str:
    """An option as given on the command line: '--mode rate', '--no-fixed-point'."""
    from ..runs import RunSettings
    f = next(f for cls in (model, settings or RunSettings) for f in dataclasses.fields(cls) if dest_of(f) == dest)
    option = flags_of(f)[0]
    if isinstance(value, bool):
        return option if value else "--no-" + option[2:]
    return f"{option} {words(tuple(value) if isinstance(value, list) else value)}"


def naming_option(message: str, options: dict) -> str:
    """'invalid FIELD: ...' from SSNNConfig or RunSettings, prefixed with the option that set FIELD."""
    field = message[len("invalid "):].split(":")[0] if message.startswith("invalid ") else ""
    opt = options.get(field)
    return f"argument {opt}: {message}" if opt else message
