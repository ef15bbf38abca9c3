"""The learning curve of a run folder (learning_curve.png)."""
from __future__ import annotations

from pathlib import Path
from typing import List

from .files import atomic_write


def plot_learning_curve(metrics: List[dict], path: Path, title: str = ""):
    """Train and test accuracy per epoch, as a PNG."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    ep = [m["epoch"] for m in metrics]
    fig, ax = plt.subplots(figsize=(5, 3.5), dpi=120)
    ax.plot(ep, [100 * m["train_acc"] for m in metrics], "o-", label="train (during learning)")
    ax.plot(ep, [100 * m["test_acc"] for m in metrics], "s-", label="test")
    if all("val_acc" in m for m in metrics):
        ax.plot(ep, [100 * m["val_acc"] for m in metrics], "^-", label="validation (held-out training images)")
    ax.set_xlabel("epoch")
    ax.set_ylabel("accuracy (%)")
    ax.set_title(title, fontsize=9)
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    atomic_write(path, lambda tmp: fig.savefig(tmp, format="png"))
    plt.close(fig)
