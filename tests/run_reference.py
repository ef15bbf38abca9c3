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


def _arrays(path: Path) -> dict:
    with np.load(path, allow_pickle=False) as z:
        return {k: [str(z[k].dtype), list(z[k].shape), hashlib.sha256(np.ascontiguousarray(z[k]).tobytes()).hexdigest()]
                for k in z.files if k != "epoch_wall_s"}


def summarize(folder: Path, printed: str) -> dict:
    folder = Path(folder)
    config = json.loads((folder / "config.json").read_text())
    rows = json.loads((folder / "metrics.json").read_text())["epochs"]
    return {
        "files": sorted(p.name for p in folder.iterdir() if p.name not in STATE_LAYOUT),
        "weights": _arrays(folder / "weights.npz"),
        "checkpoint": _arrays(folder / "checkpoint.npz"),
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
    return summarize(out, buf.getvalue())


if __name__ == "__main__":
    import tempfile
    with tempfile.TemporaryDirectory() as tmp:
        ref = {case: train_and_summarize(case, Path(tmp) / case) for case in CASES}
    Path(sys.argv[1]).write_text(json.dumps(ref, indent=1, sort_keys=False) + "\n")
    print(f"wrote {sys.argv[1]}")
