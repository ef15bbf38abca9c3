"""Model binding (run_config), standalone processes, and runtime clean-up."""
import gc
import json
import multiprocessing as mp
import os
import signal
import subprocess
import sys
import threading

import numpy as np
import procs
import pytest

from lava_ssnnbp import dynamics as dyn
from lava_ssnnbp import lifecycle
from lava_ssnnbp.config import SSNNConfig
from lava_ssnnbp.engine import Engine
from lava_ssnnbp.network import SSNNBPNetwork

pytestmark = pytest.mark.lava

CFG = SSNNConfig(sizes=(20, 16, 4), steps=30, fixed_point=True, mode="coincidence", eta=0.5)


def lava_children():
    return [p for p in mp.active_children() if p.is_alive()]


def test_import_lava_ssnnbp_does_not_import_lava():
    code = ("import sys, lava_ssnnbp, lava_ssnnbp.engine, lava_ssnnbp.processes; "
            "assert not any(m == 'lava' or m.startswith('lava.') for m in sys.modules), 'lava imported'; "
            "f = lava_ssnnbp.run_config; assert 'lava.magma' in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.parametrize("fixed", [True, False])
def test_run_config_maps_every_process(fixed):
    import lava_ssnnbp
    from lava_ssnnbp import processes as P

    cfg = lava_ssnnbp.run_config(fixed_point=fixed)
    tag = "fixed_pt" if fixed else "floating_pt"
    assert cfg.select_tag == tag
    procs = [P.CompositeNeuron, P.OutputCompositeNeuron, P.WinnerTakeAll, P.CoincidenceDense,
             P.SpikeInput, P.TargetGenerator, P.BackwardWeightSync]
    if fixed:   # the learning-engine neurons and the chip's relay exist in fixed point only (Lava's bit-approximate engine)
        from lava.proc.dense.process import LearningDense   # Lava's, continuing a run's rounding stream
        procs += [P.LearningCompositeNeuron, P.LearningOutputCompositeNeuron, P.SpikeRelay, LearningDense]
    assert set(cfg.exception_proc_model_map) == set(procs)
    for proc, model in cfg.exception_proc_model_map.items():
        assert model.implements_process is proc
        assert tag in model.tags
        assert model.__module__.startswith("lava_ssnnbp.proc_models.")


def test_no_worker_process_left_after_close_and_context_exit():
    before = lava_children()
    x = np.random.default_rng(0).random((2, 20))
    net = SSNNBPNetwork(CFG, seed=1)
    try:
        net.train(x, [0, 1])
        assert len(lava_children()) > len(before), "the runtime runs in worker processes"
        net.close()
        net.close()   # idempotent
        assert lava_children() == before
        assert net.closed and len(net.weights) == 2      # final weights stay readable
        with SSNNBPNetwork(CFG, seed=1) as net2:
            net2.predict_counts(x)
        assert lava_children() == before
        with pytest.raises(RuntimeError, match="closed"):
            net.train(x, [0, 1])
        # a network that is never closed is stopped when garbage-collected
        net3 = SSNNBPNetwork(CFG, seed=1)
        net3.train(x, [0, 1])
        del net3
        gc.collect()
        assert lava_children() == before
    finally:
        net.close()


def test_exception_mid_training_stops_the_runtime(monkeypatch):
    before = lava_children()
    x = np.random.default_rng(0).random((6, 20))
    net = SSNNBPNetwork(CFG, seed=1, chunk=2)
    original = SSNNBPNetwork._run_chunk
    calls = []

    def flaky(self, *a, **kw):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return original(self, *a, **kw)

    monkeypatch.setattr(SSNNBPNetwork, "_run_chunk", flaky)
    try:
        with pytest.raises(KeyboardInterrupt):
            net.train(x, np.zeros(6, int))
        assert net.closed
        assert lava_children() == before
    finally:
        net.close()


def test_sigint_during_a_lava_run_stops_the_runtime(monkeypatch):
    """A real SIGINT, through Python's own handler, while the Lava workers step:
    it is raised in this thread just after Lava's runtime has sent them the
    second chunk's run command, where it waits for their answer (no timer)."""
    from lava.magma.runtime.runtime import Runtime

    # Python's own handler, also when this run inherited SIGINT ignored (a background job)
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    before = lava_children()
    x = np.random.default_rng(0).random((6, 20))
    net = SSNNBPNetwork(CFG, seed=1, chunk=2)
    wait_for_workers = Runtime._get_resp_for_run
    runs = []

    def interrupted(self):
        runs.append(self)
        if len(runs) == 2:                        # the first chunk has trained
            signal.raise_signal(signal.SIGINT)    # its handler raises KeyboardInterrupt right here
        return wait_for_workers(self)

    monkeypatch.setattr(Runtime, "_get_resp_for_run", interrupted)
    try:
        with pytest.raises(KeyboardInterrupt):
            net.train(x, np.zeros(6, int))
        assert len(runs) == 2 and net.samples_seen == 2
        assert net.closed
        assert lava_children() == before
        assert not runs[0]._is_started            # Lava's __del__ will not stop it again
    finally:
        net.close()
        signal.signal(signal.SIGINT, previous)


@pytest.mark.parametrize("learned", [True, False])
def test_close_after_the_workers_died_does_not_hang(monkeypatch, learned):
    """Workers that died (OOM, kill): Lava would wait for their answer for good,
    when reading the last weights and in its graceful stop. close() waits
    ``STOP_TIMEOUT_S``, then stops the rest by force."""
    monkeypatch.setattr(lifecycle, "STOP_TIMEOUT_S", 1.0)
    before = lava_children()
    x = np.random.default_rng(0).random((2, 20))
    net = SSNNBPNetwork(CFG, seed=1)
    errors = []

    def close():
        try:
            net.close()
        except RuntimeError as e:
            errors.append(str(e))

    try:
        net.train(x, [0, 1]) if learned else net.predict_counts(x)
        runtime = net._state["runtime"]
        actors = list(runtime._messaging_infrastructure.actors)
        for a in actors:
            os.kill(a.pid, signal.SIGKILL)
        for a in actors:
            mp.Process.join(a)                      # dead, not yet reaped by Lava
        t = threading.Thread(target=close, daemon=True)
        t.start()
        t.join(procs.DEADLINE_S)                    # a hang fails the test instead of blocking it
        assert not t.is_alive(), "close() blocked"
        assert net.closed and not runtime._is_started
        assert lava_children() == before
        # learned weights not read back are an error; nothing was lost otherwise
        assert errors == (["the Lava workers did not send the weights within 1 s; stopped them by force"]
                          if learned else [])
    finally:
        if not net.closed:
            net._abort()


def _worker_fault_ends_the_next_run(fault):
    """Train one sample, do ``fault(victim)`` to a worker, then train again in a thread:
    that run must raise WorkerDied (never block) and stop the runtime. Returns the
    error's message and the victim."""
    before = lava_children()
    x = np.random.default_rng(0).random((2, 20))
    net = SSNNBPNetwork(CFG, seed=1)
    errors, victim = [], None

    def train():
        try:
            net.train(x, [0, 1])
        except lifecycle.WorkerDied as e:
            errors.append(str(e))

    try:
        net.train(x[:1], [0])
        victim = net._state["runtime"]._messaging_infrastructure.actors[0]
        fault(victim)
        t = threading.Thread(target=train, daemon=True)
        t.start()
        t.join(procs.DEADLINE_S)                    # a hang fails the test instead of blocking it
        assert not t.is_alive(), "the run blocked"
        assert len(errors) == 1 and f"pid {victim.pid}" in errors[0], errors
        assert net.closed and lava_children() == before
        return errors[0], victim
    finally:
        if victim is not None and lifecycle._state(victim.pid) in ("T", "t"):   # a stopped one left over
            os.kill(victim.pid, signal.SIGKILL)
        if not net.closed:
            net._abort()


def _kill(victim):
    os.kill(victim.pid, signal.SIGKILL)
    mp.Process.join(victim)


def test_a_worker_killed_between_runs_ends_the_next_run_with_an_error():
    """Lava waits for good for the answer of a worker that died (the OOM
    killer, a kill); the next run raises WorkerDied naming it, and the rest of
    the runtime is stopped."""
    error, victim = _worker_fault_ends_the_next_run(_kill)
    assert f"pid {victim.pid}, exit code -9" in error


@pytest.mark.parametrize("fault", ["SIGSTOP", "exception"])
def test_a_worker_that_stops_answering_ends_the_run_with_an_error(fault, monkeypatch):
    """A worker stopped (SIGSTOP) or ended by an exception of its own (exit code 0)
    answers nothing; Lava would wait for good. The run raises WorkerDied naming it
    within a few seconds, and the runtime is stopped."""
    def stop(victim):
        os.kill(victim.pid, signal.SIGSTOP)

    def end_with_exit_code_0(victim):   # as a worker ends after reporting an exception
        _kill(victim)
        monkeypatch.setattr(type(victim), "exitcode", property(lambda self: 0 if self is victim else None))
    error, _ = _worker_fault_ends_the_next_run(stop if fault == "SIGSTOP" else end_with_exit_code_0)
    assert ("stopped (SIGSTOP?)" if fault == "SIGSTOP" else "exit code 0: an exception inside it") in error


def _nothing_left(workers: dict, segments: list):
    """Once the main process has gone: none of its workers alive, none of their /dev/shm segments."""
    assert procs.survivors(workers) == []
    assert procs.wait_for(lambda: not any(os.path.exists(s) for s in segments)), "segments left"


# 'ssnnbp train' on Lava whose second run deadlocks for real: the input worker's control message
# (the sample it must send) is withheld, so it waits for it while every other worker waits for its
# spikes and the main process for their answer. Writes the segments' names first; the limit on
# no progress is set small for that run only (the first runs keep the default).
DEADLOCKED_TRAIN = """
import json, os, sys
from pathlib import Path
from lava_ssnnbp import cli
from lava_ssnnbp.network import SSNNBPNetwork
real, runs = SSNNBPNetwork._run_chunk, []
def run_chunk(self, *args):
    runs.append(1)
    if len(runs) == 2:
        smm = self._state["runtime"]._messaging_infrastructure.smm
        Path(sys.argv[1] + ".tmp").write_text(json.dumps([h.name for h in smm._shared_memory_handles]))
        os.rename(sys.argv[1] + ".tmp", sys.argv[1])
        self.input.ctrl_in.external_pipe_csp_send_port.send = lambda message: None
        os.environ["SSNNBP_STALL_S"] = "2"
    return real(self, *args)
SSNNBPNetwork._run_chunk = run_chunk
sys.exit(cli.main(sys.argv[2:]))
"""


def test_a_deadlocked_run_ends_in_one_line_and_leaves_no_worker(tmp_path):
    """A Lava run whose workers all live but wait for each other (a deadlock) answers nothing;
    Lava would wait for good. No CPU used by any worker or the waiting call for $SSNNBP_STALL_S
    seconds ends it: one line naming the workers' state, exit 1, no worker and no /dev/shm
    segment left."""
    ready = tmp_path / "segments.json"
    cmd = [sys.executable, "-c", DEADLOCKED_TRAIN, str(ready), "train", "--preset", "none", "--dataset", "default", "--backend", "lava",
           "--train-samples", "40", "--test-samples", "10", "--hidden", "16", "--steps", "20", "--epochs", "1",
           "--quiet", "--out", str(tmp_path / "run")]
    with open(tmp_path / "stderr", "w+") as err:
        main = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err)
        workers = {}
        try:
            # Lava's start and first run: seconds normally, over a minute on a loaded 2-core machine
            assert procs.wait_for(lambda: ready.exists() or main.poll() is not None, 10 * procs.DEADLINE_S)
            workers = procs.descendants(main.pid)
            segments = [f"/dev/shm/{name}" for name in json.loads(ready.read_text())] if ready.exists() else []
            main.wait(10 * procs.DEADLINE_S)
            err.seek(0)
            lines = err.read().strip().splitlines()
            assert main.returncode == 1 and len(lines) == 1, lines[-30:]
            assert lines[0].startswith("ssnnbp: error: the Lava run made no progress for 2 s"), lines
            assert "in state S (pid" in lines[0] and "SSNNBP_STALL_S" in lines[0], lines
            assert len(workers) >= 9 and segments, workers   # 8 Lava actors + the shared-memory manager
            _nothing_left(workers, segments)
        finally:
            main.kill()
            main.wait()
            procs.kill(workers)


def test_the_stall_limit_is_read_from_the_environment(monkeypatch):
    monkeypatch.delenv("SSNNBP_STALL_S", raising=False)
    assert lifecycle.stall_limit_s() == lifecycle.STALL_S == 120
    monkeypatch.setenv("SSNNBP_STALL_S", "2.5")
    assert lifecycle.stall_limit_s() == 2.5
    for bad in ("0", "-1", "nan", "soon"):
        monkeypatch.setenv("SSNNBP_STALL_S", bad)
        with pytest.raises(ValueError, match=f"SSNNBP_STALL_S='{bad}': need a number of seconds > 0"):
            lifecycle.stall_limit_s()


# a main process with a running network: writes its segments' names, then waits;
# argv[2] == "thread": the runtime is started by a thread that has ended since
KILLED_MAIN = """
import json, sys, threading
from pathlib import Path
import numpy as np
from lava_ssnnbp.config import SSNNConfig
from lava_ssnnbp.network import SSNNBPNetwork
net = SSNNBPNetwork(SSNNConfig(sizes=(20, 16, 4), steps=30, fixed_point=True, mode="coincidence"), seed=1)
if sys.argv[2] == "thread":
    t = threading.Thread(target=net.predict_counts, args=(np.zeros((1, 20)),))
    t.start()
    t.join()
net.predict_counts(np.zeros((1, 20)))       # the workers outlive the thread that forked them
smm = net._state["runtime"]._messaging_infrastructure.smm
tmp = Path(sys.argv[1] + ".tmp")
tmp.write_text(json.dumps([h.name for h in smm._shared_memory_handles]))
tmp.rename(sys.argv[1])
sys.stdin.readline()      # until killed (or the test's end closes the pipe)
"""


@pytest.mark.parametrize("started_by", ["main", "thread"])
def test_workers_die_with_a_sigkilled_main_process(tmp_path, started_by):
    """SIGKILL to the main process (as the OOM killer sends): its Lava workers,
    the shared-memory manager, the resource tracker and the /dev/shm segments
    all go with it, also when a thread that has ended started the runtime."""
    ready = tmp_path / "segments.json"
    with open(tmp_path / "stderr", "w+") as err:
        main = subprocess.Popen([sys.executable, "-c", KILLED_MAIN, str(ready), started_by],
                                stdin=subprocess.PIPE, stderr=err)
        workers = {}
        try:
            assert procs.wait_for(lambda: ready.exists() or main.poll() is not None)
            err.seek(0)
            assert ready.exists(), err.read()[-3000:]
            segments = [f"/dev/shm/{name}" for name in json.loads(ready.read_text())]
            workers = procs.descendants(main.pid)
            assert len(workers) >= 9            # 8 Lava actors + the shared-memory manager (+ tracker)
            assert segments and all(os.path.exists(s) for s in segments)
            main.kill()
            main.wait()
            _nothing_left(workers, segments)
        finally:
            main.kill()
            main.wait()
            procs.kill(workers)


# a network never closed at exit, with weakref.finalize's exit hook registered
# before multiprocessing's (as under pytest): that one runs first and joins the
# workers, which wait for a STOP that never comes
UNCLOSED_AT_EXIT = """
import weakref
class Early: pass
early = Early(); weakref.finalize(early, print)
import json
import numpy as np
from lava_ssnnbp.config import SSNNConfig
from lava_ssnnbp.network import SSNNBPNetwork
net = SSNNBPNetwork(SSNNConfig(sizes=(20, 16, 4), steps=30, fixed_point=True, mode="coincidence"), seed=1)
net.predict_counts(np.zeros((1, 20)))
print(json.dumps([a.pid for a in net._state["runtime"]._messaging_infrastructure.actors]), flush=True)
"""


def test_a_network_never_closed_does_not_block_the_exit(tmp_path):
    out, err = tmp_path / "stdout", tmp_path / "stderr"   # files: orphaned workers would hold pipes open
    with open(out, "w") as o, open(err, "w") as e:
        main = subprocess.Popen([sys.executable, "-c", UNCLOSED_AT_EXIT], stdout=o, stderr=e)
    workers = {}
    try:
        exited = procs.wait_for(lambda: main.poll() is not None)
        workers = {p: t for p in json.loads(out.read_text() or "[]") if (t := procs.start_time(p)) is not None}
        assert exited, "the interpreter's exit blocked"
        assert main.returncode == 0, err.read_text()[-3000:]
        assert workers == {}
    finally:
        main.kill()
        main.wait()
        procs.kill(workers)


def test_standalone_processes_with_a_default_run_config():
    """Without run_config, without host I/O: Lava's own discovery finds the models
    (shims in processes/<family>/models.py); Var-driven samples; same learning as the Engine."""
    from lava.magma.core.run_conditions import RunSteps
    from lava.magma.core.run_configs import Loihi2SimCfg

    from lava_ssnnbp.processes import (CoincidenceDense, OutputCompositeNeuron, SpikeInput,
                                       TargetGenerator)

    cfg = SSNNConfig(sizes=(20, 4), steps=30, fixed_point=True, mode="coincidence", eta=0.5,
                     wta=False, dropout=(0.0,))
    rng = np.random.default_rng(2)
    x, y = rng.random((3, 20)), np.array([1, 3, 0])
    w0 = dyn.init_weights(cfg, 4)
    inp = SpikeInput.from_config(cfg, seed=4, data=x)
    tgt = TargetGenerator.from_config(cfg, seed=4, labels=y)
    syn = CoincidenceDense(weights=w0[0], cfg=cfg, layer=0, seed=4)
    out = OutputCompositeNeuron.from_config(cfg)
    inp.s_out.connect(syn.s_in)
    syn.a_out.connect(out.a_in)
    out.dp_out.connect(syn.dp_in)
    out.dn_out.connect(syn.dn_in)
    tgt.s_out.connect(out.target_in)
    try:
        out.run(condition=RunSteps(num_steps=3 * cfg.steps), run_cfg=Loihi2SimCfg(select_tag="fixed_pt"))
        w = syn.weights.get()
        sid = syn.sample_id.get()
    finally:
        lifecycle.stop_process(out)     # out.stop() with a time limit
    eng = Engine(cfg, w0, seed=4)
    eng.train_batch(x, y, "per-sample")
    np.testing.assert_array_equal(w, eng.weights[0])
    assert not np.array_equal(w, w0[0])
    assert sid[0] == 2


def test_standalone_synapse_rejects_weights_it_cannot_hold():
    from lava_ssnnbp.processes import CoincidenceDense
    w = dyn.init_weights(CFG, 0)[0].astype(np.float64)
    for bad, match in ((1000, "integer mantissas"), (0.5, "integer mantissas"), (np.inf, "finite")):
        w2 = w.copy()
        w2[0, 0] = bad
        with pytest.raises(ValueError, match=match):
            CoincidenceDense(weights=w2, cfg=CFG, layer=0)
    with pytest.raises(ValueError, match="must have shape"):
        CoincidenceDense(weights=w.T, cfg=CFG, layer=0)


_BAD_ARGUMENTS = {   # one rejected construction per process class
    "CompositeNeuron": dict(shape=(4,), steps=0, du=0, vth=1, vth_grad=1),
    "OutputCompositeNeuron": dict(shape=(4,), steps=5, du=0, vth=1, vth_grad=1, reset="none?"),
    "LearningCompositeNeuron": dict(shape=(4,), steps=5, du=0, vth=1, vth_grad=1, learning_rule="rule"),
    "LearningOutputCompositeNeuron": dict(shape=(4,), steps=5, du=0, vth=1, vth_grad=1, learning_rule=None),
    "WinnerTakeAll": dict(shape=(4,), steps=5, w_inh=-1.0),
    "CoincidenceDense": dict(weights=np.zeros((3, 3)), cfg=CFG, layer=0),
    "SpikeInput": dict(shape=(4,), steps=5, gain=2.0),
    "TargetGenerator": dict(shape=(4,), steps=5, labels=[7]),
    "BackwardWeightSync": dict(shape=(4,), steps=5),
    "SpikeRelay": dict(shape=(4,), steps=5, replay_steps=0),
}


@pytest.mark.parametrize("name", sorted(_BAD_ARGUMENTS))
def test_rejected_arguments_leave_nothing_for_the_destructor_to_report(name, monkeypatch):
    """Every process checks its arguments before Lava's __init__ sets
    ``_runtime``; destroying the half-built object must then be silent (Lava's
    own __del__ would print an ignored AttributeError)."""
    from lava_ssnnbp import processes as P
    unraisable = []
    monkeypatch.setattr(sys, "unraisablehook", unraisable.append)
    assert set(_BAD_ARGUMENTS) == set(P.__all__)
    with pytest.raises(ValueError):
        getattr(P, name)(**_BAD_ARGUMENTS[name])
    gc.collect()
    assert not unraisable, [u.exc_value for u in unraisable]


@pytest.mark.parametrize("k", [0, 3, 5])
def test_loihi_rule_learns_the_engines_update_in_lavas_learning_engine(k):
    """Lava's own learning engine is the oracle: the rule strings must move each
    weight by exactly 2^-k times its Eq. 10 coincidence count before rounding,
    and leave the tag cleared for the next sample."""
    from lava.magma.core.learning.learning_rule import Loihi3FLearningRule

    from lava_ssnnbp.lava_config import loihi_rule_strings, run_rule_on_sample
    rng = np.random.default_rng(k)
    steps, n, m = 200, 9, 6
    x = rng.random((steps, n)) < 0.5
    r = rng.random((steps, m))
    dp, dn = r < 0.5, r > 0.9                                  # d+ and d- never spike together
    dp[-1, 0], x[-1, 0] = True, True                           # a coincidence at the last step
    w0 = rng.integers(-60, 60, (m, n))
    w, tag = run_rule_on_sample(Loihi3FLearningRule(t_epoch=1, **loihi_rule_strings("coincidence", k)), x, dp, dn, w0)
    num = dyn.coincidence_numerator(x, dp, dn)
    assert np.abs(num).max() > 2 ** k                          # updates of several LSB, not only rounding
    np.testing.assert_array_equal(w, w0 + num / 2 ** k)
    assert not tag.any()
    # a rule that leaves the tag uncleared is caught
    leaky = loihi_rule_strings("coincidence", k)
    leaky["dt"] = "x0 * y1 - x0 * y2"
    w, tag = run_rule_on_sample(Loihi3FLearningRule(t_epoch=1, **leaky), x, dp, dn, w0)
    assert np.array_equal(tag, num)


def test_loihi_learning_rule_limits():
    from lava.magma.core.learning.learning_rule import Loihi3FLearningRule

    from lava_ssnnbp.lava_config import loihi_learning_rule, loihi_rule_strings

    cfg = SSNNConfig(steps=100, mode="coincidence", eta=0.3, fixed_point=True)
    rule = loihi_learning_rule(cfg, 0)
    assert isinstance(rule, Loihi3FLearningRule) and rule.t_epoch == 1
    assert rule.dw_str == loihi_rule_strings("coincidence", dyn.learning_shift(0.3, 100, "coincidence", 0))["dw"]
    with pytest.raises(ValueError, match="outside the learning engine's range"):
        loihi_learning_rule(cfg.replace(eta=0.05), 0)          # k = 6: the last step's term needs 2^-8
    with pytest.raises(ValueError, match="8-bit tag"):
        loihi_learning_rule(cfg.replace(steps=300, eta=1.0), 0)
    for mode in ("rate", "stochastic"):
        with pytest.raises(NotImplementedError, match="on-chip rules are 'coincidence' and 'replay'"):
            loihi_learning_rule(cfg.replace(mode=mode), 0)


def test_wrong_precision_models_fail_clearly_and_clean_up(monkeypatch):
    """Compiling a fixed-point network with the floating-point models stops with a
    message naming run_config, and leaves no worker behind."""
    from lava_ssnnbp import lava_config

    before = lava_children()
    right = lava_config.run_config
    monkeypatch.setattr(lava_config, "run_config", lambda fixed_point, **kw: right(not fixed_point, **kw))
    net = SSNNBPNetwork(CFG, seed=1)
    try:
        with pytest.raises(Exception, match="run_config"):
            net.train(np.random.default_rng(0).random((1, 20)), [0])
        assert net.closed
        assert lava_children() == before
    finally:
        net.close()


def test_lava_works_after_multiprocessing_context_was_fixed():
    """tqdm (and others) fix multiprocessing's default context before Lava's
    import asks for 'fork'; building a network must still work."""
    code = ("import multiprocessing as mp; mp.RLock(); import numpy as np; "
            "from lava_ssnnbp.config import SSNNConfig; from lava_ssnnbp.network import SSNNBPNetwork; "
            "net = SSNNBPNetwork(SSNNConfig(sizes=(5, 4, 2), steps=5)); "
            "print(net.predict_counts(np.ones((1, 5))).shape); net.close()")
    assert procs.python_output(code).strip() == "(1, 2)"


def test_lava_imports_after_the_engine_trained_with_numba_threads():
    """numba fixes multiprocessing's default context when it starts its
    threads; lava_ssnnbp.jit undoes that, so Lava (which sets 'fork' unforced on
    import) still imports after an engine run, as tutorial 05 does."""
    code = ("import multiprocessing as mp, numpy as np; "
            "from lava_ssnnbp.config import SSNNConfig; from lava_ssnnbp.engine import Engine; "
            "e = Engine(SSNNConfig(sizes=(20, 16, 4), steps=10, fixed_point=True, mode='coincidence'), seed=0); "
            "e.train_batch(np.random.default_rng(0).random((4, 20)), np.arange(4), 'per-sample'); "
            "assert mp.get_start_method(allow_none=True) is None; "
            "import lava.magma.runtime.message_infrastructure.multiprocessing; print('ok')")
    assert procs.python_output(code).strip() == "ok"


def test_one_network_refuses_a_second_call_from_another_thread():
    """A network's Lava runtime is one pipeline: a call while another thread's call runs
    would interleave their samples and wait for good. It is refused in one error."""
    x = np.random.default_rng(0).random((40, 20))
    net = SSNNBPNetwork(CFG, seed=1)
    done = []
    try:
        t = threading.Thread(target=lambda: done.append(net.predict(x)), daemon=True)
        t.start()
        assert procs.wait_for(lambda: net._in_use.locked() or not t.is_alive())
        if t.is_alive():   # (on a machine fast enough to finish first there is nothing to refuse)
            with pytest.raises(RuntimeError, match="running samples in another thread"):
                net.predict(x[:1])
        t.join(10 * procs.DEADLINE_S)     # starting Lava and 40 samples: ~40 s on a loaded 2-core machine
        assert not t.is_alive() and len(done) == 1 and done[0].shape == (40,)
    finally:
        net.close()


@pytest.mark.parametrize("name,value", [("first_sample", -1), ("seed", -3), ("first_sample", 1.5), ("chunk", 0)])
def test_network_arguments_that_name_no_random_stream_are_refused(name, value):
    with pytest.raises(ValueError, match=name):
        SSNNBPNetwork(CFG, **{name: value})
