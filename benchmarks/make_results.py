"""Write benchmarks/RESULTS.md from the JSON files in benchmarks/results/.

Only numbers measured by the scripts in this folder appear; the paper's are
quoted next to them for comparison. Usage: python -m benchmarks.make_results
(``--results DIR --output FILE`` to read and write elsewhere).
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

from benchmarks import baselines as B
from benchmarks.chip_results import chip_section, is_chip_result
from benchmarks.paper_figures.records import is_figure_result, parse_result_name
from benchmarks.results_common import PAPER, dropout_text, format_mean, load_result, seed_columns


def accuracy_table(results) -> list:
    lines = ["| data set | model | mode | variant | dropout (input, hidden) | precision | T | epochs | train/test samples | update | ours: test acc. % (mean +/- std) | per seed | best epoch per seed | paper % | wall time per seed |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in results:
        rs, mc = r["run_settings"], r["model_config"]
        model = r["model"]
        prec = "-" if model == "ann" else ("fixed (Loihi-like: per-synapse rounding, host schedule; not the chip "
                                           "configuration)" if mc.get("fixed_point") else "float")
        sched = rs.get("eta_schedule", "constant")
        upd = (f"SGD+momentum, lr {rs.get('ann_lr')} {sched}" if model == "ann"
               else (f"mini-batch (B={rs['batch_size']})" if rs["batch_updates"] == "mini-batch"
                     else rs["batch_updates"]) + f", eta {mc.get('eta')} {sched}"
               + (f", warm-up {rs['eta_warmup']} samples" if rs.get("eta_warmup") else ""))
        drop = dropout_text(mc)
        per_seed, best, wall, unf = seed_columns(r)
        lines.append(f"| {r['dataset']} | {model} | {r['mode'] or '-'} | {r.get('_tag') or '-'} | {drop} | {prec} | {r['steps'] if model != 'ann' else '-'} | "
                     f"{r['epochs']} | {r['train_samples']}/{r['test_samples']} | {upd} | {format_mean(r)}{unf} | {per_seed} | {best} | "
                     f"{PAPER.get((r['dataset'], model), '-')} | {wall} |")
    return lines


def validation_section(results) -> list:
    """Results trained with held-out validation images: the numbers a choice is made on."""
    rows = [r for r in results if r.get("val_acc_per_seed")]
    if not rows:
        return []
    out = ["", "## Validation (training images held out, `--val-samples`)", "",
           "Settings are chosen on these, not on the test accuracy. The held-out images are the same for every "
           "run (class-balanced, fixed seed) and are not trained on.", "",
           "| data set | model | mode | variant | dropout (input, hidden) | epochs | validation images | "
           "validation % (mean +/- std) | test % (mean +/- std) | seeds |", "|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        drop = dropout_text(r["model_config"])
        out.append(f"| {r['dataset']} | {r['model']} | {r['mode'] or '-'} | {r.get('_tag') or '-'} | {drop} | "
                   f"{r['epochs']} | {r['run_settings'].get('val_samples')} | "
                   f"{r['val_acc_mean']:.2f} +/- {r['val_acc_std']:.2f} | "
                   f"{r['test_acc_mean']:.2f} +/- {r['test_acc_std']:.2f} | "
                   f"{', '.join(map(str, r['seeds_finished']))} |")
    return out


def _threads(host) -> str:
    env = {k: v for k, v in (host.get("threads_env") or {}).items() if v}
    note = f" {host['note']}." if host.get("note") else ""
    return (f" Thread limits: {', '.join(f'{k}={v}' for k, v in env.items())}." if env else "") + note


def throughput_section(res: Path) -> list:
    out = []
    for f in sorted(res.glob("throughput_T*.json")):
        r = json.loads(f.read_text())
        out += ["", f"## Training throughput ({'-'.join(map(str, r['network']))}, T = {r['steps']}; "
                    f"`benchmarks/throughput.py`, {f.name})", "",
                f"{r['host']['cpus']} CPU cores, no GPU; images from the '{r['dataset']}' set; each point trains "
                "for the timed seconds after a warm-up batch" + (f" (the latest run with a 1-minute load of "
                f"{r['host']['load_1min_at_start']:g} on the machine at its start, a trailing average that includes "
                "earlier jobs: docs/findings.md says what else ran; older points with training jobs paused)" if "load_1min_at_start" in r["host"] else ", training jobs paused") +
                ". B = 1 is the per-sample (on-chip) "
                "schedule; B > 1 sums B samples' updates. 'event' = numba kernels (the compiled training pass), "
                "'dense' = numpy only (GEMMs). Compare points of one run only (columns 'x snnTorch': samples/s "
                "over the snnTorch point of the same run, all cores and one thread; 'samples/CPU-s': per CPU second of "
                "the process, which other jobs on the machine distort less than wall time)." + _threads(r["host"])]
        lim = r.get("limit")
        if lim:
            ev = ", ".join(f"{v:,.0f} {k}s" for k, v in lim["events_per_sample"].items())
            out += ["", f"Measured limit (`benchmarks/event_limit.py`, run {r.get('run', '?')}): a sample is {ev}; "
                        f"at {lim['machine']['int_adds_per_s'] / 1e9:.1f} G integer additions/s and "
                        f"{lim['machine']['copy_bytes_per_s'] / 1e9:.1f} GB/s that is {1e3 * lim['arithmetic_s']:.2f} ms "
                        f"of arithmetic and {1e3 * lim['memory_s']:.2f} ms of memory traffic: "
                        f"**{lim['samples_per_s']:.0f} samples/s** on one core."]
        def bptt(one_thread):
            return {p["run"]: p["samples_per_s"] for p in r["points"] if p["mode"] == "bptt" and p.get("run")
                    and ("1 thread" in p["engine"]) == one_thread}
        ref, ref1 = bptt(False), bptt(True)
        out += ["", "| engine | mode | precision | arithmetic | B | samples/s | x snnTorch | x snnTorch 1 thread "
                    "| samples/CPU-s | % of limit | MiB/sample | one 60k epoch | timed s | measured |",
                "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
        for p in r["points"]:
            x = " | ".join(f"{p['samples_per_s'] / d[p['run']]:.2f}" if p.get("run") in d else "" for d in (ref, ref1))
            frac = f"{100 * p['fraction_of_limit']:.1f}" if p.get("fraction_of_limit") else ""
            mem = f"{p['memory_per_sample_mib']:.2f}" if p.get("memory_per_sample_mib") is not None else ""
            cpu = f"{p['samples_per_cpu_s']:.1f}" if p.get("samples_per_cpu_s") else ""
            out.append(f"| {p['engine']} | {p['mode']} | {p['precision']} | {p['arith']} | {p['batch']} | "
                       f"{p['samples_per_s']:.1f} | {x} | {cpu} | {frac} | {mem} | {p['epoch_60k_min']:.1f} min | "
                       f"{p.get('timed_s', r['seconds_per_point']):g} | {p.get('measured', r.get('written', '?'))} |")
    return out


def tuning_section(res: Path) -> list:
    out = []
    for f in sorted(res.glob("tuning_*_subset.json")):
        r = json.loads(f.read_text())
        val = all("val_acc_per_epoch" in row for row in r["rows"])
        out += ["", f"## How the defaults were chosen (`benchmarks/tuning.py`, {f.name})", "",
                f"784-1280-10, rate mode, WTA + dropout, {' '.join(r['base_args'])}: one setting changed at a time. "
                + ("Validation: held-out training images (choose on these); test: 2,000 test images. "
                   if val else "Scored on 2,000 test images (this sweep predates the validation split). ")
                + "One point's standard error is ~0.3-0.5.", "",
                "| variant | changed | " + ("validation % per epoch | " if val else "") + "test % per epoch | "
                "train wall s |", "|---|---|" + ("---|" if val else "") + "---|---|"]
        for row in r["rows"]:
            v = f"{', '.join(f'{a:.2f}' for a in row['val_acc_per_epoch'])} | " if val else ""
            out.append(f"| {row['variant']} | `{' '.join(row['args'])}` | {v}"
                       f"{', '.join(f'{a:.2f}' for a in row['test_acc_per_epoch'])} | {row['train_wall_s']:.0f} |")
    return out


def silent_neurons_section(res: Path) -> list:
    out = []
    for f in sorted(res.glob("silent_neurons_*.json")):
        r = json.loads(f.read_text())
        out += ["", f"## Hidden neurons silenced at the start of training (`benchmarks/silent_neurons.py`, {f.name})", "",
                f"{r['dataset']}, {'-'.join(map(str, r['network']))}, rate, T = {r['steps']}, dropout {r['dropout']}, "
                f"seed {r['seed']}, the same initial weights for every schedule; 'silent': hidden neurons without a "
                f"spike on any of {r['probe']} test images (their gradient gate never opens again). Measured "
                f"{r['measured']}.", "",
                f"![silent neurons](figures/{f.stem}.png)", "",
                "| schedule | eta | B | warm-up samples | silent at start | after ~1,000 samples | "
                f"after {r['samples']} | active per image at the end | wall s (training + probes) |",
                "|---|---|---|---|---|---|---|---|---|"]
        for t in r["traces"]:
            pts = t["points"]
            early = min(pts[1:], key=lambda p: abs(p["samples"] - 1000)) if len(pts) > 1 else pts[0]
            out.append(f"| {t['schedule']} | {t['eta']:g} | {t['batch']} | {t['warmup'] or '-'} | {pts[0]['silent']} | "
                       f"{early['silent']} ({early['samples']}) | {pts[-1]['silent']} | "
                       f"{100 * pts[-1]['active_fraction']:.1f} % | {t['wall_s']:.0f} |")
    return out


def activity_section(res: Path) -> list:
    r = load_result(res, "activity.json")
    if not r:
        return []
    out = ["", "## Spike activity of the trained networks (`benchmarks/activity.py`)", "",
           "Final weights evaluated on the test set in the engine. 'never active': hidden neurons without a single "
           "spike on any test sample; such a neuron's gradient gate never opens, so it stopped learning (lost "
           "capacity). Synaptic events = spikes x fan-out, the work of a neuromorphic core. ANN twin rows ('ann' in the "
           "name): its ReLU units, active where the output is > 0 (eta column: its learning rate).", "",
           "| run | test acc. % | eta | hidden active per sample | hidden never active | spikes/sample (input, hidden, "
           "output) | synaptic events/sample |", "|---|---|---|---|---|---|---|"]
    for x in r["runs"]:
        h, ls = x["layers"][1], x["layers"]
        spikes = ", ".join(f"{l['spikes_per_sample']:.0f}" for l in ls) if x.get("model", "snn") == "snn" else "-"
        events = f"{sum(l['synaptic_events_per_sample'] for l in ls):.3g}" if spikes != "-" else "-"
        out.append(f"| {x['run']} | {x['test_acc']:.2f} | {x['eta']} | {100 * h['active_fraction']:.1f} % | "
                   f"{h['never_active']} / {h['neurons']} | {spikes} | {events} |")
    return out



def inference_steps_section(res: Path) -> list:
    r = load_result(res, "inference_steps.json")
    if not r:
        return []
    runs = sorted({x["run"] for x in r["rows"]})
    steps = sorted({x["steps"] for x in r["rows"]})
    out = ["", "## Inference for more steps than training (`benchmarks/inference_steps.py`)", "",
           "Trained weights simulated for T' steps per test sample (`ssnnbp evaluate --steps T'`); the "
           "synaptic time constant scales with T'. The gain over the trained T is the test error that came from "
           "the input encoding's noise, not from what the network learned. Test accuracy %:", "",
           "| run | trained T | " + " | ".join(f"T' = {s}" for s in steps) + " |",
           "|---|---|" + "---|" * len(steps)]
    for run in runs:
        rows = {x["steps"]: x for x in r["rows"] if x["run"] == run}
        first = next(iter(rows.values()))
        out.append(f"| {run} | {first['trained_steps']} | "
                   + " | ".join(f"{rows[s]['test_acc']:.2f}" if s in rows else "-" for s in steps) + " |")
    return out

def weight_precision_section(res: Path) -> list:
    r = load_result(res, "weight_precision.json")
    if not r:
        return []
    out = ["", "## Fixed-point inference of float-trained weights (`benchmarks/weight_precision.py`)", "",
           "The trained float weights rounded to B-bit mantissas (unit 2^E / 64, saturating), simulated in the "
           "fixed-point engine (Loihi-like integers throughout) and, with the same rounded weights, in the float "
           "engine. What a fixed-point training run of the same settings loses beyond this is the rounding of its "
           "learning updates. Test accuracy %:", "",
           "| run | test images | as trained | format | float simulation | fixed-point simulation | weights saturated % |",
           "|---|---|---|---|---|---|---|"]
    for run in sorted({x["run"] for x in r["rows"]}):
        rows = [x for x in r["rows"] if x["run"] == run]
        base = next((x["test_acc"] for x in rows if x["bits"] is None), None)
        for fmt in sorted({(x["bits"], tuple(x["weight_exp"])) for x in rows if x["bits"] is not None}):
            got = {x["simulator"]: x for x in rows if (x["bits"], tuple(x["weight_exp"] or ())) == fmt}
            any_row = next(iter(got.values()))
            cell = lambda s: f"{got[s]['test_acc']:.2f}" if s in got else "-"  # noqa: E731
            out.append(f"| {run} | {any_row['test_samples']} | {base if base is not None else '-'} | {fmt[0]} bits, "
                       f"E = {', '.join(map(str, fmt[1]))} | {cell('float')} | {cell('fixed')} | "
                       f"{', '.join(f'{v:g}' for v in any_row.get('saturated_pct', []))} |")
    return out


def update_events_section(res: Path) -> list:
    r = load_result(res, "update_events.json")
    if not r:
        return []
    out = ["", "## Update events per learning epoch (`benchmarks/update_events.py`)", "",
           "Non-zero pair counts per training sample (each is one stochastic rounding of one weight in fixed "
           "point), per synapse layer, for learning epochs of B samples (the counts of B consecutive samples "
           "summed before the update, as summed mini-batches or a tag accumulating over B samples on a chip):", "",
           "| run | samples | synapses per layer | mean abs. count | B | events per sample | of per-sample |",
           "|---|---|---|---|---|---|---|"]
    for row in r["rows"]:
        for e in row["epochs"]:
            out.append(f"| {row['run']} | {row['samples']} | {', '.join(f'{n:,}' for n in row['synapses'])} | "
                       f"{', '.join(f'{m:.2f}' for m in row['mean_abs_count'])} | {e['samples_per_epoch']} | "
                       f"{', '.join(f'{v:g}' for v in e['events_per_sample'])} | "
                       f"{', '.join(f'{v:.3f}' for v in e['ratio_to_per_sample'])} |")
    return out


def lava_section(res: Path) -> list:
    out = []
    r = load_result(res, "lava_vs_engine.json")
    if r:
        out += ["", "## Learning inside Lava vs the engine (`benchmarks/lava_vs_engine.py`)", "",
                f"{r['dataset']}, {r['train_samples']} training / {r['test_samples']} test images, 784-{r['hidden']}-10, "
                f"T = {r['steps']}, mode {r['mode']}, {r['precision']} point, {r['epochs']} epoch, {r['batch_updates']} "
                f"updates, seed {r['seed']}. Final weights identical: **{r['weights_identical']}**.", "",
                "| backend | test acc. % | train samples/s | train wall s |", "|---|---|---|---|"]
        for b, row in r["backends"].items():
            out.append(f"| {b} | {row['test_acc']:.2f} | {row['train_samples_per_s']:.1f} | {row['train_wall_s']:.0f} |")
    return out


def learning_engine_section(res: Path) -> list:
    out = []
    for f in sorted(res.glob("learning_engine_network*.json"), key=lambda f: (f.name != "learning_engine_network.json",
                                                                               f.name)):
        out += _learning_engine_run(json.loads(f.read_text()), f.name, first=not out)
    return out


def _learning_engine_run(r: dict, name: str, first: bool) -> list:
    out = []
    if r:
        runs = r["runs"]
        names = {"lava_learning_dense": "Lava `LearningEngineNetwork` (LearningDense, Lava's learning engine)",
                 "engine": "engine (per-synapse rounding, 8-bit saturation)",
                 "engine_lava_rounding": "engine, `learning_engine='lava'` (Lava's rounding and clip)"}
        same = r["lava_vs_engine_lava_rounding"]
        if first:
            out += ["", "## Plastic synapses on Lava's own learning engine (`benchmarks/learning_engine_network.py`)"]
        out += ["", f"`{r['command']}` ({name}): {r['dataset']}, {r['train_samples']} training / {r['test_samples']} test "
                f"images, {'-'.join(map(str, r['sizes']))}, T = {r['steps']}, mode {r['mode']}, fixed point, "
                f"eta {r['eta']}, {r['epochs']} epoch, per-sample updates, seed {r['seed']}, the same initial "
                f"weights; load average {r['load_avg_1min_at_end']} at the end (other jobs on both cores; "
                f"{r.get('load_note', 'see the JSON')}).", "",
                "| network | test acc. % | accuracy while training % | train wall s | test wall s |",
                "|---|---|---|---|---|"]
        for key, row in runs.items():
            out.append(f"| {names.get(key, key)} | {row['test_acc']:.2f} | {row['train_acc_during_learning']:.2f} | "
                       f"{row['train_wall_s']:.0f} | {row['test_wall_s']:.0f} |")
        out += ["", "Lava network vs engine with Lava's rounding: weights identical per layer "
                f"{[w['identical'] for w in same['weights']]} (differing weights "
                f"{[w['differing'] for w in same['weights']]}), test counts identical "
                f"{same['test_counts_identical']}; vs the plain engine: differing weights "
                f"{[w['differing'] for w in r['lava_vs_engine']['weights']]} (max |diff| "
                f"{[w['max_abs_diff'] for w in r['lava_vs_engine']['weights']]}). Backward copy exactly W^T: "
                f"{r['backward_copy_is_transpose']}. Weights beyond +-127 in the Lava network: "
                f"{r['weights_beyond_8_bits']['lava']}."]
        if r.get("note"):
            out += ["", r["note"]]
    return out


def energy_section(res: Path) -> list:
    out = []
    r = load_result(res, "energy.json")
    if r:
        first = next((v for k, v in r.items() if not k.startswith("loihi2")), None)
    if r and first:
        out += ["", "## Energy and latency on Loihi outside the chip configuration, estimated from counted events (`benchmarks/energy.py`)", "",
                f"Counted events of the trained learning-engine network (trained with `Engine(learning_engine='lava')`, "
                f"bit for bit the Lava network) times the per-event figures of {first['source']} "
                f"({first['chip']}): synaptic op {first['per_event']['synaptic_op_pj']} pJ / "
                f"{first['per_event']['synaptic_op_ns']} ns, synaptic (learning) update "
                f"{first['per_event']['synaptic_update_pj']} pJ / {first['per_event']['synaptic_update_ns']} ns, neuron "
                f"update {first['per_event']['neuron_update_active_pj']} / {first['per_event']['neuron_update_inactive_pj']} "
                f"pJ (active / inactive), spike {first['per_event']['spike_within_tile_pj']} pJ + one tile hop "
                f"{first['per_event']['tile_hop_pj']} pJ, barrier {first['per_event']['barrier_ns']} ns per step. "
                "A model, not a measurement: no static power, no embedded-core cost (the W^T copy's writes are "
                "counted, not priced). Learning-engine updates: 'min' = synapses touched by presynaptic spikes plus "
                "one end-of-sample update per plastic synapse; 'max' = every plastic synapse every step (the rule's "
                "u0 terms with t_epoch = 1). Our accuracies: the embedded 6,000-image subset, 1 epoch; the published "
                "ones: full MNIST.", "",
                "| network | test acc. % (1,000) | per training sample: synaptic ops | learning updates (min..max) | "
                "energy mJ (min..max) | latency ms (min..max) | per inference: synaptic ops | energy mJ | latency ms | command |",
                "|---|---|---|---|---|---|---|---|---|---|"]
        for key, e in r.items():
            if key.startswith("loihi2"):    # in the chip configuration's section
                continue
            t, i = e["training_sample"], e["inference"]
            out.append(f"| {key} | {e['test_acc_1000']:.1f} | {t['events']['synaptic_ops']:.3g} | "
                       f"{t['events']['learning_updates_min']:.3g}..{t['events']['learning_updates_max']:.3g} | "
                       f"{t['energy_mj_learning_min']:.3f}..{t['energy_mj_learning_max']:.3f} | "
                       f"{t['latency_ms_learning_min']:.2f}..{t['latency_ms_learning_max']:.2f} | "
                       f"{i['events']['synaptic_ops']:.3g} | {i['energy_mj']:.4f} | {i['latency_ms']:.3f} | "
                       f"`{e['command']}` |")
        for p in first["published"]:
            inf = f"{p['inference_mj']}" if p["inference_mj"] is not None else "-"
            out.append(f"| published: {p['work']} | {p['mnist_acc']} (MNIST) | | | {p['train_mj_per_sample']} | "
                       f"{p['train_ms_per_sample']} | | {inf} | | |")
    return out


ON_CHIP_MODES = ("coincidence", "replay")   # map to a Loihi 2 learning rule (lava_config.loihi_learning_rule)
# the README's headline configurations, shown next to the baselines on the same data sets
BASELINE_COMPANIONS = (
    "accuracy_mnist_rate_T50.json", "accuracy_mnist_rate_T50_e60.json", "accuracy_mnist_replay_T50_ps_fixed.json",
    "accuracy_mnist_coincidence_T50_ps_fixed.json", "accuracy_mnist_ann_T100_lr0.02_e60.json",
    "accuracy_fashion-mnist_rate_T50.json", "accuracy_fashion-mnist_rate_T50_dropin0_wu10k_e60.json",
    "accuracy_fashion-mnist_ann_T100_lr0.02_dropin0_e60.json")


def baselines_section(res: Path) -> list:
    """Offline baselines (benchmarks/baselines.py) next to SSNN-BP and its ANN twin on the same data sets."""
    files = sorted(res.glob("baselines_*.json"))
    base = [json.loads(f.read_text()) for f in files]
    if not base:
        return []
    out = ["", "## Offline-trained baselines: TSSL-BP and lava-dl SLAYER (`benchmarks/baselines.py`)", "",
           "Test accuracy after the last epoch (torch: full test set; Lava: the netx export in Lava's bit-accurate "
           "simulation on the first N test images, see docs/baselines.md), wall time of training per epoch, peak "
           "resident memory of the benchmark process. SSNN-BP and ANN rows: `benchmarks/accuracy.py` "
           "(wall time per epoch there includes testing; memory not recorded). (a): the export before "
           "2026-12-03, which kept each layer's per-step input within 2^14 on 256 training images instead of "
           "0.9 x 2^15 on 1,000, and so rounded strongly driven layers' weights more coarsely "
           "(docs/findings.md, 'Offline-trained baselines').", "",
           "| method | network | data set | T | epochs | test acc. % (seeds) | per seed | train wall s / epoch | "
           "peak memory MiB | acc. in Lava % (N) | learns on chip |", "|---|---|---|---|---|---|---|---|---|---|---|"]
    sets = set()
    for r in base:
        st, n = r["settings"], len(r["seeds_finished"])
        sets.add(st["dataset"])
        acc = "not finished" if r["test_acc_mean"] is None else (
            f"**{r['test_acc_mean']:.2f} +/- {r['test_acc_std']:.2f}** (n={n})" if n > 1 else f"**{r['test_acc_mean']:.2f}** (n=1)")
        seeds = ", ".join(f"{k}: {v['test_acc']:.2f}" + ("" if v["finished"] else
                                                           f" after {v['epochs_done']} of {st['epochs']} epochs")
                          for k, v in sorted(r["per_seed"].items()))
        lava = ", ".join(f"{v['lava_acc']:.2f} (torch {v['torch_acc_same_samples']:.2f}; {v['lava_samples']})"
                         + ("" if "calibration_images" in v else " (a)")
                         for _, v in sorted(r["per_seed"].items()) if "lava_acc" in v) or "-"
        walls = [v["train_wall_s_per_epoch"] for v in r["per_seed"].values()]   # unfinished seeds' too
        wall = sum(walls) / len(walls) if walls else None
        peak = max((v["peak_rss_mib"] for v in r["per_seed"].values()), default=None)
        rs = B.normalised(st)["run_settings"]
        method = st["method"] + (f" (surrogate tau_grad {rs['tau_grad']:g}, scale_grad {rs['scale_grad']:g})"
                                 if st["method"] == "slayer" and "tau_grad" in rs else "")
        if rs.get("train_samples") or rs.get("test_samples"):
            method += f" ({rs.get('train_samples') or 'all'} train / {rs.get('test_samples') or 'all'} test images)"
        out.append(f"| {method} | {B.net_name(st['sizes'], st.get('conv'))} | {st['dataset']} | {st['steps']} | "
                   f"{st['epochs']} | {acc} | {seeds} | {'-' if wall is None else f'{wall:.0f}'} | "
                   f"{peak or '-'} | {lava} | no (backward pass through time on a host) |")
    for fname in BASELINE_COMPANIONS:
        f = res / fname
        r = json.loads(f.read_text()) if f.exists() else None
        if r is None or r["dataset"] not in sets or r["test_acc_mean"] is None:
            continue
        mc, model = r["model_config"], r["model"]
        name = "ANN twin" if model == "ann" else f"SSNN-BP {r['mode']}" + (
            ", fixed point, per-sample (on-chip configuration)" if mc.get("fixed_point") else "")
        tag = (parse_result_name(Path(fname).stem) or ("",) * 4)[3]
        name += f" (`{tag}`, dropout {dropout_text(mc)})" if tag else f" (dropout {dropout_text(mc)})"
        walls = [float(w) / r["epochs"] for w in r["wall_s_per_seed"].values()]
        on_chip = "yes" if model == "snn" and r["mode"] in ON_CHIP_MODES and mc.get("fixed_point") \
            and r["run_settings"].get("batch_updates") == "per-sample" else "no"
        out.append(f"| {name} | {'-'.join(map(str, mc['sizes']))} | {r['dataset']} | {r['steps'] if model != 'ann' else '-'} | "
                   f"{r['epochs']} | {format_mean(r)} | {', '.join(f'{a:.2f}' for a in r['test_acc_per_seed'])} | "
                   f"{sum(walls) / len(walls):.0f} | - | - | {on_chip} |")
    out += ["", "Commands (run folders under ~/ssnnbp-runs/baselines; SSNN-BP and ANN rows: the commands in their "
            "`accuracy_*.json` files):", ""]
    for f, r in zip(files, base):
        st = r["settings"]
        out.append(f"- {st['method']} {B.net_name(st['sizes'], st.get('conv'))} {st['dataset']}, "
                   f"{st['epochs']} epoch{'s' if st['epochs'] != 1 else ''}: `{B.reproduce_command(r, f.name)}`")
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--results", type=Path, default=HERE / "results", help="(default: %(default)s)")
    ap.add_argument("--output", type=Path, default=HERE / "RESULTS.md",
                    help="(default: %(default)s; RESULTS.extra.md next to it is appended when it exists)")
    args = ap.parse_args(argv)
    files = sorted(args.results.glob("accuracy_*.json"))
    results = [{**json.loads(f.read_text()), "_file": f.name} for f in files]
    # what the figures report collects (RESULTS.extra.md) is left out here; everything else
    # (hyperparameter variants such as 'eta0.1', other settings on a subset) stays
    for r in results:
        r["_tag"] = (parse_result_name(Path(r["_file"]).stem) or ("",) * 4)[3]
    results = [r for r in results if not is_figure_result(r.get("mode"), r["_tag"])]
    results.sort(key=lambda r: (r["dataset"], r["model"] != "snn", r["mode"] or "", r["steps"], r["_tag"]))
    out = ["# Results", "",
           "Generated by `python -m benchmarks.make_results` from `benchmarks/results/*.json`; every number",
           "was measured by `benchmarks/accuracy.py` (command lines and settings are in the JSON files).",
           "Accuracy is the test accuracy after the last epoch (argmax of output spike counts for the SNN).",
           "Paper: Biswas, Saraswat, Ganguly 2023 (784-1280-C, WTA + dropout).",
           "Wall times are those of the 2-core development machine, where 2-3 jobs often shared the cores.",
           "Every +/- over seeds is the sample standard deviation (ddof = 1).", ""]
    out += chip_section(results, args.results)
    out += ["## Accuracy", ""]
    other = [r for r in results if not is_chip_result(r)]
    out += accuracy_table(other) if other else ["No accuracy benchmark has finished yet."]
    out += validation_section(results)
    out += baselines_section(args.results)
    out += activity_section(args.results) + silent_neurons_section(args.results) + inference_steps_section(args.results) + weight_precision_section(args.results) + update_events_section(args.results) + lava_section(args.results) + learning_engine_section(args.results) + energy_section(args.results) + throughput_section(args.results) + tuning_section(args.results)
    extra = args.output.parent / "RESULTS.extra.md"
    if extra.exists():
        out += ["", extra.read_text().rstrip()]
    args.output.write_text("\n".join(out) + "\n")
    print(f"wrote {args.output} from {len(files)} result files")
    return 0


if __name__ == "__main__":
    sys.exit(main())
