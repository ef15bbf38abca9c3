"""``ssnnbp train`` and ``ssnnbp evaluate``: a run folder trained, a run folder's weights tested."""
from __future__ import annotations

import math
import os
import sys
import time
from pathlib import Path

from ..config import ConfigError, SSNNConfig
from .options import config_from_args, resolve_target, settings_from_args
from .presets import DEFAULT, NONE

VAL_SEED = 20231   # which training images --val-samples holds out: fixed, so every run shares them


def load(name, split, args, steps=None, n=None, seed=0):
    from ..data import load_dataset
    if name == "nmnist" and n:   # event frames are big: read only the files needed
        return load_dataset(name, split, args.data_dir, steps=steps, download=args.download,
                            verify=args.verify, max_samples=n)
    ds = load_dataset(name, split, args.data_dir, steps=steps, download=args.download, verify=args.verify)
    return ds.subset(n, seed) if n else ds




def runs_root() -> Path:
    """The root of the default run folders: the package's RUNS_ROOT, read when used (tests set it).
    Looked up on the loaded package (always loaded before its submodules), not imported: the
    package imports this module."""
    return sys.modules[__package__].RUNS_ROOT


def run_folder(args, cfg: SSNNConfig, settings) -> Path:
    """--out, or the default folder under RUNS_ROOT ($SSNNBP_RUNS), checked before any data is loaded."""
    from ..runs import RunError, check_run_dir, model_kind
    if args.out is not None:
        return Path(args.out).expanduser()
    if os.environ.get("SSNNBP_RUNS") is not None and not os.environ["SSNNBP_RUNS"].strip():
        raise RunError("$SSNNBP_RUNS is set but empty: set it to the folder that holds the run folders, "
                       "unset it for ~/ssnnbp-runs, or pass --out")
    tag = model_kind(settings.model).folder_tag(cfg, settings)
    root = runs_root()
    out = root / f"{settings.dataset_label}-{tag}-seed{settings.seed}"
    try:
        check_run_dir(out)
    except RunError as e:
        src = "$SSNNBP_RUNS" if os.environ.get("SSNNBP_RUNS") else "the default root"
        raise RunError(f"{e} (the root {root} is {src}; pass --out or set $SSNNBP_RUNS to a folder)") from None
    return out


def cmd_train(args) -> int:
    from ..data import DataError, dataset_info
    from ..runs import Run, RunError, check_eta_warmup, model_kind
    info = dataset_info(args.dataset)
    sizes = int(math.prod(info.input_shape)), info.num_classes
    not_chip = resolve_target(args, *sizes)   # a preset's target that explicit options make invalid: dropped
    if not_chip:
        print(not_chip, flush=True)
    settings = settings_from_args(args)
    kind = model_kind(settings.model)
    from .. import accel
    accel.set_threads(args.threads)
    if args.threads is not None and kind.torch_baseline:
        import torch
        torch.set_num_threads(args.threads)
    cfg = config_from_args(args, *sizes)
    out = run_folder(args, cfg, settings)
    Run.check(out, cfg, settings)   # the folder and the memory, before loading any data
    steps = args.steps if args.dataset == "nmnist" else None
    if args.val_samples:
        # the same held-out images for every run (a fixed seed), the training subset from the rest
        full = load(args.dataset, "train", args, steps, None, args.seed)
        if args.val_samples >= len(full):
            raise ConfigError(f"invalid val_samples: {args.val_samples} (the training split has {len(full)})")
        rest, val = full.split_off(args.val_samples, VAL_SEED)
        train = rest.subset(args.train_samples, args.seed) if args.train_samples else rest
    else:
        train, val = load(args.dataset, "train", args, steps, args.train_samples, args.seed), None
    test = load(args.dataset, "test", args, steps, args.test_samples, args.seed)
    if (train.input_size, train.num_classes) != (cfg.sizes[0], cfg.sizes[-1]):
        raise DataError(f"data set {args.dataset} has {train.input_size} inputs and {train.num_classes} classes, "
                        f"expected {cfg.sizes[0]} and {cfg.sizes[-1]}")
    check_eta_warmup(settings, len(train))   # before the run folder is written
    try:
        run = Run.open(out, cfg, settings, overwrite=args.overwrite, preset=args.preset)
    except RunError as e:   # a folder of the same command from before the default preset: say how to resume it
        if getattr(args, "default_preset", False) and "other parameters" in str(e):
            raise RunError(f"{e} (without --preset, train trains preset {DEFAULT} since 2026-12-06: if this "
                           f"command started the run before, add --preset {NONE} to resume it)") from None
        raise
    if run.metrics and not run.finished:
        print(f"resuming {out} after epoch {len(run.metrics)}", flush=True)
    held = f" / {len(val)} validation (held out of train)" if val is not None else ""
    where = f"in torch (device {settings.device})" if kind.torch_baseline else f"backend {settings.backend}"
    print(f"{run.label()} on {args.dataset}: {len(train)} train{held} / {len(test)} test samples, "
          f"{settings.epochs} epochs, {where}; run folder {out}", flush=True)
    t0 = time.time()
    metrics = run.train(train, test, progress=not args.quiet, val_set=val)
    last = metrics[-1]
    print(f"test accuracy: {100 * last['test_acc']:.2f}% after {last['epoch']} epochs "
          f"({time.time() - t0:.0f} s this call); results in {out}")
    return 0


def cmd_evaluate(args) -> int:
    from ..runs import RunError, SpikeActivity, check_run_data, model_kind, read_run_folder
    folder = read_run_folder(Path(args.run))
    cfg, rs = folder.cfg, folder.settings
    kind = model_kind(rs.model)
    kind.check_backend(args.backend)   # before any data is loaded
    if folder.weights is None:
        raise RunError(f"{folder.path / 'weights.npz'}: no such file (no epoch of this run has finished)")
    if args.steps is not None:
        if not kind.ssnn_bp:
            raise RunError(f"--steps applies to SSNN-BP runs; this run folder holds a {rs.model} network")
        cfg = cfg.with_steps(args.steps)
    weights = folder.weights
    name = args.dataset or rs.dataset
    check_run_data(folder, args.dataset)   # a data set of one's own: still there, unchanged
    args.data_dir = args.data_dir or rs.data_dir
    ds = load(name, args.split, args, cfg.steps, args.test_samples, rs.seed)
    if ds.input_size != cfg.sizes[0] or ds.num_classes != cfg.sizes[-1]:
        raise RunError(f"data set {name} has {ds.input_size} inputs and {ds.num_classes} classes; "
                       f"the network is {'-'.join(map(str, cfg.sizes))}")
    if args.activity and (not kind.ssnn_bp or args.backend != "engine"):
        raise RunError("--activity needs an SSNN-BP run evaluated with --backend engine")
    activity = SpikeActivity(cfg) if args.activity else None
    acc = kind.accuracy(cfg, rs, weights, ds, args.backend, progress=not args.quiet, activity=activity)
    at = kind.evaluation_note(cfg, args.backend)
    print(f"{name} {args.split}: accuracy {100 * acc:.2f}% on {len(ds)} samples ({args.backend}{at})")
    if activity is not None:
        print(f"forward spike activity over {len(ds)} samples, T = {cfg.steps} (layer 0 = input):")
        print(f"{'layer':>5s} {'neurons':>8s} {'spikes/sample':>14s} {'rate/step':>10s} {'active':>8s} "
              f"{'never active':>13s} {'syn. events/sample':>19s}")
        for r in activity.summary():
            print(f"{r['layer']:5d} {r['neurons']:8d} {r['spikes_per_sample']:14.1f} {r['rate_per_step']:10.4f} "
                  f"{100 * r['active_fraction']:7.1f}% {r['never_active']:13d} {r['synaptic_events_per_sample']:19.0f}")
    return 0


