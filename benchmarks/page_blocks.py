"""Rewrites a generated block of a docs page, between its two markers."""


def replace_between(path, start, end, text):
    """Puts `text` between the lines `start` and `end` of the file `path`."""
    with open(path, encoding="utf-8") as file:
        page = file.read()
    if start not in page or end not in page:
        raise SystemExit(f"{path} lacks the markers {start} and {end}.")
    before, rest = page.split(start)
    after = rest.split(end)[1]
    with open(path, "w", encoding="utf-8") as file:
        file.write(f"{before}{start}\n{text}\n{end}{after}")
