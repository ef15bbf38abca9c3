"""Bad input from Python: samples given to Engine and SSNNBPNetwork, SSNNConfig and RunSettings
fields, the memory a simulation needs. Each is a clear ValueError (ConfigError/RunError) naming
the problem, never a silent conversion or an error deep inside the dynamics."""
import dataclasses

import numpy as np
import pytest

from lava_ssnnbp import memory, validation
from lava_ssnnbp.config import ConfigError, SSNNConfig
from lava_ssnnbp.engine import Engine
from lava_ssnnbp.training import RunError, RunSettings

CFG = SSNNConfig(sizes=(6, 5, 3), steps=5)
X = np.random.default_rng(0).random((4, 6))
Y = np.array([0, 1, 2, 0])


def _x(**change):
    x = X.copy()
    for (i, j), v in change.get("set", {}).items():
        x[i, j] = v
    return x


BAD_SAMPLES = [   # (x, y, message, what is wrong: x, y or that there are no samples)
    (X, Y[:3], "one label per sample", "y"),
    (X, np.array([-1, 0, 1, 2]), r"classes 0\.\.2", "y"),
    (X, np.array([10, 0, 1, 2]), r"classes 0\.\.2", "y"),
    (X, np.array([2.7, 0, 1, 2]), "labels must be integers.*2.7", "y"),
    (X, np.array([True, False, True, False]), "labels must be integers", "y"),
    (X, np.array([[0, 1, 2, 0]]), "one label per sample", "y"),
    (_x(set={(0, 0): np.nan}), Y, "NaN", "x"),
    (_x(set={(1, 2): np.inf}), Y, "NaN or inf", "x"),
    (X * 255, Y, r"\[0, 1\].*x / 255.0", "x"),
    ((X * 255).astype(np.uint8), Y, r"uint8.*x / 255.0", "x"),
    (X - 0.5, Y, r"\[0, 1\]", "x"),
    (np.zeros((4, 7)), Y, r"images \(n, 6\)", "x"),
    (X[0], Y[:1], r"images \(n, 6\)", "x"),
    (np.full((4, 5, 6), 2, np.uint8), Y, "0/1 spikes", "x"),
    (np.full((4, 5, 6), 0.5), Y, "0/1 spikes", "x"),
    (np.zeros((4, 4, 6), np.uint8), Y, r"event frames \(n, 5, 6", "x"),
    (X.astype(str), Y, "must hold numbers", "x"),
    (X[:0], Y[:0], "no samples", "n"),
]


@pytest.mark.parametrize("x,y,match,what", BAD_SAMPLES)
@pytest.mark.parametrize("schedule", ["per-sample", "mini-batch"])
def test_engine_train_batch_rejects_bad_samples(x, y, match, what, schedule):
    eng = Engine(CFG, seed=0)
    with pytest.raises(ValueError, match=match):
        eng.train_batch(x, y, schedule)
    assert eng.samples_seen == 0


@pytest.mark.parametrize("x,y,match,what", [b for b in BAD_SAMPLES if b[3] == "x"])
def test_engine_predict_rejects_bad_samples(x, y, match, what):
    with pytest.raises(ValueError, match=match):
        Engine(CFG, seed=0).predict_counts(x, np.arange(len(x)))


@pytest.mark.parametrize("ids", [np.arange(3), np.arange(4) - 1, np.array([0.0, 1, 2, 3])])
def test_engine_predict_rejects_bad_sample_ids(ids):
    with pytest.raises(ValueError, match="sample_ids"):
        Engine(CFG, seed=0).predict_counts(X, ids)


def test_valid_samples_still_train_and_predict():
    """What the check lets through, as it is: [0, 1] floats of any width, 0/1 integer
    images, bool or 0/1 integer event frames, integer labels of any width."""
    eng = Engine(CFG, seed=0)
    for x, y in ((X.astype(np.float32), Y.astype(np.uint8)), ((X > 0.5).astype(np.uint8), list(Y)),
                 (np.ones((4, 5, 6), dtype=bool), Y), (np.zeros((4, 5, 6), dtype=np.int16), Y.astype(np.int32))):
        assert eng.train_batch(x, y, "mini-batch").out_counts.shape == (4, 3)
        assert eng.predict_counts(x, np.arange(4)).shape == (4, 3)
    assert eng.predict_counts(X[:0], []).shape == (0, 3)


@pytest.mark.parametrize("x,y,match,what", [b for b in BAD_SAMPLES if b[0].ndim == 2 and b[3] != "n"])
def test_lava_network_shares_the_check(x, y, match, what):
    """SSNNBPNetwork.run rejects the same samples with the same messages, before
    any Lava runtime starts."""
    from lava_ssnnbp.network import SSNNBPNetwork
    net = SSNNBPNetwork(CFG, seed=0)
    try:
        with pytest.raises(ValueError, match=match):
            net.train(x, y)
        if what == "x":
            with pytest.raises(ValueError, match=match):
                net.predict_counts(x)
        assert net._state["runtime"] is None
    finally:
        net.close()


# ------------------------------------------------------------------ SSNNConfig
def _fields_of(kind):
    return [f.name for f in dataclasses.fields(SSNNConfig) if kind in f.type]


@pytest.mark.parametrize("name", _fields_of("float"))
@pytest.mark.parametrize("value", [float("nan"), float("inf"), -float("inf"), "1", True, None, [0.3]])
def test_every_float_field_needs_a_finite_number(name, value):
    if value is None and "Optional" in dict((f.name, f.type) for f in dataclasses.fields(SSNNConfig))[name]:
        return   # None means "derived" there
    if name == "dropout":
        value = (value, 0.1)
    with pytest.raises(ConfigError, match=f"invalid {name}"):
        SSNNConfig(sizes=(6, 5, 3), **{name: value})


@pytest.mark.parametrize("name", _fields_of("int"))
@pytest.mark.parametrize("value", [8.5, 8.0, "8", True, float("nan")])
def test_every_integer_field_needs_an_integer(name, value):
    if name in ("sizes", "weight_exp"):
        value = (6, value, 3) if name == "sizes" else (value, 0)
    with pytest.raises(ConfigError, match=f"invalid {name}"):
        SSNNConfig(**{"sizes": (6, 5, 3), name: value})


@pytest.mark.parametrize("name", _fields_of("bool"))
@pytest.mark.parametrize("value", ["False", 0, 1, None])
def test_every_bool_field_needs_a_bool(name, value):
    with pytest.raises(ConfigError, match=f"invalid {name}.*True or False"):
        SSNNConfig(**{name: value})


def test_numpy_scalars_are_accepted_as_python_numbers():
    cfg = SSNNConfig(sizes=[np.int64(6), np.int32(5), 3], steps=np.int64(10), theta=np.float32(4.0),
                     fixed_point=np.bool_(False), weight_exp=np.array([0, 0]), dropout=np.array([0.1, 0.2]))
    assert cfg.sizes == (6, 5, 3) and type(cfg.steps) is int and type(cfg.theta) is float
    assert type(cfg.fixed_point) is bool and cfg.weight_exp == (0, 0) and cfg.dropout == (0.1, 0.2)
    assert hash(cfg) == hash(SSNNConfig(sizes=(6, 5, 3), steps=10, theta=4.0, weight_exp=(0, 0), dropout=(0.1, 0.2)))


@pytest.mark.parametrize("kw,match", [
    (dict(weight_exp=(100, 100)), r"-8\.\.7"),
    (dict(weight_exp=(-9, 0)), r"-8\.\.7"),
    (dict(weight_exp=(7, 7), fixed_point=True), "round to 0"),          # std 0.25, one unit = 2
    (dict(weight_exp=(-8, -8), fixed_point=True), "saturate"),
    (dict(init_gain=0.001, fixed_point=True), "round to 0"),
    (dict(init_gain=0.0), "init_gain"),
    (dict(init_gain=-1.0), "init_gain"),
])
def test_weight_scales_that_make_a_dead_network_are_rejected(kw, match):
    with pytest.raises(ConfigError, match=match):
        SSNNConfig(**kw)


def test_weight_exponents_the_check_allows_leave_live_weights():
    """At the edges of the range the check allows, the initial mantissas are
    mostly nonzero and mostly unsaturated (784-1280-10, theta 5)."""
    from lava_ssnnbp.dynamics import init_weights
    for e in (-5, 5):
        cfg = SSNNConfig(fixed_point=True, weight_exp=(e, e))
        for w in init_weights(cfg, 0):
            assert np.mean(w == 0) < 0.9 and np.mean(np.abs(w) == 127) < 0.9
    for e in (-6, 6):   # 90 % saturated in the 784-input layer, 99 % 0 in the 1280-input one
        with pytest.raises(ConfigError, match="saturate" if e < 0 else "round to 0"):
            SSNNConfig(fixed_point=True, weight_exp=(e, e))


# ------------------------------------------------------------------ RunSettings
@pytest.mark.parametrize("name", [f.name for f in dataclasses.fields(RunSettings) if "float" in f.type])
@pytest.mark.parametrize("value", [float("nan"), float("inf"), "1"])
def test_every_float_setting_needs_a_finite_number(name, value):
    with pytest.raises(RunError, match=f"invalid {name}"):
        RunSettings(**{name: value})


@pytest.mark.parametrize("kw", [dict(seed=-1), dict(seed="abc"), dict(seed=1.5), dict(epochs=True),
                                dict(train_samples=2.0), dict(dataset=5), dict(ann_momentum=1.0),
                                dict(dataset="mnsit"), dict(dataset="MNIST"), dict(dataset=""),
                                dict(conv="", model="tssl-bp"), dict(conv=" ", model="tssl-bp"), dict(conv="")])
def test_bad_run_settings(kw):
    with pytest.raises(RunError, match=f"invalid {next(iter(kw))}"):
        RunSettings(**kw)


# ------------------------------------------------------------------ memory
def test_memory_check_says_what_fits(monkeypatch):
    monkeypatch.setattr(memory, "available_bytes", lambda: 2 ** 30)
    cfg = SSNNConfig(sizes=(784, 16, 10), steps=50_000)   # one sample at a time fits, 20 do not
    with pytest.raises(ConfigError, match=r"invalid batch_size: 20 samples .* batch_size <= (\d+) fits") as e:
        validation.check_memory(cfg, 20, train=True)
    fits = int(str(e.value).split("batch_size <= ")[1].split()[0])
    assert 1 <= fits < 20
    validation.check_memory(cfg, fits, train=True)        # the advice holds
    with pytest.raises(ConfigError):
        validation.check_memory(cfg, fits + 1, train=True)
    cfg = cfg.replace(steps=500_000)                      # not even one sample fits
    with pytest.raises(ConfigError, match=r"invalid steps: 500000 .* steps <= (\d+) fits at batch 1$") as e:
        validation.check_memory(cfg, 1, train=True)
    max_t = int(str(e.value).split("steps <= ")[1].split()[0])
    validation.check_memory(cfg.replace(steps=max_t), 1, train=True)
    with pytest.raises(ConfigError):
        validation.check_memory(cfg.replace(steps=max_t + 1), 1, train=True)
    # the engine checks before it allocates: no numpy MemoryError
    eng = Engine(cfg.replace(steps=10 ** 9))
    for call in (lambda: eng.train_batch(np.full((1, 784), 0.5), [1]), lambda: eng.predict(np.zeros((1, 784)), [0])):
        with pytest.raises(ConfigError, match="too many for this machine"):
            call()


def test_evaluation_lowers_its_batch_to_what_fits(monkeypatch):
    from lava_ssnnbp.training import evaluate_counts
    cfg = SSNNConfig(sizes=(6, 5, 3), steps=5)
    x = np.random.default_rng(1).random((40, 6))
    full = evaluate_counts(cfg, Engine(cfg, seed=0).weights, x, 0, progress=False)
    per = validation.simulation_bytes(cfg, 1, False) - validation.simulation_bytes(cfg, 0, False)
    monkeypatch.setattr(memory, "available_bytes", lambda: validation.simulation_bytes(cfg, 0, False) + 3 * per)
    assert validation.fitting_batch(cfg, 256, train=False) == 3
    np.testing.assert_array_equal(evaluate_counts(cfg, Engine(cfg, seed=0).weights, x, 0, progress=False), full)


def test_event_frames_that_cannot_fit_are_refused_before_loading(tmp_path, monkeypatch):
    from lava_ssnnbp.data import DataError, load_dataset
    from lava_ssnnbp.data.nmnist import FRAME, write_synthetic_nmnist
    write_synthetic_nmnist(tmp_path, np.random.default_rng(0).random((3, 784)), np.arange(3), "test")
    monkeypatch.setattr(memory, "available_bytes", lambda: 3 * 50 * FRAME)
    assert load_dataset("nmnist", "test", tmp_path, steps=50, verify=False).x.shape == (3, 50, FRAME)
    with pytest.raises(DataError, match=r"N-MNIST test: 3 samples of 51 frames .* steps <= 50 fits"):
        load_dataset("nmnist", "test", tmp_path, steps=51, verify=False)


# ------------------------------------------------------------------ Engine arguments
@pytest.mark.parametrize("fixed", [False, True])
@pytest.mark.parametrize("dtype", [np.int8, np.int16, np.int64, np.uint8, np.float16, np.complex64, np.bool_, "abc"])
def test_engine_refuses_a_dtype_that_cannot_hold_the_network(fixed, dtype):
    """int8 for a float network made weights almost all 0; fixed point computes in int32."""
    with pytest.raises(ValueError, match="dtype must be float32 or float64"):
        Engine(CFG.replace(fixed_point=fixed), seed=0, dtype=dtype)


def test_engine_dtypes_that_hold_the_network():
    for dtype in (np.float32, np.float64, "float64"):
        assert Engine(CFG, seed=0, dtype=dtype).weights[0].dtype == np.dtype(dtype)
    for dtype in (np.float32, np.float64, np.int32):   # fixed point: int32 whatever dtype
        assert Engine(CFG.replace(fixed_point=True), seed=0, dtype=dtype).weights[0].dtype == np.int32
    with pytest.raises(ValueError, match="int32"):
        Engine(CFG, seed=0, dtype=np.int32)


@pytest.mark.parametrize("seed", [None, 2.5, 2.0, -1, True, "0"])
def test_engine_seed_must_be_an_integer(seed):
    with pytest.raises(ValueError, match=r"seed must be an integer >= 0 \(it names random streams\), got"):
        Engine(CFG, seed=seed)
    assert Engine(CFG, seed=np.int64(3)).seed == 3


def _weights(cfg=CFG):
    return Engine(cfg, seed=0, dtype=np.float64).weights


@pytest.mark.parametrize("make,match", [
    (lambda w: {"w0": w[0], "w1": w[1]}, r"weights must be a list of 2 arrays .* got dict"),
    (lambda w: "w0", r"weights must be a list of 2 arrays .* got str"),
    (lambda w: iter(w), r"weights must be a list of 2 arrays .* got list_iterator"),
    (lambda w: [w[1], w[0]], r"layer 0 must have shape \(5, 6\), got \(3, 5\) \(the shape of layer 1: layers in the "
                             r"wrong order\?\)"),
    (lambda w: [w[0].T, w[1].T], r"layer 0 must have shape \(5, 6\), got \(6, 5\) \(transposed\?"),
    (lambda w: [np.ones((5, 6), int), w[1]], r"layer 0 are integers \(int64\) but the network is floating point"),
    (lambda w: [w[0], np.round(w[1] * 64).astype(np.int8)], r"layer 1 are integers \(int8\)"),
])
def test_engine_refuses_weights_that_are_not_the_networks(make, match):
    """One ValueError for API misuse that used to end deep inside (or, for integers given to a
    float network, be used as float weights: mantissas read 64 times too large)."""
    with pytest.raises(ValueError, match=match):
        Engine(CFG, make(_weights()), seed=0)


def test_integer_mantissas_still_go_to_a_fixed_point_network_and_floats_to_a_float_one():
    fixed = CFG.replace(fixed_point=True)
    w = _weights(fixed)
    assert w[0].dtype == np.int32 and Engine(fixed, w, seed=0).weights[0].dtype == np.int32
    assert Engine(fixed, [a.astype(np.float64) for a in w], seed=0).weights[0].dtype == np.int32
    w32 = [a.astype(np.float32) for a in _weights()]
    assert Engine(CFG, w32, seed=0, dtype=np.float64).weights[0].dtype == np.float64
    assert Engine(CFG, tuple(_weights()), seed=0).weights[1].shape == (3, 5)


# ------------------------------------------------------------------ counts
@pytest.mark.parametrize("bad", [2.5, 2.0, True, "2", None, -1])
def test_every_count_is_a_whole_number(bad):
    """A float count (n_samples=2.5) ended in a TypeError from a slice deep inside, or was
    truncated; now each API names its argument."""
    from lava_ssnnbp.data import load_dataset
    from lava_ssnnbp.training import evaluate_counts
    ds = load_dataset("default", "test")
    calls = {"n": [lambda: ds.subset(bad), lambda: ds.split_off(bad)],
             "seed": [lambda: ds.subset(10, bad), lambda: ds.split_off(10, bad)],
             "max_samples": [lambda: load_dataset("default", "test", max_samples=bad)] if bad is not None else [],
             "batch_size": [lambda: evaluate_counts(CFG, Engine(CFG, seed=0).weights, X, 0, batch_size=bad,
                                                    progress=False)]}
    for name, fs in calls.items():
        for f in fs:
            with pytest.raises(ValueError, match=f"^{name} must be an integer >= "):
                f()
    assert len(ds.subset(np.int64(10), np.int32(1))) == 10 and len(load_dataset("default", "test", max_samples=5)) == 5
