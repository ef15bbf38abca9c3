"""See process.py (interfaces) and models.py (discovery shims for the models in lava_ssnnbp.proc_models)."""
