"""Faults injected into real commands: a signal during the backup, a full disk,
a second process on the same folder, damaged backups, read-only folders.

The scenarios live in `tests/faults.py`; `docs/reliability.md` shows what each
one leaves in a table written by `docs/faults_table.py`, and these tests keep
that table equal to what the scenarios report.
"""

import pytest

from tests.faults import FAULTS, run_fault


@pytest.mark.parametrize("fault", FAULTS, ids=[fault.description for fault in FAULTS])
def test_a_fault_leaves_a_run_that_resumes_or_a_line_that_explains(fault, tmp_path):
    from docs.faults_table import PAGE, row, rows_of

    outcome = run_fault(fault, tmp_path)
    assert row(fault, outcome) in rows_of(PAGE), (
        "docs/reliability.md is out of date: run python docs/faults_table.py"
    )


def test_the_docs_table_has_one_row_per_fault():
    from docs.faults_table import PAGE, escape, rows_of

    rows = rows_of(PAGE)
    assert len(rows) == len(FAULTS)
    for row, fault in zip(rows, FAULTS, strict=True):
        assert row.startswith(f"| {escape(fault.description)} |"), row
