"""`--config FILE`: a command's flags from a TOML file, flags given overriding it.

The keys are the flags' names, with dashes or underscores (`latent-dim = 2`,
`latent_dim = 2`); values are TOML numbers, strings, booleans (for on/off
flags) and arrays (for flags taking several values). Each value goes through
the flag's own check, so a file cannot hold what the command line refuses.
"""

import argparse
import os
import sys

if sys.version_info >= (3, 11):
    import tomllib
else:
    import tomli as tomllib

_NOT_SETTINGS = {"help", "config"}


def parse_args(parser, argv, commands=None):
    """Parses `argv` with `parser`, after filling the defaults of the command
    it runs from that command's `--config` file, if any.

    Args:
        parser: An `argparse.ArgumentParser`.
        argv: List of strings.
        commands: The sub-parsers' action of `parser` (what
            `add_subparsers` returns), or `None` if `parser` has none.

    Returns:
        The parsed `argparse.Namespace`.
    """
    target, rest = parser, argv
    if commands is not None:
        command = next((part for part in argv if not part.startswith("-")), None)
        target = commands.choices.get(command)
        rest = argv[argv.index(command) + 1 :] if target is not None else []
    takes_config = target is not None and any(
        action.dest == "config" for action in target._actions
    )
    path = _config_path(rest) if takes_config else None
    if path is not None:
        defaults = read(path, target)
        target.set_defaults(**defaults)
        for action in target._actions:
            if action.dest in defaults:
                action.required = False
    return parser.parse_args(argv)


def _config_path(argv):
    finder = argparse.ArgumentParser(add_help=False)
    finder.add_argument("--config")
    known, _ = finder.parse_known_args(argv)
    return known.config


def read(path, parser):
    """The settings of a TOML file as `parser`'s defaults, checked like flags.

    Exits through `parser.error` (one line) on an unreadable file, an unknown
    key, or a value its flag refuses.
    """
    try:
        with open(path, "rb") as file:
            table = tomllib.load(file)
    except FileNotFoundError:
        parser.error(f"--config {path}: no such file")
    except UnicodeDecodeError as error:
        parser.error(
            f"--config {path} is not UTF-8 text (byte {error.object[error.start]:#x} "
            f"at position {error.start}); expected a TOML file, which is UTF-8"
        )
    except tomllib.TOMLDecodeError as error:
        parser.error(f"--config {path} is not a readable TOML file: {error}")
    except OSError as error:
        from keras_vae.files import describe_os_error

        parser.error(f"--config {describe_os_error(error)}")
    actions = {
        action.dest: action
        for action in parser._actions
        if action.dest not in _NOT_SETTINGS and action.option_strings
    }
    defaults, keys = {}, {}
    for key, value in table.items():
        dest = key.replace("-", "_")
        if dest in keys:
            parser.error(
                f"--config {path}: {keys[dest]!r} and {key!r} are the same setting; "
                "expected each setting once"
            )
        keys[dest] = key
        if isinstance(value, dict):
            parser.error(
                f"--config {path}: {key!r} must be a value, not a table; write the "
                "settings at the top level"
            )
        if dest not in actions:
            known = ", ".join(sorted(name.replace("_", "-") for name in actions))
            parser.error(
                f"--config {path}: unknown key {key!r}; expected one of {known}"
            )
        defaults[dest] = _checked(path, key, value, actions[dest], parser)
    return defaults


def _checked(path, key, value, action, parser):
    if action.nargs == 0:  # an on/off flag
        if not isinstance(value, bool):
            parser.error(
                f"--config {path}: {key!r} must be true or false, got {value!r}"
            )
        return value
    several = action.nargs in ("+", "*") or isinstance(action.nargs, int)
    if several != isinstance(value, list):
        expected = "an array" if several else "a single value"
        parser.error(f"--config {path}: {key!r} must be {expected}, got {value!r}")
    values = value if several else [value]
    checked = [_checked_one(path, key, item, action, parser) for item in values]
    return checked if several else checked[0]


def _checked_one(path, key, value, action, parser):
    if isinstance(value, (bool, list, dict)):
        parser.error(f"--config {path}: {key!r} got {value!r}")
    text = os.fspath(value) if isinstance(value, str) else repr(value)
    try:
        result = action.type(text) if action.type else text
    except (argparse.ArgumentTypeError, ValueError) as error:
        parser.error(f"--config {path}: {key!r}: {error}")
    if action.choices is not None and result not in action.choices:
        choices = ", ".join(map(str, action.choices))
        parser.error(
            f"--config {path}: {key!r} must be one of {choices}, got {value!r}"
        )
    return result
