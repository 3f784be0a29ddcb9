import pytest

from keras_vae import cli


@pytest.mark.parametrize(
    "arguments, message",
    [
        (["--latent-dim", "8", "4"], "empty or inverted"),
        (["--beta", "-1", "10"], "beta"),
        (["--beta", "0", "1", "2"], "one value (fixed) or two (a range)"),
        (["--objective", "accuracy"], "Unknown objective"),
        (["--objective", "rate"], "--rate-budget"),
        (["--model", "cvae", "--prior", "vamp"], "the VampPrior an unconditional VAE"),
    ],
)
def test_bad_search_settings_are_one_line_errors(arguments, message, tmp_path, capsys):
    directory = tmp_path / "runs"
    code = cli.main(
        ["tune", "--dataset", "digits", "--directory", str(directory), *arguments]
    )
    assert code == 1
    error = capsys.readouterr().err.strip()
    assert len(error.splitlines()) == 1 and message in error
    assert not (directory / "vae" / "oracle.json").exists()


@pytest.mark.parametrize(
    "arguments, message",
    [
        (["--tuner", "grid"], "invalid choice: 'grid'"),
        (["--workers", "0"], "expected an integer >= 1, got 0"),
        (["--max-trials", "0"], "expected an integer >= 1, got 0"),
        (["--seed", "-1"], "expected an integer >= 0, got -1"),
        (["--prior", "normal", "gauss"], "Invalid prior 'gauss'"),
        (["--train-samples", "1", "0"], "expected an integer >= 1, got 0"),
    ],
)
def test_bad_flags_are_rejected_by_the_parser(arguments, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["tune", *arguments])
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def test_priors_and_training_samples_are_candidates_of_the_search():
    from keras_vae.cli import build_parser
    from keras_vae.cli.tune import hypermodel_arguments

    parser = build_parser("keras-vae")
    arguments = parser.parse_args(
        ["tune", "--prior", "normal", "vamp:8", "--train-samples", "1", "4"]
    )
    searched = hypermodel_arguments(arguments, (8, 8, 1), 10)
    assert searched["prior"] == ["normal", "vamp:8"]
    assert searched["train_samples"] == [1, 4]
    fixed = hypermodel_arguments(parser.parse_args(["tune"]), (8, 8, 1), 10)
    assert (fixed["prior"], fixed["train_samples"]) == ("normal", 1)


def test_a_different_search_in_the_same_directory_is_refused(tmp_path, capsys):
    common = [
        "tune",
        "--dataset",
        "digits",
        "--directory",
        str(tmp_path),
        "--tuner",
        "random",
        "--max-trials",
        "1",
        "--epochs",
        "1",
        "--latent-dim",
        "2",
        "--hidden-units",
        "16",
    ]
    assert cli.main([*common, "--beta", "1"]) == 0
    capsys.readouterr()
    assert cli.main([*common, "--beta", "2"]) == 1
    assert "holds a different search" in capsys.readouterr().err
