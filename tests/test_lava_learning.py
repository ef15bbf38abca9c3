"""Learning happens inside Lava: the weights read back from the CoincidenceDense
models change, and accuracy on a small separable task improves."""
import numpy as np
import pytest

from lava_ssnnbp.config import SSNNConfig
from lava_ssnnbp.network import SSNNBPNetwork

pytestmark = pytest.mark.lava


def toy(n, rng, D=18, C=3):
    """C classes; class c lights up its own block of D/C pixels."""
    y = np.arange(n) % C
    rng.shuffle(y)
    x = rng.random((n, D)) * 0.2
    for i in range(n):
        x[i, y[i] * (D // C):(y[i] + 1) * (D // C)] += 0.8
    return np.clip(x, 0, 1), y


def strict_accuracy(counts, y):
    """A sample counts as correct only if its class fires strictly the most."""
    top = counts[np.arange(len(y)), y]
    rest = counts.copy()
    rest[np.arange(len(y)), y] = -1
    return float(np.mean(top > rest.max(axis=1)))


@pytest.mark.parametrize("fixed_point", [True, False])
def test_accuracy_improves_and_weights_change_inside_lava(fixed_point):
    rng = np.random.default_rng(1)
    xtr, ytr = toy(36, rng)
    xte, yte = toy(30, rng)
    cfg = SSNNConfig(sizes=(18, 10, 3), steps=30, mode="rate", eta=2.0, dropout=(0.0, 0.0),
                     fixed_point=fixed_point)
    with SSNNBPNetwork(cfg, seed=0) as net:
        w0 = net.weights
        before = strict_accuracy(net.predict_counts(xte), yte)
        net.train(xtr, ytr)
        w1 = net.weights
        after = strict_accuracy(net.predict_counts(xte), yte)
    assert all(not np.array_equal(a, b) for a, b in zip(w0, w1)), "every layer must learn"
    assert before < 0.5
    assert after >= 0.9, (before, after)
