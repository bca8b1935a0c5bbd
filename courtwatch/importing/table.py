"""Reading a spreadsheet export (CSV) that may be hostile or just old.

Read as bytes once (its SHA-256 goes into every imported report's event), then
decoded without failing: bytes the declared encoding cannot read become lone
surrogates ("surrogateescape"), and the one row holding them is rejected, not
the file. A BOM is skipped; CRLF, CR and LF all end rows; a row whose quotes
never close, or with a cell over the csv module's limit, is rejected with the
reason and reading goes on with the next row.

The rejected-rows file is meant to be opened in a spreadsheet: a cell that
starts with = + - @ (or a tab or CR) is prefixed with ' so it is shown, not
run as a formula, and control characters are replaced.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

# Longest cell a mapped column may hold: every public field is short.
LONGEST_CELL = 200
# A cell of the rejected-rows file longer than this is cut (the line number
# finds the whole row in the original).
LONGEST_REJECTED_CELL = 500
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
UNPRINTABLE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\u202a-\u202e\u2066-\u2069]")
UNDECODED = re.compile("[\udc80-\udcff]")


@dataclass(frozen=True)
class Row:
    line: int  # where the row starts in the file, 1 = the header
    cells: dict[str, str]  # column -> cell, for the columns asked for
    problem: str | None = None  # a row that cannot be read at all


@dataclass(frozen=True)
class Source:
    path: Path
    sha256: str
    text: str


def read_source(path: Path, encoding: str) -> Source:
    data = path.read_bytes()
    text = data.decode(encoding, errors="surrogateescape")
    if text.startswith("\ufeff"):
        text = text[1:]
    return Source(path=path, sha256=hashlib.sha256(data).hexdigest(), text=text)


class Table:
    """The rows of a CSV text as column -> cell dicts, only for ``wanted`` columns."""

    def __init__(self, text: str, delimiter: str) -> None:
        self._reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
        try:
            header = next(self._reader)
        except (StopIteration, csv.Error):
            header = []
        self.header = [cell.strip() for cell in header]
        self.header_line_end = self._reader.line_num

    def missing(self, columns: list[str]) -> list[str]:
        return [c for c in columns if c not in self.header]

    def duplicated(self) -> list[str]:
        return sorted({c for c in self.header if c and self.header.count(c) > 1})

    def rows(self, wanted: list[str]) -> Iterator[Row]:
        index = {name: self.header.index(name) for name in wanted}
        width = len(self.header)
        ended = self.header_line_end
        while True:
            start = ended + 1
            try:
                cells = next(self._reader)
            except StopIteration:
                return
            except csv.Error as error:
                ended = self._reader.line_num
                yield Row(start, {}, f"cannot be read as CSV: {error}")
                continue
            ended = self._reader.line_num
            if not any(cell.strip() for cell in cells):
                continue  # a blank line, or a row of empty cells: nothing to import
            # Trailing empty cells are a spreadsheet habit; a short or long row
            # of content means a cell slipped, and every column after it is wrong.
            while len(cells) > width and not cells[-1].strip():
                cells.pop()
            if len(cells) != width:
                yield Row(start, {}, f"has {len(cells)} cells, the header has {width}")
                continue
            picked = {name: cells[i] for name, i in index.items()}
            yield Row(start, picked, _cell_problem(picked))


def _cell_problem(cells: dict[str, str]) -> str | None:
    # Almost every row is fine: one search over all its cells (a surrogate
    # cannot span two) before looking cell by cell for the one to name.
    if max(map(len, cells.values()), default=0) <= LONGEST_CELL and not UNDECODED.search(
        "".join(cells.values())
    ):
        return None
    for name, cell in cells.items():
        if len(cell) > LONGEST_CELL:
            return f"{name}: longer than {LONGEST_CELL} characters"
        if UNDECODED.search(cell):
            return f"{name}: not text in the file's encoding (set [source] encoding)"
    return None


def safe_cell(text: str) -> str:
    """A cell as the rejected-rows file shows it: printable, cut, never a formula."""
    text = UNPRINTABLE.sub("\ufffd", text)
    if len(text) > LONGEST_REJECTED_CELL:
        text = text[:LONGEST_REJECTED_CELL] + "…"
    if text.startswith(FORMULA_START):
        text = "'" + text
    return text


class RejectedRows:
    """The file of rejected rows: line, reason, then the mapped columns only.

    Columns the mapping ignores are left out on purpose: they may be free
    text naming people, and this file is a copy that travels.
    """

    def __init__(self, path: Path, columns: list[str]) -> None:
        self.path = path
        self.columns = columns
        self.count = 0
        self._handle = path.open("w", encoding="utf-8", newline="")
        self._writer = csv.writer(self._handle)
        self._writer.writerow([safe_cell(c) for c in ("line", "reason", *columns)])

    def add(self, row: Row, reason: str) -> None:
        self.count += 1
        cells = [row.cells.get(c, "") for c in self.columns]
        self._writer.writerow([str(row.line), *(safe_cell(c) for c in (reason, *cells))])

    def close(self) -> None:
        self._handle.close()
