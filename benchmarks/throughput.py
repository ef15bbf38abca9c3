"""Training throughput of the batched engine (samples/s), and snnTorch BPTT for comparison.

Grid: update mode x precision (float / fixed point) x batch size x arithmetic
(event-driven compiled loops of lava_ssnnbp.accel vs dense numpy GEMMs), for 784-H-10 at T steps.
Batch size 1 is the per-sample (on-chip) schedule; B > 1 sums the updates of
B samples (``--batch-updates mini-batch``). Inputs are MNIST training images
(the embedded subset unless --dataset says otherwise), so spike sparsity is real.

Each point trains on consecutive batches until --seconds have passed (after one
warm-up batch that also compiles the loops) and reports samples/s and the
implied wall time of one 60,000-sample epoch. snnTorch is not a dependency:
``pip install snntorch`` into the venv to add its row (same sizes, same T,
Leaky neurons, BPTT with Adam, batch 64, torch CPU threads = all cores).

Usage:  python -m benchmarks.throughput [--modes rate,coincidence] [--batch-sizes 1,8,64,256]
        [--precisions float,fixed] [--arith event,dense] [--steps 100] [--seconds 8]
Writes benchmarks/results/throughput_T<T>.json (and prints a table); points of an earlier
file for the same network, T and images that this run did not measure are kept, each point
carrying the date it was measured.
"""
from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent

EPOCH = 60_000


def csv_list(kind, choices=None):
    def parse(text):
        items = [kind(t) for t in text.split(",") if t.strip()]
        if not items or (choices and any(i not in choices for i in items)):
            raise argparse.ArgumentTypeError(f"{text!r}: need a comma list" +
                                             (f" from {', '.join(map(str, choices))}" if choices else ""))
        return items
    return parse


def network_config(sizes, steps, mode, fixed):
    """The network of a point; 'loihi2' is the chip configuration (fixed point, per sample, T_s <= 63)."""
    from lava_ssnnbp.config import SSNNConfig
    if mode == "loihi2":
        return SSNNConfig.loihi2_config(sizes=tuple(sizes), steps=steps, replay_steps=min(steps, 63), eta=0.3)
    return SSNNConfig(sizes=tuple(sizes), steps=steps, mode=mode, fixed_point=fixed, eta=0.01)


def engine_point(x, y, sizes, steps, mode, fixed, batch, seconds):
    from lava_ssnnbp.engine import Engine
    cfg = network_config(sizes, steps, mode, fixed)
    eng = Engine(cfg, seed=0)
    pos = 0

    def next_batch():
        nonlocal pos
        if pos + batch > len(y):
            pos = 0
        sl = slice(pos, pos + batch)
        pos += batch
        return x[sl], y[sl]

    eng.train_batch(*next_batch(), "mini-batch")           # warm-up (numba compile, caches)
    import tracemalloc                                      # peak numpy memory of one batch, untimed
    tracemalloc.start()
    eng.train_batch(*next_batch(), "mini-batch")
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    done, t0, c0 = 0, time.perf_counter(), time.process_time()
    while True:
        eng.train_batch(*next_batch(), "mini-batch")
        done += batch
        wall = time.perf_counter() - t0
        if wall >= seconds:
            break
    return done / wall, done, wall, peak / batch, done / max(time.process_time() - c0, 1e-9)


def snntorch_point(x, y, sizes, steps, batch, seconds, threads):
    """BPTT on the same network with snnTorch (rate-coded Bernoulli input)."""
    try:
        import snntorch as snn
        import torch
    except ImportError:
        return None
    torch.manual_seed(0)
    torch.set_num_threads(threads)

    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = torch.nn.ModuleList(torch.nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:]))
            self.lif = torch.nn.ModuleList(snn.Leaky(beta=0.9) for _ in sizes[1:])

        def forward(self, s):                       # s (T, B, D)
            mem = [lif.init_leaky() for lif in self.lif]
            out = 0
            for t in range(s.shape[0]):
                h = s[t]
                for k, (fc, lif) in enumerate(zip(self.fc, self.lif)):
                    h, mem[k] = lif(fc(h), mem[k])
                out = out + h
            return out

    net = Net()
    opt = torch.optim.Adam(net.parameters(), lr=5e-4)
    xt, yt = torch.tensor(x, dtype=torch.float32), torch.tensor(y, dtype=torch.long)

    def step(i):
        sl = slice((i * batch) % (len(y) - batch), (i * batch) % (len(y) - batch) + batch)
        s = (torch.rand(steps, batch, sizes[0]) < 0.4 * xt[sl]).float()
        loss = torch.nn.functional.cross_entropy(net(s), yt[sl])
        opt.zero_grad()
        loss.backward()
        opt.step()

    step(0)
    done, t0, c0, i = 0, time.perf_counter(), time.process_time(), 1
    while time.perf_counter() - t0 < seconds:
        step(i)
        done += batch
        i += 1
    wall = time.perf_counter() - t0
    return done / wall, done, wall, snn.__version__, torch.__version__, done / max(time.process_time() - c0, 1e-9)


def main(argv=None):
    ap = argparse.ArgumentParser(description="Training throughput (samples/s) of the SSNN-BP engine "
                                             "and of snnTorch BPTT on the same network.")
    ap.add_argument("--dataset", default="default", help="image source (default: the embedded MNIST subset)")
    ap.add_argument("--hidden", type=int, default=1280, help="hidden neurons (default: 1280)")
    ap.add_argument("--steps", "-T", type=int, default=100, help="time steps per sample (default: 100)")
    ap.add_argument("--modes", type=csv_list(str, ("rate", "coincidence", "stochastic", "noise", "causal", "replay",
                                                   "loihi2")),
                    default=["rate", "coincidence", "stochastic", "noise", "replay"],
                    help="update modes (default: all but causal; 'replay' samples include their T-step replay window; 'loihi2': the chip configuration, fixed point, batch 1, T_s = min(T, 63))")
    ap.add_argument("--precisions", type=csv_list(str, ("float", "fixed")), default=["float", "fixed"])
    ap.add_argument("--batch-sizes", type=csv_list(int), default=[1, 8, 32, 64, 128, 256],
                    help="samples per update; 1 = per-sample (default: 1,8,32,64,128,256)")
    ap.add_argument("--arith", type=csv_list(str, ("event", "dense")), default=["event", "dense"],
                    help="event-driven compiled loops (accel, numba) and/or dense GEMMs (default: both)")
    ap.add_argument("--seconds", type=float, default=8.0, help="timed seconds per point (default: 8)")
    ap.add_argument("--snntorch-batch", type=int, default=64, help="snnTorch batch size (0 skips it)")
    ap.add_argument("--snntorch-threads", type=csv_list(int), default=[os.cpu_count() or 1],
                    help="torch CPU threads, one snnTorch point each (default: all cores; on a loaded machine "
                         "torch's spinning threads can lose most of their time, so add 1 to see it)")
    ap.add_argument("--threads", type=int, default=None,
                    help="threads of the engine's compiled pass (a mini-batch split over them; default: all cores)")
    ap.add_argument("--out", type=Path, default=None, help="JSON path (default: results/throughput_T<T>.json)")
    a = ap.parse_args(argv)
    if a.steps <= 0 or a.hidden <= 0 or a.seconds <= 0 or any(b <= 0 for b in a.batch_sizes):
        ap.error("steps, hidden, seconds and batch sizes must be positive")

    from lava_ssnnbp import accel
    from lava_ssnnbp.config import SSNNConfig
    from lava_ssnnbp.data import DataError, load_dataset
    from benchmarks.result_files import machine_info
    from benchmarks.event_limit import events_per_sample, machine_rates, sample_limit
    threads = accel.set_threads(a.threads)
    try:
        ds = load_dataset(a.dataset, "train")
    except DataError as e:
        ap.exit(2, f"error: {e}\n")
    x, y = ds.x.reshape(len(ds.y), -1).astype(np.float32), ds.y
    sizes = [x.shape[1], a.hidden, int(y.max()) + 1]
    out = a.out or HERE / "results" / f"throughput_T{a.steps}.json"
    run = time.strftime("%Y-%m-%dT%H:%M:%S")          # names this run's points (ratios are taken within one)
    res = {"network": sizes, "steps": a.steps, "dataset": a.dataset, "seconds_per_point": a.seconds, "run": run,
           # thread limits shape the dense (BLAS) and snnTorch points; the compiled loops split a batch over threads
           "host": machine_info(load=False, numpy=np.__version__, engine_threads=threads,
                                threads_env={k: os.environ.get(k) for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                                                                            "MKL_NUM_THREADS")},
                                load_1min_at_start=round(os.getloadavg()[0], 2)),
           "points": []}
    rates = machine_rates()
    if rates:   # the measured limit of this machine (benchmarks/event_limit.py)
        ev = events_per_sample(SSNNConfig(sizes=tuple(sizes), steps=a.steps, fixed_point=True), x, y)
        res["limit"] = {"events_per_sample": ev, "machine": rates,
                        **sample_limit(ev, rates), "note": "events of 'coincidence' at the initial weights"}
        print(f"limit: {res['limit']['samples_per_s']:.0f} samples/s (arithmetic {1e3 * res['limit']['arithmetic_s']:.2f}"
              f" ms, memory {1e3 * res['limit']['memory_s']:.2f} ms per sample)")
    limit_sps = res.get("limit", {}).get("samples_per_s")
    # points measured before (same network, T and images) and not re-measured now are kept
    old = _previous_points(out, sizes, a.steps, a.dataset)
    print(f"{'mode':12s} {'prec':6s} {'arith':6s} {'B':>4s} {'samples/s':>10s} {'epoch(60k)':>11s}")
    for arith in a.arith:
        if not accel.set_enabled(arith == "event") and arith == "event":
            print("compiled loops unavailable (numba missing or LAVA_SSNNBP_NUMBA=0): skipped")
            continue
        for prec in a.precisions:
            for mode in a.modes:
                if prec == "fixed" and mode == "noise":
                    continue            # noise emulation is float only
                for b in a.batch_sizes:
                    if mode == "loihi2" and (prec != "fixed" or b != 1):
                        continue        # the chip configuration: fixed point, one update per sample
                    sps, n, wall, mem, cpu_sps = engine_point(x, y, sizes, a.steps, mode, prec == "fixed", b, a.seconds)
                    p = {"engine": "lava_ssnnbp", "mode": mode, "precision": prec, "arith": arith,
                         "batch": b, "schedule": "per-sample" if b == 1 else "mini-batch",
                         "steps_per_sample": network_config(sizes, a.steps, mode, prec == "fixed").steps_per_sample,
                         "samples_per_s": round(sps, 2), "samples": n, "wall_s": round(wall, 2),
                         "samples_per_cpu_s": round(cpu_sps, 2),
                         "epoch_60k_min": round(EPOCH / sps / 60, 2), "timed_s": a.seconds,
                         "memory_per_sample_mib": round(mem / 2 ** 20, 3), "threads": threads,
                         "fraction_of_limit": round(sps / limit_sps, 4) if limit_sps else None,
                         "measured": time.strftime("%Y-%m-%dT%H:%M"), "run": run}
                    res["points"].append(p)
                    print(f"{mode:12s} {prec:6s} {arith:6s} {b:4d} {sps:10.1f} {p['epoch_60k_min']:9.1f} min"
                          f"  {p['memory_per_sample_mib']:7.2f} MiB/sample"
                          + (f"  {100 * p['fraction_of_limit']:5.1f} % of limit" if limit_sps else ""), flush=True)
                    _write(out, res, old)
    accel.set_enabled(True)
    for torch_threads in a.snntorch_threads if a.snntorch_batch > 0 else ():
        r = snntorch_point(x, y, sizes, a.steps, a.snntorch_batch, a.seconds, torch_threads)
        if r is None:
            print("snnTorch not installed (pip install snntorch): BPTT row skipped")
            break
        else:
            sps, n, wall, sv, tv, cpu_sps = r
            cores = "all cores" if torch_threads == os.cpu_count() else f"{torch_threads} thread(s)"
            res["points"].append({"engine": f"snntorch {sv} (torch {tv}, CPU, {cores}) BPTT", "mode": "bptt",
                                  "precision": "float", "arith": "dense", "batch": a.snntorch_batch,
                                  "samples_per_s": round(sps, 2), "samples": n, "wall_s": round(wall, 2),
                                  "samples_per_cpu_s": round(cpu_sps, 2),
                                  "epoch_60k_min": round(EPOCH / sps / 60, 2),
                                  "fraction_of_limit": round(sps / limit_sps, 4) if limit_sps else None,
                                  "timed_s": a.seconds, "measured": time.strftime("%Y-%m-%dT%H:%M"), "run": run})
            print(f"{'snntorch':12s} {'float':6s} {'bptt':6s} {a.snntorch_batch:4d} {sps:10.1f} "
                  f"{EPOCH / sps / 60:9.1f} min  (torch threads {torch_threads})", flush=True)
    res["written"] = time.strftime("%Y-%m-%dT%H:%M:%S")
    _write(out, res, old)
    print(f"wrote {out}")


def _key(p: dict) -> tuple:
    return tuple(p.get(k) for k in ("engine", "mode", "precision", "arith", "batch"))


def _previous_points(out: Path, sizes, steps, dataset) -> list:
    """The points of an earlier result file for the same network, T and images, else []."""
    try:
        prev = json.loads(out.read_text())
    except (OSError, ValueError):
        return []
    same = prev.get("network") == list(sizes) and prev.get("steps") == steps and prev.get("dataset") == dataset
    return prev.get("points", []) if same else []


def _write(out: Path, res: dict, old: list):
    """Atomically write ``res`` with the earlier points it did not re-measure
    (a re-measured point takes its old place; new points go last)."""
    new = {_key(p): p for p in res["points"]}
    had = {_key(p) for p in old}
    merged = dict(res, points=[new.get(_key(p), p) for p in old] + [p for k, p in new.items() if k not in had])
    from lava_ssnnbp.training import save_json
    save_json(out, merged)


if __name__ == "__main__":
    main()
