"""Writes the bad-input table of docs/reliability.md from the test cases.

    python docs/bad_inputs_table.py     # about 30 seconds

Runs every case of `tests/bad_inputs.py` in a fresh temporary folder and puts
each one's error message between the table markers of docs/reliability.md.
`tests/test_bad_inputs.py` fails when the table and the messages differ.
"""

import os
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PAGE = os.path.join(ROOT, "docs", "reliability.md")
START, END = "<!-- bad-inputs:start -->", "<!-- bad-inputs:end -->"


def escape(text):
    return text.replace("|", "\\|")


def row(case, outcome):
    """The table row of one case; the message in a code span that may hold
    backticks."""
    return (
        f"| {case.area} | {escape(case.description)} | "
        f"`` {escape(outcome.message)} `` |"
    )


def main():
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    sys.path.insert(0, ROOT)
    from tests.bad_inputs import CASES, run_case

    rows = ["| area | bad input | error |", "|---|---|---|"]
    for case in CASES:
        with tempfile.TemporaryDirectory() as folder:
            try:
                rows.append(row(case, run_case(case, folder)))
            except Exception:
                print(f"The case {case.description!r} failed:", file=sys.stderr)
                raise
    with open(PAGE) as file:
        text = file.read()
    before, rest = text.split(START)
    after = rest.split(END)[1]
    with open(PAGE, "w") as file:
        file.write(f"{before}{START}\n{chr(10).join(rows)}\n{END}{after}")
    print(f"{len(CASES)} cases -> {os.path.relpath(PAGE, ROOT)}")


if __name__ == "__main__":
    main()
