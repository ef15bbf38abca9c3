"""The one error of runs: a run, its settings or its folder cannot be used as asked (below the
runs package and the baselines, which raise it both)."""


class RunError(ValueError):
    """A run folder that cannot be used as asked (message says why and what to do)."""


def setting_error(name: str, why: str) -> RunError:
    """A bad run setting, worded as SSNNConfig words a bad model parameter (the CLI names
    the option from ``invalid NAME:``)."""
    return RunError(f"invalid {name}: {why}")
