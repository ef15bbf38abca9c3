"""Runs trained today equal the runs the code trained before lava_ssnnbp.runs replaced
training.py (one epoch loop for every model): the same weights.npz and checkpoint.npz
(array for array: bit for bit, or, for the ANN twin and the torch baselines, whose float
kernels the CPU picks, to 1e-5 of each array's scale), metrics, config.json, metrics.csv
columns and label, for SSNN-BP in float and fixed point, mini-batches with a warm-up and a
schedule, the chip configuration, the ANN twin, both torch baselines and the Lava backend.

tests/data/run_reference.json was written by tests/run_reference.py from commit b951c43
(main before the split); a change that alters what a run computes or writes fails here.
"""
import json
from pathlib import Path

import numpy as np
import pytest

from run_reference import ARRAY_PARTS, CASES, _arrays, arrays_differ, train_and_summarize

REFERENCE = json.loads((Path(__file__).parent / "data" / "run_reference.json").read_text())


def _marks(case):
    if case in ("tssl-bp", "slayer"):
        return [pytest.mark.slow]
    if case == "lava":
        return [pytest.mark.lava, pytest.mark.slow]
    return []


@pytest.mark.parametrize("case", [pytest.param(c, marks=_marks(c)) for c in CASES])
def test_a_run_trains_and_writes_what_it_did_before(case, tmp_path):
    if case in ("tssl-bp", "slayer"):
        pytest.importorskip("torch")
    got, want = train_and_summarize(case, tmp_path / case), REFERENCE[case]
    assert set(got) == set(want)
    for part in want:   # one part at a time: the failure says which
        if part in ARRAY_PARTS:
            assert arrays_differ(got[part], want[part]) == [], part
        else:
            assert got[part] == want[part], part


def test_arrays_differ_passes_kernel_rounding_and_catches_a_change(tmp_path):
    a = np.random.default_rng(0).normal(0.0, 0.1, (32, 784)).astype(np.float32)

    def summary(name, w, fingerprints=True):
        np.savez(tmp_path / name, w=w, n=np.arange(3))
        return _arrays(tmp_path / f"{name}.npz", fingerprints)

    ref = summary("ref", a)
    assert arrays_differ(summary("same", a.copy()), ref) == []
    assert arrays_differ(summary("rounded", a * np.float32(1 + 2e-7)), ref) == []    # another CPU's kernels
    assert arrays_differ(summary("scaled", a * np.float32(1.001)), ref) == ["w"]     # a different update
    shifted = a.copy()
    shifted[0, 0] += 0.01
    assert arrays_differ(summary("shifted", shifted), ref) == ["w"]
    assert arrays_differ(summary("plain", a * np.float32(1 + 2e-7), fingerprints=False), ref) == ["w"]
    assert arrays_differ(summary("bare", a, fingerprints=False), summary("bare_ref", a, fingerprints=False)) == []
    assert arrays_differ(summary("shape", a[:, :10]), ref) == ["w"]
