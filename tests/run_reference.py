"""Run folders trained by ``ssnnbp train`` summed up exactly and small, to compare the
runs of one version of the code with those of another (tests/test_run_reference.py).

A summary holds a SHA-256 per array of weights.npz and checkpoint.npz (with dtype and
shape: equal hashes are equal arrays), every metric apart from times and memory, the
config.json records apart from versions, command and date, the metrics.csv header and
the line 'ssnnbp train' prints about the run.

Regenerate the reference (only on purpose, from the code the others are compared to):
``python tests/run_reference.py tests/data/run_reference.json``
"""
import contextlib
import hashlib
import io
import json
import sys
from pathlib import Path

import numpy as np

COMMON = ["--preset", "none", "--dataset", "default", "--hidden", "32", "--steps", "10", "--train-samples", "60",
          "--test-samples", "30", "--epochs", "2", "--seed", "1", "--quiet"]
TORCH = ["--device", "cpu", "--threads", "1", "--batch-size", "16"]
CASES = {
    "float": COMMON,
    "fixed": [*COMMON, "--fixed-point"],
    "ann": [*COMMON, "--model", "ann"],
    "mini-batch": [*COMMON, "--batch-updates", "mini-batch", "--batch-size", "16", "--eta-warmup", "50",
                   "--eta-schedule", "cosine", "--val-samples", "20", "--checkpoint-every", "0.000001"],
    "loihi2": [*COMMON, "--target", "loihi2"],
    "tssl-bp": [*COMMON, "--model", "tssl-bp", *TORCH, "--checkpoint-every", "0.000001"],
    "slayer": [*COMMON, "--model", "slayer", *TORCH],
    "lava": ["--preset", "none", "--dataset", "default", "--hidden", "16", "--steps", "10", "--train-samples", "12",
             "--test-samples", "10", "--epochs", "2", "--seed", "1", "--quiet", "--backend", "lava", "--fixed-point",
             "--mode", "coincidence"],
}
VOLATILE_METRICS = ("train_wall_s", "test_wall_s", "samples_per_s", "peak_rss_mib", "peak_gpu_mib")
VOLATILE_CONFIG = ("versions", "command", "created", "run_id")
# added since the reference: the committed state (state.json, state/), the training set's
# fingerprint (data.json) and the run's id;
# tests/test_run_state.py checks them. The top-level files compared here are its copies.
STATE_LAYOUT = ("state.json", "state", "data.json")
ARRAY_PARTS = ("weights", "checkpoint")   # summary parts that hold arrays (compared by arrays_differ)


# Cases whose float arithmetic runs through kernels the CPU picks (numpy's BLAS, torch): on another
# machine their arrays agree to about 1e-7 of their scale, not bit for bit (seen between two
# development machines; OPENBLAS_CORETYPE and ATEN_CPU_CAPABILITY variants differ by up to 1.7e-7).
# Their float arrays carry a fingerprint besides the hash: equal hashes, or fingerprints within
# FINGERPRINT_TOL.
CPU_KERNEL_CASES = ("ann", "tssl-bp", "slayer")
FINGERPRINT_SAMPLES = 64
FINGERPRINT_TOL = 1e-5   # of the array's largest magnitude (sampled values) or of its sum of magnitudes


def _fingerprint(a: np.ndarray) -> dict:
    """A float array in a few numbers: its largest magnitude, sum of magnitudes and evenly spaced values."""
    flat = np.asarray(a, dtype=np.float64).ravel()
    at = np.linspace(0, flat.size - 1, num=min(flat.size, FINGERPRINT_SAMPLES)).astype(np.int64)
    return {"absmax": float(np.abs(flat).max(initial=0.0)), "abssum": float(np.abs(flat).sum()),
            "values": [float(v) for v in flat[at]]}


def _arrays(path: Path, fingerprints: bool = False) -> dict:
    with np.load(path, allow_pickle=False) as z:
        out = {}
        for k in z.files:
            if k == "epoch_wall_s":
                continue
            a = z[k]
            out[k] = [str(a.dtype), list(a.shape), hashlib.sha256(np.ascontiguousarray(a).tobytes()).hexdigest()]
            if fingerprints and a.dtype.kind == "f" and a.size:
                out[k].append(_fingerprint(a))
        return out


def arrays_differ(got: dict, want: dict) -> list:
    """The names of the arrays of one summary part that differ from the reference's: dtype, shape
    and hash must be equal, or, where the reference has a fingerprint, the fingerprints close."""
    bad = sorted(set(got) ^ set(want))
    for k in sorted(set(got) & set(want)):
        g, w = got[k], want[k]
        if g[:2] != w[:2]:
            bad.append(k)
        elif g[2] != w[2] and not (len(w) > 3 and len(g) > 3 and _close(g[3], w[3])):
            bad.append(k)
    return bad


def _close(g: dict, w: dict) -> bool:
    tol = FINGERPRINT_TOL * max(w["absmax"], np.finfo(np.float32).tiny)
    return (len(g["values"]) == len(w["values"])
            and np.allclose(g["values"], w["values"], rtol=0.0, atol=tol)
            and abs(g["absmax"] - w["absmax"]) <= tol
            and abs(g["abssum"] - w["abssum"]) <= FINGERPRINT_TOL * max(w["abssum"], np.finfo(np.float32).tiny))


def summarize(folder: Path, printed: str, fingerprints: bool = False) -> dict:
    folder = Path(folder)
    config = json.loads((folder / "config.json").read_text())
    rows = json.loads((folder / "metrics.json").read_text())["epochs"]
    return {
        "files": sorted(p.name for p in folder.iterdir() if p.name not in STATE_LAYOUT),
        "weights": _arrays(folder / "weights.npz", fingerprints),
        "checkpoint": _arrays(folder / "checkpoint.npz", fingerprints),
        "metric_keys": [list(r) for r in rows],
        "metrics": [{k: v for k, v in r.items() if k not in VOLATILE_METRICS} for r in rows],
        "metrics_csv_header": (folder / "metrics.csv").read_text().splitlines()[0],
        "config_keys": [k for k in config if k != "run_id"],
        "config": {k: v for k, v in config.items() if k not in VOLATILE_CONFIG},
        "printed": printed.splitlines()[0].split("; run folder")[0],
    }


def train_and_summarize(case: str, out: Path) -> dict:
    from lava_ssnnbp import cli
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        rc = cli.main(["train", *CASES[case], "--out", str(out)])
    assert rc == 0, buf.getvalue()
    return summarize(out, buf.getvalue(), fingerprints=case in CPU_KERNEL_CASES)


if __name__ == "__main__":
    import tempfile
    with tempfile.TemporaryDirectory() as tmp:
        ref = {case: train_and_summarize(case, Path(tmp) / case) for case in CASES}
    Path(sys.argv[1]).write_text(json.dumps(ref, indent=1, sort_keys=False) + "\n")
    print(f"wrote {sys.argv[1]}")
