"""The learning curve of a run folder (learning_curve.png)."""
from __future__ import annotations

from pathlib import Path
from typing import List

from ..atomic import replace_path


def learning_curve_figure(metrics: List[dict], title: str = ""):
    """The matplotlib figure of train and test accuracy per epoch (the caller closes it)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(5, 3.8), dpi=120)
    try:
        _draw_curves(ax, metrics, title)
        fig.tight_layout()
    except BaseException:
        plt.close(fig)
        raise
    return fig


def _draw_curves(ax, metrics: List[dict], title: str):
    from matplotlib.ticker import MaxNLocator
    ep = [m["epoch"] for m in metrics]
    ax.plot(ep, [100 * m["train_acc"] for m in metrics], "o-", label="train (during learning)")
    ax.plot(ep, [100 * m["test_acc"] for m in metrics], "s-", label="test")
    if all("val_acc" in m for m in metrics):
        ax.plot(ep, [100 * m["val_acc"] for m in metrics], "^-", label="validation (held-out training images)")
    # epochs are whole numbers; min_n_ticks=1: with one epoch the locator would otherwise
    # fall back to fractional ticks (0.5, 0.6, ... 1.5) to show two of them
    ax.xaxis.set_major_locator(MaxNLocator(integer=True, min_n_ticks=1))
    ax.set_xlim(min(ep, default=1) - 0.5, max(ep, default=1) + 0.5)
    ax.set_xlabel("epoch")
    ax.set_ylabel("accuracy (%)")
    ax.set_title(title, fontsize=9)
    ax.grid(alpha=0.3)
    # below the axes: inside, 'best' can still cover a point (one epoch: the only ones)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=2, fontsize=8, frameon=False)


def write_learning_curve(f, metrics: List[dict], title: str = ""):
    """Train and test accuracy per epoch, as a PNG written to binary file ``f``."""
    import matplotlib.pyplot as plt
    fig = learning_curve_figure(metrics, title)
    try:
        fig.savefig(f, format="png")
    finally:
        plt.close(fig)


def plot_learning_curve(metrics: List[dict], path: Path, title: str = ""):
    """Train and test accuracy per epoch, as a PNG file (written atomically)."""
    replace_path(path, lambda f: write_learning_curve(f, metrics, title))
