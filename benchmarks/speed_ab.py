"""Training speed of two checkouts of this repository, interleaved on one machine: is a change
slower or faster? (the measurement behind issue 39's "within 10 % at every point").

Whole-benchmark runs one after the other (``benchmarks.throughput`` twice) compare badly on a
shared machine: another job's phase, the other core's cache traffic and frequency changes move a
point by 20-40 % between runs. Here one worker process per checkout builds the same network
(784-1280-10, fixed point, the embedded MNIST images) and the two take turns, a few training
batches each, ``--rounds`` times, in alternating order; each reports the CPU seconds of its own
turns. Both see the same machine within a second of each other, so their ratio is steady where
the rates themselves are not.

A point is MODE:B (``coincidence``, ``replay``, ... at T = 100, or ``loihi2``: the chip
configuration at T = 50, T_s = 50; B samples per ``train_batch`` call, B = 1 per sample): the
network is ``benchmarks.throughput``'s for that point, built here and sent to both workers as
its ``SSNNConfig`` fields in JSON, so the two checkouts train the same network.

Usage:  python -m benchmarks.speed_ab --before ../old-checkout [--after .] [--points coincidence:1,loihi2:1]
Writes benchmarks/results/speed_ab.json (or --out): per point, both rates in samples per CPU
second and ``speed_ratio`` = after's rate / before's (> 1: after is faster).
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

from benchmarks.result_files import machine_info, now, rerun_command, write_result
from benchmarks.throughput import network_config

HERE = Path(__file__).resolve().parent
MODES = ("rate", "coincidence", "stochastic", "replay", "loihi2")

# One checkout's worker: builds the network from the SSNNConfig fields in argv[1], trains two
# warm-up batches, prints "ready" (or one line saying why it cannot), then for each line k it
# reads trains k batches and prints their CPU seconds.
WORKER = r"""
import dataclasses, json, sys, time
from lava_ssnnbp.config import SSNNConfig
settings, batch = json.loads(sys.argv[1]), int(sys.argv[2])
unknown = set(settings) - {f.name for f in dataclasses.fields(SSNNConfig)} - {"tau_steps"}
if unknown:      # from_dict would drop them: this checkout could not build the same network
    print(f"its SSNNConfig has no field {', '.join(sorted(unknown))}", flush=True)
    sys.exit(2)
from lava_ssnnbp.data import load_dataset
from lava_ssnnbp.engine import Engine
cfg = SSNNConfig.from_dict(settings)
data = load_dataset("default", "train")
eng = Engine(cfg, seed=0)
pos = 0
def one_batch():
    global pos
    if pos + batch > len(data.y):
        pos = 0
    eng.train_batch(data.x[pos:pos + batch], data.y[pos:pos + batch], "mini-batch")
    pos += batch
one_batch(); one_batch()
print("ready", flush=True)
for line in sys.stdin:
    c0 = time.process_time()
    for _ in range(int(line)):
        one_batch()
    print(time.process_time() - c0, flush=True)
"""


def _point(text: str):
    mode, _, batch = text.partition(":")
    if mode not in MODES or not batch.isdigit() or int(batch) < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: need MODE:B with MODE one of {', '.join(MODES)} and B >= 1")
    return mode, int(batch)


def _checkout(text: str) -> Path:
    path = Path(text).resolve()
    if not (path / "lava_ssnnbp" / "__init__.py").is_file():
        raise argparse.ArgumentTypeError(f"{text}: not a checkout of this repository (no lava_ssnnbp/__init__.py)")
    return path


class WorkerError(RuntimeError):
    """A checkout's worker could not build or train the point."""


class Worker:
    """A worker process importing ``lava_ssnnbp`` from ``checkout`` (first on its path)."""

    def __init__(self, checkout: Path, settings: dict, batch: int):
        env = dict(os.environ, PYTHONPATH=str(checkout), NUMBA_NUM_THREADS="1", MPLBACKEND="Agg")
        self.proc = subprocess.Popen([sys.executable, "-c", WORKER, json.dumps(settings), str(batch)], cwd=checkout, env=env,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        first = self.proc.stdout.readline().strip()
        if first != "ready":
            self.close()
            raise WorkerError(f"{checkout} cannot train this point ({settings['mode']}, B = {batch}): "
                              f"{first or 'its worker ended'}")

    def turn(self, batches: int) -> float:
        self.proc.stdin.write(f"{batches}\n")
        self.proc.stdin.flush()
        return float(self.proc.stdout.readline())

    def close(self):
        if self.proc.stdin:
            self.proc.stdin.close()
        try:
            self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def compare(before: Path, after: Path, mode: str, batch: int, samples_per_turn: int, rounds: int) -> dict:
    """Interleaved turns of the two checkouts on one point; CPU seconds summed per side."""
    batches = max(1, samples_per_turn // batch)
    settings = network_config((784, 1280, 10), 50 if mode == "loihi2" else 100, mode, fixed=True).to_dict()
    workers = {}
    try:
        workers = {"before": Worker(before, settings, batch), "after": Worker(after, settings, batch)}
        cpu = {"before": [], "after": []}
        for r in range(rounds):
            for side in (("before", "after") if r % 2 == 0 else ("after", "before")):
                cpu[side].append(workers[side].turn(batches))
    finally:
        for w in workers.values():
            w.close()
    samples = batches * batch * rounds
    per_round = [b / a for a, b in zip(cpu["after"], cpu["before"])]
    return {"mode": mode, "batch": batch, "samples_per_turn": batches * batch, "rounds": rounds,
            "before_samples_per_cpu_s": round(samples / sum(cpu["before"]), 1),
            "after_samples_per_cpu_s": round(samples / sum(cpu["after"]), 1),
            "speed_ratio": round(sum(cpu["before"]) / sum(cpu["after"]), 3),
            "speed_ratio_per_round_median": round(statistics.median(per_round), 3)}


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m benchmarks.speed_ab", description=__doc__.split("\n\n")[0])
    ap.add_argument("--before", type=_checkout, required=True, help="checkout of the code before the change")
    ap.add_argument("--after", type=_checkout, default=HERE.parent, help="checkout after it (default: this one)")
    ap.add_argument("--points", type=lambda t: [_point(p) for p in t.split(",")],
                    default=[("coincidence", 1), ("coincidence", 32), ("replay", 1), ("replay", 32), ("loihi2", 1)],
                    help="MODE:B list (default: coincidence:1,coincidence:32,replay:1,replay:32,loihi2:1)")
    ap.add_argument("--samples-per-turn", type=int, default=20, help="samples one turn trains (default: 20)")
    ap.add_argument("--rounds", type=int, default=40, help="turns of each checkout per point (default: 40)")
    ap.add_argument("--out", type=Path, default=HERE / "results" / "speed_ab.json")
    args = ap.parse_args(argv)
    if args.samples_per_turn < 1 or args.rounds < 2:
        ap.error("--samples-per-turn must be >= 1 and --rounds >= 2")
    points = []
    for mode, batch in args.points:
        try:
            points.append(compare(args.before, args.after, mode, batch, args.samples_per_turn, args.rounds))
        except WorkerError as e:
            print(f"speed_ab: error: {e}", file=sys.stderr)
            return 2
        print(json.dumps(points[-1]), flush=True)
    write_result(args.out, {"before": str(args.before), "after": str(args.after), "points": points,
                            "command": rerun_command("benchmarks.speed_ab", argv), "machine": machine_info(),
                            "written": now()})
    return 0


if __name__ == "__main__":
    sys.exit(main())
