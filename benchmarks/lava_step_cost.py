"""Per-time-step cost of the SSNN-BP Lava network vs a plain Lava Dense+LIF network.

Both at the paper's size 784-1280-10 on Lava's CPU simulator (one OS process per
Lava process, LoihiProtocol phases every step). The plain network is what Lava
itself offers for the forward pass only: RingBuffer -> Dense -> LIF -> Dense -> LIF.
The SSNN-BP network adds the backward pass (W^T (d+ - d-) from the same
weights), six IF neurons' state per composite neuron, WTA, the target
generator, coincidence counting and a weight update per sample; 'replay' mode
adds the replay window of T_s = T steps after every sample (counted: the costs
per step divide by T + T_s, and per sample is reported too).

Compile time is reported separately; step costs are measured after a warm-up
run. Inputs are synthetic MNIST-like images (80% zero pixels, the rest
uniform in [0.5, 1]; mean intensity ~0.15).

Usage:  python -m benchmarks.lava_step_cost [--steps 50] [--samples 3] [--out PATH]
"""
from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np

from benchmarks.result_files import machine_info, now, write_result

HERE = Path(__file__).resolve().parent


def images(n, d, rng):
    x = rng.uniform(0.5, 1.0, (n, d))
    x[rng.random((n, d)) < 0.8] = 0.0
    return x


def plain_lava(sizes, steps, fixed, rng):
    """Lava's own Dense + LIF forward network; seconds per step."""
    from lava.magma.core.run_conditions import RunSteps
    from lava.magma.core.run_configs import Loihi2SimCfg
    from lava.proc.dense.process import Dense
    from lava.proc.io.source import RingBuffer
    from lava.proc.lif.process import LIF

    from lava_ssnnbp import lifecycle

    D, H, C = sizes
    spikes = rng.random((D, steps)) < 0.06
    if fixed:
        w1 = rng.integers(-20, 21, (H, D))
        w2 = rng.integers(-20, 21, (C, H))
        lif_kw = dict(du=409, dv=0, vth=300)
    else:
        w1 = rng.normal(0, 0.25, (H, D))
        w2 = rng.normal(0, 0.3, (C, H))
        lif_kw = dict(du=0.1, dv=0.0, vth=5.0)
    src = RingBuffer(data=spikes.astype(np.int32 if fixed else float))
    d1, d2 = Dense(weights=w1), Dense(weights=w2)
    l1, l2 = LIF(shape=(H,), **lif_kw), LIF(shape=(C,), **lif_kw)
    src.s_out.connect(d1.s_in)
    d1.a_out.connect(l1.a_in)
    l1.s_out.connect(d2.s_in)
    d2.a_out.connect(l2.a_in)
    cfg = Loihi2SimCfg(select_tag="fixed_pt" if fixed else "floating_pt")
    try:
        t0 = time.perf_counter()
        src.run(condition=RunSteps(num_steps=1), run_cfg=cfg)
        compile_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        src.run(condition=RunSteps(num_steps=steps))
        per_step = (time.perf_counter() - t0) / steps
    finally:
        lifecycle.stop_process(src)     # src.stop() with a time limit
    return {"compile_and_first_step_s": compile_s, "s_per_step": per_step, "steps": steps,
            "processes": 5}


def ssnnbp_lava(sizes, steps, fixed, mode, n, rng, learning_dense=False):
    """SSNN-BP network: seconds per step in training and in inference.
    ``learning_dense``: the learning-engine network (Lava's LearningDense synapses)."""
    from lava_ssnnbp.config import SSNNConfig
    from lava_ssnnbp.network import SSNNBPNetwork
    if learning_dense:
        from lava_ssnnbp.learning_network import LearningEngineNetwork as SSNNBPNetwork  # noqa: N814

    cfg = SSNNConfig(sizes=sizes, steps=steps, fixed_point=fixed, mode=mode)
    x = images(n + 1, sizes[0], rng)
    y = rng.integers(0, sizes[-1], n + 1)
    period = steps + cfg.replay_window               # every step a Lava run takes per sample
    out = {"mode": mode, "steps_per_sample": period, "replay_steps": cfg.replay_window, "samples": n}
    with SSNNBPNetwork(cfg, seed=0, chunk=max(n, 1)) as net:
        t0 = time.perf_counter()
        net.train(x[:1], y[:1])                   # compile + one warm-up sample
        out["compile_and_first_sample_s"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        counts = net.train(x[1:], y[1:])
        out["train_s_per_step"] = (time.perf_counter() - t0) / (n * period)
        out["train_s_per_sample"] = out["train_s_per_step"] * period
        t0 = time.perf_counter()
        net.predict_counts(x[1:])
        out["test_s_per_step"] = (time.perf_counter() - t0) / (n * period)
        t0 = time.perf_counter()
        ws = net.weights
        out["weight_readback_s"] = time.perf_counter() - t0
        out["output_spikes_per_sample"] = float(counts.sum() / n)
        rec = net.run(x[1:2], y[1:2], learn=True, record=True).spikes   # activity check
        out["spikes_per_sample"] = {k: int(v.sum()) for k, v in rec.items()}
        out["processes"] = len(net.processes)
        t0 = time.perf_counter()
        net.synapses[1].weights.get()             # Lava's element-wise Var.get, for comparison
        out[f"var_get_{sizes[2]}x{sizes[1]}_weights_s"] = time.perf_counter() - t0
        del ws
    return out


def engine_step(sizes, steps, fixed, mode, n, rng):
    """The batched numpy engine at batch size 1 (same math, no Lava)."""
    from lava_ssnnbp.config import SSNNConfig
    from lava_ssnnbp.engine import Engine

    cfg = SSNNConfig(sizes=sizes, steps=steps, fixed_point=fixed, mode=mode)
    eng = Engine(cfg, seed=0, dtype=np.float64)
    x = images(n, sizes[0], rng)
    y = rng.integers(0, sizes[-1], n)
    t0 = time.perf_counter()
    eng.train_batch(x, y, "per-sample")
    return {"train_s_per_step": (time.perf_counter() - t0) / (n * (steps + cfg.replay_window))}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=50, help="time steps per sample (T)")
    ap.add_argument("--samples", type=int, default=3, help="timed samples per measurement")
    ap.add_argument("--hidden", type=int, default=1280, help="hidden units (784-H-10)")
    ap.add_argument("--learning-dense", action="store_true",
                    help="only fixed point 'coincidence' and 'replay': today's network against the "
                         "learning-engine network (LearningDense synapses), written to "
                         "results/lava_step_cost_learning_dense.json unless --out is given")
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args(argv)
    sizes = (784, args.hidden, 10)
    if args.out is None:
        args.out = HERE / "results" / ("lava_step_cost_learning_dense.json" if args.learning_dense
                                       else "lava_step_cost.json")
    rng = np.random.default_rng(0)
    results = {"sizes": list(sizes), "steps": args.steps, "samples": args.samples,
               "host": machine_info(load=False),   # the load is recorded at start and end
               "runs": []}
    import lava
    results["host"]["lava"] = getattr(lava, "__version__", "0.10.0")
    results["load_avg_1min_at_start"] = round(os.getloadavg()[0], 2)
    if args.learning_dense:
        return _learning_dense(sizes, args, rng, results)
    for fixed in (True, False):
        prec = "fixed_pt" if fixed else "floating_pt"
        plain = plain_lava(sizes, args.steps * args.samples, fixed, rng)
        results["runs"].append({"network": "lava Dense+LIF (forward only)", "precision": prec, **plain})
        print(f"plain {prec}: {plain['s_per_step'] * 1e3:.2f} ms/step", flush=True)
        for mode in ("rate", "coincidence", "replay"):
            r = ssnnbp_lava(sizes, args.steps, fixed, mode, args.samples, rng)
            r["engine_train_s_per_step"] = engine_step(sizes, args.steps, fixed, mode, args.samples,
                                                       rng)["train_s_per_step"]
            r["train_vs_plain"] = r["train_s_per_step"] / plain["s_per_step"]
            r["test_vs_plain"] = r["test_s_per_step"] / plain["s_per_step"]
            results["runs"].append({"network": "SSNN-BP (lava_ssnnbp.network)", "precision": prec, **r})
            print(f"ssnnbp {prec} {mode}: train {r['train_s_per_step'] * 1e3:.2f} ms/step, "
                  f"test {r['test_s_per_step'] * 1e3:.2f} ms/step, engine "
                  f"{r['engine_train_s_per_step'] * 1e3:.2f} ms/step", flush=True)
    results["written"] = now()
    write_result(args.out, results)


def _learning_dense(sizes, args, rng, results):
    plain = plain_lava(sizes, args.steps * args.samples, True, rng)
    results["runs"].append({"network": "lava Dense+LIF (forward only)", "precision": "fixed_pt", **plain})
    print(f"plain fixed_pt: {plain['s_per_step'] * 1e3:.2f} ms/step", flush=True)
    for mode in ("coincidence", "replay"):
        for name, ld in (("SSNN-BP (lava_ssnnbp.network)", False),
                         ("SSNN-BP learning engine (lava_ssnnbp.learning_network)", True)):
            r = ssnnbp_lava(sizes, args.steps, True, mode, args.samples, rng, learning_dense=ld)
            r["train_vs_plain"] = r["train_s_per_step"] / plain["s_per_step"]
            r["test_vs_plain"] = r["test_s_per_step"] / plain["s_per_step"]
            results["runs"].append({"network": name, "precision": "fixed_pt", **r})
            print(f"{name} {mode}: train {r['train_s_per_step'] * 1e3:.2f} ms/step, "
                  f"test {r['test_s_per_step'] * 1e3:.2f} ms/step", flush=True)
    results["load_avg_1min_at_end"] = round(os.getloadavg()[0], 2)
    results["written"] = now()
    write_result(args.out, results)


if __name__ == "__main__":
    main()
