import glob
import json
import os
import re

import pytest

from keras_vae import cli, settings
from keras_vae.cli import config_file


def _parse(argv):
    parser = cli.build_parser()
    return config_file.parse_args(parser, argv, parser.commands)


def _write(tmp_path, text):
    path = tmp_path / "settings.toml"
    path.write_text(text)
    return str(path)


def test_keys_mirror_the_flags_and_flags_override_them(tmp_path):
    path = _write(
        tmp_path,
        'latent-dim = 3\nlearning_rate = 0.002\nmodel = "cvae"\n'
        "condition-all-layers = true\nbeta-schedule = 'warmup:2'\n",
    )
    arguments = _parse(["train", "--config", path, "--latent-dim", "5"])
    assert arguments.latent_dim == 5  # the flag wins
    assert arguments.learning_rate == 0.002
    assert arguments.model == "cvae"
    assert arguments.condition_all_layers is True
    # Parsed once, here, into the library's object.
    assert arguments.beta_schedule == settings.BetaSchedule("warmup", 2)
    assert arguments.epochs == 15  # neither: the default


def test_a_required_flag_may_come_from_the_file(tmp_path):
    path = _write(tmp_path, "beta = [0, 12, 200]\n")
    assert _parse(["sweep", "--config", path]).beta == [0.0, 12.0, 200.0]
    assert _parse(["sweep", "--beta", "4", "--config", path]).beta == [4.0]


def test_the_tuner_reads_one_too(tmp_path):
    path = _write(tmp_path, "max-trials = 3\nlatent-dim = [2, 16]\n")
    arguments = _parse(["tune", "--config", path, "--dataset", "digits"])
    assert arguments.max_trials == 3 and arguments.latent_dim == [2, 16]


def test_train_writes_the_effective_configuration(tmp_path):
    path = _write(tmp_path, 'dataset = "digits"\nepochs = 1\nlatent-dim = 3\n')
    out = tmp_path / "run"
    argv = ["train", "--config", path, "--seed", "4", "--no-figures", "--out", str(out)]
    assert cli.main(argv) == 0
    with open(out / "config.json") as file:
        config = json.load(file)
    assert (config["dataset"], config["epochs"], config["latent_dim"]) == (
        "digits",
        1,
        3,
    )
    assert config["seed"] == 4


@pytest.mark.parametrize(
    "text, message",
    [
        ("latentdim = 2\n", "unknown key 'latentdim'; expected one of"),
        ("latent-dim = 0\n", "'latent-dim': expected an integer >= 1, got 0"),
        ("latent-dim = [2]\n", "'latent-dim' must be a single value, got [2]"),
        ("latent-dim = 2.5\n", "'latent-dim': expected an integer"),
        ("model = 'gan'\n", "'model' must be one of vae, conv_vae, cvae, got 'gan'"),
        ("condition-all-layers = 1\n", "must be true or false, got 1"),
        ("learning-rate = -1.0\n", "'learning-rate': expected a finite number > 0"),
        ("beta-schedule = 'sometimes'\n", "'beta-schedule'"),
        ("[train]\nepochs = 2\n", "'train' must be a value, not a table"),
        ("epochs = \n", "is not a readable TOML file"),
    ],
)
def test_bad_files_are_one_line_errors(text, message, tmp_path, capsys):
    path = _write(tmp_path, text)
    with pytest.raises(SystemExit) as exit_info:
        _parse(["train", "--config", path])
    assert exit_info.value.code == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1
    assert error.startswith("keras-vae train: error: --config ") and message in error


def test_a_missing_file_is_named(tmp_path, capsys):
    with pytest.raises(SystemExit):
        _parse(["train", "--config", str(tmp_path / "nowhere.toml")])
    assert "nowhere.toml: no such file" in capsys.readouterr().err


def test_the_documented_files_are_valid(tmp_path):
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    blocks = [
        block
        for page in glob.glob(os.path.join(root, "docs", "**", "*.md"), recursive=True)
        for block in re.findall(r"```toml\n(.*?)```", _text(page), re.S)
    ]
    assert blocks
    for block in blocks:
        defaults = config_file.read(
            _write(tmp_path, block), cli.build_parser().commands.choices["train"]
        )
        assert defaults


def _text(path):
    with open(path) as file:
        return file.read()
