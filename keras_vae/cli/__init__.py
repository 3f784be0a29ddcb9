"""The `keras-vae` command line: train, evaluate, sweep, tune, and sample,
interpolate, traverse, encode, calibrate, score and export a finished run.

One module per command, each with its parser (`add_parser`) and its work and
output (`run`); the flags several commands share are declared once in
`keras_vae.cli.options`. Parsing imports neither TensorFlow nor Keras, so
`--help` and argument errors answer at once; a command imports what it needs
after parsing. The library never imports this package.
"""

import argparse
import atexit
import os
import sys
import threading

from keras_vae.cli import (
    calibrate,
    common,
    config_file,
    encode,
    evaluate,
    export,
    interpolate,
    sample,
    score,
    sweep,
    train,
    traverse,
    tune,
)

COMMANDS = {
    "train": train,
    "evaluate": evaluate,
    "sweep": sweep,
    "tune": tune,
    "sample": sample,
    "interpolate": interpolate,
    "traverse": traverse,
    "encode": encode,
    "calibrate": calibrate,
    "score": score,
    "export": export,
}

EXAMPLES = """examples:
  keras-vae train                      the original MLP VAE, the study's defaults
  keras-vae train --model cvae --latent-dim 2 --dataset fashion_mnist
  keras-vae evaluate runs/20261124-101500-vae --split train
  keras-vae sweep --beta 0 12 200 --dataset fashion_mnist --epochs 10
  keras-vae tune --dataset digits --max-trials 10 --latent-dim 2 32 --beta 0 200
  keras-vae sample RUN_DIR --n 64 --label 3 --out samples.png
  keras-vae interpolate RUN_DIR --from test:0 --to test:1 --steps 10
  keras-vae traverse RUN_DIR --images test:0 test:5 --out traversal.gif
  keras-vae encode RUN_DIR my_images/ --out codes.csv
  keras-vae score RUN_DIR my_images/ --out scores.csv
  keras-vae evaluate RUN_DIR --ood digits
  keras-vae export RUN_DIR --format onnx --out served/
"""


def build_parser(prog="keras-vae"):
    """The parser of every command; `parser.commands` maps names to theirs."""
    parser = common.Parser(
        prog=prog,
        description="Variational autoencoders with Keras: the original study's "
        "experiments as one command each.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    from keras_vae import __version__

    parser.add_argument(
        "--version", action="version", version=f"%(prog)s {__version__}"
    )
    subparsers = parser.add_subparsers(
        dest="command", metavar="COMMAND", parser_class=common.Parser
    )
    subparsers.required = True
    for module in COMMANDS.values():
        module.add_parser(subparsers)
    parser.commands = subparsers
    return parser


def main(argv=None, prog="keras-vae"):
    """Runs one command; returns its exit code (0, 1 after a user error, 2 after
    a malformed flag, 130 after Ctrl-C)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser(prog)
    arguments = config_file.parse_args(parser, argv, parser.commands)
    command_parser = parser.commands.choices[arguments.command]
    arguments.command_argv = argv[argv.index(arguments.command) + 1 :]
    name = f"{prog} {arguments.command}"
    backend = getattr(COMMANDS[arguments.command], "BACKEND", None)
    if backend is not None:
        # A command that needs one backend (export: TensorFlow's graphs).
        os.environ["KERAS_BACKEND"] = backend
    code = common.report_errors(name, command_parser, common.start_framework, arguments)
    if code:
        return code
    run = COMMANDS[arguments.command].run
    return common.report_errors(name, command_parser, run, arguments)


def run():
    """Console-script entry point (also `python -m keras_vae`).

    Once the command has returned, the process ends as Python ends it, less the
    interpreter's teardown: the other threads are joined, the `atexit`
    handlers run and the output is flushed, then `os._exit`. Tearing down the
    modules and TensorFlow's and XLA's runtimes, which hold no data of the
    run, took 0.85-0.95 s after every training command (docs/benchmarks.md).
    Under a profiler or a tracer (`python -m cProfile`, coverage), which
    write their data after the program, it exits as usual.
    """
    code = main()
    if sys.getprofile() is not None or sys.gettrace() is not None:
        # A profiler or a coverage tool writes its data after this returns.
        sys.exit(code)
    for thread in threading.enumerate():
        if thread is not threading.main_thread() and not thread.daemon:
            thread.join()
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe or stream
            pass
    os._exit(code or 0)
