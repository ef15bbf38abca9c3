"""On-chip learning demo (``make demo``): the chip's rule, in the engine and in Lava.

1. Trains SSNN-BP 784-1280-10 on the embedded MNIST subset (6,000 training /
   1,000 test images) in the chip configuration (``--target loihi2``: the
   chip-local ``replay`` rule on Lava's learning engine arithmetic, 9-bit
   weights, one update per sample, W^T mirrored, per-neuron random generators)
   with the batched engine (``ssnnbp train``; a run folder with metrics,
   learning curve and weights), and prints its test accuracy before learning
   (the random initial weights) and after.
2. Trains the same configuration at the size of preset ``lava-chip-small``
   (784-64-10, T = 12, replay window 8: Lava's CPU simulator takes tens of ms
   per time step, so the full network would take over a quarter of an hour)
   from the same initial weights on the first ``--lava-samples`` training
   images inside Lava (``LearningEngineNetwork``: Lava's LearningDense and
   learning engine, relay neurons, the mirrored W^T) and in the engine, and
   prints the test accuracy on ``--lava-test-samples`` images before learning
   and both networks' after, and whether their weights are identical.

Each term of the run's lines is explained in one line once the run has printed them.

Usage: python -m lava_ssnnbp.demo [--epochs 2] [--lava-samples 100] [--out RUN]
"""
from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from pathlib import Path
from typing import Optional, Sequence

import numpy as np

DEMO_ARGS = ["--preset", "none", "--dataset", "default", "--target", "loihi2", "--steps", "50", "--seed", "0"]
LAVA_PRESET = "lava-chip-small"   # part 2's size: hidden, T, replay window and eta of this preset
RUN_FOLDER = "demo"   # under ssnnbp's runs root: not the folder a user's own 'ssnnbp train' of this network gets

MODE_MEANINGS = {
    "replay": "after each image every neuron replays its spike count as a short random spike train, and "
              "each synapse changes its weight by the coincidences it sees; all it needs is local, so a "
              "chip's learning engine can run it",
    "coincidence": "each synapse changes its weight by the coincidences of its input spikes with the "
                   "gradient spikes of its neuron during the image",
}
DATASET_MEANINGS = {"default": "6,000 training and 1,000 test MNIST digits that ship with the package"}


def run_terms(cfg, settings) -> list:
    """(term, one line) for each word of the run's first line ('SSNN-BP 784-1280-10 replay
    T=50 fixed, chip configuration loihi2 on default: ... backend engine') and its epoch lines."""
    sizes = cfg.sizes
    terms = [("-".join(map(str, sizes)), f"neurons per layer: {sizes[0]} inputs (one per pixel), "
              + ", ".join(map(str, sizes[1:-1])) + f" hidden, {sizes[-1]} outputs (one per class)"),
             (cfg.mode, "the learning rule: " + MODE_MEANINGS.get(cfg.mode, "see 'ssnnbp train --help', --mode")),
             (f"T={cfg.steps}", f"time steps per image: each pixel becomes a random spike train of {cfg.steps} "
                                "steps; the output neuron that spikes most is the network's answer"),
             ("fixed" if cfg.fixed_point else "float",
              "fixed-point arithmetic: integer weights and potentials, as on the chip" if cfg.fixed_point
              else "floating-point arithmetic (a chip computes in fixed point)")]
    if cfg.target:
        terms.append(("chip configuration", f"(--target {cfg.target}) all of a Loihi 2 port's choices at once: "
                      "'replay', fixed point, 9-bit weights, one weight update per image, the learning "
                      "engine's rounding"))
    terms += [(settings.dataset, "the data set" + (": " + DATASET_MEANINGS[settings.dataset]
                                                    if settings.dataset in DATASET_MEANINGS else "")),
              (f"backend {settings.backend}", "simulated by this package's batched CPU engine; part 2 runs the "
               "same network in Lava" if settings.backend == "engine" else "simulated in Lava"),
              ("epoch N", "one pass over the training images; 'train' and 'test': % of images classified right")]
    return terms


def chance_percent(num_classes: int) -> float:
    """The accuracy of guessing, what random initial weights score (up to noise)."""
    return 100.0 / num_classes


def train_vs_test_note(cfg, train_below: bool = True) -> str:
    """What an epoch's train accuracy counts, and so why it reads below its test accuracy."""
    hidden = ([f"hidden layer {l}" for l in range(1, len(cfg.dropout))] if len(cfg.dropout) > 2
              else ["hidden"])
    layers = ["input"] + hidden
    dropped = [f"{100 * p:.0f}% of the {name} spikes" for p, name in zip(cfg.dropout, layers) if p > 0]
    dropout = f" with dropout ({' and '.join(dropped)} removed at random)," if dropped else ""
    return (f"{'train below test' if train_below else 'train vs test'}: 'train' scores each training image "
            "on the pass that learns from it,"
            f"{dropout} with the weights as they were at that image (the first ones barely trained); "
            f"'test' runs{' without dropout' if dropped else ''} on the weights at the epoch's end")


def lava_check_config(cfg):
    """Part 1's configuration ``cfg`` at the size of preset ``LAVA_PRESET`` (hidden layers, T,
    replay window, eta): what Lava's CPU simulator trains in a minute or two."""
    from .cli.presets import load_preset
    size = load_preset(LAVA_PRESET).values
    return dataclasses.replace(cfg, sizes=(cfg.sizes[0], *size["hidden"], cfg.sizes[-1]), steps=size["steps"],
                               replay_steps=size["replay_steps"], eta=size["eta"])


def lava_check(n_train: int, n_test: int, steps: int = 50, seed: int = 0, cfg=None) -> dict:
    """Train ``n_train`` samples from the same initial weights in Lava and in the
    engine; test both; compare the weights. The accuracy before learning (the
    initial weights) is the engine's alone: in Lava's learning engine a test image
    costs as many steps as a training one, and the network starts from the same weights.
    ``cfg``: a fixed-point network (default: the chip configuration 784-1280-10, T = ``steps``)."""
    from .config import SSNNConfig
    from .data import load_dataset
    from .engine import Engine
    from .learning_network import LearningEngineNetwork
    from . import dynamics as dyn
    from .validation import SEED, check_integer

    n_train, n_test = check_integer("n_train", n_train, 1), check_integer("n_test", n_test, 1)
    seed = check_integer("seed", seed, 0, SEED)
    train = load_dataset("default", "train")
    test = load_dataset("default", "test")
    x, y = train.x[:n_train], train.y[:n_train]
    xt, yt = test.x[:n_test], test.y[:n_test]
    if cfg is None:
        cfg = SSNNConfig.loihi2_config(sizes=(train.input_size, 1280, train.num_classes), steps=steps)
    w0 = dyn.init_weights(cfg, seed)
    t0 = time.time()
    with LearningEngineNetwork(cfg, w0, seed=seed, chunk=50) as net:
        net.train(x, y)
        lava_pred = net.predict_labels(xt)
        w_lava = net.weights
    lava_s = time.time() - t0
    eng = Engine(cfg, w0, seed)
    t0 = time.time()
    before = eng.predict_labels(xt)
    eng.train_batch(x, y, "per-sample")
    eng_pred = eng.predict_labels(xt)
    eng_s = time.time() - t0

    def acc(pred):
        return 100 * float(np.mean(pred == yt))
    return {"lava_acc": acc(lava_pred), "engine_acc": acc(eng_pred), "before_acc": acc(before),
            "chance_acc": chance_percent(train.num_classes),
            "same_weights": all(np.array_equal(a, b) for a, b in zip(w_lava, eng.weights)),
            "same_predictions": bool(np.array_equal(lava_pred, eng_pred)),
            "changed": float(np.mean(w_lava[0] != w0[0])), "lava_s": lava_s, "engine_s": eng_s}


def initial_test_accuracy(run_dir: Path) -> tuple:
    """(accuracy %, images) of a run's initial weights on its test images, as the run tests."""
    from . import dynamics as dyn
    from .data import load_dataset
    from .runs import read_run_folder
    from .runs.evaluation import evaluate_counts
    folder = read_run_folder(run_dir)
    cfg, s = folder.cfg, folder.settings
    test = load_dataset(s.dataset, "test", s.data_dir, steps=cfg.steps)
    test = test.subset(s.test_samples, s.seed) if s.test_samples else test
    counts = evaluate_counts(cfg, dyn.init_weights(cfg, s.seed), test.x, s.seed, progress=False)
    return 100 * float(np.mean(np.argmax(counts, axis=1) == test.y)), len(test.y)


def main(argv: Optional[Sequence[str]] = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m lava_ssnnbp.demo", description=__doc__.split("\n\n")[0],
                                 epilog="Unlisted options are passed to 'ssnnbp train'.")
    ap.add_argument("--epochs", type=int, default=2, help="engine epochs on the embedded set (default: %(default)s)")
    ap.add_argument("--lava-samples", type=int, default=100,
                    help="training samples for the Lava-vs-engine check; 0 skips it (default: %(default)s)")
    ap.add_argument("--lava-test-samples", type=int, default=100,
                    help="test images for the check (default: %(default)s)")
    ap.add_argument("--out", default=None, metavar="DIR",
                    help=f"run folder of part 1 (default: ssnnbp's runs root/{RUN_FOLDER})")
    args, passthrough = ap.parse_known_args(argv)
    if args.epochs < 1 or args.lava_samples < 0 or args.lava_test_samples < 1:
        ap.error("--epochs and --lava-test-samples must be >= 1, --lava-samples >= 0")
    if args.out is not None and not args.out.strip():
        ap.error(f"--out: expected a path, got an empty one ({args.out!r})")
    from . import cli
    from .runs import read_run_folder
    out = Path(args.out).expanduser() if args.out is not None else cli.RUNS_ROOT / RUN_FOLDER
    print("== 1. the chip configuration (--target loihi2: the replay rule as Loihi 2's learning engine runs it) "
          "in the engine", flush=True)
    rc = cli.main(["train", *DEMO_ARGS, "--epochs", str(args.epochs), *passthrough, "--out", str(out)])
    if rc:
        return rc
    folder = read_run_folder(out)
    print("what the lines above say:")
    for term, meaning in run_terms(folder.cfg, folder.settings):
        print(f"  {term:18s} {meaning}")
    before, n_test = initial_test_accuracy(out)
    chance, epochs = chance_percent(folder.cfg.sizes[-1]), len(folder.metrics)
    print(f"test accuracy on {n_test} images: before learning {before:.2f}% (random initial weights; "
          f"chance: {chance:.1f}%, {folder.cfg.sizes[-1]} classes), after {epochs} epoch{'s' * (epochs != 1)} "
          f"{100 * folder.metrics[-1]['test_acc']:.2f}%")
    last = folder.metrics[-1]
    print(train_vs_test_note(folder.cfg, last["train_acc"] < last["test_acc"]), flush=True)
    if not args.lava_samples:
        return 0
    small = lava_check_config(folder.cfg)
    print(f"\n== 2. the chip configuration at {'-'.join(map(str, small.sizes))}, T = {small.steps}, replay window "
          f"{small.replay_steps} (preset {LAVA_PRESET}), from the same initial weights: {args.lava_samples} training "
          "images inside Lava and in the engine\n"
          "  Lava: LearningEngineNetwork, Lava's own LearningDense synapses and learning engine as Loihi 2 runs "
          "them, in Lava's CPU simulator (tens of ms per time step: hence the smaller network)\n"
          "  engine: the batched CPU engine of part 1; the two must agree bit for bit", flush=True)
    try:   # Lava's simulator is slow on a busy machine: Ctrl-C ends here in one line, part 1 kept
        r = lava_check(args.lava_samples, args.lava_test_samples, cfg=small, seed=folder.settings.seed)
    except KeyboardInterrupt:
        print(f"interrupted: the Lava check stopped (its workers too); part 1's run folder {out} is whole",
              file=sys.stderr)
        return 130
    print(f"test accuracy on {args.lava_test_samples} images: before learning {r['before_acc']:.1f}% (the initial "
          f"weights, both networks', tested in the engine; chance: {r['chance_acc']:.1f}%), after {args.lava_samples} "
          f"training images:")
    print(f"  Lava:   {r['lava_acc']:5.1f}%  ({r['lava_s']:.0f} s, Lava CPU simulator)")
    print(f"  engine: {r['engine_acc']:5.1f}%  ({r['engine_s']:.1f} s)")
    print(f"weights identical in Lava and the engine: {r['same_weights']} "
          f"({100 * r['changed']:.0f}% of the input synapses changed); same predictions: {r['same_predictions']}")
    return 0 if r["same_weights"] and r["same_predictions"] else 1


if __name__ == "__main__":
    sys.exit(main())
