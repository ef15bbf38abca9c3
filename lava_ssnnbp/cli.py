"""``ssnnbp``: train, evaluate and inspect SSNN-BP networks from the shell.

Every invalid input ends in one line ``ssnnbp: error: ...`` and exit code 2.
"""
from __future__ import annotations

import os
import signal
import sys


def _interrupted_while_starting(signum, frame):
    os.write(2, b"ssnnbp: interrupted (while starting; nothing was written)\n")
    os._exit(130)


# Ctrl-C while the modules below load is one line too (main() restores Python's handler); only
# when this is the program, not when a test or a script imports the module
if __name__ == "__main__" or os.path.basename(sys.argv[0] if sys.argv else "") == "ssnnbp":
    signal.signal(signal.SIGINT, _interrupted_while_starting)

import argparse  # noqa: E402
import math  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

from .config import (LOIHI2_STEPS, LOIHI2_WEIGHT_BITS, LOIHI2_WEIGHT_EXP, MODES, RESETS, TARGETS,  # noqa: E402
                     ConfigError, SSNNConfig)

DEFAULT = SSNNConfig()
RUNS_ROOT = Path(os.environ.get("SSNNBP_RUNS", "~/ssnnbp-runs")).expanduser()
VAL_SEED = 20231   # which training images --val-samples holds out: fixed, so every run shares them


class UsageError(Exception):
    """Bad command-line input, reported as one line with exit code 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message):   # one line, no usage dump
        raise UsageError(f"{message} (see '{self.prog} --help')")


class _OnOff(argparse.BooleanOptionalAction):
    """--x / --no-x whose help states its default itself (argparse would add '(default: True)' again)."""

    def __init__(self, *args, help=None, **kw):
        super().__init__(*args, help=None, **kw)
        self.help = help


def _numbers(text: str, kind, what: str):
    # an empty list or item is a typo, not "use the default" (--hidden '' used to read as no hidden layer)
    try:
        items = [kind(v) for v in text.split(",")]
    except ValueError:
        items = []
    if not items:
        raise argparse.ArgumentTypeError(f"expected comma-separated {what}, got {text!r}")
    return tuple(items)


def _floats(text: str):
    return _numbers(text, float, "numbers")


def int_list(text: str):
    """Comma-separated integers, as an argparse type (the benchmark scripts use it too)."""
    return _numbers(text, int, "integers")


def _positive_int(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        n = 0
    if n < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return n


def _path(text: str) -> str:
    """A file or folder name, as an argparse type: an empty one is a typo, not "here" (--out ''
    used to put a run folder in the working directory)."""
    if not text.strip():
        raise argparse.ArgumentTypeError(f"expected a path, got an empty one ({text!r})")
    return text


def _dataset(text: str) -> str:
    """A built-in data set's name, or a data set's path made absolute, as an argparse type."""
    from .data import DataError, dataset_name
    try:
        return dataset_name(text)
    except DataError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def _add_data_args(p, dataset_default="default"):
    from .data import DATASETS
    from .data.own import FORMAT_HELP
    own = dataset_default is None   # evaluate: the run's own data set and folder
    p.add_argument("--dataset", default=dataset_default, type=_dataset, metavar="NAME|PATH",
                   help=f"data set: {', '.join(sorted(DATASETS))} (default: "
                        + ("the run's own" if own else "%(default)s") + "; 'default' is the "
                        "6,000/1,000-sample MNIST subset shipped with the package), or your own: "
                        f"{FORMAT_HELP} (docs/own_data.md)")
    p.add_argument("--data-dir", type=_path, default=None, metavar="DIR",
                   help="folder holding the data set (searched first; then $SSNNBP_DATA, "
                        "~/.cache/lava_ssnnbp, /usr/share/datasets) (default: "
                        + ("the run's own --data-dir, if it had one)" if own else "none)"))
    p.add_argument("--download", action="store_true",
                   help="download the data set if it is missing (needs a network) (default: off)")
    p.add_argument("--no-verify", dest="verify", action="store_false",
                   help="skip the MD5 check of the data files (default: check them)")
    p.add_argument("--test-samples", type=_positive_int, default=None, metavar="N",
                   help="evaluate on a class-balanced subset of N test samples (default: all)")


def _add_model_args(p):
    d = DEFAULT
    g = p.add_argument_group("model (SSNN-BP; see README.md and docs/)")
    g.add_argument("--hidden", type=int_list, default=d.sizes[1:-1], metavar="N[,N...]",
                   help=f"hidden layer sizes, neurons (default: {','.join(map(str, d.sizes[1:-1]))})")
    g.add_argument("--steps", "-T", type=int, default=None, metavar="T",
                   help=f"time steps per sample = one learning epoch (default: {d.steps}; "
                        f"{LOIHI2_STEPS} with --target loihi2)")
    g.add_argument("--tau", type=float, default=d.tau, metavar="STEPS",
                   help="synaptic current time constant in steps (default: T/10)")
    g.add_argument("--theta", type=float, default=d.theta, help="forward threshold, in weight units (default: %(default)s)")
    g.add_argument("--theta-hidden-grad", type=float, default=d.theta_hidden_grad,
                   help="hidden gradient-neuron threshold theta_b (default: %(default)s)")
    g.add_argument("--theta-out-grad", type=float, default=d.theta_out_grad,
                   help="output gradient-neuron threshold theta_N (default: %(default)s)")
    g.add_argument("--reset", choices=RESETS, default=d.reset, help="reset after a spike (default: %(default)s)")
    g.add_argument("--input-gain", type=float, default=d.input_gain,
                   help="mean input spike probability per step for a white pixel (default: %(default)s)")
    g.add_argument("--target-rate", type=float, default=d.target_rate,
                   help="label neuron's target spike probability per step (default: %(default)s)")
    g.add_argument("--wta", action=_OnOff, default=d.wta,
                   help="output winner-take-all lateral inhibition, the softmax-CE-like loss "
                        f"(default: {'on' if d.wta else 'off'})")
    g.add_argument("--wta-inhibition", type=float, default=d.wta_inhibition,
                   help="inhibitory weight between output neurons (default: %(default)s)")
    g.add_argument("--dropout", type=_floats, default=d.dropout, metavar="P[,P...]",
                   help="dropout probability per layer below the output: input,hidden... "
                        f"(default: {','.join(map(str, d.dropout))}; '0,0' disables)")
    g.add_argument("--target", choices=TARGETS, default=d.target,
                   help="'loihi2': the chip configuration, exactly what a Loihi 2 port (LearningEngineNetwork) "
                        "runs: fixed point, 'replay', 9-bit weights at exponent -1 (the defaults it sets), the "
                        "learning engine's shared rounding, W^T mirrored, per-neuron random generators, per-sample "
                        "updates, eta constant or in halving steps (docs/lava.md) (default: none, the options as "
                        "given)")
    g.add_argument("--mode", choices=MODES, default=None,
                   help="weight-update rule: rate (Eq. 9), coincidence (Eq. 10, on-chip), stochastic "
                        "(Bernoulli re-encoding inside the synapse), noise (rate + Gaussian noise), causal (every "
                        "pre-before-post spike pair of the sample; not in the paper), replay (chip-local "
                        "stochastic rule: after each sample every neuron replays its spike counts as Bernoulli "
                        "trains for --replay-steps steps and the synapses count their coincidences, Eq. 10) "
                        f"(default: {d.mode}; replay with --target loihi2)")
    g.add_argument("--eta", type=float, default=d.eta,
                   help="learning rate (default: %(default)s). Fixed point scales the integer counts by a "
                        "power of two, so it applies the nearest such step (0.39 for coincidence at T = 50; "
                        "config.json records it as fixed_point_effective_eta) and a schedule moves in those steps")
    g.add_argument("--init-gain", type=float, default=d.init_gain,
                   help="He-init std = gain * theta * sqrt(2/fan_in) (default: %(default)s)")
    g.add_argument("--fixed-point", action="store_true",
                   help="Loihi-like fixed point: 8-bit weights, 24-bit u/v, integer learning "
                        "(default: off, floating point)")
    g.add_argument("--weight-bits", type=int, default=None,
                   help=f"signed weight mantissa width in bits, fixed point (default: {d.weight_bits}; "
                        f"{LOIHI2_WEIGHT_BITS} with --target loihi2)")
    g.add_argument("--weight-exp", type=int_list, default=None, metavar="E[,E...]",
                   help="weight exponent per synapse layer, fixed point: one mantissa unit is 2**E / 64 "
                        f"(default: 0 for all, {LOIHI2_WEIGHT_EXP} with --target loihi2; write negative ones with "
                        "'=', e.g. --weight-exp=-1,-1)")
    g.add_argument("--noise-std", type=float, default=d.noise_std,
                   help="'noise' mode: std of the Gaussian added to each weight's update, in the units of "
                        "the normalised product x * (d+ - d-) / 2 (multiplied by eta like it), per sample: a "
                        "summed mini-batch of B gets sqrt(B) times it (default: the stochastic rule's own std)")
    g.add_argument("--noise-steps", type=int, default=d.noise_steps, metavar="T_S",
                   help="'noise' mode: add the stochastic rule's noise at T_S steps instead of T, to "
                        "emulate long spike trains cheaply (the paper's Fig. 8) (default: T)")
    g.add_argument("--stochastic-firing", action="store_true",
                   help="while training, every neuron fires with probability v / threshold instead of at the "
                        "threshold (the paper's literal reading of its stochastic premise; default: off)")
    g.add_argument("--replay-steps", type=int, default=d.replay_steps, metavar="T_S",
                   help="'replay' mode: length of the replay window after each training sample, in steps "
                        "(default: T)")


def _build_parser() -> argparse.ArgumentParser:
    from .runs import BACKENDS, BATCH_UPDATES, MODELS, SCHEDULES, RunSettings
    rs = RunSettings()
    top = _Parser(prog="ssnnbp", description="SSNN-BP: fully spike-based backpropagation, on-chip learning "
                                             "in Lava processes (Biswas, Saraswat, Ganguly 2023).")
    sub = top.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    t = sub.add_parser("train", help="train a network and write a run folder",
                       description="Train SSNN-BP (or its ANN twin) on a data set. Writes config.json, "
                                   "metrics.json/.csv, learning_curve.png, weights.npz and a checkpoint to "
                                   "the run folder; running the same command again resumes an unfinished run.")
    _add_data_args(t)
    _add_model_args(t)
    r = t.add_argument_group("run")
    r.add_argument("--epochs", type=int, default=rs.epochs, help="passes over the training set (default: %(default)s)")
    r.add_argument("--seed", type=int, default=rs.seed, help="names every random stream (default: %(default)s)")
    r.add_argument("--model", choices=MODELS, default=rs.model,
                   help="'snn' (SSNN-BP), 'ann' (equivalent ReLU/softmax network in numpy), or the offline-trained "
                        "baselines in torch: 'tssl-bp' (Zhang & Li 2020) and 'slayer' (lava-dl SLAYER, CUBA blocks); "
                        "these use --hidden, --steps, --batch-size, --epochs, --seed and the 'baselines' options and "
                        "ignore the other model options (default: %(default)s)")
    r.add_argument("--backend", choices=BACKENDS, default=rs.backend,
                   help="'engine': batched numpy scheduler; 'lava': learning inside Lava's CPU simulator "
                        "(~2 ms per step, for small data) (default: %(default)s)")
    r.add_argument("--batch-updates", choices=BATCH_UPDATES, default=rs.batch_updates,
                   help="'per-sample': weights change after every sample (on-chip behaviour); "
                        "'mini-batch': simulate --batch-size samples with the same weights and apply the "
                        "sum of their updates (faster) (default: %(default)s)")
    r.add_argument("--batch-size", type=int, default=rs.batch_size,
                   help="samples per batch (default: %(default)s)")
    r.add_argument("--threads", type=_positive_int, default=None, metavar="N",
                   help="threads the engine's compiled training pass splits a mini-batch over; the results "
                        "do not depend on it (default: all cores). For --model tssl-bp/slayer: torch's CPU "
                        "threads (default: torch's, all cores; on a machine other jobs share, 1 is many "
                        "times faster than more: torch's threads wait on each other)")
    r.add_argument("--eta-schedule", choices=SCHEDULES, default=rs.eta_schedule,
                   help="learning-rate schedule over epochs (default: %(default)s)")
    r.add_argument("--eta-decay", type=float, default=rs.eta_decay,
                   help="'step': factor every --eta-step epochs; 'exponential': factor per epoch (default: %(default)s)")
    r.add_argument("--eta-step", type=int, default=rs.eta_step, help="epochs per 'step' decay (default: %(default)s)")
    r.add_argument("--eta-warmup", type=int, default=rs.eta_warmup, metavar="N",
                   help="ramp eta up linearly over the first N training samples; keeps summed mini-batch "
                        "updates from silencing hidden neurons at the start (engine only) (default: %(default)s)")
    r.add_argument("--train-samples", type=int, default=None, metavar="N",
                   help="train on a class-balanced subset of N samples (default: all)")
    r.add_argument("--val-samples", type=int, default=None, metavar="N",
                   help="hold N class-balanced training images out of training (the same ones for every run) "
                        "and score them after each epoch as val_acc: choose hyperparameters on it, not on the "
                        "test set (default: none)")
    r.add_argument("--ann-lr", type=float, default=rs.ann_lr, help="ANN learning rate (default: %(default)s)")
    b = t.add_argument_group("baselines (--model tssl-bp | slayer; see docs/baselines.md)")
    b.add_argument("--baseline-lr", type=float, default=rs.baseline_lr, metavar="LR",
                   help="optimiser learning rate (default: the method's: tssl-bp AdamW 5e-4, slayer Adam 1e-3)")
    b.add_argument("--tau-m", type=float, default=rs.tau_m, metavar="STEPS",
                   help="membrane time constant, steps (default: %(default)s)")
    b.add_argument("--tau-s", type=float, default=rs.tau_s, metavar="STEPS",
                   help="synaptic (PSP) time constant, steps (default: %(default)s)")
    b.add_argument("--tau-grad", type=float, default=rs.tau_grad,
                   help="slayer: width of the surrogate spike gradient, lava-dl's tau_grad (default: %(default)s)")
    b.add_argument("--scale-grad", type=float, default=rs.scale_grad,
                   help="slayer: height of the surrogate spike gradient, lava-dl's scale_grad (default: %(default)s)")
    b.add_argument("--conv", default=rs.conv, metavar="SPEC",
                   help="tssl-bp: conv stack before the --hidden dense layers, in the authors' notation, e.g. "
                        "15C5-P2-40C5-P2 (N channels of KxK conv, PK sum pooling) (default: none, dense only)")
    b.add_argument("--device", default=rs.device,
                   help="torch device: auto (a GPU if there is one), cpu, cuda, cuda:N (default: %(default)s)")
    r.add_argument("--out", type=_path, default=None, metavar="DIR",
                   help=f"run folder (default: {RUNS_ROOT}/<dataset>-<mode>-T<T>[-fixed]-seed<seed>, "
                        "<dataset>-ann-seed<seed> for --model ann, <dataset>-<model>-T<T>-seed<seed> for tssl-bp "
                        "and slayer; $SSNNBP_RUNS changes the root)")
    r.add_argument("--overwrite", action="store_true",
                   help="start afresh even if the run folder holds a run (default: off, resume it)")
    r.add_argument("--checkpoint-every", type=float, default=rs.checkpoint_s, metavar="SECONDS",
                   help="seconds between mid-epoch checkpoints (default: %(default)s)")
    r.add_argument("--quiet", action="store_true",
                   help="no progress output (default: off; progress bars on a terminal, one line per epoch "
                        "in a log)")

    e = sub.add_parser("evaluate", help="test accuracy of a trained run",
                       description="Evaluate the weights of a run folder (argmax of output spike counts).")
    e.add_argument("run", type=_path, metavar="RUN_DIR", help="run folder written by 'ssnnbp train'")
    _add_data_args(e, dataset_default=None)
    e.add_argument("--split", choices=("train", "test"), default="test", help="split to evaluate (default: %(default)s)")
    e.add_argument("--backend", choices=BACKENDS, default="engine",
                   help="simulate in the engine or in Lava; tssl-bp and slayer runs: in torch, or exported to "
                        "netx HDF5 and run in Lava (default: %(default)s)")
    e.add_argument("--steps", "-T", type=_positive_int, default=None, metavar="T",
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
    i.add_argument("--data-dir", type=_path, default=None, metavar="DIR",
                   help="extra data folder to search first (default: none)")
    i.add_argument("--verify", action="store_true",
                   help="also check every data file's MD5 (reads them all: a few seconds) (default: off, "
                        "headers, sizes and sample counts only)")
    i.add_argument("--hidden", type=int_list, default=DEFAULT.sizes[1:-1], metavar="N[,N...]",
                   help=f"hidden sizes of the network to describe (default: {','.join(map(str, DEFAULT.sizes[1:-1]))})")
    i.add_argument("--run", type=_path, default=None, metavar="RUN_DIR",
                   help="describe a run folder, checking its files (default: none)")
    top.options = {name: {a.dest: a.option_strings[0] for a in p._actions if a.option_strings}
                   for name, p in sub.choices.items()}
    return top


# ------------------------------------------------------------------ commands
def _load(name, split, args, steps=None, n=None, seed=0):
    from .data import load_dataset
    if name == "nmnist" and n:   # event frames are big: read only the files needed
        return load_dataset(name, split, args.data_dir, steps=steps, download=args.download,
                            verify=args.verify, max_samples=n)
    ds = load_dataset(name, split, args.data_dir, steps=steps, download=args.download, verify=args.verify)
    return ds.subset(n, seed) if n else ds


def _model_defaults(args):
    """Fill the model options left unset: the chip configuration's choices with
    --target loihi2 (an option given explicitly stays, and the config says if it
    does not fit the target), SSNNConfig's defaults otherwise."""
    chip = args.target == "loihi2"
    if args.steps is None:
        args.steps = LOIHI2_STEPS if chip else DEFAULT.steps
    if args.mode is None:
        args.mode = "replay" if chip else DEFAULT.mode
    if args.weight_bits is None:
        args.weight_bits = LOIHI2_WEIGHT_BITS if chip else DEFAULT.weight_bits
    if args.weight_exp is None:
        args.weight_exp = (LOIHI2_WEIGHT_EXP,) * (len(args.hidden) + 1) if chip else DEFAULT.weight_exp
    args.fixed_point = args.fixed_point or chip


def _config_from_args(args, input_size: int, num_classes: int) -> SSNNConfig:
    from .runs import model_kind
    _model_defaults(args)
    # the torch baselines have no dropout (as published); their run records none
    dropout = tuple(args.dropout) if model_kind(args.model).records_dropout else ()
    return SSNNConfig(
        sizes=(input_size, *args.hidden, num_classes), steps=args.steps, tau=args.tau, theta=args.theta,
        theta_hidden_grad=args.theta_hidden_grad, theta_out_grad=args.theta_out_grad, reset=args.reset,
        input_gain=args.input_gain, target_rate=args.target_rate, wta=args.wta,
        wta_inhibition=args.wta_inhibition, dropout=dropout, mode=args.mode, eta=args.eta,
        init_gain=args.init_gain, fixed_point=args.fixed_point, weight_bits=args.weight_bits,
        weight_exp=tuple(args.weight_exp), noise_std=args.noise_std, noise_steps=args.noise_steps,
        replay_steps=args.replay_steps, stochastic_firing=args.stochastic_firing, target=args.target)


def _settings_from_args(args):
    from .runs import RunSettings
    return RunSettings(dataset=args.dataset, data_dir=args.data_dir, epochs=args.epochs, seed=args.seed,
                       model=args.model, backend=args.backend, batch_updates=args.batch_updates,
                       batch_size=args.batch_size, eta_schedule=args.eta_schedule, eta_decay=args.eta_decay,
                       eta_step=args.eta_step, eta_warmup=args.eta_warmup, train_samples=args.train_samples,
                       test_samples=args.test_samples, val_samples=args.val_samples,
                       checkpoint_s=args.checkpoint_every, ann_lr=args.ann_lr, baseline_lr=args.baseline_lr,
                       tau_m=args.tau_m, tau_s=args.tau_s, tau_grad=args.tau_grad, scale_grad=args.scale_grad,
                       device=args.device, conv=args.conv)


def _run_folder(args, cfg: SSNNConfig, settings) -> Path:
    """--out, or the default folder under RUNS_ROOT ($SSNNBP_RUNS), checked before any data is loaded."""
    from .runs import RunError, check_run_dir, model_kind
    if args.out is not None:
        return Path(args.out).expanduser()
    if os.environ.get("SSNNBP_RUNS") is not None and not os.environ["SSNNBP_RUNS"].strip():
        raise RunError("$SSNNBP_RUNS is set but empty: set it to the folder that holds the run folders, "
                       "unset it for ~/ssnnbp-runs, or pass --out")
    tag = model_kind(settings.model).folder_tag(cfg, settings)
    out = RUNS_ROOT / f"{settings.dataset_label}-{tag}-seed{settings.seed}"
    try:
        check_run_dir(out)
    except RunError as e:
        src = "$SSNNBP_RUNS" if os.environ.get("SSNNBP_RUNS") else "the default root"
        raise RunError(f"{e} (the root {RUNS_ROOT} is {src}; pass --out or set $SSNNBP_RUNS to a folder)") from None
    return out


def cmd_train(args) -> int:
    from .data import DataError, dataset_info
    from .runs import Run, check_eta_warmup, model_kind
    info = dataset_info(args.dataset)
    _model_defaults(args)
    settings = _settings_from_args(args)
    kind = model_kind(settings.model)
    from . import accel
    accel.set_threads(args.threads)
    if args.threads is not None and kind.torch_baseline:
        import torch
        torch.set_num_threads(args.threads)
    cfg = _config_from_args(args, int(math.prod(info.input_shape)), info.num_classes)
    out = _run_folder(args, cfg, settings)
    Run.check(out, cfg, settings)   # the folder and the memory, before loading any data
    steps = args.steps if args.dataset == "nmnist" else None
    if args.val_samples:
        # the same held-out images for every run (a fixed seed), the training subset from the rest
        full = _load(args.dataset, "train", args, steps, None, args.seed)
        if args.val_samples >= len(full):
            raise ConfigError(f"invalid val_samples: {args.val_samples} (the training split has {len(full)})")
        rest, val = full.split_off(args.val_samples, VAL_SEED)
        train = rest.subset(args.train_samples, args.seed) if args.train_samples else rest
    else:
        train, val = _load(args.dataset, "train", args, steps, args.train_samples, args.seed), None
    test = _load(args.dataset, "test", args, steps, args.test_samples, args.seed)
    if (train.input_size, train.num_classes) != (cfg.sizes[0], cfg.sizes[-1]):
        raise DataError(f"data set {args.dataset} has {train.input_size} inputs and {train.num_classes} classes, "
                        f"expected {cfg.sizes[0]} and {cfg.sizes[-1]}")
    check_eta_warmup(settings, len(train))   # before the run folder is written
    run = Run.open(out, cfg, settings, overwrite=args.overwrite)
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
    from .runs import RunError, SpikeActivity, check_run_data, model_kind, read_run_folder
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
    ds = _load(name, args.split, args, cfg.steps, args.test_samples, rs.seed)
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


def cmd_info(args) -> int:
    from .data import DATASETS, search_dirs
    from .data.registry import describe
    from .runs import RunSettings, describe_run_data, model_kind, read_run_folder, versions
    print("versions: " + ", ".join(f"{k} {v}" for k, v in versions().items()))
    print("data search order: " + ", ".join(str(d) for d in search_dirs(args.data_dir)))
    for name in sorted(DATASETS):
        print(f"  {name:14s} {describe(name, args.data_dir, verify=args.verify)}")
    model = RunSettings.model   # without a run: the default model's network
    if args.run:
        folder = read_run_folder(Path(args.run))
        cfg, model = folder.cfg, folder.settings.model
        print(f"run {folder.path}: {_progress_of(folder)}")
        data_line = describe_run_data(folder)   # a data set of one's own: where, and unchanged?
        if data_line is not None:
            print(data_line)
    else:
        cfg = DEFAULT.replace(sizes=(DEFAULT.sizes[0], *args.hidden, DEFAULT.sizes[-1]))
    n_neurons = sum(cfg.sizes[1:])
    n_syn = sum(a * b for a, b in zip(cfg.sizes[:-1], cfg.sizes[1:]))
    if model_kind(model).torch_baseline:   # offline baselines: no composite neurons, no on-chip learning
        print(f"network {'-'.join(map(str, cfg.sizes))} ({model}, trained off chip): {n_neurons} neurons, "
              f"{n_syn} synapses")
        return 0
    print(f"network {'-'.join(map(str, cfg.sizes))}: {n_neurons} composite neurons "
          f"({3 * n_neurons} compartments: x, d+, d-), {n_syn} plastic synapses "
          f"({n_syn * cfg.weight_bits / 8 / 1024:.0f} KiB at {cfg.weight_bits}-bit weights)")
    _print_loihi_estimate(cfg)
    if args.run and folder.weights is not None:
        _print_energy_estimate(folder, args.data_dir)
    return 0


ENERGY_SAMPLES = 100   # training and test samples whose events 'info --run' counts


def _print_energy_estimate(folder, data_dir):
    """Energy and latency per training sample and per inference (lava_ssnnbp.energy), from the
    events of the run's trained weights on its data set's first samples."""
    from . import energy
    from .data.registry import load_dataset
    from .runs import model_kind
    cfg, s = folder.cfg, folder.settings
    if not model_kind(s.model).ssnn_bp or not cfg.fixed_point or cfg.mode not in ("coincidence", "replay"):
        print("energy estimate: only for fixed-point SSNN runs with the on-chip rules 'coincidence' or 'replay'")
        return
    try:
        tr = load_dataset(s.dataset, "train", data_dir, steps=cfg.steps, max_samples=ENERGY_SAMPLES)
        te = load_dataset(s.dataset, "test", data_dir, steps=cfg.steps, max_samples=ENERGY_SAMPLES)
    except Exception as e:  # noqa: BLE001 -- the estimate is an extra; say why it is missing
        print(f"energy estimate: data set {s.dataset!r} not available ({e})")
        return
    n = ENERGY_SAMPLES
    result = energy.sample_costs(cfg, folder.weights, tr.x[:n], tr.y[:n], te.x[:n], s.seed)
    for line in energy.lines(result):
        print(line)


def _progress_of(folder) -> str:
    """A checked run folder's state in words: epochs done, last accuracy, the checkpoint's position."""
    m, s = folder.metrics, folder.settings
    text = (f"{s.model} on {s.dataset}, {len(m)}{f' of {s.epochs}' if len(m) < s.epochs else ''} "
            f"epoch{'s' if len(m) != 1 or s.epochs != 1 else ''} finished")
    if m:
        text += f" (test accuracy {100 * m[-1]['test_acc']:.2f}%)"
    ck = folder.checkpoint
    if ck is not None and int(ck["position"]):
        text += f"; checkpoint {int(ck['position'])} samples into epoch {int(ck['epoch']) + 1}"
    return text + "; files check out"


def _print_loihi_estimate(cfg: SSNNConfig):
    """Loihi 2 resource estimate (lava_ssnnbp.resources), learning on chip and inference only."""
    from .resources import LOIHI2, estimate
    print(f"Loihi 2 resource estimate (mode {cfg.mode}, T={cfg.steps}; assumed limits: {LOIHI2.describe()}; "
          "see docs/export.md):")
    for learning in (True, False):
        for line in estimate(cfg, learning).lines():
            print("  " + line)
    on_chip = cfg if cfg.mode in ("coincidence", "replay") else cfg.replace(mode="coincidence")
    if on_chip is not cfg:
        print(f"  (the learning engine runs 'coincidence' and 'replay' only: with mode coincidence, T={cfg.steps})")
    for line in estimate(on_chip, learning_engine=True).lines():
        print("  " + line)


_FIELD_DEST = {"sizes": "hidden", "checkpoint_s": "checkpoint_every"}   # where a field's option is named otherwise


def _naming_option(message: str, options: dict) -> str:
    """'invalid FIELD: ...' from SSNNConfig or RunSettings, prefixed with the option that set FIELD."""
    field = message[len("invalid "):].split(":")[0] if message.startswith("invalid ") else ""
    opt = options.get(_FIELD_DEST.get(field, field))
    return f"argument {opt}: {message}" if opt else message


def main(argv=None) -> int:
    """The ``ssnnbp`` command: its exit code (0 done, 1 a fault while running, 2 bad input,
    130 interrupted). Every error is one line on stderr."""
    if threading.current_thread() is threading.main_thread() \
            and signal.getsignal(signal.SIGINT) is _interrupted_while_starting:
        signal.signal(signal.SIGINT, signal.default_int_handler)   # from here Ctrl-C unwinds and is reported
        for sig in (signal.SIGTERM, signal.SIGHUP):   # stopped or its terminal closed: clean up as for Ctrl-C
            signal.signal(sig, _terminated)
    try:
        code = _main(argv)
        try:
            sys.stdout.flush()   # a full or closed stdout fails here, not in the interpreter's exit
        except OSError as e:
            if isinstance(e, BrokenPipeError):
                raise
            _silence_stdout()
            print(f"ssnnbp: error: cannot write to standard output ({e.strerror or e})", file=sys.stderr)
            return 1
        return code
    except KeyboardInterrupt as e:
        signum = e.signum if isinstance(e, Terminated) else signal.SIGINT
        what = "interrupted" if signum == signal.SIGINT else f"stopped by {signal.Signals(signum).name}"
        print(f"ssnnbp: {what} (the last checkpoint is kept; run the same command to resume)", file=sys.stderr)
        return 128 + signum
    except BrokenPipeError:   # e.g. 'ssnnbp info | head': the reader left, nothing to report
        _silence_stdout()
        return 1
    except MemoryError as e:
        from .memory import available_bytes, size
        avail = available_bytes()
        print(f"ssnnbp: error: out of memory ({e}); this process may use about "
              f"{size(avail) if avail is not None else 'an unknown amount'}: choose smaller sizes, fewer steps or "
              "a smaller batch, or free memory", file=sys.stderr)
        return 1
    except OSError as e:      # a full disk, a read-only or vanished folder, a full stdout, ...
        if not getattr(e, "filename", None) and _stdout_failed():
            _silence_stdout()
            print(f"ssnnbp: error: cannot write to standard output ({e.strerror or e})", file=sys.stderr)
        else:
            where = f" ({e.filename})" if getattr(e, "filename", None) else ""
            print(f"ssnnbp: error: {e.strerror or e}{where}", file=sys.stderr)
        return 1


class Terminated(KeyboardInterrupt):
    """SIGTERM or SIGHUP, raised like Ctrl-C's KeyboardInterrupt so that the same clean-up
    runs (the Lava runtime stopped, its workers and shared memory gone); exit 128 + signal."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum


def _terminated(signum, frame):
    signal.signal(signum, signal.SIG_IGN)   # once: a second one must not interrupt the clean-up
    raise Terminated(signum)


def _stdout_failed() -> bool:
    try:
        sys.stdout.write("\n")   # stdout's buffer may have been dropped by the failed flush: try again
        sys.stdout.flush()
        return False
    except (OSError, ValueError, AttributeError):
        return True


def _silence_stdout():
    """Point stdout at /dev/null so the interpreter's last flush does not fail again."""
    try:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass


def _main(argv=None) -> int:
    from .data import DataError
    from .errors import RunFault
    from .lifecycle import WorkerDied
    from .runs import RunError
    parser = _build_parser()
    try:
        args = parser.parse_args(argv)
        if args.command is None:
            parser.print_help()
            return 2
        try:
            return {"train": cmd_train, "evaluate": cmd_evaluate, "info": cmd_info}[args.command](args)
        except RunFault as e:   # the machine failed the run (a full disk, ...): not bad input
            print(f"ssnnbp: error: {e}", file=sys.stderr)
            return 1
        except (ConfigError, RunError) as e:
            raise UsageError(_naming_option(str(e), parser.options[args.command])) from None
    except (UsageError, DataError) as e:
        print(f"ssnnbp: error: {e}", file=sys.stderr)
        return 2
    except WorkerDied as e:   # not bad input: the run failed (e.g. the OOM killer)
        print(f"ssnnbp: error: {e}; the last checkpoint is kept (run the same command to resume)", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
