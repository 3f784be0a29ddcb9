"""Plain-text tables for the command lines' summaries."""


def table(header, rows, first_column_left=False):
    """Aligns rows of string cells under `header` into columns.

    Args:
        header: Sequence of column titles.
        rows: Sequences of cells (strings), one per row, as long as `header`.
        first_column_left: Boolean, left-align the first column (row names);
            every other column is right-aligned, as numbers are.

    Returns:
        The table as one string, lines joined by newlines.
    """
    lines = [list(header)] + [list(row) for row in rows]
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]

    def align(index, cell):
        if index == 0 and first_column_left:
            return cell.ljust(widths[index])
        return cell.rjust(widths[index])

    return "\n".join(
        "  ".join(align(i, cell) for i, cell in enumerate(line)) for line in lines
    )
