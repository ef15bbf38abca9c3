"""The commands and their options: those of the model and the run come from the fields of
``SSNNConfig`` and ``RunSettings`` (``options``); the few written here are the commands' own
(where to write, what to print, what to download)."""
from __future__ import annotations

import dataclasses

from ..config import SSNNConfig
from .options import (Parser, add_field_option, add_field_options, dest_of, field_options, has_option, path,
                      positive_int)
from .presets import DEFAULT, LIST, NONE, CommandParser

# the --help sections of the run settings (a field's metadata "group"; any other is its own section)
GROUPS = {"data": "data", "run": "run", "baselines": "baselines (--model tssl-bp | slayer; see docs/baselines.md)"}


def _field(cls, name: str) -> dataclasses.Field:
    return next(f for f in dataclasses.fields(cls) if f.name == name)


def _add_data_options(p, settings, own: bool):
    """The data set's options; ``own`` (evaluate): by default the run's own."""
    g = p.add_argument_group(GROUPS["data"])
    for f in dataclasses.fields(settings):
        if f.metadata.get("group") == "data" and has_option(f):
            if own and f.name in ("dataset", "data_dir"):
                add_field_option(g, f, default=None, default_text=(
                    "the run's own" if f.name == "dataset" else "the run's own --data-dir, if it had one"))
            else:
                add_field_option(g, f)
    g.add_argument("--download", action="store_true",
                   help="download the data set if it is missing (needs a network) (default: off)")
    g.add_argument("--no-verify", dest="verify", action="store_false",
                   help="skip the MD5 check of the data files (default: check them)")


def _add_train(sub, model, settings, runs_root):
    t = sub.add_parser("train", help="train a network and write a run folder",
                       description="Train SSNN-BP (or its ANN twin, or a baseline) on a data set. Writes "
                                   "config.json, metrics.json/.csv, learning_curve.png, weights.npz and a checkpoint "
                                   "to the run folder; running the same command again resumes an unfinished run. "
                                   f"Without --preset it trains preset {DEFAULT}, the chip configuration on full "
                                   "MNIST (the README's headline row); the defaults below are the options' own, "
                                   f"which --preset {NONE} gives.")
    t.add_argument("--preset", metavar="NAME", default=DEFAULT,
                   help="start from a named set of option values, one per README row, the demo and a small Lava "
                        "run (files in lava_ssnnbp/presets/); options given explicitly override its values; "
                        f"'{LIST}' lists them ('ssnnbp presets NAME' shows one as options); '{NONE}': no preset, "
                        "each option's own default as shown below. Where options given explicitly conflict with a "
                        "preset's --target "
                        "loihi2 (e.g. --mode rate), the run is not the chip configuration: it says so and trains "
                        f"with target none (default: {DEFAULT}, the chip configuration on MNIST: replay, fixed "
                        "point, T = 50, 784-1280-10, eta 0.3 halved every 7 epochs, 20 epochs)")
    _add_data_options(t, settings, own=False)
    add_field_options(t.add_argument_group("model (SSNN-BP; see README.md and docs/)"), dataclasses.fields(model))
    groups = {}
    for f in dataclasses.fields(settings):
        key = f.metadata.get("group", "run")
        if key != "data" and has_option(f):
            if key not in groups:
                groups[key] = t.add_argument_group(GROUPS.get(key, key))
            add_field_option(groups[key], f)
    r = groups.get("run") or t.add_argument_group(GROUPS["run"])
    r.add_argument("--threads", type=positive_int, default=None, metavar="N",
                   help="threads the engine's compiled training pass splits a mini-batch over; the results "
                        "do not depend on it (default: all cores). For --model tssl-bp/slayer: torch's CPU "
                        "threads (default: torch's, all cores; on a machine other jobs share, 1 is many "
                        "times faster than more: torch's threads wait on each other)")
    r.add_argument("--out", type=path, default=None, metavar="DIR",
                   help=f"run folder (default: {runs_root}/<dataset>-<mode>-T<T>[-fixed][-<target>]-seed<seed>, "
                        "<dataset>-ann-seed<seed> for --model ann, <dataset>-<model>-T<T>-seed<seed> for tssl-bp "
                        "and slayer; $SSNNBP_RUNS changes the root)")
    r.add_argument("--overwrite", action="store_true",
                   help="start afresh even if the run folder holds a run (default: off, resume it)")
    r.add_argument("--quiet", action="store_true",
                   help="no progress output (default: off; progress bars on a terminal, one line per epoch "
                        "in a log)")
    t.preset_dests = frozenset(dest_of(f) for cls in (model, settings) for f in dataclasses.fields(cls)
                               if has_option(f))
    return t


def build_parser(model=SSNNConfig, settings=None) -> Parser:
    """The ``ssnnbp`` parser; ``model`` and ``settings`` are the dataclasses whose fields are
    the options of ``train`` (SSNNConfig and RunSettings)."""
    from ..runs import BACKENDS, RunSettings
    from .train import runs_root
    settings = settings or RunSettings
    top = Parser(prog="ssnnbp", description="SSNN-BP: fully spike-based backpropagation, on-chip learning "
                                            "in Lava processes (Biswas, Saraswat, Ganguly 2023).")
    sub = top.add_subparsers(dest="command", metavar="COMMAND", parser_class=CommandParser)
    _add_train(sub, model, settings, runs_root())

    e = sub.add_parser("evaluate", help="test accuracy of a trained run",
                       description="Evaluate the weights of a run folder (argmax of output spike counts).")
    e.add_argument("run", type=path, metavar="RUN_DIR", help="run folder written by 'ssnnbp train'")
    _add_data_options(e, settings, own=True)
    e.add_argument("--split", choices=("train", "test"), default="test", help="split to evaluate (default: %(default)s)")
    e.add_argument("--backend", choices=BACKENDS, default="engine",
                   help="simulate in the engine or in Lava; tssl-bp and slayer runs: in torch, or exported to "
                        "netx HDF5 and run in Lava (default: %(default)s)")
    e.add_argument("--steps", "-T", type=positive_int, default=None, metavar="T",
                   help="simulate T steps per sample instead of the T the run was trained with; the "
                        "synaptic time constant scales with T, so a longer run averages out the input "
                        "encoding's noise (default: the run's T)")
    e.add_argument("--activity", action="store_true",
                   help="also print each layer's forward spike activity (spikes and synaptic events per sample, "
                        "active fraction, never-active neurons; engine backend) (default: off)")
    e.add_argument("--quiet", action="store_true",
                   help="no progress bars (default: off; they are drawn on a terminal only)")

    i = sub.add_parser("info", help="versions, data sets found, model size",
                       description="Print versions, where data sets were found and whether their files "
                                   "are intact, and the size of a network.")
    add_field_option(i, _field(settings, "data_dir"), help="extra data folder to search first (default: none)")
    i.add_argument("--verify", action="store_true",
                   help="also check every data file's MD5 (reads them all: a few seconds) (default: off, "
                        "headers, sizes and sample counts only)")
    sizes = _field(model, "sizes")
    add_field_option(i, sizes, help=f"hidden sizes of the network to describe (default: "
                                    f"{','.join(map(str, sizes.default[1:-1]))})")
    i.add_argument("--run", type=path, default=None, metavar="RUN_DIR",
                   help="describe a run folder, checking its files (default: none)")

    p = sub.add_parser("presets", help="list the presets of 'train --preset', or show one",
                       description="List the presets (named sets of train options, one per README row and the "
                                   f"demo), or show one preset's options. 'train' without --preset trains {DEFAULT}; "
                                   f"'train --preset {NONE}' the options' own defaults.")
    p.add_argument("name", nargs="?", default=None, metavar="NAME",
                   help="show this preset's options as a train command (default: list them all)")
    top.options = {name: field_options(q, (model, settings)) for name, q in sub.choices.items()}
    top.train_parser = sub.choices["train"]
    return top
