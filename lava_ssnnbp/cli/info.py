"""``ssnnbp info`` and ``ssnnbp presets``: what is installed and found, what a network or a run
folder holds, and the presets of ``train``."""
from __future__ import annotations

from pathlib import Path

from ..config import SSNNConfig

DEFAULT = SSNNConfig()


def cmd_info(args) -> int:
    from ..data import DATASETS, search_dirs
    from ..data.registry import describe
    from ..runs import RunSettings, describe_run_data, model_kind, read_run_folder, versions
    print("versions: " + ", ".join(f"{k} {v}" for k, v in versions().items()))
    print("data search order: " + ", ".join(str(d) for d in search_dirs(args.data_dir)))
    for name in sorted(DATASETS):
        print(f"  {name:14s} {describe(name, args.data_dir, verify=args.verify)}")
    model = RunSettings.model   # without a run: the default model's network
    if args.run:
        folder = read_run_folder(Path(args.run))
        cfg, model = folder.cfg, folder.settings.model
        print(f"run {folder.path}: {progress_of(folder)}")
        data_line = describe_run_data(folder)   # a data set of one's own: where, and unchanged?
        if data_line is not None:
            print(data_line)
    else:
        cfg = DEFAULT.replace(sizes=(DEFAULT.sizes[0], *args.hidden, DEFAULT.sizes[-1]))
    n_neurons = sum(cfg.sizes[1:])
    n_syn = sum(a * b for a, b in zip(cfg.sizes[:-1], cfg.sizes[1:]))
    if model_kind(model).torch_baseline:   # offline baselines: no composite neurons, no on-chip learning
        print(f"network {'-'.join(map(str, cfg.sizes))} ({model}, trained off chip): {n_neurons} neurons, "
              f"{n_syn} synapses")
        return 0
    print(f"network {'-'.join(map(str, cfg.sizes))}: {n_neurons} composite neurons "
          f"({3 * n_neurons} compartments: x, d+, d-), {n_syn} plastic synapses "
          f"({n_syn * cfg.weight_bits / 8 / 1024:.0f} KiB at {cfg.weight_bits}-bit weights)")
    print_loihi_estimate(cfg)
    if args.run and folder.weights is not None:
        print_energy_estimate(folder, args.data_dir)
    return 0


ENERGY_SAMPLES = 100   # training and test samples whose events 'info --run' counts


def print_energy_estimate(folder, data_dir):
    """Energy and latency per training sample and per inference (lava_ssnnbp.energy), from the
    events of the run's trained weights on its data set's first samples."""
    from .. import energy
    from ..data.registry import load_dataset
    from ..runs import model_kind
    cfg, s = folder.cfg, folder.settings
    if not model_kind(s.model).ssnn_bp or not cfg.fixed_point or cfg.mode not in ("coincidence", "replay"):
        print("energy estimate: only for fixed-point SSNN runs with the on-chip rules 'coincidence' or 'replay'")
        return
    try:
        tr = load_dataset(s.dataset, "train", data_dir, steps=cfg.steps, max_samples=ENERGY_SAMPLES)
        te = load_dataset(s.dataset, "test", data_dir, steps=cfg.steps, max_samples=ENERGY_SAMPLES)
    except Exception as e:  # noqa: BLE001 -- the estimate is an extra; say why it is missing
        print(f"energy estimate: data set {s.dataset!r} not available ({e})")
        return
    n = ENERGY_SAMPLES
    result = energy.sample_costs(cfg, folder.weights, tr.x[:n], tr.y[:n], te.x[:n], s.seed)
    for line in energy.lines(result):
        print(line)


def progress_of(folder) -> str:
    """A checked run folder's state in words: epochs done, last accuracy, the checkpoint's position."""
    m, s = folder.metrics, folder.settings
    preset = folder.saved.get("preset")
    text = (f"{s.model} on {s.dataset}{f' (preset {preset})' if isinstance(preset, str) else ''}, "
            f"{len(m)}{f' of {s.epochs}' if len(m) < s.epochs else ''} "
            f"epoch{'s' if len(m) != 1 or s.epochs != 1 else ''} finished")
    if m:
        text += f" (test accuracy {100 * m[-1]['test_acc']:.2f}%)"
    ck = folder.checkpoint
    if ck is not None and int(ck["position"]):
        text += f"; checkpoint {int(ck['position'])} samples into epoch {int(ck['epoch']) + 1}"
    return text + "; files check out"


def print_loihi_estimate(cfg: SSNNConfig):
    """Loihi 2 resource estimate (lava_ssnnbp.resources), learning on chip and inference only."""
    from ..resources import LOIHI2, estimate
    print(f"Loihi 2 resource estimate (mode {cfg.mode}, T={cfg.steps}; assumed limits: {LOIHI2.describe()}; "
          "see docs/export.md):")
    for learning in (True, False):
        for line in estimate(cfg, learning).lines():
            print("  " + line)
    on_chip = cfg if cfg.mode in ("coincidence", "replay") else cfg.replace(mode="coincidence")
    if on_chip is not cfg:
        print(f"  (the learning engine runs 'coincidence' and 'replay' only: with mode coincidence, T={cfg.steps})")
    for line in estimate(on_chip, learning_engine=True).lines():
        print("  " + line)




def cmd_presets(args, parser) -> int:
    """List the presets, or print one as the train command it stands for."""
    from .presets import DEFAULT, NONE, NONE_TEXT, load_preset, preset_flags, preset_lines
    if args.name is None:
        print("\n".join(preset_lines()))
        return 0
    if args.name == NONE:
        print(f"{NONE}: {NONE_TEXT}")
        print(f"ssnnbp train --preset {NONE}")
        return 0
    preset = load_preset(args.name, option="NAME")
    print(f"{preset.name}: {'(the default of ssnnbp train) ' if preset.name == DEFAULT else ''}{preset.description}")
    if preset.source:
        print(f"source: {preset.source}")
    print("ssnnbp train " + " ".join(preset_flags(parser.train_parser, preset)))
    return 0
