"""Offline-trained baselines (TSSL-BP, lava-dl SLAYER): accuracy in torch and in Lava, time, memory.

Each seed is an ordinary ``ssnnbp train --model tssl-bp|slayer`` run folder under
``--runs`` (default ``~/ssnnbp-runs/baselines``), so a killed benchmark resumes
where it stopped: run the same command again. A finished seed is then exported
to netx HDF5 (``lava_ssnnbp.baselines.lava_export``; per-layer scales calibrated
on 1,000 training images) and run in Lava's bit-accurate CPU simulation on the
first ``--lava-samples`` test images, scored next to torch on the same images.
Every seed is merged into
``benchmarks/results/baselines_<dataset>_<method>_<sizes>_T<T>_e<epochs>[_<tag>].json``:
test accuracy per seed (torch, full test set), mean/std over finished seeds,
training wall time per epoch, peak resident memory, Lava accuracy and agreement.

Examples::

    python -m benchmarks.baselines --method tssl-bp --dataset fashion-mnist --hidden 400,400 \\
        --steps 5 --epochs 100 --batch-size 100 --seeds 0,1,2          # the authors' MLP row
    python -m benchmarks.baselines --method slayer --dataset mnist --hidden 1280 --steps 5 --epochs 20
    python -m benchmarks.baselines --method tssl-bp --dataset mnist --conv 15C5-P2-40C5-P2 --hidden 300 \
        --steps 5 --epochs 100 --batch-size 50 --lava-samples 500    # the authors' MNIST CNN

Unlisted options are passed to ``ssnnbp train``. torch uses ``--threads`` threads (default 1).
``--collect`` trains nothing and records the run folders as they stand: a run that is still
going, or was stopped, enters the result file as unfinished with the epochs it has done.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

from benchmarks.result_files import machine_info, now, seed_std, train_and_read

HERE = Path(__file__).resolve().parent


def lava_scores(out: Path, lava_samples: int) -> dict:
    """Export a finished run to netx, run it in Lava on the first test images, and score both."""
    from lava_ssnnbp.baselines import lava_export, runner
    from lava_ssnnbp.data import load_dataset
    from lava_ssnnbp.training import read_run_folder
    folder = read_run_folder(out)
    s = folder.settings
    net = runner.net_from_settings(folder.cfg, s, folder.weights)
    test = load_dataset(s.dataset, "test", s.data_dir)
    x, y = test.x[:lava_samples], test.y[:lava_samples]
    cal = lava_export.calibration_images(s)
    t0 = time.time()
    ex = lava_export.export_netx(net, out / "netx.h5", calibration=cal)
    lava = net.scores_from_spikes(lava_export.run_lava(ex, x)).argmax(1)
    lava_wall = time.time() - t0
    torch_pred = runner.scores(net, x).argmax(1)
    return {"lava_samples": int(len(y)), "lava_acc": 100 * float(np.mean(lava == y)),
            "torch_acc_same_samples": 100 * float(np.mean(torch_pred == y)),
            "lava_torch_agreement": 100 * float(np.mean(lava == torch_pred)),
            "lava_wall_s": round(lava_wall, 1), "layer_scales": ex.scales, "export_notes": ex.notes,
            "input_levels": ex.levels, "calibration_images": int(len(cal)),
            "synaptic_input_max": lava_export.SYNAPTIC_INPUT_MAX}


RUN_KEYS_OUT = ("seed", "checkpoint_s", "data_dir")   # differ between seeds or machines, not settings
OUTPUT_ONLY_ARGS = ("--quiet",)                        # change what is printed, not what is trained


def settings_args(passthrough) -> list:
    """The options passed on to ``ssnnbp train`` that are settings of the run."""
    return [a for a in passthrough if a not in OUTPUT_ONLY_ARGS]


def normalised(settings: dict) -> dict:
    """``settings`` with its run settings as the current RunSettings reads them (fields added since
    a file was written at the values those runs used), so that old and new seeds compare equal."""
    from lava_ssnnbp.training import RunSettings
    rs = settings.get("run_settings") or {}
    if "model" in rs:
        rs = {k: v for k, v in dataclasses.asdict(RunSettings.from_dict(rs)).items() if k not in RUN_KEYS_OUT}
    return {**settings, "run_settings": rs, "extra_args": settings_args(settings.get("extra_args", []))}


def settings_differ(was: dict | None, now: dict) -> list:
    """The settings (``run_settings.<name>`` for run settings) in which ``now`` differs from ``was``;
    only the keys ``now`` has are compared, so a check before training can leave run_settings out."""
    if was is None:
        return []
    was, now = normalised(was), normalised(now)
    out = [k for k in now if k != "run_settings" and was.get(k) != now[k]]
    if now["run_settings"]:   # empty in a check before training
        rw, rn = was["run_settings"], now["run_settings"]
        out += [f"run_settings.{k}" for k in sorted({*rw, *rn}) if rw.get(k) != rn.get(k)]
    return out


class SettingsMismatch(ValueError):
    """A result file holds seeds run with other settings than the seed being added."""


def check_settings(old: dict, settings: dict, seed: int, path: Path) -> list:
    """The differing settings, [] if none; SettingsMismatch if ``old`` keeps seeds other than ``seed``."""
    differing = settings_differ(old.get("settings"), settings)
    kept = sorted(set(old.get("per_seed", {})) - {str(seed)}, key=int)
    if differing and kept:
        raise SettingsMismatch(f"{path} holds seeds {kept} run with other settings (differing: "
                               f"{', '.join(differing)}); pass --tag to keep both, or move the file away")
    return differing


def merge(path: Path, seed: int, record: dict, settings: dict) -> dict:
    """Put one seed into the result file and summarise. The seeds in a file share ``settings``:
    a seed run otherwise raises SettingsMismatch rather than dropping the seeds already there."""
    from lava_ssnnbp.training import save_json
    old = json.loads(path.read_text()) if path.exists() else {}
    settings = normalised(settings)
    per_seed = {} if check_settings(old, settings, seed, path) else dict(old.get("per_seed", {}))
    per_seed[str(seed)] = record
    done = sorted((int(k), r) for k, r in per_seed.items() if r["finished"])

    def stats(key):
        v = [r[key] for _, r in done if r.get(key) is not None]
        return {f"{key}_per_seed": v, f"{key}_mean": float(np.mean(v)) if v else None,
                f"{key}_std": seed_std(v)}
    result = {"settings": settings, "seeds_finished": [k for k, _ in done],
              **stats("test_acc"), **stats("lava_acc"), **stats("train_wall_s_per_epoch"),
              "peak_rss_mib_max": max((r["peak_rss_mib"] for _, r in done), default=None),
              "unfinished": {k: r["epochs_done"] for k, r in per_seed.items() if not r["finished"]},
              "machine": record["machine"], "written": record["written"], "per_seed": per_seed}
    save_json(path, result)
    return result


def net_name(sizes, conv=None) -> str:
    """The network in the authors' notation: 784-1280-10, 784-15C5-P2-40C5-P2-300-10."""
    return "-".join(map(str, [sizes[0], *([conv] if conv else []), *sizes[1:]]))


def result_name(settings: dict, tag: str = "") -> str:
    """What names a result file (baselines_<name>.json) and, with _seed<k>, its run folders."""
    st = settings
    return (f"{st['dataset']}_{st['method']}_{net_name(st['sizes'], st.get('conv'))}_T{st['steps']}_e{st['epochs']}"
            + (f"_{tag}" if tag else ""))


def reproduce_command(result: dict, file_name: str) -> str:
    """The command line that (re)makes ``result``, read from ``file_name``, with all its seeds."""
    st, seeds = result["settings"], result["per_seed"]
    stem = Path(file_name).stem.removeprefix("baselines_")
    tag = stem[len(result_name(st)) + 1:]
    lava = max((r.get("lava_samples", 0) for r in seeds.values()), default=0)
    threads = result.get("machine", {}).get("torch_threads", 1)
    args = ["--method", st["method"], "--dataset", st["dataset"], "--hidden", ",".join(map(str, st["sizes"][1:-1])),
            *(["--conv", st["conv"]] if st.get("conv") else []), "--steps", st["steps"], "--epochs", st["epochs"],
            "--batch-size", st["batch_size"], "--seeds", ",".join(sorted(seeds, key=int)), "--threads", threads,
            "--lava-samples", lava, *(["--tag", tag] if tag else []), *st.get("extra_args", [])]
    return " ".join(["python -m benchmarks.baselines", *map(str, args)])


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 epilog="Unlisted options are passed to 'ssnnbp train'.")
    ap.add_argument("--method", required=True, choices=("tssl-bp", "slayer"))
    ap.add_argument("--dataset", default="fashion-mnist", help="data set (default: %(default)s)")
    ap.add_argument("--hidden", default="400,400", help="hidden sizes (default: %(default)s)")
    ap.add_argument("--conv", default=None, help="tssl-bp conv stack before --hidden, e.g. 15C5-P2-40C5-P2 "
                                                 "(default: none; pooling is folded into the export)")
    ap.add_argument("--steps", "-T", type=int, default=5, help="time steps per sample (default: %(default)s)")
    ap.add_argument("--epochs", type=int, default=100, help="(default: %(default)s)")
    ap.add_argument("--batch-size", type=int, default=100, help="(default: %(default)s, the authors' MLP)")
    ap.add_argument("--seeds", default="0", help="comma-separated seeds (default: %(default)s)")
    ap.add_argument("--lava-samples", type=int, default=1000,
                    help="test images run in Lava after training, 0 for none (default: %(default)s)")
    ap.add_argument("--threads", type=int, default=1, help="torch CPU threads (default: %(default)s)")
    ap.add_argument("--runs", default=os.environ.get("SSNNBP_RUNS", "~/ssnnbp-runs") + "/baselines",
                    help="root of the run folders, outside the repository (default: %(default)s)")
    ap.add_argument("--tag", default="", help="suffix that names this variant in file names")
    ap.add_argument("--results", default=str(HERE / "results"), help="folder for the JSON result")
    ap.add_argument("--collect", action="store_true",
                    help="train nothing: record the seeds' run folders as they stand (a run still going or "
                         "stopped enters as unfinished, with the epochs it has done)")
    args, passthrough = ap.parse_known_args(argv)
    import torch
    torch.set_num_threads(args.threads)
    from lava_ssnnbp.data import DATASETS
    info = DATASETS[args.dataset]
    sizes = [int(np.prod(info.input_shape)), *map(int, args.hidden.split(",")), info.num_classes]
    name = result_name({"dataset": args.dataset, "method": args.method, "sizes": sizes, "conv": args.conv,
                        "steps": args.steps, "epochs": args.epochs}, args.tag)
    path = Path(args.results) / f"baselines_{name}.json"
    planned = {"method": args.method, "dataset": args.dataset, "sizes": sizes, "conv": args.conv,
               "steps": args.steps, "epochs": args.epochs, "batch_size": args.batch_size,
               "extra_args": settings_args(passthrough)}
    seeds = [int(s) for s in args.seeds.split(",")]
    try:
        existing = json.loads(path.read_text()) if path.exists() else {}
    except ValueError:   # JSONDecodeError, or bytes that are not text
        existing = None
    if not isinstance(existing, dict):
        print(f"error: {path} is not a readable result file; move it away", file=sys.stderr)
        return 2
    try:   # before any training: a seed that could not be recorded is not worth hours
        for seed in seeds:
            check_settings(existing, planned, seed, path)
    except SettingsMismatch as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    for seed in seeds:
        out = Path(args.runs).expanduser() / f"{name}_seed{seed}"
        cmd = ["train", "--preset", "none", "--model", args.method, "--dataset", args.dataset, "--hidden",
               args.hidden,
               "--steps", str(args.steps), "--epochs", str(args.epochs), "--batch-size", str(args.batch_size),
               "--seed", str(seed), "--out", str(out), *(["--conv", args.conv] if args.conv else []), *passthrough]
        rc, cfg, metrics = train_and_read(cmd, out, f"seed {seed}", collect_only=args.collect)
        if rc != 0:
            return rc
        if not metrics:   # collecting: no epoch finished yet
            print(f"== seed {seed}: no finished epoch in {out}", flush=True)
            continue
        known = json.loads(path.read_text()).get("per_seed", {}).get(str(seed)) if path.exists() else None
        if args.collect and known and known["epochs_done"] == len(metrics):
            print(f"== seed {seed}: recorded already ({len(metrics)} epochs)", flush=True)
            continue   # keeps its Lava scores
        finished = len(metrics) >= args.epochs
        record = {"finished": finished, "epochs_done": len(metrics),
                  "test_acc": 100 * metrics[-1]["test_acc"], "best_epoch_acc": 100 * max(r["test_acc"] for r in metrics),
                  "curve": [100 * r["test_acc"] for r in metrics],
                  "train_wall_s_per_epoch": round(float(np.mean([r["train_wall_s"] for r in metrics])), 1),
                  "test_wall_s_per_epoch": round(float(np.mean([r["test_wall_s"] for r in metrics])), 1),
                  "peak_rss_mib": max(r["peak_rss_mib"] for r in metrics),
                  "device": metrics[-1]["device"], "train_samples": metrics[0]["train_samples"],
                  "test_samples": metrics[0]["test_samples"],
                  "machine": machine_info(torch_threads=args.threads), "written": now()}
        if finished and args.lava_samples > 0 and not args.collect:
            print(f"== seed {seed}: netx export, {args.lava_samples} test images in Lava", flush=True)
            record.update(lava_scores(out, args.lava_samples))
        settings = {**planned, "run_settings": {k: v for k, v in cfg["run"].items() if k not in RUN_KEYS_OUT}}
        try:
            result = merge(path, seed, record, settings)
        except SettingsMismatch as e:
            print(f"error: {e}", file=sys.stderr)
            return 2
        lava = f", Lava {record['lava_acc']:.2f} % on {record['lava_samples']}" if "lava_acc" in record else ""
        print(f"{name} seed {seed}: torch {record['test_acc']:.2f} %{lava}, "
              f"{record['train_wall_s_per_epoch']:.0f} s/epoch; seeds finished {result['seeds_finished']}; "
              f"wrote {path}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
