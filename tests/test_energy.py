"""Energy and latency estimate (lava_ssnnbp.energy): events counted by hand, the
arithmetic of the estimate, 'ssnnbp info --run' and benchmarks/energy.py."""
import dataclasses
import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

from lava_ssnnbp import cli, energy
from lava_ssnnbp.config import SSNNConfig
from lava_ssnnbp.engine import SimResult

ROOT = Path(__file__).resolve().parents[1]


def _res(x, dp, dn):
    """A one-sample SimResult with the given per-layer total spike counts (put on neuron 0)."""
    def layer(n, total):
        a = np.zeros((1, n), dtype=np.int64)
        a[0, 0] = total
        return a
    sizes = (4, 3, 2)
    return SimResult(layer(2, x[-1]), [layer(n, c) for n, c in zip(sizes, x)],
                     [layer(n, c) for n, c in zip(sizes[1:], dp)], [layer(n, c) for n, c in zip(sizes[1:], dn)])


def test_events_of_a_training_sample_by_hand():
    cfg = SSNNConfig(sizes=(4, 3, 2), steps=10, fixed_point=True, mode="coincidence")
    ev = energy.count_events(cfg, _res([5, 4, 3], [1, 2], [0, 1]), train=True, target_spikes=6)
    assert ev["synaptic_ops_forward"] == 5 * 3 + 4 * 2
    assert ev["synaptic_ops_backward"] == (2 + 1) * 3            # output d spikes through W1^T
    assert ev["synaptic_ops"] == 23 + 9 + 3 * 1 + 2 * (6 + 3)    # + WTA (C - 1 = 1) + error synapses
    assert ev["neuron_updates"] == 3 * 5 * 10 and ev["neuron_updates_active"] == 4 + 3 + 1 + 2 + 0 + 1
    assert ev["learning_updates_min"] == 23 + (12 + 6) and ev["learning_updates_max"] == 18 * 10
    assert ev["spikes_between_cores"] == 5 + 4 + 2 + 1 and ev["embedded_core_weight_writes"] == 6
    inf = energy.count_events(cfg, _res([5, 4, 3], [0, 0], [0, 0]), train=False)
    assert inf["synaptic_ops"] == 23 + 3 and inf["neuron_updates"] == 5 * 10 and "learning_updates_min" not in inf


def test_cost_is_events_times_per_event_figures():
    cfg = SSNNConfig(sizes=(4, 3, 2), steps=10, fixed_point=True, mode="coincidence")
    ev = {"synaptic_ops": 100.0, "neuron_updates": 50.0, "neuron_updates_active": 10.0,
          "spikes_between_cores": 4.0, "steps": 10.0, "learning_updates_min": 7.0, "learning_updates_max": 70.0}
    unit = dataclasses.replace(energy.LOIHI_2018, synaptic_op_pj=1, synaptic_update_pj=2, neuron_update_active_pj=3,
                               neuron_update_inactive_pj=4, spike_within_tile_pj=0.5, tile_hop_pj=0.5,
                               synaptic_op_ns=1, synaptic_update_ns=1, neuron_update_active_ns=1,
                               neuron_update_inactive_ns=1, barrier_ns=0)
    c = energy.estimate_cost(cfg, ev, unit)
    base = 100 * 1 + 10 * 3 + 40 * 4 + 4 * 1.0
    assert c["energy_mj"] == pytest.approx(base * 1e-9)
    assert c["energy_mj_learning_min"] == pytest.approx((base + 7 * 2) * 1e-9)
    assert c["energy_mj_learning_max"] == pytest.approx((base + 70 * 2) * 1e-9)
    # one core per layer: the busiest core holds 3 of the 5 neurons
    assert c["latency_ms"] == pytest.approx((100 + 50) * 3 / 5 * 1e-6)


def test_info_run_prints_the_energy_estimate(tmp_path, capsys):
    run = tmp_path / "run"
    argv = ["train", "--preset", "none", "--dataset", "default", "--train-samples", "60", "--test-samples", "20",
            "--hidden", "16", "--steps", "10", "--mode", "coincidence", "--fixed-point", "--quiet", "--out", str(run)]
    assert cli.main(argv) == 0
    capsys.readouterr()
    assert cli.main(["info", "--run", str(run)]) == 0
    out = capsys.readouterr().out
    assert "Energy and latency estimate on Loihi (first generation" in out and "Davies et al." in out
    assert "per training sample:" in out and "per inference:" in out and "Renner et al. 2024" in out


def test_energy_benchmark_script(tmp_path, capsys):
    spec = importlib.util.spec_from_file_location("bench_energy", ROOT / "benchmarks" / "energy.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    out = tmp_path / "energy.json"
    assert mod.main(["--hidden", "16", "--steps", "10", "--train-samples", "50", "--count", "20",
                     "--out", str(out)]) == 0
    entry = json.loads(out.read_text())["784-16-10 coincidence T=10"]
    assert entry["training_sample"]["energy_mj_learning_min"] > 0 and entry["inference"]["energy_mj"] > 0
    assert entry["samples_counted"] == {"train": 20, "test": 20} and entry["published"][0]["mnist_acc"] == 96.3


@pytest.mark.slow
@pytest.mark.parametrize("target", [None, "loihi2"])
def test_sample_costs_count_the_same_events_in_numpy_and_compiled(target):
    """'info --run' counts in numpy (accel=False, no minute of compiling): the same counts as the compiled loops."""
    from lava_ssnnbp import accel, dynamics as dyn
    from lava_ssnnbp.data import load_dataset
    if not accel.usable():
        pytest.skip("numba cannot be imported here")
    if target:
        cfg = SSNNConfig.loihi2_config(sizes=(784, 24, 10), steps=12)
    else:
        cfg = SSNNConfig(sizes=(784, 24, 10), steps=12, fixed_point=True, mode="coincidence")
    tr, te = load_dataset("default", "train"), load_dataset("default", "test")
    w = dyn.init_weights(cfg, 3)
    args = (cfg, w, tr.x[:6], tr.y[:6], te.x[:6], 3)
    numpy_counts, compiled = energy.sample_costs(*args), energy.sample_costs(*args, accel=True)
    assert numpy_counts == compiled and numpy_counts["training_sample"]["events"]["synaptic_ops"] > 0


def test_energy_script_on_a_run_whose_data_is_gone_is_one_line(tmp_path, capsys):
    """--run prices a run on its own data set's samples: when that data is not on this
    machine, one line naming the file and exit 2, not a traceback."""
    import numpy as np

    from lava_ssnnbp.data import load_dataset
    spec = importlib.util.spec_from_file_location("bench_energy", ROOT / "benchmarks" / "energy.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    ds = load_dataset("default", "train").subset(30, 0)
    data, run = tmp_path / "mine.npz", tmp_path / "run"
    np.savez(data, x=np.rint(ds.x.reshape(30, 28, 28) * 255).astype(np.uint8), y=ds.y)
    assert cli.main(["train", "--preset", "none", "--dataset", str(data), "--hidden", "8", "--steps", "8",
                     "--mode", "coincidence", "--fixed-point", "--quiet", "--out", str(run)]) == 0
    data.unlink()
    capsys.readouterr()
    assert mod.main(["--run", str(run), "--count", "5", "--out", str(tmp_path / "e.json")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("energy.py: error:") and "mine.npz" in err
    assert not (tmp_path / "e.json").exists()
