"""Benchmark result files: the machine a number was measured on, the command that reruns
it, and one atomic JSON write.

Every script in ``benchmarks/`` ends the same way: record where and when it ran, write its
result atomically (``lava_ssnnbp.runs.save_json``: readers never see half a file) and say
where it went. They share these functions so that a result file always names its machine
and command the same way. No Lava, no torch.
"""
from __future__ import annotations

import os
import platform
import sys
import time
from pathlib import Path
from typing import Optional


def machine_info(load: bool = True, **extra) -> dict:
    """Host name, CPU count, Python version, the 1-minute load average (a loaded machine
    makes wall times low: keep it next to them; ``load=False`` leaves it out where a record
    is collected after the run, so that recollecting it does not change the file) and
    anything in ``extra``."""
    info = {"node": platform.node(), "cpus": os.cpu_count(), "python": platform.python_version(),
            "machine": platform.machine()}
    if load:
        info["load_avg_1min"] = round(os.getloadavg()[0], 2)
    info.update(extra)
    return info


def seed_std(values) -> "float | None":
    """Spread over seeds as every result file and table states it: the sample
    standard deviation (ddof = 1); 0.0 for one seed, None for none."""
    import numpy as np
    v = [float(x) for x in values]
    if not v:
        return None
    return float(np.std(v, ddof=1)) if len(v) > 1 else 0.0


def now() -> str:
    """Local time to the second, as result files write it."""
    return time.strftime("%Y-%m-%dT%H:%M:%S")


def rerun_command(module: str, argv=None) -> str:
    """The command line that reruns a benchmark, as its result file records it:
    ``python -m <module> <arguments>`` (``argv``: the arguments; default this process's)."""
    return " ".join(["python -m", module, *map(str, sys.argv[1:] if argv is None else argv)])


def write_result(path, result: dict, show: Optional[str] = "path", indent: int = 2, **dumps_kw) -> Path:
    """Write ``result`` as JSON to ``path`` (folders made, atomic), then print the file's
    path (``show='path'``), the whole result (``'json'``) or nothing (``None``)."""
    import json

    from lava_ssnnbp.runs import save_json
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    save_json(path, result, indent=indent, **dumps_kw)
    if show == "json":
        print(json.dumps(result, indent=indent, **dumps_kw))
    elif show == "path":
        print(f"wrote {path}")
    return path


def train_and_read(train_args, out, label: str = "", collect_only: bool = False):
    """Run ``ssnnbp train`` with ``train_args`` (which name ``--out out``) unless
    ``collect_only``, then read the run folder. Returns ``(rc, config, epochs)``: the exit
    status, the run's ``config.json`` and the per-epoch records of its ``metrics.json``
    (``None, None`` where the training failed or, collecting, there is no finished folder)."""
    import json

    from lava_ssnnbp import cli
    out = Path(out)
    if collect_only:
        if not (out / "metrics.json").exists():
            print(f"== {label}: no run folder {out}", flush=True)
            return 0, None, None
    else:
        print(f"== {label}: ssnnbp {' '.join(map(str, train_args))}", flush=True)
        rc = cli.main([str(a) for a in train_args])
        if rc != 0:
            return rc, None, None
    cfg = json.loads((out / "config.json").read_text())
    return 0, cfg, json.loads((out / "metrics.json").read_text())["epochs"]
