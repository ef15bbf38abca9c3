"""Runs trained today equal the runs the code trained before lava_ssnnbp.runs replaced
training.py (one epoch loop for every model): the same weights.npz and checkpoint.npz
(array for array), metrics, config.json, metrics.csv columns and label, for SSNN-BP in
float and fixed point, mini-batches with a warm-up and a schedule, the chip
configuration, the ANN twin, both torch baselines and the Lava backend.

tests/data/run_reference.json was written by tests/run_reference.py from commit b951c43
(main before the split); a change that alters what a run computes or writes fails here.
"""
import json
from pathlib import Path

import pytest

from run_reference import CASES, train_and_summarize

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
        assert got[part] == want[part], part
