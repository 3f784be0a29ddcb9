"""The conditional study of docs/commands/evaluate.md, regenerated.

    python docs/conditional_study.py WORK_DIR    # about 70 minutes on 2 CPU cores
    python docs/conditional_study.py WORK_DIR --priors

Trains the conv CVAE (z = 15, 10 epochs, Fashion-MNIST, seed 0) once per lever
with `keras-vae train`, judges every run with `keras-vae evaluate RUN
--iw-samples 0 --latent-mixture 30` (the same classifier for every run: trained
with a fixed seed on the same images), then runs the winning setting's command
and `evaluate` on it. Writes, into docs/figures:

- conditional-study-table.txt: the table of every lever;
- cvae-original-output.txt, cvae-win-output.txt: `evaluate`'s output on the
  original and on the winning run;
- cvae-before.png, cvae-after.png: the original's prior samples and the
  winning run's samples, one row per class.

With `--priors`, trains and judges `PRIOR_LEVERS` instead (the learned
conditional prior p(z | y), `--prior class`, with three likelihoods, and a
mixture of 10 Gaussians per class, `--prior class:10`) and
writes conditional-prior-table.txt; then runs `keras-vae train --model cvae
--dataset fashion_mnist` (the command's defaults, its latent mixture of 30 per
class and temperature 0.7 included) and `evaluate` on it:
cvae-default-output.txt and cvae-default.png.

A run already finished in WORK_DIR is not trained again, nor evaluated again
once its folder keeps `evaluate`'s output.
`docs/make_figures.sh --all` calls it.
"""

import json
import os
import shutil
import subprocess
import sys

DOCS = os.path.dirname(os.path.abspath(__file__))
FIGURES = os.path.join(DOCS, "figures")
BASE = ["--model", "cvae", "--latent-dim", "15", "--dataset", "fashion_mnist"]
BASE += ["--epochs", "10"]
# The original's settings (no longer `--model cvae`'s defaults: samples from
# the prior at temperature 1); a lever's own flags come after them and win.
BASE += ["--likelihood", "gaussian", "--prior", "normal", "--no-condition-all-layers"]
BASE += ["--latent-mixture", "0", "--sample-temperature", "1"]
BERNOULLI = ["--likelihood", "bernoulli", "--preprocessing", "scale"]
LEVERS = [
    ("original", "none (the original)", []),
    ("beta4", "`--beta 4`", ["--beta", "4"]),
    ("z5", "`--latent-dim 5` (instead of 15)", ["--latent-dim", "5"]),
    ("bernoulli", "`--likelihood bernoulli --preprocessing scale`", BERNOULLI),
    ("all-layers", "`--condition-all-layers`", ["--condition-all-layers"]),
    (
        "all-layers-bernoulli",
        "`--condition-all-layers --likelihood bernoulli --preprocessing scale`",
        ["--condition-all-layers", *BERNOULLI],
    ),
]
CLASS_PRIOR = ["--prior", "class", "--condition-all-layers"]
PRIOR_LEVERS = [
    (
        "class-prior-all-layers",
        "`--prior class --condition-all-layers`",
        CLASS_PRIOR,
    ),
    (
        "class-prior-all-layers-gaussian-global",
        "`--prior class --condition-all-layers --likelihood gaussian_global`",
        [*CLASS_PRIOR, "--likelihood", "gaussian_global"],
    ),
    (
        "class-prior-all-layers-logistic",
        "`--prior class --condition-all-layers --likelihood logistic`",
        [*CLASS_PRIOR, "--likelihood", "logistic"],
    ),
    (
        "class-mixture-all-layers-logistic",
        "`--prior class:10 --condition-all-layers --likelihood logistic` "
        "(`--model cvae`'s defaults)",
        ["--prior", "class:10", "--condition-all-layers", "--likelihood", "logistic"],
    ),
]
# `--model cvae`'s own command: its defaults (z = 20, 15 epochs).
DEFAULT_COMMAND = ["--model", "cvae", "--dataset", "fashion_mnist"]
WINNER = ["--condition-all-layers", "--latent-mixture", "30"]


def keras_vae(*arguments, log=None):
    command = [sys.executable, "-m", "keras_vae", *arguments]
    print("+ keras-vae " + " ".join(arguments), file=sys.stderr, flush=True)
    result = subprocess.run(command, capture_output=True, text=True)
    if log:
        with open(log, "w") as file:
            file.write(result.stdout + result.stderr)
    if result.returncode:
        sys.exit(f"failed:\n{result.stderr[-2000:]}")
    return result.stdout


def train(name, arguments, base=BASE):
    """Trains into the folder `name` of the working folder, unless done."""
    if not os.path.exists(os.path.join(name, "model.keras")):
        keras_vae("train", *base, *arguments, "--out", name, log=name + "-train.txt")
    return name


def judge(run, latent_mixture=True):
    """`evaluate`'s output and its numbers, as the table shows them; kept in
    the run's folder, so that a table is written again without evaluating."""
    extra = ["--latent-mixture", "30"] if latent_mixture else []
    saved = os.path.join(run, f"evaluate{'-mixture' if latent_mixture else ''}.txt")
    if os.path.exists(saved):
        with open(saved) as file:
            output = file.read()
    else:
        output = keras_vae("evaluate", run, "--iw-samples", "0", *extra)
        with open(saved, "w") as file:
            file.write(output)
    return output, _numbers(output)


def _numbers(output):
    lines = output.splitlines()

    def after(prefix, word):
        line = next(line for line in lines if line.startswith(prefix) and word in line)
        return line.split(word)[1].split()[0]

    test = next(line for line in lines if line.startswith("test "))
    return {
        "elbo": float(test.split()[-1]),
        "prior": (after("prior", "fidelity "), after("prior", "diversity ")),
        "mixture": (
            after("latent mixture", "fidelity "),
            after("latent mixture", "diversity "),
        ),
        "reconstructions": tuple(
            after("reconstructions", word).rstrip(":") for word in ("score ", "and ")
        ),
    }


def table(rows):
    lines = [
        "| lever | test ELBO | prior: fidelity | prior: diversity "
        "| mixture: fidelity | mixture: diversity "
        "| reconstructions: fidelity | reconstructions: diversity |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    # The likelihoods of the rows whose -ELBO is not comparable, in order.
    used = [
        likelihood
        for likelihood in _NOT_COMPARABLE
        if any(likelihood in arguments for _, arguments, _ in rows)
    ]
    for label, arguments, numbers in rows:
        elbo = f"{numbers['elbo']:.2f}"
        for likelihood in _NOT_COMPARABLE:
            if likelihood in arguments:
                elbo = f"({elbo}){_MARKS[used.index(likelihood)]}"
        cells = [
            _percent(value) if index == 0 else value
            for kind in ("prior", "mixture", "reconstructions")
            for index, value in enumerate(numbers[kind])
        ]
        lines.append(f"| {label} | {elbo} | " + " | ".join(cells) + " |")
    notes = [
        f"{mark} {_NOT_COMPARABLE[likelihood]}: not comparable with the Gaussian rows."
        for mark, likelihood in zip(_MARKS, used, strict=False)
    ]
    if notes:
        lines += ["", *notes]
    return "\n".join(lines) + "\n"


# The likelihoods whose -ELBO is not a Gaussian density's of standardized
# pixels, and what it is.
_NOT_COMPARABLE = {
    "bernoulli": "Bernoulli negative log-likelihood of pixels in [0, 1]",
    "logistic": "Discretized logistic negative log-probability of the "
    "8-bit pixels, in nats",
}
_MARKS = "¹²"


def _write(name, text):
    with open(os.path.join(FIGURES, name), "w") as file:
        file.write(text)


def _percent(text):
    return text.replace("%", " %")


def judge_levers(levers):
    """Trains (unless done) and judges each lever: the table's rows."""
    rows = []
    for name, label, arguments in levers:
        run = train(name, arguments)
        output, numbers = judge(run)
        if name == "original":
            _write("cvae-original-output.txt", output)
        # The test ELBO that training wrote (evaluate draws its own sample).
        with open(os.path.join(run, "metrics.json")) as file:
            numbers["elbo"] = json.load(file)["test"]["elbo"]
        rows.append((label, arguments, numbers))
    return rows


def main():
    if len(sys.argv) < 2 or sys.argv[2:] not in ([], ["--priors"]):
        sys.exit(__doc__)
    work = os.path.abspath(sys.argv[1])
    os.makedirs(work, exist_ok=True)
    os.chdir(work)  # the outputs name the runs by their folder names
    if sys.argv[2:] == ["--priors"]:
        _write("conditional-prior-table.txt", table(judge_levers(PRIOR_LEVERS)))
        default = train("cvae-default", [], base=DEFAULT_COMMAND)
        # Its own latent mixture (30 per class) and temperature (0.7).
        _write("cvae-default-output.txt", judge(default, latent_mixture=False)[0])
        keras_vae("sample", default, "--out", os.path.join(FIGURES, "cvae-default.png"))
        return
    _write("conditional-study-table.txt", table(judge_levers(LEVERS)))
    winner = train("cvae-win", WINNER)
    output, _ = judge(winner, latent_mixture=False)
    _write("cvae-win-output.txt", output)
    shutil.copy(
        os.path.join("original", "conditioned.png"),
        os.path.join(FIGURES, "cvae-before.png"),
    )
    shutil.copy(
        os.path.join(winner, "conditioned.png"), os.path.join(FIGURES, "cvae-after.png")
    )
    print(f"The conditional study -> {FIGURES} (runs kept in {work})", file=sys.stderr)


if __name__ == "__main__":
    main()
