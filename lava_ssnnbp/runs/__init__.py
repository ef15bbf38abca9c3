"""Training runs: run settings, the run folder and its files, evaluation, and the one
epoch loop every model trains in.

Modules, each one concern:

* :mod:`.settings`    RunSettings, learning-rate schedules, epoch order, checks across settings
* :mod:`.models`      the registry of models (name -> learner, checkpoint entries, words)
* :mod:`.learners`    the Learner interface; SSNN-BP (engine, Lava) and the ANN twin
* :mod:`.loop`        Run: open (start or resume), the epoch loop, checkpoints, metrics
* :mod:`.folder`      a run folder read back and checked; saved records vs a new run
* :mod:`.state`       the folder's state committed atomically (state.json, state/<generation>/)
* :mod:`.files`       atomic JSON/npz writes, npz reads without pickles, the folder's lock
* :mod:`.weights`     weights.npz and the checks on weight arrays
* :mod:`.dataset`     the data a run trains on: data.json, checks against the network and the data's file
* :mod:`.evaluation`  SSNN-BP at test time: spike counts, accuracy, spike activity
* :mod:`.plots`       the learning curve

The torch baselines' learner is :class:`lava_ssnnbp.baselines.runner.TorchLearner`
(imported only when such a run trains).
"""
from ..errors import RunError
from .dataset import DATA_FILE, check_run_data, describe_run_data, training_set_record
from .evaluation import SpikeActivity, accuracy_from_counts, evaluate_counts
from .files import RunLock, check_run_dir, equal_apart_from, load_npz, save_json, save_npz
from .folder import (CHECKPOINT_FORMAT, PROGRESS_FILES, RESULT_FILES, RunFolder, check_run_weights,
                     n_weight_arrays, normalised_config, read_checkpoint, read_metrics, read_run_config,
                     read_run_folder, same_model, same_settings, versions)
from .learners import Learner
from .loop import CheckpointClock, Run
from .models import MODEL_KINDS, ModelKind, model_kind
from .plots import plot_learning_curve
from .settings import (BACKENDS, BATCH_UPDATES, MODELS, SCHEDULES, TORCH_MODELS, RunSettings, check_chip_settings,
                       check_eta_warmup, epoch_order, eta_at, eta_factor, with_legacy_values)
from .weights import check_diverged, check_weights, load_weights, save_weights

__all__ = [
    "DATA_FILE", "check_run_data", "describe_run_data", "training_set_record",
    "BACKENDS", "BATCH_UPDATES", "CHECKPOINT_FORMAT", "CheckpointClock", "Learner", "MODELS", "MODEL_KINDS",
    "ModelKind", "PROGRESS_FILES", "RESULT_FILES", "Run", "RunError", "RunFolder", "RunLock", "RunSettings",
    "SCHEDULES", "SpikeActivity", "TORCH_MODELS", "accuracy_from_counts", "check_chip_settings",
    "check_diverged", "check_eta_warmup", "check_run_dir", "check_run_weights", "check_weights",
    "epoch_order", "equal_apart_from", "eta_at", "eta_factor", "evaluate_counts", "load_npz", "load_weights",
    "model_kind", "n_weight_arrays", "normalised_config", "plot_learning_curve", "read_checkpoint",
    "read_metrics", "read_run_config", "read_run_folder", "same_model", "same_settings", "save_json", "save_npz",
    "save_weights", "versions", "with_legacy_values",
]
