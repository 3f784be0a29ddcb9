"""Writes the fault table of docs/reliability.md from the fault scenarios.

    python docs/faults_table.py     # about three minutes

Runs every scenario of `tests/faults.py` in a fresh temporary folder and puts
what each one reports between the table markers of docs/reliability.md.
`tests/test_faults.py` fails when the table and the scenarios differ.
"""

import os
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PAGE = os.path.join(ROOT, "docs", "reliability.md")
START, END = "<!-- faults:start -->", "<!-- faults:end -->"


def escape(text):
    return text.replace("|", "\\|")


def row(fault, outcome):
    return (
        f"| {escape(fault.description)} | `` {escape(outcome.seen)} `` | "
        f"{escape(outcome.kept)} |"
    )


def rows_of(page):
    """The table's rows in `page`, header excluded."""
    with open(page, encoding="utf-8") as file:
        text = file.read()
    table = text.split(START)[1].split(END)[0]
    return [line for line in table.splitlines() if line.startswith("| ")][1:]


def main():
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    os.environ.setdefault("KERAS_VAE_CACHE", tempfile.mkdtemp(prefix="keras-vae-"))
    sys.path.insert(0, ROOT)
    from tests.faults import FAULTS, run_fault

    rows = ["| fault | what you see | what is kept |", "|---|---|---|"]
    for fault in FAULTS:
        with tempfile.TemporaryDirectory() as folder:
            try:
                rows.append(row(fault, run_fault(fault, folder)))
            except Exception:
                print(f"The fault {fault.description!r} failed:", file=sys.stderr)
                raise
    with open(PAGE, encoding="utf-8") as file:
        text = file.read()
    before, rest = text.split(START)
    after = rest.split(END)[1]
    with open(PAGE, "w", encoding="utf-8") as file:
        file.write(f"{before}{START}\n{chr(10).join(rows)}\n{END}{after}")
    print(f"{len(FAULTS)} faults -> {os.path.relpath(PAGE, ROOT)}")


if __name__ == "__main__":
    main()
