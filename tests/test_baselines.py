"""The torch baselines: TSSL-BP's pieces against hand computations, both models learn,
train/resume in run folders through the CLI, export to netx and run in Lava."""
import dataclasses
import json
import math
import signal
import subprocess
import sys

import h5py
import numpy as np
import pytest

import procs

torch = pytest.importorskip("torch")

from lava_ssnnbp import cli  # noqa: E402
from lava_ssnnbp.baselines import tssl_bp as tb  # noqa: E402
from lava_ssnnbp.baselines.runner import build_net  # noqa: E402
from lava_ssnnbp.training import Run, RunSettings, load_weights  # noqa: E402
from lava_ssnnbp.config import SSNNConfig  # noqa: E402

torch.set_num_threads(1)

TINY = ["--preset", "none", "--dataset", "default", "--train-samples", "600", "--test-samples", "100", "--hidden", "32",
        "--steps", "5", "--batch-size", "20", "--quiet"]


@pytest.fixture(autouse=True)
def runs_in_tmp(tmp_path, monkeypatch):
    monkeypatch.setattr(cli, "RUNS_ROOT", tmp_path / "runs")


def t(values):
    return torch.tensor(values, dtype=torch.float64).reshape(1, 1, -1)


# ------------------------------------------------------------------ TSSL-BP pieces, by hand
def test_psp_kernel_and_psp_by_hand():
    np.testing.assert_allclose(tb.psp_kernel(3, 2.0).numpy(), [0.5, 0.25, 0.125])
    # spikes 1, 0, 1 with tau_s = 2: 1/2, 1/4, 1/8 + 1/2
    np.testing.assert_allclose(tb.psp(t([1, 0, 1]), 2.0).numpy().ravel(), [0.5, 0.25, 0.625])


def test_lif_forward_by_hand():
    u, du, s, a = tb.lif_forward(t([0.6, 0.6, 0.6]), tau_m=5.0, tau_s=3.0, threshold=1.0)
    # u: 0.6; 0.6 * 0.8 + 0.6 = 1.08 > 1 (spike, reset); 0 + 0.6
    np.testing.assert_allclose(u.numpy().ravel(), [0.6, 1.08, 0.6])
    np.testing.assert_allclose(du.numpy().ravel(), [0.6, 0.48, 0.6])
    np.testing.assert_array_equal(s.numpy().ravel(), [0, 1, 0])
    np.testing.assert_allclose(a.numpy().ravel(), [0, 1 / 3, 2 / 9])
    # the threshold is strict (the authors' mem > threshold)
    assert tb.lif_forward(t([1.0]), 5.0, 3.0, 1.0)[2].item() == 0


def _grad(current, g, tau_m=5.0, tau_s=3.0):
    c = t(current).requires_grad_(True)
    a = tb._TSSLNeuron.apply(c, tau_m, tau_s, 1.0)
    a.backward(t(g))
    return c.grad.numpy().ravel()


def test_tssl_gradient_inter_and_intra_neuron_by_hand():
    # spikes at t = 0 and t = 2: u = 1.5, 0.5, 1.1; du = 1.5, 0.5, 0.6; the PSP never drops below 1/12
    g = [0.3, -0.2, 0.5]
    eps = [1 / 3, 2 / 9, 4 / 27]
    G = [g[0] * eps[0] + g[1] * eps[1] + g[2] * eps[2], g[1] * eps[0] + g[2] * eps[1], g[2] * eps[0]]
    g2 = G[2] / 0.6                          # inter-neuron: G_t / du_t at the spike
    g1 = 0.8 * g2                            # no spike: the next spike's gradient through the leak
    g0 = G[0] / 1.5 + (0.8 * g2) * 1.5 / 1.5 / 5   # spike: inter + the reset's effect on the next spike
    np.testing.assert_allclose(_grad([1.5, 0.5, 0.7], g), [g0, g1, g2], rtol=1e-12)


def test_tssl_gradient_silent_neuron_gets_the_surrogate_and_small_du_is_clamped():
    def dsig(u):   # sigmoid'((u - 1) / 0.2) / 0.2
        e = math.exp((1 - u) / 0.2)
        return e / ((1 + e) ** 2 * 0.2)
    g = [0.3, -0.2, 0.5]
    eps = [1 / 3, 2 / 9, 4 / 27]
    G = [g[0] * eps[0] + g[1] * eps[1] + g[2] * eps[2], g[1] * eps[0] + g[2] * eps[1], g[2] * eps[0]]
    u = [0.2, 0.36, 0.488]                   # 0.2 per step, never fires: PSP 0 < 1/12 throughout
    np.testing.assert_allclose(_grad([0.2, 0.2, 0.2], g), [G[k] * dsig(u[k]) for k in range(3)], rtol=1e-12)
    # u = 0.99, then 0.99 * 0.8 + 0.25 = 1.042: a spike with du = 0.052 < 1/8, so 1/du is clamped to 8
    g2 = [0.3, 0.5]
    got = _grad([0.99, 0.25], g2)
    assert got[1] == pytest.approx(8 * g2[1] / 3)
    assert got[0] == pytest.approx((g2[0] / 3 + g2[1] * 2 / 9) * dsig(0.99))


def test_weight_gradient_is_the_current_gradient_times_the_input_psp():
    net = tb.TSSLBPNet((6, 4), steps=5, seed=1).double()
    x = torch.rand(3, 6, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    y = torch.tensor([0, 1, 3])
    net.loss(net(x), y).backward()
    a_in = tb.psp(tb.encode_images(x, 5), 3.0)
    c = torch.einsum("oi,bit->bot", net.weights[0].detach(), a_in).requires_grad_(True)
    out = tb._TSSLNeuron.apply(c, 5.0, 3.0, 1.0)
    net.loss(out, y).backward()
    np.testing.assert_allclose(net.weights[0].grad.numpy(), torch.einsum("bot,bit->oi", c.grad, a_in).numpy(),
                               rtol=1e-10)


def test_desired_train_and_kernel_loss():
    np.testing.assert_array_equal(tb.desired_train(5), [0, 1, 1, 1, 1])
    np.testing.assert_array_equal(tb.desired_train(10), [0, 1] * 5)
    np.testing.assert_array_equal(tb.desired_train(7), [0, 1, 1, 1, 1, 0, 1])
    net = tb.TSSLBPNet((4, 2), steps=5)
    target = tb.psp(torch.tensor([[[0, 1, 1, 1, 1], [0, 0, 0, 0, 0]]], dtype=torch.float32), 3.0)
    assert net.loss(target, torch.tensor([0])).item() == pytest.approx(0.0, abs=1e-12)
    off = target.clone()
    off[0, 1, 2] += 0.1
    assert net.loss(off, torch.tensor([0])).item() == pytest.approx(0.5 * 0.01, rel=1e-5)
    # the readout is the PSP summed over steps, so an earlier spike counts more
    assert net.scores_from_spikes(np.array([[[1, 0, 0, 0, 0], [0, 0, 0, 0, 1]]]))[0].argmax() == 0


# ------------------------------------------------------------------ learning
def blobs(n, d=16, c=3, seed=0):
    centers = np.random.default_rng(123).random((c, d))
    rng = np.random.default_rng(seed)
    y = rng.integers(0, c, n)
    return np.clip(centers[y] + 0.1 * rng.standard_normal((n, d)), 0, 1).astype(np.float32), y


@pytest.mark.parametrize("method", ["tssl-bp", "slayer"])
def test_learns_a_small_problem(method):
    x, y = blobs(600)
    xt, yt = blobs(300, seed=1)
    net = build_net(method, (16, 32, 3), 5, seed=0, tau_m=5.0, tau_s=3.0)
    opt = net.make_optimizer(1e-2)
    xs, ys = torch.from_numpy(x), torch.from_numpy(y)
    for _ in range(8):
        _one_pass(net, opt, xs, ys, 50)
    acc = float(np.mean(net.readout(net(torch.from_numpy(xt))).argmax(1).numpy() == yt))
    assert acc > 0.9, acc


def test_importing_the_baselines_pulls_in_neither_torch_nor_lava():
    code = ("import sys, lava_ssnnbp, lava_ssnnbp.baselines, lava_ssnnbp.baselines.runner, lava_ssnnbp.training, "
            "lava_ssnnbp.cli; bad = [m for m in sys.modules if m.split('.')[0] in ('torch', 'lava')]; "
            "print(bad); sys.exit(1 if bad else 0)")
    procs.python_output(code)


# ------------------------------------------------------------------ run folders and the CLI
@pytest.mark.parametrize("method", ["tssl-bp", "slayer"])
def test_cli_trains_evaluates_and_resumes(capsys, tmp_path, method):
    out = tmp_path / method
    argv = ["train", *TINY, "--model", method, "--baseline-lr", "0.01", "--out", str(out)]
    assert cli.main([*argv, "--epochs", "2"]) == 0
    m = json.loads((out / "metrics.json").read_text())["epochs"]
    assert len(m) == 2 and m[-1]["test_acc"] > 0.25 and m[-1]["peak_rss_mib"] > 0   # chance: 0.1
    cfg = json.loads((out / "config.json").read_text())
    assert cfg["run"]["model"] == method and cfg["run"]["tau_s"] == 3.0 and cfg["model"]["dropout"] == []
    assert cfg["baseline"]["method"] == method and cfg["baseline"]["lr"] == 0.01
    capsys.readouterr()
    assert cli.main(["evaluate", str(out), "--test-samples", "100", "--quiet"]) == 0
    assert f"{100 * m[-1]['test_acc']:.2f}%" in capsys.readouterr().out
    assert cli.main(["info", "--run", str(out)]) == 0
    assert f"784-32-10 ({method}, trained off chip)" in capsys.readouterr().out
    w1 = load_weights(out / "weights.npz")
    assert cli.main([*argv, "--epochs", "3"]) == 0
    assert "resuming" in capsys.readouterr().out
    assert len(json.loads((out / "metrics.json").read_text())["epochs"]) == 3
    assert not all(np.array_equal(a, b) for a, b in zip(w1, load_weights(out / "weights.npz")))


class _Stop(Exception):
    pass


def test_interrupted_run_resumes_exactly(tmp_path):
    from lava_ssnnbp.data import load_dataset
    train = load_dataset("default", "train").subset(200, 0)
    test = load_dataset("default", "test").subset(50, 0)
    cfg = SSNNConfig(sizes=(784, 16, 10), steps=5)
    s = RunSettings(model="tssl-bp", epochs=2, batch_size=40, checkpoint_s=1e-9, baseline_lr=0.005)
    whole = Run.open(tmp_path / "whole", cfg, s)
    whole.train(train, test, progress=False)

    def stop(position):
        if position == 120:   # mid-epoch 1, killed before this batch's checkpoint
            raise _Stop
    with pytest.raises(_Stop):
        Run.open(tmp_path / "cut", cfg, s).train(train, test, progress=False, on_batch=stop)
    with np.load(tmp_path / "cut" / "checkpoint.npz", allow_pickle=False) as z:
        assert int(z["epoch"]) == 0 and int(z["position"]) == 80 and "opt_m0" in z.files
    resumed = Run.open(tmp_path / "cut", cfg, s)
    resumed.train(train, test, progress=False)
    for a, b in zip(load_weights(tmp_path / "whole" / "weights.npz"), load_weights(tmp_path / "cut" / "weights.npz")):
        np.testing.assert_array_equal(a, b)
    assert [r["test_acc"] for r in whole.metrics] == [r["test_acc"] for r in resumed.metrics]


# a run in its folder, SIGKILLed by itself after its argv[3]-th trained batch (0: never), before
# that batch's checkpoint: a real kill at a point the test names, not one a race picks
KILLED_RUN = """
import os, signal, sys
import torch
from lava_ssnnbp.config import SSNNConfig
from lava_ssnnbp.data import load_dataset
from lava_ssnnbp.runs import Run, RunSettings
torch.set_num_threads(1)
out, model, kill_at = sys.argv[1], sys.argv[2], int(sys.argv[3])
train, test = load_dataset("default", "train").subset(200, 0), load_dataset("default", "test").subset(50, 0)
s = RunSettings(model=model, epochs=2, batch_size=20, checkpoint_s=1e-9, baseline_lr=0.005, device="cpu")
batches = []
def batch_done(position):
    batches.append(position)
    if len(batches) == kill_at:
        os.kill(os.getpid(), signal.SIGKILL)
Run.open(out, SSNNConfig(sizes=(784, 16, 10), steps=5), s).train(train, test, progress=False, on_batch=batch_done)
"""
MEASURED = ("train_wall_s", "test_wall_s", "samples_per_s", "peak_rss_mib", "peak_gpu_mib")   # the machine's


def _run_killed_at(out, model, kill_at):
    p = subprocess.run([sys.executable, "-c", KILLED_RUN, str(out), model, str(kill_at)], capture_output=True,
                       text=True, timeout=600)
    assert p.returncode == (-signal.SIGKILL if kill_at else 0), p.stderr[-3000:]


@pytest.mark.parametrize("model,kills,positions", [
    ("tssl-bp", (7, 8), [(0, 120), (1, 60)]),    # mid-epoch 1, then mid-epoch 2
    ("tssl-bp", (7, 1), [(0, 120), (0, 120)]),   # the resumed run killed again before its first checkpoint
    ("slayer", (3, 9), [(0, 40), (1, 0)]),       # before the first epoch's end, then after it
])
def test_a_run_killed_twice_resumes_exactly(tmp_path, model, kills, positions):
    """SIGKILL twice in the middle of epochs (20 samples a batch, a checkpoint after each): the
    run resumed from what the kills left equals the uninterrupted one, its weights bit for bit
    and every metric that does not measure the machine."""
    from lava_ssnnbp.runs import read_run_folder
    _run_killed_at(tmp_path / "whole", model, 0)
    cut = tmp_path / "cut"
    for kill_at, (epoch, position) in zip(kills, positions):
        _run_killed_at(cut, model, kill_at)
        ck = read_run_folder(cut).checkpoint
        assert (int(ck["epoch"]), int(ck["position"])) == (epoch, position)
    _run_killed_at(cut, model, 0)
    whole, resumed = read_run_folder(tmp_path / "whole"), read_run_folder(cut)
    for a, b in zip(whole.weights, resumed.weights):
        np.testing.assert_array_equal(a, b)
    assert len(resumed.metrics) == 2 and "train_loss" in resumed.metrics[0]
    strip = lambda m: [{k: v for k, v in row.items() if k not in MEASURED} for row in m]   # noqa: E731
    assert strip(resumed.metrics) == strip(whole.metrics)


@pytest.mark.parametrize("argv,needles", [
    (["--model", "tssl-bp", "--tau-m", "0.5"], ["--tau-m", "tau_m"]),
    (["--model", "slayer", "--tau-s", "nan"], ["--tau-s"]),
    (["--model", "tssl-bp", "--baseline-lr", "0"], ["--baseline-lr"]),
    (["--model", "tssl-bp", "--device", "gpu7"], ["--device", "gpu7"]),
    *([(["--model", "tssl-bp", "--device", "cuda"], ["--device", "no CUDA GPU"])]
      if not torch.cuda.is_available() else []),
    (["--model", "slayer", "--backend", "lava"], ["--backend", "evaluate"]),
    (["--model", "tssl-bp", "--eta-warmup", "10"], ["--eta-warmup"]),
    (["--model", "tssl-bp-xl"], ["tssl-bp-xl"]),
    (["--model", "slayer", "--tau-grad", "0"], ["--tau-grad"]),
    (["--model", "slayer", "--scale-grad", "-1"], ["--scale-grad"]),
])
def test_bad_baseline_options_are_one_line_and_exit_2(capsys, argv, needles):
    rc = cli.main(["train", *TINY, *argv])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and len(err) == 1 and err[0].startswith("ssnnbp: error:"), err
    for n in needles:
        assert n in err[0], err


def test_slayer_surrogate_shapes_the_gradient_only():
    """tau_grad / scale_grad change SLAYER's weight gradients, not its forward pass."""
    x, y = blobs(50)
    xs, ys = torch.from_numpy(x), torch.from_numpy(y)
    grads, outs = [], []
    for tau_grad, scale_grad in ((1.0, 1.0), (0.03, 3.0)):
        net = build_net("slayer", (16, 32, 3), 5, seed=0, tau_m=5.0, tau_s=3.0, tau_grad=tau_grad,
                        scale_grad=scale_grad)
        out = net(xs)
        net.loss(out, ys).backward()
        outs.append(out.detach())
        grads.append(net.blocks[0].synapse.weight.grad.clone())
    assert outs[0].sum() > 0 and torch.equal(outs[0], outs[1])
    assert grads[0].abs().sum() > 0 and not torch.allclose(grads[0], grads[1])


def test_slayer_runs_from_before_the_surrogate_setting_keep_theirs(tmp_path):
    """A slayer run folder written before tau_grad/scale_grad were settings used 1.0, 1.0: it is
    read so, and a run with today's defaults does not resume it as if it were its own."""
    from lava_ssnnbp.training import same_settings
    old = {k: v for k, v in dataclasses.asdict(RunSettings(model="slayer")).items()
           if k not in ("tau_grad", "scale_grad")}
    assert (RunSettings.from_dict(old).tau_grad, RunSettings.from_dict(old).scale_grad) == (1.0, 1.0)
    assert not same_settings(old, dataclasses.asdict(RunSettings(model="slayer")))
    assert same_settings(old, dataclasses.asdict(RunSettings(model="slayer", tau_grad=1.0, scale_grad=1.0)))
    tssl = {**old, "model": "tssl-bp"}   # other models never used it: today's defaults
    assert RunSettings.from_dict(tssl).tau_grad == RunSettings().tau_grad


def test_damaged_optimizer_state_is_one_line(capsys, tmp_path):
    out = tmp_path / "run"
    assert cli.main(["train", *TINY, "--model", "tssl-bp", "--out", str(out)]) == 0
    with np.load(out / "checkpoint.npz", allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files}
    arrays["opt_v0"] = np.full_like(arrays["opt_v0"], np.nan)
    np.savez(out / "checkpoint.npz", **arrays)
    capsys.readouterr()
    assert cli.main(["train", *TINY, "--model", "tssl-bp", "--epochs", "2", "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "checkpoint.npz" in err[0] and "opt_m0" in err[0], err


# ------------------------------------------------------------------ netx export, in Lava
def _exported_float_simulation(path, x, steps, levels, image_shape=None):
    """The exported integer network simulated in float (mantissas / 64, 12-bit decays): netx's
    dense, conv and flatten layers, read back from the file."""
    from lava_ssnnbp.baselines.lava_export import graded_inputs
    with h5py.File(path, "r") as f:
        layers = []
        for i in range(1, len(f["layer"])):
            g = f[f"layer/{i}"]
            kind = g["type"][0].decode()
            if kind == "flatten":
                layers.append((kind,))
                continue
            layers.append((kind, g["weight"][()] / 64.0, int(np.ravel(g["stride"][()])[0]) if kind == "conv" else 1,
                           g["neuron/iDecay"][()] / 4096, g["neuron/vDecay"][()] / 4096, g["neuron/vThMant"][()] / 64.0))
    s = np.repeat(graded_inputs(x, levels, image_shape)[..., None], steps, axis=-1).astype(float)
    for layer in layers:
        if layer[0] == "flatten":
            s = s.reshape(len(s), -1, steps)
            continue
        kind, w, stride, du, dv, th = layer
        u = v = 0.0
        out = []
        for k in range(steps):
            if kind == "conv":
                cur = torch.nn.functional.conv2d(torch.from_numpy(s[..., k]), torch.from_numpy(w.astype(float)),
                                                      stride=stride).numpy()
            else:
                cur = s[..., k] @ w.T
            u = u * (1 - du) + cur
            v = v * (1 - dv) + u
            out.append(v > th)
            v = v * (1 - out[-1])
        s = np.stack(out, -1).astype(float)
    return s


def test_export_scales_a_strongly_driven_layer_to_the_16_bit_input_range(tmp_path):
    """A layer whose per-step input is far above its threshold is scaled down just enough: on the
    calibration images its largest input (in the written integer weights) stays below int16's 2**15
    and uses most of it, since the scale also sets the 8-bit weights' resolution against the threshold."""
    from lava_ssnnbp.baselines import lava_export as le
    from lava_ssnnbp.data import load_dataset
    cal = load_dataset("default", "train").subset(300, 0).x
    net = build_net("slayer", (784, 32, 10), 5, seed=0, tau_m=5.0, tau_s=3.0)
    # image templates as first-layer weights: an image's input reaches hundreds of thresholds per step
    templates = cal[:32] - cal[:32].mean(axis=1, keepdims=True)
    net.set_weights([templates.astype(np.float32), net.raw_weights()[1]])
    ex = le.export_netx(net, tmp_path / "net.h5", calibration=cal)
    with h5py.File(ex.path, "r") as f:
        w = f["layer/1/weight"][()]
    peak = np.abs(le.graded_inputs(cal, ex.levels) @ w.T).max()
    assert np.abs(w).max() < 200                    # the input, not the weights' range, set the scale
    assert 0.8 * 2 ** 15 <= peak < 2 ** 15, peak    # within int16, and not a factor 2 below it


@pytest.mark.lava
@pytest.mark.slow
@pytest.mark.parametrize("method", ["tssl-bp", "slayer"])
def test_export_runs_in_lava_like_torch(tmp_path, method):
    from lava_ssnnbp.baselines import lava_export as le
    from lava_ssnnbp.data import load_dataset
    train = load_dataset("default", "train").subset(600, 0)
    test = load_dataset("default", "test").subset(20, 0)
    net = build_net(method, (784, 32, 10), 5, seed=0, tau_m=5.0, tau_s=3.0)
    opt = net.make_optimizer(5e-3)
    xs, ys = torch.from_numpy(train.x), torch.from_numpy(train.y)
    for b in range(0, 600, 50):
        loss = net.loss(net(xs[b:b + 50]), ys[b:b + 50])
        opt.zero_grad()
        loss.backward()
        net.clip_gradients()
        opt.step()
        net.after_step()
    ex = le.export_netx(net, tmp_path / "net.h5", calibration=train.x[:200])
    with h5py.File(ex.path, "r") as f:
        assert f["layer/0/shape"][()].tolist() == [785]
        assert f["layer/1/neuron/iDecay"][()] == round(4096 / 3) and f["layer/1/neuron/vDecay"][()] == round(4096 / 5)
        assert f["layer/2/weight"].shape == (10, 32)
    lava = le.run_lava(ex, test.x)
    assert lava.shape == (20, 10, 5) and lava.sum() > 0
    # Lava runs the exported integer network exactly (its own arithmetic rounds a few spikes at most) ...
    same = _exported_float_simulation(ex.path, test.x, 5, ex.levels) == lava
    assert same.mean() > 0.995, same.mean()
    # ... and that differs from torch by the rounding of inputs, weights and decays only
    torch_spikes = net.spike_trains(torch.from_numpy(test.x))[-1].numpy()
    assert (torch_spikes == lava).mean() > 0.9
    agree = np.mean(net.scores_from_spikes(lava).argmax(1) == net.scores_from_spikes(torch_spikes).argmax(1))
    assert agree >= 0.75, agree


def _bench(name):
    import importlib.util
    from pathlib import Path
    path = Path(__file__).resolve().parents[1] / "benchmarks" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"bench_{name}", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.mark.lava
@pytest.mark.slow
def test_benchmark_script_and_evaluate_in_lava(tmp_path, capsys):
    script = _bench("baselines")
    res = tmp_path / "res"
    argv = ["--method", "slayer", "--dataset", "default", "--hidden", "16", "--epochs", "1", "--batch-size", "20",
            "--lava-samples", "10", "--runs", str(tmp_path / "runs"), "--results", str(res),
            "--train-samples", "600", "--test-samples", "50", "--quiet", "--baseline-lr", "0.01"]
    assert script.main([*argv, "--seeds", "0"]) == 0
    path = res / "baselines_default_slayer_784-16-10_T5_e1.json"
    r = json.loads(path.read_text())
    rec = r["per_seed"]["0"]
    assert r["seeds_finished"] == [0] and rec["lava_samples"] == 10 and rec["train_wall_s_per_epoch"] > 0
    assert r["lava_acc_per_seed"] == [rec["lava_acc"]] and rec["peak_rss_mib"] > 0
    # the torch number on the Lava images agrees with the run's own scoring of them
    from lava_ssnnbp.baselines import runner
    from lava_ssnnbp.data import load_dataset
    from lava_ssnnbp.training import read_run_folder
    folder = read_run_folder(tmp_path / "runs" / "default_slayer_784-16-10_T5_e1_seed0")
    test = load_dataset("default", "test")
    net = runner.net_from_settings(folder.cfg, folder.settings, folder.weights)
    assert rec["torch_acc_same_samples"] == pytest.approx(100 * runner.accuracy(net, test.x[:10], test.y[:10]))
    # a second seed is merged next to the first
    assert script.main([*argv, "--seeds", "1"]) == 0
    assert json.loads(path.read_text())["seeds_finished"] == [0, 1]
    # the command RESULTS.md prints for this file remakes it: same settings, so both seeds are kept
    command = script.reproduce_command(json.loads(path.read_text()), path.name).split()
    assert command[:3] == ["python", "-m", "benchmarks.baselines"] and "--seeds" in command
    assert script.main([*command[3:], "--runs", str(tmp_path / "runs"), "--results", str(res)]) == 0
    assert json.loads(path.read_text())["seeds_finished"] == [0, 1]
    capsys.readouterr()
    assert cli.main(["evaluate", str(folder.path), "--backend", "lava", "--test-samples", "10", "--quiet"]) == 0
    assert "netx export in Lava" in capsys.readouterr().out


def test_collect_records_an_unfinished_run_as_it_stands(tmp_path, capsys):
    """--collect trains nothing: a run folder with 1 of its 2 epochs done enters as unfinished."""
    b = _bench("baselines")
    runs, res = tmp_path / "runs", tmp_path / "res"
    run = runs / "default_tssl-bp_784-16-10_T5_e2_seed0"
    data = ["--train-samples", "300", "--test-samples", "50", "--quiet"]
    assert cli.main(["train", "--preset", "none", "--model", "tssl-bp", "--dataset", "default", "--hidden", "16",
                     "--epochs", "1", "--batch-size", "20", "--seed", "0", "--out", str(run), *data]) == 0
    argv = ["--method", "tssl-bp", "--dataset", "default", "--hidden", "16", "--epochs", "2", "--batch-size", "20",
            "--seeds", "0,1", "--runs", str(runs), "--results", str(res), "--collect", *data]
    assert b.main(argv) == 0
    path = res / "baselines_default_tssl-bp_784-16-10_T5_e2.json"
    r = json.loads(path.read_text())
    assert r["seeds_finished"] == [] and r["unfinished"] == {"0": 1} and r["test_acc_mean"] is None
    assert "seed 1: no run folder" in capsys.readouterr().out
    assert not (runs / "default_tssl-bp_784-16-10_T5_e2_seed1").exists()   # nothing trained
    written = path.read_text()
    assert b.main(argv) == 0 and path.read_text() == written   # nothing new: the file stays as it was
    capsys.readouterr()
    other = [("50" if a == "20" else a) for a in argv if a != "--collect"]   # batch 50: refused before training
    assert b.main(other) == 2 and path.read_text() == written
    assert "differing: batch_size" in capsys.readouterr().err
    assert not (runs / "default_tssl-bp_784-16-10_T5_e2_seed1").exists()
    path.write_text("{truncated")   # a damaged result file: one line, exit 2, nothing trained
    assert b.main(other) == 2 and "not a readable result file" in capsys.readouterr().err
    path.write_text(written)
    out = tmp_path / "RESULTS.md"
    assert _bench("make_results").main(["--results", str(res), "--output", str(out)]) == 0
    row = [line for line in out.read_text().splitlines() if line.startswith("| tssl-bp (300 train / 50 test images) |")]
    acc = 100 * json.loads((run / "metrics.json").read_text())["epochs"][-1]["test_acc"]
    assert len(row) == 1 and "not finished" in row[0] and f"0: {acc:.2f} after 1 of 2 epochs" in row[0]


def test_a_seed_run_after_a_setting_was_added_joins_the_earlier_seeds(tmp_path):
    b = _bench("baselines")
    path = tmp_path / "baselines_x.json"
    new_run = {k: v for k, v in dataclasses.asdict(RunSettings(model="tssl-bp")).items()
               if k not in b.RUN_KEYS_OUT}
    old_run = {k: v for k, v in new_run.items() if k not in ("tau_grad", "scale_grad")}
    rec = {"finished": True, "epochs_done": 1, "test_acc": 90.0, "train_wall_s_per_epoch": 1.0,
           "peak_rss_mib": 1.0, "machine": {}, "written": "2026-12-03T00:00:00"}
    settings = {"method": "tssl-bp", "dataset": "mnist", "sizes": [784, 16, 10], "steps": 5, "epochs": 1,
                "batch_size": 100, "extra_args": []}
    b.merge(path, 0, rec, {**settings, "run_settings": old_run})
    assert b.merge(path, 1, rec, {**settings, "run_settings": new_run})["seeds_finished"] == [0, 1]
    quiet = {**settings, "extra_args": ["--quiet"]}   # an output-only option: the seed still joins
    assert b.merge(path, 2, rec, {**quiet, "run_settings": new_run})["seeds_finished"] == [0, 1, 2]
    slayer_path = tmp_path / "baselines_s.json"
    slayer = {**settings, "method": "slayer"}   # an old slayer file used another surrogate
    b.merge(slayer_path, 0, rec, {**slayer, "run_settings": {**old_run, "model": "slayer"}})
    kept = slayer_path.read_text()
    with pytest.raises(b.SettingsMismatch, match="tau_grad"):   # refused, not overwritten
        b.merge(slayer_path, 1, rec, {**slayer, "run_settings": {**new_run, "model": "slayer"}})
    assert slayer_path.read_text() == kept
    assert b.merge(slayer_path, 0, rec, {**slayer, "run_settings": {**new_run, "model": "slayer"}}
                   )["seeds_finished"] == [0]   # rerunning the only seed kept replaces it


def test_results_table_puts_baselines_next_to_ssnn_bp(tmp_path):
    script = _bench
    res = tmp_path / "results"
    res.mkdir()
    settings = {"method": "tssl-bp", "dataset": "mnist", "sizes": [784, 1280, 10], "steps": 5, "epochs": 3,
                "batch_size": 100, "run_settings": {}, "extra_args": []}
    rec = {"finished": True, "epochs_done": 3, "test_acc": 97.5, "train_wall_s_per_epoch": 300.0,
           "peak_rss_mib": 900.0, "lava_acc": 97.0, "torch_acc_same_samples": 97.2, "lava_samples": 500,
           "machine": {}, "written": "2026-12-02T03:00:00"}
    b = script("baselines")
    b.merge(res / "baselines_mnist_tssl-bp_784-1280-10_T5_e3.json", 0, rec, settings)
    r = b.merge(res / "baselines_mnist_tssl-bp_784-1280-10_T5_e3.json", 1, {**rec, "test_acc": 97.9}, settings)
    assert r["seeds_finished"] == [0, 1] and r["test_acc_mean"] == pytest.approx(97.7)
    with pytest.raises(b.SettingsMismatch, match="batch_size"):   # other settings never drop the seeds kept
        b.merge(res / "baselines_mnist_tssl-bp_784-1280-10_T5_e3.json", 2, rec, {**settings, "batch_size": 50})
    out = tmp_path / "RESULTS.md"
    assert script("make_results").main(["--results", str(res), "--output", str(out)]) == 0
    row = [line for line in out.read_text().splitlines() if line.startswith("| tssl-bp |")]
    assert len(row) == 1 and "784-1280-10" in row[0] and "97.00 (torch 97.20; 500)" in row[0] and "| 300 |" in row[0]
    assert "(a)" in row[0]   # a record without the export's calibration fields: the export before 2026-12-03
    commands = [line for line in out.read_text().splitlines() if "python -m benchmarks.baselines" in line]
    assert len(commands) == 1 and "--seeds 0,1 " in commands[0] and "--epochs 3 " in commands[0]
    assert "--tag" not in commands[0] and "--lava-samples 500" in commands[0]
    # a tagged variant's command names its tag
    b.merge(res / "baselines_mnist_tssl-bp_784-1280-10_T5_e3_lr0.1.json", 0, rec, settings)
    assert script("make_results").main(["--results", str(res), "--output", str(out)]) == 0
    assert "--tag lr0.1`" in out.read_text()


# ------------------------------------------------------------------ conv stacks (TSSL-BP's CNN rows)
def test_sum_pooling_by_hand():
    a = torch.tensor([[1.0, 2.0], [3.0, 4.0]]).reshape(1, 1, 2, 2, 1)
    assert tb.sum_pool(a, 2).item() == pytest.approx(1.1 * 10)   # the authors' pooling weight 1.1


def test_a_conv_layer_as_large_as_the_image_is_a_dense_layer():
    from lava_ssnnbp.baselines import weight_shapes
    assert weight_shapes((784, 300, 10), "15C5-P2-40C5-P2", (28, 28)) == [
        (15, 1, 5, 5), (40, 15, 5, 5), (300, 640), (10, 300)]   # the authors' MNIST CNN: 640 = 40 x 4 x 4
    conv = tb.TSSLBPNet((16, 2), steps=5, seed=3, conv="3C4", input_shape=(4, 4)).double()
    with torch.no_grad():   # strong enough that both layers fire
        for w in conv.weights:
            w.mul_(4)
    dense = tb.TSSLBPNet((16, 3, 2), steps=5, seed=3).double()
    dense.set_weights([conv.weights[0].detach().reshape(3, 16).numpy(), conv.weights[1].detach().numpy()])
    x = torch.rand(4, 16, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    y = torch.tensor([0, 1, 1, 0])
    out_c, out_d = conv(x), dense(x)
    np.testing.assert_allclose(out_c.detach().numpy(), out_d.detach().numpy(), rtol=1e-12)
    assert all(t.sum() > 0 for t in conv.spike_trains(x))   # spikes in both layers: the comparison says something
    conv.loss(out_c, y).backward()
    dense.loss(out_d, y).backward()
    np.testing.assert_allclose(conv.weights[0].grad.reshape(3, 16).numpy(), dense.weights[0].grad.numpy(), rtol=1e-10)


def test_cli_trains_evaluates_and_resumes_a_conv_network(capsys, tmp_path):
    out = tmp_path / "cnn"
    argv = ["train", *TINY, "--model", "tssl-bp", "--conv", "4C5-P2", "--hidden", "16", "--baseline-lr", "0.01",
            "--out", str(out)]
    assert cli.main([*argv, "--epochs", "1"]) == 0
    w = load_weights(out / "weights.npz")
    assert [a.shape for a in w] == [(4, 1, 5, 5), (16, 576), (10, 16)]
    assert json.loads((out / "config.json").read_text())["run"]["conv"] == "4C5-P2"
    capsys.readouterr()
    assert cli.main(["evaluate", str(out), "--test-samples", "100", "--quiet"]) == 0
    m = json.loads((out / "metrics.json").read_text())["epochs"]
    assert f"{100 * m[-1]['test_acc']:.2f}%" in capsys.readouterr().out
    assert cli.main([*argv, "--epochs", "2"]) == 0
    assert "resuming" in capsys.readouterr().out


def _one_pass(net, opt, xs, ys, batch):
    """One epoch of the baseline's training step over (xs, ys) in order."""
    for b in range(0, len(xs), batch):
        loss = net.loss(net(xs[b:b + batch]), ys[b:b + batch])
        opt.zero_grad()
        loss.backward()
        net.clip_gradients()
        opt.step()
        net.after_step()


def _trained_cnn(conv, images=400, seed=0):
    """A TSSL-BP CNN after one pass over ``images`` embedded training images (float64)."""
    from lava_ssnnbp.data import load_dataset
    train = load_dataset("default", "train").subset(images, 0)
    net = tb.TSSLBPNet((784, 16, 10), steps=5, seed=seed, conv=conv).double()
    opt = net.make_optimizer(5e-3)
    _one_pass(net, opt, torch.from_numpy(train.x).double(), torch.from_numpy(train.y), 50)
    return net, train


@pytest.mark.parametrize("conv", ["4C5-P2-6C3-P2", "P2-3C3-P2"])
def test_pooling_and_the_input_fold_into_the_exported_layers_exactly(conv):
    """netx has no pooling layer: each sum pooling goes into the next layer (a conv of stride k, a
    dense layer over the unpooled map), the input normalisation into a constant channel. Before
    rounding, the exported maps give torch's spikes exactly on images already on the 16 levels."""
    from lava_ssnnbp.baselines import lava_export as le
    from lava_ssnnbp.data import load_dataset
    net, _ = _trained_cnn(conv, images=200)
    x = np.rint(load_dataset("default", "test").subset(30, 0).x * 15) / 15
    maps = le.linear_maps(net)
    assert [kind for kind, *_ in maps] == ["conv"] * (len(net.weights) - 2) + ["dense", "dense"]
    assert [stride for _, _, stride, _ in maps][:2] == ([1, 2] if conv.startswith("4C") else [2, 1])
    s = le.graded_inputs(x, 15, (1, 28, 28)).astype(float)[..., None].repeat(5, -1)
    ref = net.spike_trains(torch.from_numpy(x))
    for (kind, w, stride, _), r in zip(maps, ref):
        u = v = 0.0
        out = []
        for k in range(5):
            u = u * (1 - 1 / 3) + le._layer_input(kind, w, stride, s[..., k])
            v = v * (1 - 1 / 5) + u
            out.append(v > 1.0)
            v = v * (1 - out[-1])
        s = np.stack(out, -1).astype(float)
        assert r.sum() > 0 and np.array_equal(s.reshape(r.shape), r.numpy()), kind


@pytest.mark.lava
@pytest.mark.slow
def test_conv_export_runs_in_lava_like_torch(tmp_path):
    from lava_ssnnbp.baselines import lava_export as le
    from lava_ssnnbp.data import load_dataset
    net, train = _trained_cnn("4C5-P2-6C3-P2")
    test = load_dataset("default", "test").subset(20, 0)
    ex = le.export_netx(net, tmp_path / "cnn.h5", calibration=train.x[:200])
    with h5py.File(ex.path, "r") as f:
        types = [f[f"layer/{i}/type"][0].decode() for i in range(len(f["layer"]))]
        assert types == ["input", "conv", "conv", "flatten", "dense", "dense"]
        assert f["layer/0/shape"][()].tolist() == [2, 28, 28]    # the image and the constant channel
        assert f["layer/2/weight"].shape == (6, 4, 6, 6) and f["layer/2/stride"][()].tolist() == [2, 2]
        assert f["layer/4/weight"].shape == (16, 6 * 10 * 10)    # over the unpooled 10 x 10 maps
    lava = le.run_lava(ex, test.x)
    assert lava.shape == (20, 10, 5) and lava.sum() > 0
    same = _exported_float_simulation(ex.path, test.x, 5, ex.levels, (1, 28, 28)) == lava
    assert same.mean() > 0.995, same.mean()
    torch_spikes = net.spike_trains(torch.from_numpy(test.x))[-1].numpy()
    assert (torch_spikes == lava).mean() > 0.9


@pytest.mark.parametrize("argv,needles", [
    (["--model", "tssl-bp", "--conv", "15C5-Q2"], ["--conv", "Q2"]),
    (["--model", "tssl-bp", "--conv", "8C5-P5"], ["--conv", "pooling"]),
    (["--model", "slayer", "--conv", "8C5"], ["--conv", "tssl-bp only"]),
])
def test_bad_conv_stacks_are_one_line(capsys, argv, needles):
    rc = cli.main(["train", *TINY, *argv])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and len(err) == 1 and err[0].startswith("ssnnbp: error:"), err
    for n in needles:
        assert n in err[0], err


def test_threads_option_sets_torchs_threads(tmp_path):
    # torch's threads spin-wait on each other on a shared machine: --threads must reach torch
    try:
        torch.set_num_threads(2)
        argv = ["train", *TINY, "--train-samples", "40", "--model", "tssl-bp", "--epochs", "1"]
        assert cli.main([*argv, "--out", str(tmp_path / "a")]) == 0
        assert torch.get_num_threads() == 2          # no --threads: torch's own setting stands
        assert cli.main([*argv, "--threads", "1", "--out", str(tmp_path / "b")]) == 0
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(1)


# ------------------------------------------------------------------ memory
def _limited_train(tmp_path, argv):
    """'ssnnbp train' under ulimit -v 6 GiB (RLIMIT_AS: torch's libraries count against it)."""
    import resource

    def limit():
        resource.setrlimit(resource.RLIMIT_AS, (6 * 2 ** 30, 6 * 2 ** 30))
    return subprocess.run([sys.executable, "-m", "lava_ssnnbp.cli", "train", "--preset", "none", "--dataset", "default",
                           "--train-samples", "100", "--test-samples", "20", "--steps", "5", "--device", "cpu",
                           "--quiet", *argv, "--out", str(tmp_path / "run")],
                          capture_output=True, text=True, preexec_fn=limit, timeout=600)


@pytest.mark.parametrize("model,argv,option", [
    *[(model, ["--hidden", "10000000"], "--hidden: invalid sizes") for model in ("tssl-bp", "slayer", "ann")],
    *[(model, ["--hidden", "40000", "--train-samples", "500", "--batch-size", "500"],
       "--batch-size: invalid batch_size") for model in ("tssl-bp", "slayer")],
])
def test_a_baseline_beyond_memory_is_refused_before_it_allocates(tmp_path, model, argv, option):
    """A network or batch beyond what the process may use (here ulimit -v) is refused in one line
    naming the option, exit 2, before torch (or numpy) allocates: not torch's allocator failing
    mid-run (a RuntimeError traceback, or std::bad_alloc and rc -6)."""
    p = _limited_train(tmp_path, ["--model", model, *argv])
    lines = p.stderr.strip().splitlines()
    assert p.returncode == 2 and len(lines) == 1, p.stderr[-3000:]
    assert lines[0].startswith(f"ssnnbp: error: argument {option}: ") and "available" in lines[0], lines
    assert not (tmp_path / "run").exists()      # refused before the folder was touched


def test_torchs_allocation_failure_is_a_memory_error(tmp_path):
    """What the check cannot foresee: torch's allocator failing is a MemoryError (one line in the
    CLI, exit 1), not a RuntimeError traceback."""
    code = ("import resource, torch\n"
            "from lava_ssnnbp.baselines.runner import memory_errors\n"
            "used = int(open('/proc/self/status').read().split('VmSize:')[1].split()[0]) * 1024\n"
            "resource.setrlimit(resource.RLIMIT_AS, (used + 2 ** 29, used + 2 ** 29))\n"
            "try:\n"
            "    with memory_errors():\n"
            "        torch.ones(2 ** 30)\n"
            "except MemoryError as e:\n"
            "    print('MemoryError:', e)\n")
    assert procs.python_output(code).strip() == "MemoryError: torch could not allocate 4096 MiB"
