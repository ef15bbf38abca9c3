"""The engine still learns the stored reference weights (``scripts/make_reference_weights.py``):
fixed point to the bit; float to rtol 1e-6 (the same bits wherever the summation order
is the same, which it is on the machine that stored them; float cases whose sums go
through BLAS GEMMs -- the numpy-only runs, two hidden layers, test-time drives -- can
differ in the last bits on another BLAS)."""
import importlib.util
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("make_reference_weights", ROOT / "scripts" / "make_reference_weights.py")
ref = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(ref)

STORED = ROOT / "tests" / "data" / "reference_weights.npz"


@pytest.fixture(scope="module")
def stored():
    with np.load(STORED) as f:
        yield {k: f[k] for k in f.files}


@pytest.mark.parametrize("name", list(ref.CASES))
def test_engine_learns_the_reference_weights(name, stored):
    if ref.CASES[name][3] and not ref.set_compiled(True):
        pytest.skip("numba not usable here")
    want_w, want_counts = ref.unpack(stored, name)
    got_w, got_counts = ref.run_case(name)
    fixed = ref.config(ref.CASES[name][0]).fixed_point
    for k, (got, want) in enumerate(zip(got_w, want_w)):
        assert got.dtype == want.dtype, (name, k)
        if fixed:
            assert np.array_equal(got, want), (name, k)
        else:
            np.testing.assert_allclose(got, want, rtol=1e-6, atol=0, err_msg=f"{name} layer {k}")
    assert np.array_equal(got_counts, want_counts), name
