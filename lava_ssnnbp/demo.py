"""On-chip learning demo (``make demo``): the chip's rule, in the engine and in Lava.

1. Trains SSNN-BP 784-1280-10 on the embedded MNIST subset (6,000 training /
   1,000 test images) in the chip configuration (``--target loihi2``: the
   chip-local ``replay`` rule on Lava's learning engine arithmetic, 9-bit
   weights, one update per sample, W^T mirrored, per-neuron random generators)
   with the batched engine (``ssnnbp train``; a run folder with metrics,
   learning curve and weights), and prints its test accuracy.
2. Trains the same network from the same initial weights on the first
   ``--lava-samples`` training images inside Lava (``LearningEngineNetwork``:
   Lava's LearningDense and learning engine, relay neurons, the mirrored W^T;
   Lava's CPU simulator) and in the engine, and prints both networks' test
   accuracies on ``--lava-test-samples`` images (each tested in its own
   scheduler) and whether their weights are identical.

Usage: python -m lava_ssnnbp.demo [--epochs 2] [--lava-samples 40] [--out RUN]
"""
from __future__ import annotations

import argparse
import sys
import time
from typing import Optional, Sequence

import numpy as np

DEMO_ARGS = ["--dataset", "default", "--target", "loihi2", "--steps", "50", "--seed", "0"]


def lava_check(n_train: int, n_test: int, steps: int = 50, seed: int = 0) -> dict:
    """Train ``n_train`` samples from the same initial weights in Lava and in the
    engine (the chip configuration); test both; compare the weights."""
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
    cfg = SSNNConfig.loihi2_config(sizes=(train.input_size, 1280, train.num_classes), steps=steps)
    w0 = dyn.init_weights(cfg, seed)
    t0 = time.time()
    with LearningEngineNetwork(cfg, w0, seed=seed, chunk=50) as net:
        net.train(x, y)
        lava_pred = net.predict(xt)
        w_lava = net.weights
    lava_s = time.time() - t0
    eng = Engine(cfg, w0, seed)
    t0 = time.time()
    eng.train_batch(x, y, "per-sample")
    eng_pred = np.argmax(eng.predict_counts(xt, np.arange(n_test)), axis=1)
    eng_s = time.time() - t0
    return {"lava_acc": 100 * float(np.mean(lava_pred == yt)), "engine_acc": 100 * float(np.mean(eng_pred == yt)),
            "same_weights": all(np.array_equal(a, b) for a, b in zip(w_lava, eng.weights)),
            "same_predictions": bool(np.array_equal(lava_pred, eng_pred)),
            "changed": float(np.mean(w_lava[0] != w0[0])), "lava_s": lava_s, "engine_s": eng_s}


def main(argv: Optional[Sequence[str]] = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m lava_ssnnbp.demo", description=__doc__.split("\n\n")[0],
                                 epilog="Unlisted options are passed to 'ssnnbp train'.")
    ap.add_argument("--epochs", type=int, default=2, help="engine epochs on the embedded set (default: %(default)s)")
    ap.add_argument("--lava-samples", type=int, default=40,
                    help="training samples for the Lava-vs-engine check; 0 skips it (default: %(default)s)")
    ap.add_argument("--lava-test-samples", type=int, default=50,
                    help="test images for the check (default: %(default)s)")
    args, passthrough = ap.parse_known_args(argv)
    if args.epochs < 1 or args.lava_samples < 0 or args.lava_test_samples < 1:
        ap.error("--epochs and --lava-test-samples must be >= 1, --lava-samples >= 0")
    from . import cli
    print("== 1. the chip configuration (--target loihi2: the replay rule as Loihi 2's learning engine runs it) "
          "in the engine", flush=True)
    rc = cli.main(["train", *DEMO_ARGS, "--epochs", str(args.epochs), *passthrough])
    if rc or not args.lava_samples:
        return rc
    print(f"== 2. the same network from the same initial weights, {args.lava_samples} training samples "
          "inside Lava (LearningEngineNetwork: Lava's learning engine) and in the engine", flush=True)
    r = lava_check(args.lava_samples, args.lava_test_samples)
    print(f"Lava:   test accuracy {r['lava_acc']:.1f}% on {args.lava_test_samples} images "
          f"({r['lava_s']:.0f} s, Lava CPU simulator)")
    print(f"engine: test accuracy {r['engine_acc']:.1f}% ({r['engine_s']:.1f} s)")
    print(f"weights identical in Lava and the engine: {r['same_weights']} "
          f"({100 * r['changed']:.0f}% of the input synapses changed); same predictions: {r['same_predictions']}")
    return 0 if r["same_weights"] and r["same_predictions"] else 1


if __name__ == "__main__":
    sys.exit(main())
