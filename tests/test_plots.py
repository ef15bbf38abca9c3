"""The learning curve (lava_ssnnbp/runs/plots.py): readable for a 1-epoch run."""
import numpy as np
import pytest

from lava_ssnnbp.runs.plots import learning_curve_figure


def _metrics(n_epochs, val=False):
    return [{"epoch": e, "train_acc": 0.36 + 0.01 * e, "test_acc": 0.615 + 0.01 * e,
             **({"val_acc": 0.5} if val else {})} for e in range(1, n_epochs + 1)]


@pytest.mark.parametrize("n_epochs, val", [(1, False), (2, True), (12, True)])
def test_learning_curve_ticks_are_whole_epochs_and_the_legend_covers_no_point(n_epochs, val):
    import matplotlib.pyplot as plt
    fig = learning_curve_figure(_metrics(n_epochs, val), "title")
    try:
        ax = fig.axes[0]
        lo, hi = ax.get_xlim()
        ticks = [t for t in ax.get_xticks() if lo <= t <= hi]
        assert ticks and all(float(t).is_integer() for t in ticks), ticks   # one epoch: not 0.5, 0.6 ... 1.5
        fig.canvas.draw()
        box = ax.get_legend().get_window_extent()
        points = np.concatenate([line.get_xydata() for line in ax.get_lines()])
        for x, y in ax.transData.transform(points):
            assert not box.contains(x, y), "the legend covers a data point"
    finally:
        plt.close(fig)
