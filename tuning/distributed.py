"""Runs a search as KerasTuner's chief oracle plus workers on this machine."""

import os
import socket
import subprocess


def free_port(host="127.0.0.1"):
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def launch(command, workers, folder, say=print, host="127.0.0.1"):
    """Starts the search `command` (a process's argv) as a chief and `workers`
    workers.

    KerasTuner's distributed mode: the chief (KERASTUNER_TUNER_ID=chief) serves
    the oracle on KERASTUNER_ORACLE_IP:KERASTUNER_ORACLE_PORT; each worker
    (tuner0, tuner1, ...) asks it for trials until the search is done. The
    processes' output goes to `folder/logs/<id>.log`.

    Raises:
        ChildProcessError: if a process fails, naming its log.
    """
    command = _without_workers(command)
    port = free_port(host)
    logs = os.path.join(folder, "logs")
    os.makedirs(logs, exist_ok=True)
    processes = {}
    for tuner_id in ["chief"] + [f"tuner{i}" for i in range(workers)]:
        env = {
            **os.environ,
            "KERASTUNER_TUNER_ID": tuner_id,
            "KERASTUNER_ORACLE_IP": host,
            "KERASTUNER_ORACLE_PORT": str(port),
        }
        log = open(os.path.join(logs, f"{tuner_id}.log"), "w")
        processes[tuner_id] = (
            subprocess.Popen(
                command,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            ),
            log,
        )
    say(f"Started a chief and {workers} workers on {host}:{port}; logs in {logs}")
    failed = []
    try:
        for tuner_id, (process, log) in processes.items():
            if process.wait() != 0:
                failed.append(tuner_id)
            log.close()
    finally:
        for process, log in processes.values():
            if process.poll() is None:
                process.kill()
            log.close()
    if failed:
        raise ChildProcessError(
            f"{', '.join(failed)} failed: see {os.path.join(logs, failed[0] + '.log')}"
        )


def _without_workers(argv):
    """`argv` without `--workers N` or `--workers=N`. (`--overwrite` may stay:
    chief and workers never overwrite, see `keras_vae.cli.tune.run`.)"""
    result, skip = [], False
    for argument in argv:
        if skip:
            skip = False
        elif argument == "--workers":
            skip = True
        elif not argument.startswith("--workers="):
            result.append(argument)
    return result
