"""The CLI's options come from the field metadata of SSNNConfig and RunSettings; presets are
named sets of their values (lava_ssnnbp/presets/*.json)."""
import dataclasses
import json
import re
from pathlib import Path

import pytest

from lava_ssnnbp import cli
from lava_ssnnbp.cli import options, presets
from lava_ssnnbp.config import SSNNConfig
from lava_ssnnbp.fields import described
from lava_ssnnbp.runs import RunSettings, check_chip_settings, model_kind, normalised_config, same_settings

ROOT = Path(__file__).resolve().parents[1]
FIELDS = [f for cls in (SSNNConfig, RunSettings) for f in dataclasses.fields(cls)]


@pytest.fixture(autouse=True)
def runs_in_tmp(tmp_path, monkeypatch):
    monkeypatch.setattr(cli, "RUNS_ROOT", tmp_path / "runs")


def train_parser(**classes):
    return cli.build_parser(**classes).train_parser


def flat(text: str) -> str:
    return "".join(text.split())   # argparse wraps help (at spaces and hyphens)


def one_error_line(capsys, argv, *needles):
    rc = cli.main(argv)
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and len(err) == 1 and err[0].startswith("ssnnbp: error:"), (rc, err)
    for n in needles:
        assert n in err[0], err
    return err[0]


# ------------------------------------------------------------------ options from the field metadata
def test_every_field_is_described_and_an_option_with_its_help_unit_and_default():
    text = flat(train_parser().format_help())
    for f in FIELDS:
        assert "help" in f.metadata, f"{f.name}: declare it with fields.described"
        if options.has_option(f):
            assert flat(options.flags_of(f)[0]) in text, f.name
            assert flat(options.help_of(f).replace("%%", "%")) in text, f.name
            assert "default:" in options.help_of(f)
            if "unit" in f.metadata:
                assert f"in {f.metadata['unit']};" in options.help_of(f)
    assert "--test-threshold-scaling" not in text and "--ann-momentum" not in text   # flag=False


def test_a_field_added_to_the_dataclasses_is_an_option_with_no_other_edit(capsys):
    Model = dataclasses.make_dataclass(
        "Model", [("leak", "float", described(0.25, "membrane leak per step", unit="1/steps"))],
        bases=(SSNNConfig,), frozen=True)
    Settings = dataclasses.make_dataclass(
        "Settings", [("patience", "int", described(3, "epochs without progress before stopping", unit="epochs",
                                                   group="run"))], bases=(RunSettings,))
    parser = cli.build_parser(model=Model, settings=Settings)
    text = " ".join(parser.train_parser.format_help().split())
    assert "--leak LEAK membrane leak per step (in 1/steps; default: 0.25)" in text
    assert "--patience PATIENCE epochs without progress before stopping (in epochs; default: 3)" in text
    args = parser.parse_args(["train", "--leak", "0.5", "--hidden", "16"])
    cfg = cli.config_from_args(args, 784, 10, model=Model)
    assert cfg.leak == 0.5 and cfg.sizes == (784, 16, 10)
    assert cli.settings_from_args(args, Settings).patience == 3
    assert cli.settings_from_args(parser.parse_args(["train", "--patience", "7"]), Settings).patience == 7
    assert cli.config_from_args(parser.parse_args(["train"]), 784, 10, model=Model).leak == 0.25
    with pytest.raises(cli.UsageError, match="argument --leak: invalid float value: 'x'"):
        parser.parse_args(["train", "--leak", "x"])
    assert parser.options["train"]["leak"] == "--leak"   # a config error on the field names the option


def test_a_field_without_a_description_is_refused_when_the_parser_is_built():
    Model = dataclasses.make_dataclass("Model", [("leak", "float", 0.25)], bases=(SSNNConfig,), frozen=True)
    with pytest.raises(TypeError, match="field leak has no help"):
        cli.build_parser(model=Model)
    Typo = dataclasses.make_dataclass(
        "Typo", [("leak", "float", dataclasses.field(default=0.25, metadata={"help": "x", "units": "s"}))],
        bases=(SSNNConfig,), frozen=True)
    with pytest.raises(TypeError, match="leak: unknown metadata"):
        cli.build_parser(model=Typo)


def _refused_texts(f):
    """Texts the option of ``f`` refuses: not of its type or choices, and (numbers) one the
    dataclass refuses (every numeric field refuses a huge negative value)."""
    if "choices" in f.metadata:
        return ["nope"]
    kind = options.value_type(f)
    if kind in ("int", "Tuple[int, ...]"):
        return ["x", "-1000000000"]
    if kind in ("float", "Tuple[float, ...]"):
        return ["x", "-1000000000.0"]
    return []


@pytest.mark.parametrize("field,text", [(f, t) for f in FIELDS if options.has_option(f) for t in _refused_texts(f)],
                         ids=lambda v: v.name if isinstance(v, dataclasses.Field) else v)
def test_a_bad_value_of_any_field_option_is_one_line_naming_it(capsys, tmp_path, field, text):
    option = options.flags_of(field)[0]
    line = one_error_line(capsys, ["train", f"{option}={text}", "--out", str(tmp_path / "run")], f"argument {option}")
    assert field.name in line or "invalid" in line or "expected" in line
    if text.startswith("-1"):   # parsed, then refused by the dataclass, which names the field
        assert f"invalid {field.name}:" in line or "expected a positive integer" in line, line
    assert not (tmp_path / "run").exists()


def test_bool_fields_take_both_spellings():
    parser = cli.build_parser()
    for argv, fixed, wta in ((["--fixed-point", "--no-wta"], True, False), (["--no-fixed-point"], False, True)):
        args = parser.parse_args(["train", *argv])
        cfg = cli.config_from_args(args, 784, 10)
        assert (cfg.fixed_point, cfg.wta) == (fixed, wta)
    args = parser.parse_args(["train", "--target", "loihi2"])   # the chip configuration's defaults
    cfg = cli.config_from_args(args, 784, 10)
    assert (cfg.fixed_point, cfg.mode, cfg.steps, cfg.weight_bits, cfg.weight_exp) == (True, "replay", 50, 9, (-1, -1))


# ------------------------------------------------------------------ presets
def preset_args(name, *more):
    return cli.build_parser().parse_args(["train", "--preset", name, *more])


def built(args, input_size=784, classes=10):
    return cli.config_from_args(args, input_size, classes), cli.settings_from_args(args)


@pytest.mark.parametrize("name", presets.preset_names())
def test_every_preset_builds_a_valid_run_and_names_its_source(name, tmp_path):
    cfg, settings = built(preset_args(name))
    if cfg.loihi2:
        check_chip_settings(cfg, settings)
    if not model_kind(settings.model).torch_baseline:
        from lava_ssnnbp.runs import Run
        Run.check(tmp_path / "run", cfg, settings)
    p = presets.load_preset(name)
    assert p.description and "\n" not in p.description and (ROOT / p.source).is_file(), p


def _recorded(source: str):
    """(model config or None, run settings, epochs, sizes or None) a benchmark result records."""
    rec = json.loads((ROOT / source).read_text())
    if "model_config" in rec:     # benchmarks/accuracy.py
        return rec["model_config"], rec["run_settings"], rec["epochs"], None
    s = rec["settings"]           # benchmarks/baselines.py
    return None, s["run_settings"], s["epochs"], (tuple(s["sizes"]), s["steps"], s["conv"])


@pytest.mark.parametrize("name", [n for n in presets.preset_names()
                                  if presets.load_preset(n).source.startswith("benchmarks/results/")])
def test_a_preset_trains_as_the_result_it_cites(name):
    model, run, epochs, net = _recorded(presets.load_preset(name).source)
    cfg, settings = built(preset_args(name))
    assert same_settings(run, dataclasses.asdict(settings), ("seed", "checkpoint_s", "data_dir"))
    assert settings.epochs == epochs
    if model is not None:
        assert normalised_config(cfg.to_dict()) == normalised_config(model)
    else:
        assert (cfg.sizes, cfg.steps, settings.conv) == net


def test_the_demo_preset_is_the_demos_run():
    from lava_ssnnbp.demo import DEMO_ARGS
    cfg, settings = built(cli.build_parser().parse_args(["train", *DEMO_ARGS, "--epochs", "2"]))
    pcfg, psettings = built(preset_args("demo"))
    assert pcfg == cfg and psettings == settings


def test_explicit_options_override_a_preset_wherever_they_stand():
    for argv in (["--preset", "mnist-chip", "--eta", "0.6", "--epochs", "3"],
                 ["--eta", "0.6", "--preset", "mnist-chip", "--epochs", "3"]):
        cfg, s = built(cli.build_parser().parse_args(["train", *argv]))
        assert (cfg.eta, s.epochs, s.eta_step, s.eta_schedule, cfg.target) == (0.6, 3, 7, "step", "loihi2")
    cfg, _ = built(preset_args("mnist-replay-fixed-w9", "--no-fixed-point", "--weight-exp=0,0", "--mode", "rate"))
    assert (cfg.fixed_point, cfg.weight_exp, cfg.mode, cfg.weight_bits) == (False, (0, 0), "rate", 9)
    cfg, s = built(preset_args("fashion-tssl-bp", "--hidden", "64,32"))
    assert cfg.sizes == (784, 64, 32, 10) and s.model == "tssl-bp"


@pytest.mark.parametrize("name", presets.preset_names())
def test_a_preset_sets_only_the_options_it_names(name):
    plain = vars(cli.build_parser().parse_args(["train", "--preset", "none"]))
    given = vars(preset_args(name))
    values = presets.load_preset(name).values
    assert set(values) <= set(plain)
    assert {k: v for k, v in given.items() if k not in values and k != "preset"} == \
           {k: v for k, v in plain.items() if k not in values and k != "preset"}


@pytest.mark.parametrize("name", presets.preset_names())
def test_a_preset_shown_as_options_gives_the_same_run(capsys, name):
    assert cli.main(["presets", name]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith(f"{name}: ") and out[-1].startswith("ssnnbp train ")
    import shlex
    cfg, settings = built(cli.build_parser().parse_args(shlex.split(out[-1])[1:]))
    pcfg, psettings = built(preset_args(name))
    assert pcfg == cfg and psettings == settings


def test_presets_are_listed_one_line_each(capsys):
    names = presets.preset_names()
    assert cli.main(["presets"]) == 0
    listed = capsys.readouterr().out.splitlines()
    with pytest.raises(SystemExit) as e:
        cli.main(["train", "--preset", "list"])
    assert e.value.code == 0
    assert capsys.readouterr().out.splitlines() == listed
    assert [line.split()[0] for line in listed] == [*names, "none"] and "mnist-chip" in names and "demo" in names
    assert "(the default of ssnnbp train)" in listed[names.index(presets.DEFAULT)]
    assert sum("default of ssnnbp train" in line for line in listed) == 1
    assert cli.main(["presets", "none"]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "ssnnbp train --preset none"


def test_an_unknown_preset_is_one_line_listing_the_presets(capsys):
    line = one_error_line(capsys, ["train", "--preset", "mnist-chipp", "--out", "x"], "argument --preset",
                          "'mnist-chipp'")
    assert all(n in line for n in presets.preset_names())
    one_error_line(capsys, ["presets", "nope"], "unknown preset 'nope'", "mnist-chip")


@pytest.mark.parametrize("content,needles", [
    ({"description": "d", "values": {"frobnicate": 1}}, ["frobnicate", "unknown option"]),
    ({"description": "d", "values": {"out": "/tmp/x"}}, ["out", "unknown option"]),
    ({"description": "d", "values": {"eta": "fast"}}, ["eta", "'fast'"]),
    ({"description": "d", "values": {"epochs": 2.5}}, ["epochs", "2.5"]),
    ({"description": "d", "values": {"epochs": True}}, ["epochs", "True"]),
    ({"description": "d", "values": {"fixed_point": "yes"}}, ["fixed_point", "true or false"]),
    ({"description": "d", "values": {"mode": "magic"}}, ["mode", "'magic'", "replay"]),
    ({"description": "d", "values": {"hidden": []}}, ["hidden"]),
    ({"description": "d", "values": {"eta": -1.0}}, ["argument --eta", "invalid eta"]),   # the dataclass's check
    ({"values": {}}, ["description"]),
    ({"description": "d", "values": {}, "extra": 1}, ["nothing else"]),
    ("{not json", ["unreadable"]),
])
def test_a_bad_preset_file_is_one_line_naming_it(capsys, tmp_path, monkeypatch, content, needles):
    monkeypatch.setattr(presets, "preset_dir", lambda: tmp_path)
    (tmp_path / "mine.json").write_text(content if isinstance(content, str) else json.dumps(content))
    line = one_error_line(capsys, ["train", "--preset", "mine", "--out", str(tmp_path / "run")], *needles)
    assert "preset mine" in line or "argument --eta" in line
    assert not (tmp_path / "run").exists()


def test_the_preset_is_recorded_and_resuming_compares_values_not_names(capsys, tmp_path):
    out = tmp_path / "run"
    small = ["--hidden", "16", "--steps", "10", "--train-samples", "20", "--test-samples", "10", "--quiet",
             "--out", str(out)]
    assert cli.main(["train", "--preset", "demo", "--epochs", "1", *small]) == 0
    assert json.loads((out / "config.json").read_text())["preset"] == "demo"
    capsys.readouterr()
    # the same values spelled out: the same run, resumed (config.json says how it started)
    from lava_ssnnbp.demo import DEMO_ARGS
    assert cli.main(["train", *DEMO_ARGS, "--epochs", "2", *small]) == 0
    assert "resuming" in capsys.readouterr().out
    assert json.loads((out / "config.json").read_text())["preset"] == "demo"
    assert cli.main(["info", "--run", str(out)]) == 0
    assert f"run {out}: snn on default (preset demo), 2 epochs finished" in capsys.readouterr().out
    assert cli.main(["train", *DEMO_ARGS, "--epochs", "1", *small[:-1], str(tmp_path / "plain")]) == 0
    assert "preset" not in json.loads((tmp_path / "plain" / "config.json").read_text())
    one_error_line(capsys, ["train", "--preset", "demo", "--epochs", "3", "--eta", "0.6", *small], "other parameters")


PRESET_IN_TEXT = re.compile(r"--preset[ =]([A-Za-z0-9_.-]+)")


def test_the_docs_name_only_presets_that_exist():
    assert PRESET_IN_TEXT.findall("`ssnnbp train --preset mnist-chip --epochs 3`, --preset=demo") == ["mnist-chip",
                                                                                                       "demo"]
    names = set(presets.preset_names()) | {presets.LIST, presets.NONE, "NAME"}
    for doc in [ROOT / "README.md", ROOT / "benchmarks" / "RESULTS.md", *sorted((ROOT / "docs").glob("*.md"))]:
        for name in PRESET_IN_TEXT.findall(doc.read_text()):
            assert name in names, f"{doc.name} names preset {name!r}, which lava_ssnnbp/presets/ does not hold"


def test_presets_install_with_the_package():
    text = (ROOT / "pyproject.toml").read_text()
    assert '"lava_ssnnbp.presets" = ["*.json"]' in text   # package data of a package listed below
    assert '"lava_ssnnbp.presets",' in text and '"lava_ssnnbp.cli",' in text
    assert presets.preset_dir().joinpath("mnist-chip.json").is_file()   # found through importlib.resources


# ------------------------------------------------------------------ train's default: the chip configuration
TINY_CHIP = ["--dataset", "default", "--hidden", "16", "--steps", "10", "--train-samples", "20", "--test-samples", "10",
             "--epochs", "1", "--quiet"]


def test_train_without_a_preset_is_the_chip_configuration_of_the_readme_row(capsys):
    args = cli.build_parser().parse_args(["train"])
    assert args.preset == presets.DEFAULT == "mnist-chip" and args.default_preset and args.explicit == {}
    cfg, s = built(args)
    assert (cfg.target, cfg.mode, cfg.fixed_point, cfg.weight_bits, cfg.steps, cfg.sizes, cfg.eta) == \
           ("loihi2", "replay", True, 9, 50, (784, 1280, 10), 0.3)
    assert (s.dataset, s.epochs, s.eta_schedule, s.eta_step, s.eta_decay, s.batch_updates) == \
           ("mnist", 20, "step", 7, 0.5, "per-sample")
    check_chip_settings(cfg, s)
    assert (cfg, s) == built(preset_args("mnist-chip"))
    with pytest.raises(SystemExit):
        cli.main(["train", "--help"])
    assert "(default: mnist-chip" in " ".join(capsys.readouterr().out.split())


def test_preset_none_gives_the_dataclass_defaults():
    args = cli.build_parser().parse_args(["train", "--preset", "none"])
    assert args.preset is None and not args.default_preset
    cfg, s = built(args)
    assert cfg == SSNNConfig() and s == RunSettings()


def test_a_run_with_no_preset_records_the_default_preset_and_the_chip_target(capsys, tmp_path):
    out = tmp_path / "run"
    assert cli.main(["train", *TINY_CHIP, "--out", str(out)]) == 0
    assert "not the chip configuration" not in capsys.readouterr().out
    saved = json.loads((out / "config.json").read_text())
    assert saved["preset"] == "mnist-chip"
    assert (saved["model"]["target"], saved["model"]["mode"], saved["model"]["fixed_point"]) == ("loihi2", "replay",
                                                                                                 True)
    assert (saved["run"]["eta_schedule"], saved["run"]["eta_step"]) == ("step", 7)
    # the same run resumes with the same command, and 'info' names its preset
    assert cli.main(["train", *TINY_CHIP, "--epochs", "2", "--out", str(out)]) == 0
    assert "resuming" in capsys.readouterr().out
    assert cli.main(["info", "--run", str(out)]) == 0
    assert "(preset mnist-chip), 2 epochs finished" in capsys.readouterr().out


def test_an_option_that_conflicts_with_the_default_target_trains_without_it_and_says_so(capsys, tmp_path):
    out = tmp_path / "run"
    assert cli.main(["train", *TINY_CHIP, "--mode", "rate", "--out", str(out)]) == 0
    lines = [line for line in capsys.readouterr().out.splitlines() if "chip configuration" in line]
    assert lines == ["not the chip configuration (--mode rate): target none"]
    saved = json.loads((out / "config.json").read_text())
    assert (saved["model"]["target"], saved["model"]["mode"], saved["model"]["fixed_point"],
            saved["model"]["weight_bits"]) == (None, "rate", False, 8)
    assert saved["preset"] == "mnist-chip" and saved["run"]["eta_step"] == 7   # the preset's other values stay


@pytest.mark.parametrize("argv,named", [
    (["--no-fixed-point"], "--no-fixed-point"),
    (["--model", "ann"], "--model ann"),
    (["--model", "tssl-bp"], "--model tssl-bp"),
    (["--batch-updates", "mini-batch"], "--batch-updates mini-batch"),
    (["--steps", "100"], "--steps 100"),                  # a replay window over the 8-bit tag's 63 steps
    (["--weight-bits", "8", "--seed", "3"], "--weight-bits 8"),   # --seed does not conflict: not named
    (["--mode", "coincidence", "--no-fixed-point"], "--mode coincidence, --no-fixed-point"),
    (["--preset", "demo", "--eta-warmup", "100"], "--eta-warmup 100"),   # any preset's target
])
def test_what_makes_the_target_invalid_is_named_and_the_target_dropped(argv, named):
    args = cli.build_parser().parse_args(["train", *argv])
    assert options.resolve_target(args, 784, 10) == f"not the chip configuration ({named}): target none"
    cfg, s = built(args)
    assert cfg.target is None
    assert options.resolve_target(args, 784, 10) is None   # resolved once


@pytest.mark.parametrize("argv,needles", [
    (["--target", "loihi2", "--mode", "rate"], ["argument --target", "'replay'", "'rate'"]),
    (["--target", "loihi2", "--no-fixed-point"], ["argument --target", "fixed point"]),
    (["--preset", "none", "--target", "loihi2", "--model", "ann"], ["argument --model", "chip configuration"]),
    (["--mode", "rate", "--eta", "-1"], ["argument --eta", "invalid eta"]),   # wrong with or without the target
])
def test_an_explicit_target_that_conflicts_stays_one_error_line(capsys, tmp_path, argv, needles):
    line = one_error_line(capsys, ["train", *TINY_CHIP, *argv, "--out", str(tmp_path / "run")], *needles)
    assert "not the chip configuration" not in capsys.readouterr().out + line
    assert not (tmp_path / "run").exists()


def test_a_run_of_the_old_defaults_says_how_to_resume_it(capsys, tmp_path):
    """A folder that the same command filled before train's default became the chip configuration."""
    out = tmp_path / "run"
    assert cli.main(["train", "--preset", "none", *TINY_CHIP, "--out", str(out)]) == 0
    line = one_error_line(capsys, ["train", *TINY_CHIP, "--epochs", "2", "--out", str(out)], "other parameters",
                          "--preset none")
    assert "mnist-chip" in line
    assert cli.main(["train", "--preset", "none", *TINY_CHIP, "--epochs", "2", "--out", str(out)]) == 0
