"""RESULTS.md's chip-configuration section (``--target loihi2``): its accuracy, the
diagnostics that locate its shortfall, and its energy next to the published on-chip
learners. Called by ``make_results``."""
from __future__ import annotations

from pathlib import Path

from benchmarks.results_common import dropout_text, format_mean, load_result, seed_columns


def _config(model_config: dict):
    """The run's network configuration, rebuilt from its result file."""
    from lava_ssnnbp.config import SSNNConfig
    return SSNNConfig.from_dict(model_config)


def _effective_eta(cfg) -> float:
    """The base learning rate the chip configuration's power-of-two shift applies (it depends on T_s)."""
    from lava_ssnnbp import dynamics as dyn
    return dyn.effective_eta(cfg, 0)


def _bounds(pair: dict, digits: int) -> str:
    """An estimate's low and high bound as 'low..high'."""
    return f"{pair['low']:.{digits}f}..{pair['high']:.{digits}f}"


def is_chip_result(r: dict) -> bool:
    """Whether a result was trained in the chip configuration (``"target": "loihi2"``)."""
    return r.get("target") == "loihi2" or (r.get("model_config") or {}).get("target") == "loihi2"


def chip_section(results, res: Path) -> list:
    """The chip configuration (target = "loihi2"): accuracy, the diagnostics of its shortfall, and its energy
    next to the published on-chip learners."""
    chip = [r for r in results if is_chip_result(r)]
    rows = [r for r in chip if not is_window_sweep(r)]
    energies = {k: v for k, v in (load_result(res, "energy.json") or {}).items() if k.startswith("loihi2")}
    if not chip and not energies:
        return []
    out = ["## The chip configuration (`--target loihi2`)", "",
           "What a Loihi 2 port runs (docs/lava.md, \"The chip configuration\"): 'replay', 9-bit weights at "
           "exponent -1, the learning engine's shared rounding, W^T mirrored by its own rule, per-neuron random "
           "generators, relay neurons for the input, one update per sample; the engine equals "
           "`LearningEngineNetwork` bit for bit in it (tests/test_chip_configuration.py). Fixed point, per sample, "
           "784-1280-10, dropout 0.2/0.3.", ""]
    if rows:
        out += ["| data set | T | T_s | eta: effective base value, schedule | epochs | test acc. % (mean +/- std) | per seed | "
                "best epoch per seed | wall time per seed | variant |", "|---|---|---|---|---|---|---|---|---|---|"]
        for r in rows:
            rs, cfg = r["run_settings"], _config(r["model_config"])
            sched = rs.get("eta_schedule", "constant")
            if sched == "step":
                sched = f"step: x{rs['eta_decay']:g} every {rs['eta_step']} epochs"
            sched = f"{_effective_eta(cfg):.3g}, {sched}"
            per_seed, best, wall, unf = seed_columns(r)
            out.append(f"| {r['dataset']} | {r['steps']} | {cfg.replay_window} | {sched} | "
                       f"{r['epochs']} | {format_mean(r)}{unf} | {per_seed} | {best} | {wall} | {r.get('_tag') or '-'} |")
    out += diagnostics_section(res)
    out += window_sweep_section([r for r in chip if is_window_sweep(r)], res)
    if energies:
        first = next(iter(energies.values()))
        out += ["", f"Energy and latency per training sample, counted events x {first['source']} per-event figures "
                f"({first['chip']}); the weights of the run named, after the epochs it had finished; a model, not a "
                f"measurement. Low: {first['assumptions']['low']}. High: {first['assumptions']['high']}.", "",
                "| | T, T_s | MNIST % | training mJ per sample (low..high) | training ms per sample | inference mJ | command |",
                "|---|---|---|---|---|---|---|"]
        for key, t in energies.items():
            out.append(f"| ours: `{key}` (estimate; `{Path(t['run']).name}`) | {t['steps']}, {t['replay_steps']} | "
                       f"{t['test_acc']:.2f} after {t['epochs_trained']} epochs | "
                       f"{_bounds(t['training_mJ_per_sample'], 3)} | {_bounds(t['training_ms_per_sample'], 2)} | "
                       f"{t['inference_mJ']:.4f} | `{t['command']}` |")
        for p in first["published"]:
            inf = p["inference_mj"] if p["inference_mj"] is not None else "-"
            out.append(f"| {p['work']} (measured) | - | {p['mnist_acc']} | {p['train_mj_per_sample']} | "
                       f"{p['train_ms_per_sample']} | {inf} | |")
    return out + [""]


# What locates the chip configuration's shortfall: per data set its seed-0 run and runs of seed 0
# that each change one part of it (file, what the comparison isolates). A run not yet finished
# is listed as such; the rows are read from the files, the text says only what differs.
DIAGNOSTICS = {
    "mnist": ("accuracy_mnist_replay_T50_step7_loihi2.json", [
        ("accuracy_mnist_replay_T50_ps_w9_fixed.json",
         "per-synapse rounding and a host cosine schedule instead of the learning engine's"),
        ("accuracy_mnist_replay_T50_ps_fixed.json", "as above, with 8-bit weights"),
        ("accuracy_mnist_replay_T50_ps_w16_fixed.json",
         "16-bit weights at exponent -8: no update rounded until eta < 0.39/64 (rounding against everything else)"),
        ("accuracy_mnist_replay_T50_ps.json", "floating point (the arithmetic against the rule)"),
        ("accuracy_mnist_rate_T50_ps_fixed.json", "Eq. 9's rate product instead of the replay window's pairs"),
        ("accuracy_mnist_rate_T50_ps.json",
         "the rate product in floating point, per sample (the per-sample schedule against summed mini-batches)"),
        ("accuracy_mnist_rate_T50.json", "the rate product in floating point with summed mini-batches (SPEC settings; "
                                         "its three-seed mean set the 98.4 % target)"),
    ]),
    "fashion-mnist": ("accuracy_fashion-mnist_replay_T50_step7_loihi2.json", [
        ("accuracy_fashion-mnist_replay_T50_ps_fixed.json",
         "per-synapse rounding and a host cosine schedule instead of the learning engine's"),
        ("accuracy_fashion-mnist_rate_T50_ps_fixed.json",
         "Eq. 9's rate product in the same Loihi-like fixed point (the rule against the configuration)"),
        ("accuracy_fashion-mnist_rate_T50_ps_w16_fixed.json",
         "the rate product with 16-bit weights at exponent -8 (the weights' rounding against the rest of the fixed point)"),
        ("accuracy_fashion-mnist_rate_T50_ps.json",
         "the rate product in floating point, per sample (fixed point against the per-sample schedule)"),
        ("accuracy_fashion-mnist_rate_T50.json", "the rate product in floating point with summed mini-batches (SPEC settings)"),
        ("accuracy_fashion-mnist_rate_T50_dropin0_ps.json",
         "the rate product in floating point without input dropout (the issue's 88.4 % reference)"),
    ]),
}


def _arithmetic(mc: dict) -> str:
    if mc.get("target") == "loihi2":
        return "chip: one shared rounding draw per update, 9 bits, clipped to -256..255"
    if mc.get("fixed_point"):
        exps = ", ".join(str(e) for e in mc.get("weight_exp") or []) or "0"
        return f"fixed {mc.get('weight_bits')}-bit (exponent {exps}), per-synapse rounding"
    return "float"


def _seed0(r: dict):
    """Seed 0's test accuracy after the run's last epoch, or None while unfinished."""
    seed = (r.get("per_seed") or {}).get("0") or {}
    return seed.get("final_acc") if seed.get("finished") else None


def diagnostics_section(res: Path) -> list:
    """Seed 0 of the chip configuration against runs that each change one part of it."""
    out = []
    for dataset, (chip_file, rows) in DIAGNOSTICS.items():
        chip = load_result(res, chip_file)
        base = _seed0(chip) if chip is not None else None
        if base is None:
            continue
        if not out:
            out = ["", "### Where the shortfall is: seed 0 against runs that change one part", "",
                   "Each row is a run of seed 0 (784-1280-10, T = 50) that differs from the chip "
                   "configuration in the columns shown; 'isolates' says what the comparison measures.", "",
                   "| data set | rule | arithmetic | updates | eta schedule | dropout | epochs | seed 0 test acc. % | "
                   "minus the chip's | isolates | file |", "|---|---|---|---|---|---|---|---|---|---|---|"]
        for name, what in [(chip_file, "nothing: the chip configuration")] + rows:
            r = load_result(res, name)
            acc = _seed0(r) if r is not None else None
            if acc is None:
                out.append(f"| {dataset} | - | - | - | - | - | - | not finished (no result yet) | - | {what} | `{name}` |")
                continue
            mc, rs = r["model_config"], r["run_settings"]
            diff = "-" if name == chip_file else f"{acc - base:+.2f}"
            updates = ("per sample" if rs.get("batch_updates") == "per-sample"
                       else f"summed mini-batches of {rs.get('batch_size')}")
            out.append(f"| {dataset} | {r['mode']} | {_arithmetic(mc)} | {updates} | {rs.get('eta_schedule', 'constant')} | "
                       f"{dropout_text(mc)} | {r['epochs']} | {acc:.2f} | {diff} | {what} | `{name}` |")
    return out


# The accuracy-against-T_s sweep: chip runs tagged sub10k_ts<T_s> (SWEEP_COMMAND), priced into
# energy_ts_sweep.json under the key "T_s=<T_s>"
WINDOW_SWEEP_TAG = "sub10k_ts"
WINDOW_SWEEP_ENERGY = "energy_ts_sweep.json"
SWEEP_COMMAND = ("python -m benchmarks.accuracy --dataset mnist --target loihi2 --steps 50 --epochs 3 --seeds 0,1,2 "
                 "--train-samples 10000 --test-samples 2000 --replay-steps N --eta 0.3 --threads 1 --tag sub10k_tsN")


def is_window_sweep(r: dict) -> bool:
    """Whether a chip result belongs to the replay-window sweep (its own table, not the full-data one)."""
    return (r.get("_tag") or "").startswith(WINDOW_SWEEP_TAG)


def window_sweep_section(rows: list, res: Path) -> list:
    """Accuracy and energy per training sample against the replay window T_s, one row per T_s."""
    if not rows:
        return []
    energies = load_result(res, WINDOW_SWEEP_ENERGY) or {}
    rows = sorted(((_config(r["model_config"]), r) for r in rows), key=lambda cr: cr[0].replay_window)
    first = rows[0][1]
    out = ["", "### Accuracy and energy against the replay window T_s", "",
           f"{first['dataset']}, {first['train_samples']:,} training / {first['test_samples']:,} test images, "
           f"{first['epochs']} epochs, T = {first['steps']}, constant eta 0.3 (the effective value is the power-of-two "
           f"shift's, which depends on T_s): `{SWEEP_COMMAND}`. Energy: the weights of seed 0's run, 200 training samples counted, "
           "the bounds and figures of the table below (`python -m benchmarks.energy --run RUN --out "
           f"benchmarks/results/{WINDOW_SWEEP_ENERGY} --key T_s=N`); a model, not a measurement.", "",
           "| T_s | steps per training sample | eta (effective) | test acc. % (mean +/- std) | per seed | "
           "training mJ per sample (low..high) | training ms per sample (low..high) | wall time per seed | file |",
           "|---|---|---|---|---|---|---|---|---|"]
    for cfg, r in rows:
        per_seed, _, wall, unf = seed_columns(r)
        e = energies.get(f"T_s={cfg.replay_window}")
        mj = _bounds(e["training_mJ_per_sample"], 3) if e else "not priced"
        ms = _bounds(e["training_ms_per_sample"], 2) if e else "-"
        out.append(f"| {cfg.replay_window} | {cfg.steps_per_sample} | {_effective_eta(cfg):.3g} | {format_mean(r)}{unf} | "
                   f"{per_seed} | {mj} | {ms} | {wall} | `{r.get('_file', '')}` |")
    return out
