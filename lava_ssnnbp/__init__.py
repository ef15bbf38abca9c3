"""SSNN-BP."""

# Lava-facing names are resolved lazily, so `import lava_ssnnbp` does not import Lava.
_LAZY = {
    "run_config": "lava_ssnnbp.lava_config",
    "model_map": "lava_ssnnbp.lava_config",
    "SSNNBPNetwork": "lava_ssnnbp.network",
    "LearningEngineNetwork": "lava_ssnnbp.learning_network",
}


def __getattr__(name):
    if name in _LAZY:
        import importlib
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'lava_ssnnbp' has no attribute {name!r}")
