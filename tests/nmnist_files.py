"""N-MNIST files in the original binary format, written by the tests themselves
(the real data set is not reachable in CI). Shared by test_data.py and test_nmnist.py."""
from pathlib import Path

import numpy as np

from lava_ssnnbp.data.nmnist import encode_events as _encode_arrays
from lava_ssnnbp.data.nmnist import write_synthetic_nmnist


def encode_events(events):
    """Original N-MNIST 40-bit events, big-endian: x (8 bit), y (8 bit), polarity (1 bit),
    timestamp in microseconds (23 bit). ``events``: (x, y, polarity, t) tuples."""
    if not events:
        return b""
    x, y, p, t = zip(*events)
    return _encode_arrays(x, y, p, t)


# (x, y, polarity, t in us). T = 4 bins over t in [1000, 1400]: width (1400-1000)//4 = 100 us,
# bins [1000,1100) [1100,1200) [1200,1300) [1300,1400); tonic's searchsorted drops the last event
# (t = 1400 = end of the last bin). Pixel (3, 4) fires twice in bin 0 -> clipped to 1.
SAMPLE_A = [(3, 4, 1, 1000), (3, 4, 1, 1050), (33, 0, 0, 1099), (10, 20, 0, 1100), (0, 33, 1, 1250),
            (5, 6, 1, 1399), (7, 7, 0, 1400)]
EXPECT_A = {0: [(1, 4, 3), (0, 0, 33)], 1: [(0, 20, 10)], 2: [(1, 33, 0)], 3: [(1, 6, 5)]}  # bin: (p, y, x)
SAMPLE_B = [(1, 1, 0, 0), (2, 2, 1, 80_000), (3, 3, 0, 160_000), (4, 4, 1, 240_000), (9, 9, 1, 320_000)]
EXPECT_B = {0: [(0, 1, 1)], 1: [(1, 2, 2)], 2: [(0, 3, 3)], 3: [(1, 4, 4)]}


def frames(expect, steps=4):
    f = np.zeros((steps, 2, 34, 34), np.uint8)
    for t, pixels in expect.items():
        for p, y, x in pixels:
            f[t, p, y, x] = 1
    return f.reshape(steps, 2312)


def write_nmnist(save_to, split="Test"):
    """Three hand-made recordings (digits 3, 7, 7) under <save_to>/NMNIST/<split>/."""
    base = Path(save_to) / "NMNIST" / split
    for digit, name, events in ((3, "00001.bin", SAMPLE_A), (7, "00002.bin", SAMPLE_B),
                                (7, "00003.bin", SAMPLE_A)):
        (base / str(digit)).mkdir(parents=True, exist_ok=True)
        (base / str(digit) / name).write_bytes(encode_events(events))
    return base


def write_digit_recordings(save_to, n_train=20, n_test=10, seed=0):
    """A learnable miniature N-MNIST: embedded MNIST digits moved along three saccades and turned
    into ON/OFF events (``lava_ssnnbp.data.nmnist.write_synthetic_nmnist``), Train and Test."""
    from lava_ssnnbp.data import load_dataset
    tr, te = load_dataset("default", "train"), load_dataset("default", "test")
    tr, te = tr.subset(n_train, seed), te.subset(n_test, seed)
    write_synthetic_nmnist(save_to, tr.x.reshape(-1, 28, 28), tr.y, "train", seed)
    write_synthetic_nmnist(save_to, te.x.reshape(-1, 28, 28), te.y, "test", seed + 1)
    return Path(save_to)
