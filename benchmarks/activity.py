"""Spike activity of trained networks: how sparse they are and how many hidden neurons died.

For each run folder of ``benchmarks/accuracy.py`` (``~/ssnnbp-runs/bench/<name>_seed<s>``,
or any ``ssnnbp train`` folder given), evaluates the final weights on the test set in the
engine and records per layer: spikes and synaptic events per sample (the work a
neuromorphic core does), the fraction of neurons active in a sample, and the neurons
that never spiked on any test sample. A hidden neuron that never spikes never opens
its gradient gate, so its weights stop learning: such "dead" neurons are capacity the
network lost during training. An ANN twin's run folder, given by name, gets the same
statistics for its ReLU units (active = output > 0, the ReLU's derivative switch) for
comparison. Writes ``results/activity.json`` (rows of runs not analysed
this time are kept); make_results.py shows it.

Example::

    python -m benchmarks.activity                       # every finished run under ~/ssnnbp-runs/bench
    python -m benchmarks.activity RUN_DIR [RUN_DIR ...]
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def analyse(run: Path, data_dir=None, test_samples=None) -> dict:
    """Activity of one run's final weights on the test set. SNN: spikes per layer.
    ANN twin: its ReLU units, 'active' where the output is > 0 (the same ReLU
    derivative switch as the SNN's gradient gate); its spike columns are None."""
    import numpy as np

    from lava_ssnnbp.ann import ANN
    from lava_ssnnbp.config import SSNNConfig
    from lava_ssnnbp.data import load_dataset
    from lava_ssnnbp.training import SpikeActivity, accuracy_from_counts, evaluate_counts, load_weights
    saved = json.loads((run / "config.json").read_text())
    cfg, rs = SSNNConfig.from_dict(saved["model"]), saved["run"]
    metrics = json.loads((run / "metrics.json").read_text())["epochs"]
    test = load_dataset(rs["dataset"], "test", data_dir or rs.get("data_dir"), steps=cfg.steps)
    if test_samples:
        test = test.subset(test_samples, 0)
    act = SpikeActivity(cfg)
    t0 = time.perf_counter()
    weights = load_weights(run / "weights.npz")
    model = rs.get("model", "snn")
    if model == "ann":
        ann = ANN(cfg.sizes)
        ann.weights = [w.astype(ann.dtype) for w in weights]
        hidden = ann.hidden_activations(test.x)
        zeros = lambda n: np.zeros((len(test.y), n), dtype=np.int64)   # noqa: E731  (no spikes outside)
        act.add([zeros(cfg.sizes[0])] + [(h > 0).astype(np.int64) for h in hidden] + [zeros(cfg.sizes[-1])])
        layers = act.summary()
        for l in layers:
            l.update(spikes_per_sample=None, rate_per_step=None, synaptic_events_per_sample=None)
        for l in (layers[0], layers[-1]):     # input and logits: no ReLU switch to report
            l.update(active_fraction=None, never_active=None)
        acc = 100 * ann.accuracy(test.x, test.y)
    else:
        counts = evaluate_counts(cfg, weights, test.x, rs.get("seed", 0), progress=False, activity=act)
        layers, acc = act.summary(), 100 * accuracy_from_counts(counts, test.y)
    return {"run": run.name, "model": model, "dataset": rs["dataset"], "mode": cfg.mode, "steps": cfg.steps,
            "eta": rs.get("ann_lr") if model == "ann" else cfg.eta, "seed": rs.get("seed", 0),
            "epochs": len(metrics), "test_samples": len(test), "test_acc": acc, "layers": layers,
            "eval_wall_s": round(time.perf_counter() - t0, 1)}


def _run_info(run: Path) -> tuple:
    """(model, epochs asked, epochs done) of a run folder."""
    rs = json.loads((run / "config.json").read_text())["run"]
    done = len(json.loads((run / "metrics.json").read_text())["epochs"])
    return rs.get("model", "snn"), rs["epochs"], done


def _finished_snn(run: Path) -> bool:
    model, asked, done = _run_info(run)
    return model == "snn" and done >= asked


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], epilog=__doc__.split("\n\n", 1)[1],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("runs", nargs="*", type=Path, help="run folders, SNN or ANN twin (default: the finished "
                                                       "full-data SNN runs under --root)")
    ap.add_argument("--root", type=Path, default=Path(os.environ.get("SSNNBP_RUNS", "~/ssnnbp-runs")) / "bench")
    ap.add_argument("--data-dir", default=None)
    ap.add_argument("--test-samples", type=int, default=None, help="class-balanced test subset (default: all)")
    ap.add_argument("--out", type=Path, default=HERE / "results" / "activity.json")
    args = ap.parse_args(argv)
    runs = args.runs
    if not runs:
        root = args.root.expanduser()
        runs = sorted(p for p in root.glob("*_seed*") if (p / "metrics.json").exists() and "_sub" not in p.name
                      and _finished_snn(p))
    if not runs:
        ap.exit(2, "error: no finished run folder found (give RUN_DIR or --root)\n")
    rows = []
    for run in runs:
        if not (run / "weights.npz").exists():
            ap.exit(2, f"error: {run}: no weights.npz (not a run folder written by 'ssnnbp train')\n")
        r = analyse(run, args.data_dir, args.test_samples)
        hid = r["layers"][1]
        print(f"{r['run']:45s} {r['test_acc']:6.2f}%  hidden active {100 * hid['active_fraction']:5.1f}%  "
              f"never active {hid['never_active']:4d}/{hid['neurons']}  spikes/sample "
              + " ".join(f"{x['spikes_per_sample']:.0f}" if x["spikes_per_sample"] is not None else "-"
                         for x in r["layers"]), flush=True)
        rows.append(r)
    # rows of runs not analysed this time stay (one row per run folder name)
    done = {r["run"] for r in rows}
    if args.out.exists():
        rows += [r for r in json.loads(args.out.read_text())["runs"] if r["run"] not in done]
    rows.sort(key=lambda r: r["run"])
    from lava_ssnnbp.training import save_json
    save_json(args.out, {"written": time.strftime("%Y-%m-%dT%H:%M:%S"), "runs": rows}, indent=1)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
