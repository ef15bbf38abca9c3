"""Reference weights: what the engine learns on a small fixed problem, to hold
refactorings to the same results (``tests/test_reference_weights.py``).

Each case trains a 784-48-10 network (784-48-32-10 for the step-by-step loop)
on the first 24 samples of the embedded MNIST subset, T = 20, seed 3, and keeps
the final weights (those learning changed; the rest are the initial weights)
and the test-time output counts of the 24 samples. Cases cover
float (float32, one float64) and fixed point; modes rate, coincidence, causal
and replay; per-sample and mini-batch updates; the chip configuration; and runs
with the compiled kernels switched off (``numpy`` in the name).

Usage:  python scripts/make_reference_weights.py [--out tests/data/reference_weights.npz]
Regenerate only on purpose: a change of the stored numbers is a change of results.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SIZES, HIDDEN2 = (784, 48, 10), (784, 48, 32, 10)
STEPS, SAMPLES, SEED = 20, 24, 3

# name: (config keywords, schedule, batch, compiled kernels, dtype)
CASES = {
    "float_rate_per_sample": (dict(mode="rate"), "per-sample", 1, True, "float32"),
    "float_coincidence_per_sample": (dict(mode="coincidence"), "per-sample", 1, True, "float32"),
    "float_replay_per_sample": (dict(mode="replay", replay_steps=10), "per-sample", 1, True, "float32"),
    "float64_coincidence_per_sample": (dict(mode="coincidence"), "per-sample", 1, True, "float64"),
    "float_rate_mini_batch": (dict(mode="rate"), "mini-batch", 8, True, "float32"),
    "float_coincidence_mini_batch": (dict(mode="coincidence"), "mini-batch", 8, True, "float32"),
    "float_replay_mini_batch": (dict(mode="replay", replay_steps=10), "mini-batch", 8, True, "float32"),
    "fixed_rate_per_sample": (dict(mode="rate", fixed_point=True), "per-sample", 1, True, None),
    "fixed_coincidence_per_sample": (dict(mode="coincidence", fixed_point=True), "per-sample", 1, True, None),
    "fixed_causal_per_sample": (dict(mode="causal", fixed_point=True), "per-sample", 1, True, None),
    "fixed_replay_per_sample": (dict(mode="replay", replay_steps=10, fixed_point=True), "per-sample", 1, True,
                                None),
    "fixed_rate_mini_batch": (dict(mode="rate", fixed_point=True), "mini-batch", 8, True, None),
    "fixed_coincidence_mini_batch": (dict(mode="coincidence", fixed_point=True), "mini-batch", 8, True, None),
    "fixed_replay_mini_batch": (dict(mode="replay", replay_steps=10, fixed_point=True), "mini-batch", 8, True,
                                None),
    "chip_per_sample": (dict(chip=True), "per-sample", 1, True, None),
    # two hidden layers: the step-by-step loop (one mini-batch of 24: the layer kernels' sizes)
    "fixed_coincidence_two_hidden": (dict(mode="coincidence", fixed_point=True, sizes=HIDDEN2,
                                          dropout=(0.2, 0.3, 0.3)), "mini-batch", 24, True, None),
    "float_coincidence_two_hidden": (dict(mode="coincidence", sizes=HIDDEN2, dropout=(0.2, 0.3, 0.3)),
                                     "mini-batch", 24, True, "float32"),
    # the compiled kernels off: numpy alone
    "numpy_fixed_coincidence_per_sample": (dict(mode="coincidence", fixed_point=True), "per-sample", 1, False,
                                           None),
    "numpy_fixed_replay_mini_batch": (dict(mode="replay", replay_steps=10, fixed_point=True), "mini-batch", 8,
                                      False, None),
    "numpy_float_rate_mini_batch": (dict(mode="rate"), "mini-batch", 8, False, "float32"),
    "numpy_float_replay_per_sample": (dict(mode="replay", replay_steps=10), "per-sample", 1, False, "float32"),
    "numpy_chip_per_sample": (dict(chip=True), "per-sample", 1, False, None),
}


def config(kw: dict):
    from lava_ssnnbp.config import SSNNConfig
    kw = dict(kw)
    sizes = kw.pop("sizes", SIZES)
    if kw.pop("chip", False):
        return SSNNConfig.loihi2_config(sizes=sizes, steps=STEPS, replay_steps=10)
    return SSNNConfig(sizes=sizes, steps=STEPS, eta=0.3, **kw)


def data():
    from lava_ssnnbp.data import load_dataset
    ds = load_dataset("default", "train")
    x = ds.x[:SAMPLES].reshape(SAMPLES, -1).astype(np.float32)
    return x, ds.y[:SAMPLES]


def set_compiled(flag: bool):
    """Switch the compiled kernels on or off (the module that holds the switch moved in
    the refactoring this file checks: ``accel``, before it ``kernels``)."""
    try:
        from lava_ssnnbp import accel as switch
    except ImportError:
        from lava_ssnnbp import kernels as switch
    return switch.set_enabled(flag)


def run_case(name: str):
    """Train case ``name``: its final weights (list) and test-time output counts (24, 10)."""
    from lava_ssnnbp.engine import Engine
    kw, schedule, batch, compiled, dtype = CASES[name]
    cfg = config(kw)
    x, y = data()
    if set_compiled(compiled) != compiled:
        raise RuntimeError(f"{name}: the compiled kernels are not usable here")
    try:
        eng = Engine(cfg, seed=SEED, dtype=np.dtype(dtype).type if dtype else np.float32)
        for a in range(0, SAMPLES, batch):
            eng.train_batch(x[a:a + batch], y[a:a + batch], schedule)
        counts = eng.predict_counts(x, np.arange(SAMPLES))
    finally:
        set_compiled(True)
    return eng.weights, counts


def initial_weights(name: str) -> list:
    from lava_ssnnbp import dynamics as dyn
    kw, _, _, _, dtype = CASES[name]
    cfg = config(kw)
    return [np.asarray(w, dtype=np.int32 if cfg.fixed_point else dtype) for w in dyn.init_weights(cfg, SEED)]


def pack(name: str, weights: list, counts) -> dict:
    """A case's arrays as stored: per layer the synapses that learning changed
    (a bit mask) and their values; the rest are the initial weights."""
    out = {f"{name}/counts": np.asarray(counts, dtype=np.int16)}
    for k, (w, w0) in enumerate(zip(weights, initial_weights(name))):
        changed = w != w0
        out[f"{name}/changed{k}"] = np.packbits(changed.ravel())
        out[f"{name}/values{k}"] = w[changed].astype(np.int16) if w.dtype.kind == "i" else w[changed]
    return out


def unpack(stored, name: str):
    """(weights, counts) of case ``name`` from the stored arrays (``np.load`` of the file)."""
    weights = []
    for k, w0 in enumerate(initial_weights(name)):
        changed = np.unpackbits(stored[f"{name}/changed{k}"], count=w0.size).astype(bool).reshape(w0.shape)
        w = w0.copy()
        w[changed] = stored[f"{name}/values{k}"]
        weights.append(w)
    return weights, stored[f"{name}/counts"].astype(np.int64)


def main(argv=None):
    ap = argparse.ArgumentParser(description="Train the reference cases and store their weights.")
    ap.add_argument("--out", type=Path, default=ROOT / "tests" / "data" / "reference_weights.npz")
    a = ap.parse_args(argv)
    arrays = {}
    for name in CASES:
        arrays.update(pack(name, *run_case(name)))
        print(name, flush=True)
    a.out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(a.out, **arrays)
    print(f"wrote {a.out} ({a.out.stat().st_size / 1024:.0f} KiB)")


if __name__ == "__main__":
    main()
