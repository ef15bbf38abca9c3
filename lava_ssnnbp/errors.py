"""The one error of runs: a run, its settings or its folder cannot be used as asked (below the
runs package and the baselines, which raise it both)."""


class RunError(ValueError):
    """A run folder that cannot be used as asked (message says why and what to do)."""


def setting_error(name: str, why: str) -> RunError:
    """A bad run setting, worded as SSNNConfig words a bad model parameter (the CLI names
    the option from ``invalid NAME:``)."""
    return RunError(f"invalid {name}: {why}")


class RunFault(RunError):
    """A fault of the machine while a run ran (a full disk, a folder made read-only): not bad
    input. The run folder keeps its last committed state; the CLI exits with 1."""
