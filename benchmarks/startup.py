"""Time to the first training sample of ``ssnnbp train`` in a fresh process, with a cold
and a warm disk cache of the compiled loops (lava_ssnnbp.accel.cache).

Each point is one new Python process running the CLI's ``train`` on the embedded MNIST
subset (a few samples, one epoch, a temporary run folder); the cache is a temporary
folder given as ``NUMBA_CACHE_DIR`` (so numba's own cache of ``jit.compiled`` starts
cold too). 'cold': an empty folder, the first run after an install or an edit;
'warm': the same folder again (median of --warm-runs processes). Reported per point:
wall seconds from the process's start to the end of its first training sample, the
process's CPU seconds by then (on a loaded machine the steadier number), the seconds
numba spent compiling the loops (``accel.compile_seconds``) and how many of their
signatures were loaded from the cache or compiled.

Usage:  python -m benchmarks.startup [--configs default,loihi2] [--warm-runs 3] [--out PATH]
Writes benchmarks/results/startup.json.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.result_files import machine_info, now, write_result

HERE = Path(__file__).resolve().parent

CONFIGS = {   # ssnnbp train arguments on the embedded subset: the library's defaults, and the chip configuration
    "default": ["--preset", "none"],
    "loihi2": ["--preset", "none", "--target", "loihi2"],
}
TINY = ["--train-samples", "3", "--test-samples", "10", "--epochs", "1", "--quiet"]

# The child: the CLI's train, with a hook on its first training batch that prints the
# measurements as one JSON line.
CHILD = r"""
import json, sys, time
from lava_ssnnbp.runs import loop
train = loop.Run.train
def first_batch_hook(self, *a, **k):
    def on_batch(position, done=[]):
        if not done:
            done.append(1)
            from lava_ssnnbp import accel
            from lava_ssnnbp.accel import cache
            loaded, compiled = cache.cache_counts()
            print("STARTUP " + json.dumps({"first_sample_at": time.time(), "cpu_s": time.process_time(),
                  "compile_s": accel.compile_seconds(), "loaded": loaded, "compiled": compiled}), flush=True)
    return train(self, *a, **k, on_batch=on_batch)
loop.Run.train = first_batch_hook
from lava_ssnnbp.cli import main
sys.exit(main(sys.argv[1:]))
"""


def one_process(args, cache_dir: Path, out: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("LAVA_SSNNBP_NUMBA_CACHE", "NUMBA_DEBUG_CACHE")}
    env.update(NUMBA_CACHE_DIR=str(cache_dir), PYTHONPATH=str(HERE.parent), MPLBACKEND="Agg")
    started = time.time()
    proc = subprocess.run([sys.executable, "-c", CHILD, "train", *args, "--out", str(out), "--overwrite"],
                          env=env, capture_output=True, text=True)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("STARTUP ")]
    if proc.returncode != 0 or not lines:
        raise SystemExit(f"error: the training process failed (exit {proc.returncode}):\n{proc.stderr[-2000:]}")
    m = json.loads(lines[0][len("STARTUP "):])
    return {"to_first_sample_s": round(m.pop("first_sample_at") - started, 2), "cpu_s": round(m.pop("cpu_s"), 2),
            "compile_s": round(m.pop("compile_s"), 2), **m, "process_s": round(time.time() - started, 2)}


def measure(name, args, warm_runs: int) -> dict:
    with tempfile.TemporaryDirectory(prefix="startup-") as tmp:
        cache, out = Path(tmp) / "cache", Path(tmp) / "run"
        print(f"== {name}: cold", flush=True)
        cold = one_process(args, cache, out)
        print(f"   {cold}", flush=True)
        warm = []
        for i in range(warm_runs):
            warm.append(one_process(args, cache, out))
            print(f"   warm {i + 1}: {warm[-1]}", flush=True)
        files = [p.stat().st_size for p in cache.rglob("*") if p.is_file()]
    median = {k: statistics.median(w[k] for w in warm) for k in ("to_first_sample_s", "cpu_s", "compile_s")}
    return {"args": args + TINY, "cold": cold, "warm_median": median, "warm_runs": warm,
            "cache_files": len(files), "cache_bytes": sum(files)}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    ap.add_argument("--configs", default="default,loihi2", help=f"comma list of {', '.join(CONFIGS)}")
    ap.add_argument("--warm-runs", type=int, default=3, help="warm-cache processes per configuration")
    ap.add_argument("--out", type=Path, default=HERE / "results" / "startup.json", help="JSON path")
    a = ap.parse_args(argv)
    names = [c for c in a.configs.split(",") if c.strip()]
    bad = [c for c in names if c not in CONFIGS]
    if bad or not names or a.warm_runs < 1:
        print(f"error: --configs takes names from {', '.join(CONFIGS)} (got {a.configs!r}) and --warm-runs "
              f">= 1 (got {a.warm_runs})", file=sys.stderr)
        return 2
    result = {"what": "seconds from a fresh process's start to its first training sample (ssnnbp train)",
              "host": machine_info(load=False, load_1min_at_start=round(os.getloadavg()[0], 2)), "points": {}}
    for name in names:
        result["points"][name] = measure(name, CONFIGS[name] + TINY, a.warm_runs)
    result["host"]["load_1min_at_end"] = round(os.getloadavg()[0], 2)
    result["written"] = now()
    for name, p in result["points"].items():
        print(f"{name}: cold {p['cold']['to_first_sample_s']} s ({p['cold']['cpu_s']} s CPU, "
              f"{p['cold']['compile_s']} s compiling); warm {p['warm_median']['to_first_sample_s']} s "
              f"({p['warm_median']['cpu_s']} s CPU)")
    write_result(a.out, result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
