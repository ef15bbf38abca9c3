"""The figures drawn (matplotlib, imported lazily, Agg backend) from the numbers of
:mod:`.fig4`, :mod:`.fig5` and :mod:`.records`."""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np


def pyplot():
    """matplotlib.pyplot on the Agg backend (files only, no display)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def _log_T_axis(ax, Ts):
    """Log-scaled T axis ticked at the T values themselves (not just at powers of 10)."""
    from matplotlib.ticker import NullFormatter
    ax.set_xscale("log")
    if Ts:
        ax.set_xlim(min(Ts) / 1.3, max(Ts) * 1.3)
    ax.set_xticks(list(Ts))
    ax.set_xticklabels([str(T) for T in Ts], fontsize=7)
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_xlabel("T (steps)")


def _sub(data: dict) -> str:
    """'; SUBSET: ...' for plots of a subset protocol, '' for full data."""
    return f"; {data['protocol_label']}" if data.get("subset") else ""


def save_png(fig, path):
    """Write ``fig`` to ``path`` as PNG (folders made), close it, return the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, format="png")
    pyplot().close(fig)
    return path


def plot_fig4(summary: dict, path):
    """Histograms of the error per T and pooled std vs T (log-log) with the
    theoretical c/sqrt(T) line."""
    plt = pyplot()
    rows = summary["per_T"]
    n = len(rows) + 1
    ncol = 4
    nrow = int(math.ceil(n / ncol))
    fig, axes = plt.subplots(nrow, ncol, figsize=(3.2 * ncol, 2.6 * nrow), dpi=110)
    axes = np.atleast_1d(axes).ravel()
    for ax, r in zip(axes, rows):
        h = r["hist"]
        edges = np.asarray(h["edges"])
        ctr = 0.5 * (edges[1:] + edges[:-1])
        ax.stairs(h["density"], edges, fill=True, alpha=0.45, label="measured")
        ax.plot(ctr, h["theory_mixture_density"], "k-", lw=1, label="theory (per-pair normal)")
        s = r["std"]
        ax.plot(ctr, np.exp(-ctr ** 2 / (2 * s * s)) / np.sqrt(2 * np.pi * s * s), "r:", lw=1,
                label="Gaussian, measured std")
        ax.set_title(f"T = {r['T']}: std {r['std']:.4f}", fontsize=9)
        ax.set_xlabel("stochastic product - a*b", fontsize=8)
        ax.tick_params(labelsize=7)
    axes[0].legend(fontsize=6, loc="upper left")
    ax = axes[len(rows)]
    T = np.array([r["T"] for r in rows], float)
    ax.loglog(T, [r["std"] for r in rows], "o", label="measured std")
    ax.loglog(T, [r["noise_mode_std"] for r in rows], "x", label="'noise' mode std")
    tt = np.logspace(np.log10(T.min() / 1.5), np.log10(T.max() * 1.5), 50)
    c = summary["fit"]["c_theory"]
    ax.loglog(tt, c / np.sqrt(tt), "k-", lw=1, label=f"ideal {c:.3f}/sqrt(T)")
    if "slope" in summary["fit"]:
        ax.set_title(f"fitted slope {summary['fit']['slope']:.3f} (ideal -0.5)", fontsize=9)
    ax.set_xlabel("T (steps)", fontsize=8)
    ax.set_ylabel("std of error", fontsize=8)
    ax.legend(fontsize=6)
    ax.tick_params(labelsize=7)
    for ax in axes[len(rows) + 1:]:
        ax.axis("off")
    fig.suptitle(f"Fig. 4: stochastic multiplication of all {summary['n_pairs']} products of "
                 f"[0, 0.02, ..., 0.98] (library rule, {rows[0]['trials']} trials each)", fontsize=10)
    fig.tight_layout()
    return save_png(fig, path)


FIG5_READINGS = (
    ("same_weights", "(a) one WTA-trained net: raw = lateral inhibition switched off at test"),
    ("separate_nets", "(b) two nets: raw = net trained and run without WTA"),
)


def plot_fig5(data: dict, path, title: str = ""):
    """Sorted, normalised output distribution: raw vs softmax vs WTA, one panel
    per reading of 'raw' (``data['readings']``, see ``python -m benchmarks.figures fig5``)."""
    plt = pyplot()
    readings = [(k, lab) for k, lab in FIG5_READINGS if k in data["readings"]]
    fig, axes = plt.subplots(1, len(readings), figsize=(5.6 * len(readings), 4.2), dpi=120, squeeze=False)
    for ax, (key, lab) in zip(axes[0], readings):
        d = data["readings"][key]
        C = len(d["curves"]["raw"])
        ids = np.arange(1, C + 1)
        styles = {"raw": ("o-", "raw spiking output"),
                  "softmax": ("s--", f"softmax(raw counts / {d['temperature_spikes']:g} spike)"),
                  "wta": ("^-", "WTA output")}
        for k, (st, name) in styles.items():
            if k in d["curves"]:
                ax.plot(ids, d["curves"][k], st, label=f"{name} (top-1 {d['curves'][k][0]:.2f})")
        fit = d.get("softmax_temperature_matching_wta")
        if fit:
            ax.plot(ids, fit["curve"], ":", color="grey",
                    label=f"softmax, temperature fitted to WTA: {fit['temperature_spikes']:.2g} spikes")
        ax.set_xlabel("output neuron, sorted by response")
        ax.set_ylabel("share of the sample's output spikes")
        ax.set_xticks(ids)
        ax.set_ylim(0, 1)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
        ax.set_title(lab, fontsize=8)
    fig.suptitle(title or "Fig. 5", fontsize=8)
    fig.tight_layout()
    return save_png(fig, path)


def plot_fig6(data: dict, path, title: str = ""):
    """(a)/(b) test accuracy per epoch per T for stochastic and coincidence (mean
    +/- std band where several seeds finished); (c) final accuracy vs T with rate."""
    plt = pyplot()
    modes = [m for m in ("stochastic", "coincidence") if m in data["series"]]
    fig, axes = plt.subplots(1, len(modes) + 1, figsize=(4.4 * (len(modes) + 1), 3.8), dpi=110)
    axes = np.atleast_1d(axes)
    cmap = plt.get_cmap("viridis")
    Ts = data["steps"]
    for ax, mode in zip(axes, modes):
        any_ = False
        for i, T in enumerate(Ts):
            s = data["series"][mode][str(T)]
            if not s["finished"]:
                continue
            any_ = True
            ep = np.arange(1, s["epochs"] + 1)
            m, sd = np.array(s["curve_mean"]), np.array(s["curve_std"])
            col = cmap(i / max(len(Ts) - 1, 1))
            ax.plot(ep, m, "-o", ms=3, color=col, label=f"T={T} (n={s['n_seeds']})")
            if s["n_seeds"] > 1:
                ax.fill_between(ep, m - sd, m + sd, color=col, alpha=0.2)
        r = data["series"].get("rate", {})
        for i, T in enumerate(Ts):
            s = r.get(str(T), {"finished": False})
            if s["finished"]:
                ax.plot(np.arange(1, s["epochs"] + 1), s["curve_mean"], "--", lw=0.9,
                        color=cmap(i / max(len(Ts) - 1, 1)), alpha=0.8)
        if not any_:
            ax.text(0.5, 0.5, "no finished run", ha="center", va="center", transform=ax.transAxes)
        ax.set_title(f"'{mode}' updates ({data['dataset']}); dashed: 'rate' at the same T", fontsize=9)
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(plt.MaxNLocator(integer=True))
        ax.set_ylabel("test accuracy (%)")
        ax.grid(alpha=0.3)
        if any_:
            ax.legend(fontsize=7)
    ax = axes[-1]
    any_ = False
    for mode, mk in (("stochastic", "o-"), ("coincidence", "s-"), ("rate", "k^--")):
        if mode not in data["series"]:
            continue
        pts = [(T, s["final_mean"], s["final_std"]) for T in Ts
               for s in [data["series"][mode][str(T)]] if s["finished"]]
        if pts:
            any_ = True
            x, y, e = zip(*pts)
            ax.errorbar(x, y, yerr=e, fmt=mk, capsize=3, label=mode)
    _log_T_axis(ax, Ts)
    ax.set_ylabel("final test accuracy (%)")
    ax.set_title("final accuracy vs T (mean +/- std over seeds)", fontsize=9)
    ax.grid(alpha=0.3)
    if any_:
        ax.legend(fontsize=7)
    else:
        ax.text(0.5, 0.5, "no finished run", ha="center", va="center", transform=ax.transAxes)
    fig.suptitle(title or f"Fig. 6: learning with stochastic weight updates vs T ({data['dataset']}{_sub(data)})",
                 fontsize=10)
    fig.tight_layout()
    return save_png(fig, path)


def plot_fig78(data: dict, path, title: str = ""):
    """Final accuracy (mean +/- std) and its std over seeds vs T: noise vs stochastic (rate for reference)."""
    plt = pyplot()
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(9, 3.8), dpi=110)
    any_ = False
    labels = {"noise_emulated": f"noise, {data.get('fig8_base_steps', 50)}-step sim. with T's noise (Fig. 8)"}
    for mode, mk in (("stochastic", "o-"), ("noise", "s-"), ("noise_emulated", "v:"), ("rate", "k^--")):
        pts = [(int(T), s["final_mean"], s["final_std"], s["n_seeds"]) for T, s in data["series"].get(mode, {}).items()
               if s["finished"]]
        if not pts:
            continue
        any_ = True
        x, y, e, n = zip(*sorted(pts))
        a1.errorbar(x, y, yerr=e, fmt=mk, capsize=3, label=labels.get(mode, mode))
        multi = [(xi, ei) for xi, ei, ni in zip(x, e, n) if ni > 1]
        if multi:
            a2.plot(*zip(*multi), mk, label=labels.get(mode, mode))
    Ts = sorted({int(T) for per_T in data["series"].values() for T in per_T})
    for ax, yl in ((a1, "final test accuracy (%)"), (a2, "std over seeds (points)")):
        _log_T_axis(ax, Ts)
        ax.set_ylabel(yl)
        ax.grid(alpha=0.3)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=7)
        else:
            ax.text(0.5, 0.5, "no finished run" if not any_ else "no result with >= 2 seeds yet",
                    ha="center", va="center", transform=ax.transAxes)
    a1.set_title("mean +/- std over seeds", fontsize=9)
    a2.set_title("stability (runs with >= 2 finished seeds)", fontsize=9)
    fig.suptitle(title or f"Fig. 7/8: 'noise' mode vs real 'stochastic' updates at equal T ({data['dataset']}{_sub(data)})",
                 fontsize=10)
    fig.tight_layout()
    return save_png(fig, path)


def plot_ablation(data: dict, path, title: str = ""):
    """Bar chart: final accuracy per variant and data set (only finished runs)."""
    plt = pyplot()
    dss = sorted({r["dataset"] for r in data["rows"]})
    fig, axes = plt.subplots(1, len(dss), figsize=(4.6 * len(dss), 3.6), dpi=110, squeeze=False)
    for ax, ds in zip(axes[0], dss):
        rows = [r for r in data["rows"] if r["dataset"] == ds]
        fin = [r["final_mean"] for r in rows if r["finished"]]
        lo = min(fin) - 3 if fin else 0
        for i, r in enumerate(rows):
            if r["finished"]:
                ax.bar(i, r["final_mean"], yerr=r["final_std"] if r["n_seeds"] > 1 else None, capsize=3)
                ax.text(i, lo + 0.3, f"{r['final_mean']:.2f}\n(n={r['n_seeds']})", ha="center", va="bottom",
                        fontsize=7, color="white")
            else:
                ax.text(i, 0.5, "not\nrun", ha="center", va="bottom", fontsize=7, transform=ax.get_xaxis_transform())
        ax.set_xticks(range(len(rows)))
        ax.set_xticklabels([f"{'WTA' if r['wta'] else 'no WTA'},\n{'dropout' if r['dropout'] else 'no dropout'}"
                            for r in rows], fontsize=7)
        if fin:
            ax.set_ylim(lo, min(100, max(fin) + 2))
        ax.set_ylabel("final test accuracy (%)")
        ax.set_title(ds, fontsize=9)
        ax.grid(alpha=0.3, axis="y")
    fig.suptitle(title or f"WTA / dropout ablation ('{data['mode']}' updates, T={data['steps']}{_sub(data)})",
                 fontsize=10)
    fig.tight_layout()
    return save_png(fig, path)
