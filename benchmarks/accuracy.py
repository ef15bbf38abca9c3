"""Accuracy benchmark: SSNN-BP (and its ANN twin) on a data set, several seeds.

Each seed is an ordinary ``ssnnbp train`` run folder under ``--runs`` (default
``~/ssnnbp-runs/bench``), so a killed benchmark resumes where it stopped: run
the same command again. Only finished seeds enter the result; unfinished
ones are listed with the epochs they have done (``--collect-only`` records the
run folders' progress without training, e.g. before a session ends). Each seed
is merged into the result file as it finishes, next to seeds recorded earlier
with the same settings, so seeds may run in separate processes or sessions.
Results go to
``benchmarks/results/accuracy_<dataset>_<mode or ann>_T<T>[_<tag>].json`` and
``python -m benchmarks.make_results`` turns all of them into RESULTS.md.

Examples::

    python -m benchmarks.accuracy --dataset mnist --mode rate --seeds 0,1,2 --epochs 20
    python -m benchmarks.accuracy --dataset fashion-mnist --model ann --seeds 0,1,2 --epochs 20
    python -m benchmarks.accuracy --dataset mnist --mode coincidence --train-samples 10000 --epochs 2

Any other ``ssnnbp train`` option (e.g. ``--eta 0.02 --eta-schedule step``) is passed through.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import numpy as np

from benchmarks.result_files import machine_info, now, seed_std, train_and_read

HERE = Path(__file__).resolve().parent


def merge_seed(path: Path, seed: int, record: dict, settings: dict) -> dict:
    """Put one seed's record into the result file and recompute the summary.

    Seeds recorded earlier (by another process, or in a session whose run folders
    are gone) are kept when they were run with the same settings. A file with
    other settings is never lost: it moves to ``replaced/`` next to it (out of
    the collectors' sight, still in git) and the new settings start afresh. The
    file is re-read just before writing, so seeds run side by side in separate
    processes do not drop each other."""
    old = json.loads(path.read_text()) if path.exists() else {}
    from lava_ssnnbp.training import equal_apart_from, normalised_config, same_settings, save_json
    if "model_config" in old:   # parameters added to SSNNConfig since count as their defaults
        old["model_config"] = normalised_config(old["model_config"])
    settings = {**settings, "model_config": normalised_config(settings["model_config"])}
    # what trains differently: the model, and the run settings except seed and bookkeeping
    # (extra_args is only the command line: the same settings can be spelled differently)
    differ = [k for k, v in settings.items() if k not in ("run_settings", "extra_args") and old.get(k) != v]
    if old and not same_settings(old.get("run_settings", {}), settings["run_settings"],
                                 ("seed", "checkpoint_s", "data_dir")):
        differ.append("run_settings")
    if old and differ:
        keys = sorted(k for k in set(old.get("model_config", {})) | set(settings["model_config"])
                      if old.get("model_config", {}).get(k) != settings["model_config"].get(k))
        dest = path.parent / "replaced" / f"{path.stem}.{str(old.get('written', 'undated')).replace(':', '')}.json"
        dest.parent.mkdir(exist_ok=True)
        os.replace(path, dest)
        print(f"{path.name} held other settings ({', '.join(differ)}"
              f"{': ' + ', '.join(keys) if keys else ''}); moved to {dest}", flush=True)
        old = {}
    per_seed = dict(old.get("per_seed", {}))
    prev = per_seed.get(str(seed))
    if prev is not None and equal_apart_from(prev, record, "written"):
        return old   # collected again, unchanged: the file stays as it was
    per_seed[str(seed)] = record
    done = sorted((int(s), r) for s, r in per_seed.items() if r["finished"])
    accs = [r["final_acc"] for _, r in done]
    result = {**settings,
              "seeds_finished": [s for s, _ in done],
              "test_acc_per_seed": accs,
              "test_acc_mean": float(np.mean(accs)) if accs else None,
              "test_acc_std": seed_std(accs),
              "best_epoch_acc_per_seed": [r["best_acc"] for _, r in done],
              **_val_summary(done),
              "curves": {s: r["curve"] for s, r in sorted(per_seed.items())},
              "unfinished": {s: len(r["curve"]) for s, r in per_seed.items() if not r["finished"]},
              "wall_s_per_seed": {s: r["wall_s"] for s, r in per_seed.items()},
              "train_samples": record["train_samples"], "test_samples": record["test_samples"],
              "machine": record["machine"], "written": record["written"], "per_seed": per_seed}
    save_json(path, result)
    return result


def _val_summary(done) -> dict:
    """Final validation accuracy per finished seed, mean and std, when every one has it."""
    vals = [r["val_curve"][-1] for _, r in done if r.get("val_curve")]
    if not vals or len(vals) != len(done):
        return {}
    return {"val_acc_per_seed": vals, "val_acc_mean": float(np.mean(vals)), "val_acc_std": seed_std(vals)}


def _passed_value(argv: list, option: str):
    """The value given to ``option`` in a passed-through argument list (``--opt V`` or ``--opt=V``), or None."""
    for i, a in enumerate(argv):
        if a == option and i + 1 < len(argv):
            return argv[i + 1]
        if a.startswith(option + "="):
            return a.split("=", 1)[1]
    return None


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 epilog="Unlisted options are passed to 'ssnnbp train'.")
    ap.add_argument("--dataset", default="mnist", help="data set (default: %(default)s)")
    ap.add_argument("--model", default="snn", choices=("snn", "ann"), help="(default: %(default)s)")
    ap.add_argument("--mode", default=None, help="SNN update rule (default: rate; replay with --target loihi2)")
    ap.add_argument("--steps", "-T", type=int, default=100, help="time steps per sample (default: %(default)s)")
    ap.add_argument("--epochs", type=int, default=20, help="(default: %(default)s)")
    ap.add_argument("--seeds", default="0,1,2", help="comma-separated seeds (default: %(default)s)")
    ap.add_argument("--runs", default=os.environ.get("SSNNBP_RUNS", "~/ssnnbp-runs") + "/bench",
                    help="root of the run folders, outside the repository (default: %(default)s)")
    ap.add_argument("--tag", default="", help="suffix that names this variant in file names")
    ap.add_argument("--results", default=str(HERE / "results"), help="folder for the JSON result")
    ap.add_argument("--collect-only", action="store_true",
                    help="do not train: record what the run folders hold now")
    args, passthrough = ap.parse_known_args(argv)
    seeds = [int(s) for s in args.seeds.split(",")]
    target = _passed_value(passthrough, "--target")
    args.mode = args.mode or ("replay" if target == "loihi2" else "rate")
    mode = "ann" if args.model == "ann" else args.mode
    name = f"{args.dataset}_{mode}_T{args.steps}{'_' + args.tag if args.tag else ''}"
    if "--fixed-point" in passthrough and "fixed" not in name:
        name += "_fixed"
    if target and target not in name:
        name += f"_{target}"
    path = Path(args.results) / f"accuracy_{name}.json"
    for seed in seeds:
        out = Path(args.runs).expanduser() / f"{name}_seed{seed}"
        # on the options' own defaults (--preset none), which the recorded settings assume, not on train's preset
        cmd = ["train", "--preset", "none", "--dataset", args.dataset, "--model", args.model, "--mode", args.mode,
               "--steps", str(args.steps), "--epochs", str(args.epochs), "--seed", str(seed),
               "--out", str(out), *passthrough]
        rc, cfg, metrics = train_and_read(cmd, out, f"seed {seed}", args.collect_only)
        if rc != 0:
            return rc
        if metrics is None:
            continue
        record = {"finished": len(metrics) >= args.epochs,
                  "final_acc": 100 * metrics[-1]["test_acc"] if metrics else None,
                  "best_acc": 100 * max(r["test_acc"] for r in metrics) if metrics else None,
                  "curve": [100 * r["test_acc"] for r in metrics],
                  # with --val-samples: accuracy on the held-out training images (choose on this)
                  "val_curve": [100 * r["val_acc"] for r in metrics if "val_acc" in r],
                  "wall_s": round(sum(m["train_wall_s"] + m.get("test_wall_s", 0.0) for m in metrics), 1),
                  "train_samples": metrics[0]["train_samples"] if metrics else None,
                  "test_samples": metrics[0]["test_samples"] if metrics else None,
                  "machine": machine_info(load=False), "written": now()}
        result = merge_seed(path, seed, record, {
            "dataset": args.dataset, "model": args.model, "mode": None if args.model == "ann" else args.mode,
            "target": cfg["model"].get("target"),
            "steps": args.steps, "epochs": args.epochs, "model_config": cfg["model"],
            "run_settings": {k: v for k, v in cfg["run"].items() if k != "seed"}, "extra_args": passthrough})
        accs = result["test_acc_per_seed"]
        summary = (f"{result['test_acc_mean']:.2f} +/- {result['test_acc_std']:.2f} % over seeds "
                   f"{result['seeds_finished']}" if accs else "no seed finished yet")
        print(f"{name}: {summary}; wrote {path}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
