"""At least 30 bad inputs, each ending in a clear error and nothing half-written.

The cases live in `tests/bad_inputs.py`; `docs/reliability.md` shows their
messages in a table written by `docs/bad_inputs_table.py`, and these tests
keep that table equal to what the cases print.
"""

import os
import re

import pytest

from tests.bad_inputs import CASES, run_case

DOCS = os.path.join(os.path.dirname(__file__), "..", "docs", "reliability.md")


def _docs_rows():
    with open(DOCS) as file:
        text = file.read()
    table = text.split("<!-- bad-inputs:start -->")[1].split("<!-- bad-inputs:end -->")
    return [line for line in table[0].splitlines() if line.startswith("| ")][1:]


def test_there_are_at_least_30_cases_across_every_area():
    assert len(CASES) >= 30
    areas = {case.area for case in CASES}
    assert areas == {
        "layer",
        "model",
        "likelihood",
        "data",
        "evaluation",
        "anomaly",
        "command line",
        "tuner",
    }
    subcommands = {
        case.description.split()[1]
        for case in CASES
        if case.description.startswith("`keras-vae ")
    }
    assert subcommands >= {
        "train",
        "evaluate",
        "sweep",
        "tune",
        "sample",
        "interpolate",
        "encode",
    }
    assert len({case.description for case in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[case.description for case in CASES])
def test_bad_input_ends_in_a_clear_error(case, tmp_path):
    from docs.bad_inputs_table import row

    outcome = run_case(case, tmp_path)
    assert case.received in outcome.message, outcome.message
    assert case.expected in outcome.message, outcome.message
    assert outcome.files_after == outcome.files_before, "something was written"
    if outcome.command_line:
        assert outcome.exit_code in (1, 2)
        assert "Traceback" not in outcome.stderr
        assert outcome.stderr.count("\n") == 1, outcome.stderr
        assert re.match(
            r"(keras-vae \w+|python -m tuning|tuning): error: ", (outcome.message)
        ), outcome.message
    assert row(case, outcome) in _docs_rows(), (
        "docs/reliability.md is out of date: run python docs/bad_inputs_table.py"
    )


def test_the_docs_table_has_one_row_per_case():
    from docs.bad_inputs_table import escape

    described = [f"| {case.area} | {escape(case.description)} |" for case in CASES]
    rows = _docs_rows()
    assert len(rows) == len(CASES)
    for row, start in zip(rows, described, strict=True):
        assert row.startswith(start), (row, start)
