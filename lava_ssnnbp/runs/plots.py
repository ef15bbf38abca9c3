"""The learning curve of a run folder (learning_curve.png)."""
from __future__ import annotations

from pathlib import Path
from typing import List

from ..atomic import atomic_write


def write_learning_curve(f, metrics: List[dict], title: str = ""):
    """Train and test accuracy per epoch, as a PNG written to binary file ``f``."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator
    ep = [m["epoch"] for m in metrics]
    fig, ax = plt.subplots(figsize=(5, 3.5), dpi=120)
    try:
        ax.plot(ep, [100 * m["train_acc"] for m in metrics], "o-", label="train (during learning)")
        ax.plot(ep, [100 * m["test_acc"] for m in metrics], "s-", label="test")
        if all("val_acc" in m for m in metrics):
            ax.plot(ep, [100 * m["val_acc"] for m in metrics], "^-", label="validation (held-out training images)")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))   # epochs are whole numbers
        ax.set_xlim(min(ep) - 0.5, max(ep) + 0.5)
        ax.set_xlabel("epoch")
        ax.set_ylabel("accuracy (%)")
        ax.set_title(title, fontsize=9)
        ax.grid(alpha=0.3)
        ax.legend()
        fig.tight_layout()
        fig.savefig(f, format="png")
    finally:
        plt.close(fig)


def plot_learning_curve(metrics: List[dict], path: Path, title: str = ""):
    """Train and test accuracy per epoch, as a PNG file (written atomically)."""
    def write(tmp):
        with open(tmp, "wb") as f:
            write_learning_curve(f, metrics, title)
    atomic_write(path, write)
