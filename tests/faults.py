"""Faults that real machines produce, injected into real commands, with what
the user sees and what is kept.

`tests/test_faults.py` runs every scenario; `docs/faults_table.py` runs them
again to write the second table of `docs/reliability.md`, which the test keeps
equal to what the scenarios report.

A scenario runs in an empty working folder (so paths in messages are short and
stable), injects one fault (a signal, `OSError(ENOSPC)`, a second process, a
damaged file, a read-only folder), checks the outcome with assertions, and
returns an `Outcome`: the line the user reads, and what is kept.
"""

import contextlib
import dataclasses
import errno
import functools
import io
import os
import re
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import textwrap
import time
from unittest import mock

ENVIRONMENT = {k: v for k, v in os.environ.items() if k != "KERAS_BACKEND"}
TRAIN = ["train", "--dataset", "digits", "--latent-dim", "2"]


@dataclasses.dataclass(frozen=True)
class Outcome:
    seen: str  # the line the user reads (made stable: no pid, host or time)
    kept: str  # what is left, and what the next command does


@dataclasses.dataclass(frozen=True)
class Fault:
    description: str  # the fault, as the docs table shows it
    scenario: object  # callable() -> Outcome, run in an empty working folder


def run_fault(fault, folder):
    import keras

    keras.backend.clear_session(free_memory=False)
    keras.utils.set_random_seed(0)
    previous = os.getcwd()
    os.chdir(folder)
    try:
        return fault.scenario()
    finally:
        os.chdir(previous)


# --- How scenarios act ---------------------------------------------------------


def keras_vae(*argv):
    """`keras-vae ARGV` in this process: `(exit code, stdout, last stderr line)`."""
    from keras_vae import cli

    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        code = cli.main(list(argv))
    errors = stderr.getvalue().strip()
    assert "Traceback" not in errors, errors
    assert errors.count("\n") == 0, errors  # one line, if any
    return code, stdout.getvalue(), errors


def in_new_process(*argv, script=None):
    """`keras-vae ARGV` in a fresh Python process, optionally run by `script`
    (Python code that receives ARGV after its own first argument)."""
    command = (
        [sys.executable, "-m", "keras_vae", *argv]
        if script is None
        else [sys.executable, "-c", script, *argv]
    )
    return subprocess.run(
        command, capture_output=True, text=True, timeout=300, env=ENVIRONMENT
    )


def _stable(line):
    """A message without what changes from run to run."""
    line = re.sub(
        r"process \d+ on [^,]+, started [\d\-T:]+", "process P on H, started T", line
    )
    return line


def _history_epochs(out):
    from keras_vae.experiments import backup

    return [int(row["epoch"]) for row in backup.read_history(f"{out}/history.csv")]


def _generations(out):
    return sorted(
        name for name in os.listdir(f"{out}/.backup") if not name.startswith(".")
    )


def _resumes(arguments, after, epochs):
    """Runs `arguments` again: it must resume after epoch `after` and finish."""
    code, output, _ = keras_vae(*arguments)
    assert code == 0
    assert f"after epoch {after} of {epochs}." in output, output
    assert _history_epochs("run") == list(range(epochs))
    return (
        f"the backup of epoch {after}; the same command resumes after epoch "
        f"{after} and trains epochs {after + 1} to {epochs}"
    )


# A training run whose backup writer meets a signal while it writes the second
# epoch: half the state file is on disk, then the process gets the signal.
_SIGNAL_IN_BACKUP = textwrap.dedent(
    """
    import os, signal, sys
    from keras_vae import cli
    from keras_vae.experiments import backup

    write, calls = backup.write_weights, []

    def faulty(model, path):
        calls.append(path)
        write(model, path)
        if len(calls) == 2:
            with open(path, "r+b") as file:
                file.truncate(os.path.getsize(path) // 2)
            os.kill(os.getpid(), getattr(signal, sys.argv[1]))

    backup.write_weights = faulty
    # Ctrl-C at a terminal raises KeyboardInterrupt; a process started from a
    # shell's background job inherits SIGINT ignored, and would never see it.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    sys.exit(cli.main(sys.argv[2:]))
    """
)


def _signal_during_backup(name):
    def scenario():
        arguments = TRAIN + ["--epochs", "3", "--out", "run"]
        result = in_new_process(name, *arguments, script=_SIGNAL_IN_BACKUP)
        if name == "SIGKILL":
            assert result.returncode == -signal.SIGKILL
            seen = "(nothing: the process is killed)"
        else:
            assert result.returncode == 130
            seen = result.stderr.strip().splitlines()[-1]
            assert seen == (
                "keras-vae train: interrupted; run keeps epoch 1 of 3: run the "
                "same command to resume."
            )
        assert _generations("run") == ["epoch-000001"]  # not the half-written one
        return Outcome(seen, _resumes(arguments, 1, 3))

    return scenario


def _kill_at_a_random_moment():
    from keras_vae.experiments import resume

    arguments = TRAIN + ["--epochs", "12", "--batch-size", "8", "--out", "run"]
    process = subprocess.Popen(
        [sys.executable, "-m", "keras_vae", *arguments],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=ENVIRONMENT,
    )
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and process.poll() is None:
        if resume.backed_up_epochs("run") >= 2:
            break
        time.sleep(0.02)
    assert process.poll() is None, "the run ended before it could be killed"
    process.send_signal(signal.SIGKILL)
    process.wait()
    done = resume.backed_up_epochs("run")
    assert 2 <= done < 12 and not os.path.exists("run/model.keras")
    code, output, _ = keras_vae(*arguments)
    assert code == 0 and f"after epoch {done} of 12." in output
    assert _history_epochs("run") == list(range(12))  # each epoch once
    assert not os.path.exists("run/.backup")  # the finished model replaces it
    return Outcome(
        "(nothing: the process is killed)",
        "every epoch backed up before the kill; the same command resumes after the "
        "last one, and history.csv holds each epoch once",
    )


def _full_disk_in(target, when):
    """A disk that fills up while `target` (a function of keras_vae) writes."""

    def scenario():
        from keras_vae.experiments import backup, training

        module, name = {
            "backup": (backup, "write_weights"),
            "model": (training, "atomic_path"),
        }[target]
        original, calls = getattr(module, name), []

        def full(*arguments, **keywords):
            calls.append(arguments)
            if target == "backup" and len(calls) == when:
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), arguments[1])
            if target == "model" and str(arguments[0]).endswith("model.keras"):
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), arguments[0])
            return original(*arguments, **keywords)

        arguments = TRAIN + ["--epochs", "3", "--out", "run"]
        with mock.patch.object(module, name, full):
            code, _, seen = keras_vae(*arguments)
        assert code == 1
        kept = 1 if target == "backup" else 3
        assert seen.endswith(
            f"run keeps epoch {kept} of 3: run the same command to resume."
        )
        assert "no space left on the device; free some space." in seen
        assert _generations("run")[-1] == f"epoch-00000{kept}"
        if target == "backup":
            return Outcome(seen, _resumes(arguments, 1, 3))
        code, output, _ = keras_vae(*arguments)
        assert code == 0 and "after epoch 3 of 3." in output
        assert os.path.exists("run/model.keras")
        return Outcome(
            seen,
            "the backup of epoch 3; the same command trains nothing again and "
            "writes the model, metrics and figures",
        )

    return scenario


def _too_little_space():
    from keras_vae.experiments import backup

    usage = shutil.disk_usage(".")
    small = usage._replace(free=2_000_000)
    arguments = TRAIN + ["--epochs", "2", "--out", "run"]
    with mock.patch.object(backup.shutil, "disk_usage", lambda _: small):
        code, _, seen = keras_vae(*arguments)
    assert code == 1
    assert "no space left on device (a backup needs" in seen
    assert "MB, 2.0 MB are free); free some space." in seen
    assert not os.path.exists("run/.backup") or not _generations("run")
    return Outcome(
        seen,
        "the folder's settings; no backup was started, so the same command starts "
        "the run again",
    )


def _second_command():
    from keras_vae.experiments import resume

    arguments = TRAIN + ["--epochs", "200", "--batch-size", "8", "--out", "run"]
    first = subprocess.Popen(
        [sys.executable, "-m", "keras_vae", *arguments],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=ENVIRONMENT,
    )
    try:
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline and not resume.backed_up_epochs("run"):
            time.sleep(0.05)
        started = time.monotonic()
        code, _, seen = keras_vae(*arguments)
        assert code == 1 and time.monotonic() - started < 10
        assert seen.startswith(
            "keras-vae train: error: run is in use by another command (keras-vae "
            f"train, process {first.pid} on "
        )
        assert first.poll() is None  # the first one trains on
    finally:
        first.kill()
        first.wait()
    # The lock file of the killed process is left, but not held.
    from keras_vae.experiments import run_folder

    assert os.path.exists(os.path.join("run", run_folder.LOCK))
    run_folder.Lock("run").acquire().release()
    return Outcome(
        _stable(seen),
        "the first command's run, which trains on; once that process is gone "
        "(even killed), its lock is free",
    )


def _damaged_generation(which):
    def scenario():
        arguments = TRAIN + ["--epochs", "3", "--out", "run"]
        with _stopping_after_epoch(2):
            keras_vae(*arguments)
        assert _generations("run") == ["epoch-000001", "epoch-000002"]
        targets = ["epoch-000002"] if which == "newest" else _generations("run")
        for name in targets:
            path = f"run/.backup/{name}/state.npz"
            with open(path, "r+b") as file:
                file.seek(os.path.getsize(path) // 2)
                byte = file.read(1)
                file.seek(-1, os.SEEK_CUR)
                file.write(bytes([byte[0] ^ 0xFF]))
        if which == "newest":
            return Outcome(
                "Resuming the unfinished run in run after epoch 1 of 3.",
                _resumes(arguments, 1, 3),
            )
        code, _, seen = keras_vae(*arguments)
        assert code == 1
        assert seen.endswith("pass --overwrite to start the run again.")
        assert _generations("run") == ["epoch-000001", "epoch-000002"]
        return Outcome(
            seen, "every file of the run, untouched; --overwrite starts it again"
        )

    return scenario


@contextlib.contextmanager
def _stopping_after_epoch(epoch):
    """Ctrl-C right after the backup of `epoch` is written."""
    from keras_vae.experiments import backup

    original = backup.save

    def save(model, folder, done, *rest):
        original(model, folder, done, *rest)
        if done == epoch:
            raise KeyboardInterrupt

    with mock.patch.object(backup, "save", save):
        yield


def _overwrite_keeps_other_files():
    from keras_vae.experiments import run_folder

    arguments = TRAIN + ["--epochs", "1", "--out", "run"]
    assert keras_vae(*arguments)[0] == 0
    # Every file train writes is one that --overwrite may remove.
    assert set(os.listdir("run")) <= set(run_folder.RUN_FILES) | {run_folder.LOCK}
    with open("run/notes.txt", "w") as file:
        file.write("my notes")
    os.makedirs("run/src")
    with open("run/src/main.py", "w") as file:
        file.write("print(1)")
    code, output, _ = keras_vae(*arguments, "--seed", "3", "--overwrite")
    assert code == 0 and "Run folder: run" in output
    with open("run/notes.txt") as file:
        assert file.read() == "my notes"
    assert os.path.exists("run/src/main.py")
    return Outcome(
        "(the run is replaced as asked)",
        "notes.txt and src/main.py: --overwrite removes only the files keras-vae "
        "writes in a run folder",
    )


@functools.cache
def _conditional_run():
    """A finished conditional run on digits, trained once per process."""
    folder = os.path.join(tempfile.mkdtemp(prefix="faults-"), "cvae")
    code, _, _ = keras_vae(
        "train",
        "--dataset",
        "digits",
        "--model",
        "cvae",
        "--latent-dim",
        "2",
        "--epochs",
        "1",
        "--out",
        folder,
    )
    assert code == 0
    return folder


def _listing(folder):
    return sorted(
        (
            os.path.relpath(os.path.join(root, name), folder),
            os.path.getmtime(os.path.join(root, name)),
        )
        for root, _, names in os.walk(folder)
        for name in names
    )


def _read_only_run():
    shutil.copytree(_conditional_run(), "cvae")
    before = _listing("cvae")
    modes = {}
    for root, folders, names in os.walk("cvae"):
        for name in folders + names + [""]:
            path = os.path.join(root, name)
            modes[path] = os.stat(path).st_mode
            os.chmod(path, modes[path] & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))
    try:
        code, output, _ = keras_vae("evaluate", "cvae", "--iw-samples", "0")
    finally:
        for path, mode in modes.items():
            os.chmod(path, mode)
    assert code == 0 and "label fidelity" in output
    assert _listing("cvae") == before  # nothing written into the run
    return Outcome(
        "(the evaluation, as for any run)",
        "the run folder as it was: the classifier that judges samples is cached in "
        "the user's cache folder (KERAS_VAE_CACHE, ~/.cache/keras-vae)",
    )


def _cache_not_writable():
    shutil.copytree(_conditional_run(), "cvae")
    with open("cache", "w") as file:
        file.write("a file where the cache folder would be")
    with mock.patch.dict(os.environ, {"KERAS_VAE_CACHE": "cache"}):
        code, output, _ = keras_vae("evaluate", "cvae", "--iw-samples", "0")
    assert code == 0 and "label fidelity" in output
    seen = next(line for line in output.splitlines() if "not cached" in line)
    return Outcome(
        seen, "the evaluation's results; the classifier is trained again next time"
    )


FAULTS = [
    Fault(
        "SIGKILL while the backup of epoch 2 of 3 is half-written",
        _signal_during_backup("SIGKILL"),
    ),
    Fault(
        "Ctrl-C (SIGINT) while the backup of epoch 2 of 3 is written",
        _signal_during_backup("SIGINT"),
    ),
    Fault("SIGKILL at a moment chosen by the clock", _kill_at_a_random_moment),
    Fault(
        "The disk fills up while the backup of epoch 2 is written (`OSError(ENOSPC)`)",
        _full_disk_in("backup", 2),
    ),
    Fault(
        "The disk fills up while `model.keras` is written (`OSError(ENOSPC)`)",
        _full_disk_in("model", None),
    ),
    Fault("Less free space than a backup needs", _too_little_space),
    Fault(
        "A second `keras-vae train` on the same `--out` while the first trains",
        _second_command,
    ),
    Fault(
        "One flipped byte in the newest backup generation",
        _damaged_generation("newest"),
    ),
    Fault("One flipped byte in every backup generation", _damaged_generation("all")),
    Fault(
        "`--overwrite` of a run folder where you added `notes.txt` and `src/`",
        _overwrite_keeps_other_files,
    ),
    Fault(
        "`keras-vae evaluate` of a conditional run in a read-only folder",
        _read_only_run,
    ),
    Fault("The cache folder cannot be written", _cache_not_writable),
]
