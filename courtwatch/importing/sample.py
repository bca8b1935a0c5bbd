"""Generated spreadsheets for the import tests and bench/import.py.

Rows in the shape of docs/import-example.csv (so docs/import-example.toml
maps them), a share of them bad in the ways real and hostile files are: a day
that does not exist, a court the mapping does not know, a count in words, a
formula, a NUL, a cut-off row, a time in the future or before 2000, an
over-long shift, an over-long cell, bytes that are not UTF-8. Every row also
carries free text naming someone in the ignored Notes column, which must never
reach the log.
"""

from __future__ import annotations

import csv
import io
import random
from dataclasses import dataclass

HEADER = ["Date", "Time", "Until", "Court", "Type", "Agents", "Agency", "Plain clothes",
          "Warrant", "Role", "Outcome", "Letter date", "Notes", "Observer"]  # fmt: skip
COURTS = ["26 Federal Plaza", "Varick", "Broadway", "Newark", "Elizabeth"]
# Text in the ignored columns of every row: a test looks for it in the log.
FREE_TEXT_MARK = "J. Doe DOB"
# The ways a row is bad, one after the other (each needs its own reason).
BAD_KINDS = (
    "no_such_day", "unknown_court", "count_in_words", "formula_kind", "nul_in_court",
    "cut_off_row", "future", "before_2000", "long_shift", "long_cell", "not_utf8",
)  # fmt: skip


@dataclass(frozen=True)
class Spreadsheet:
    data: bytes
    good: int
    bad: int


def _date(rng: random.Random) -> tuple[int, int, int]:
    # Calendar edges on purpose: New Year's Eve and Day, 29 February 2016,
    # the days clocks change in the U.S. (2017-03-12, 2017-11-05).
    edges = [(2016, 12, 31), (2017, 1, 1), (2016, 2, 29), (2017, 3, 12), (2017, 11, 5)]
    if rng.random() < 0.1:
        return rng.choice(edges)
    return rng.randint(2016, 2019), rng.randint(1, 12), rng.randint(1, 28)


def _clock(hour: int, minute: int) -> str:
    return f"{(hour - 1) % 12 + 1}:{minute:02d} {'AM' if hour < 12 else 'PM'}"


def _good_row(rng: random.Random) -> list[str]:
    year, month, day = _date(rng)
    date = f"{month:02d}/{day:02d}/{year}"
    kind = rng.choice(["Arrest", "Arrest", "ICE seen", "Check-in", "Watch shift"])
    hour, minute = rng.randint(7, 17), rng.randrange(0, 60)
    row = dict.fromkeys(HEADER, "")
    row.update(Date=date, Time=_clock(hour, minute), Court=rng.choice(COURTS), Type=kind)
    row["Notes"] = f"{FREE_TEXT_MARK} 1984-02-03, {rng.randint(1, 999)} Main St"
    row["Observer"] = rng.choice(["A. Watcher", "B. Watcher", ""])
    if kind in ("Arrest", "ICE seen"):
        row["Agents"] = str(rng.randint(1, 9))
        row["Agency"] = rng.choice(["ICE", "ERO", "HSI", "CBP", "unmarked", ""])
        row["Plain clothes"] = rng.choice(["Y", "N", "?", ""])
    if kind == "Arrest":
        row["Warrant"] = rng.choice(["Judicial", "Admin", "I-200", "None", "?", ""])
        row["Role"] = rng.choice(["Defendant", "Witness", "Victim", "Family court", "Relative"])
        row["Outcome"] = rng.choice(["Detained", "Released", "?"])
    if kind == "Check-in":
        row["Outcome"] = rng.choice(["Detained", "Released", "Told to return", "?"])
        row["Letter date"] = f"{month:02d}/{max(1, day - 14):02d}/{year}"
    if kind == "Watch shift":
        row["Time"] = _clock(8, 0)
        row["Until"] = _clock(rng.randint(11, 17), rng.choice((0, 15, 30, 45)))
    return [row[name] for name in HEADER]


def _bad_row(rng: random.Random, how: str) -> list[str] | bytes:
    row = _good_row(rng)
    at = HEADER.index
    row[at("Type")], row[at("Time")], row[at("Until")] = "Arrest", "10:00 AM", ""
    if how == "no_such_day":
        row[at("Date")] = "02/29/2017"
    elif how == "unknown_court":
        row[at("Court")] = "Queens Criminal"
    elif how == "count_in_words":
        row[at("Agents")] = "three"
    elif how == "formula_kind":
        row[at("Type")] = '=HYPERLINK("http://example.invalid","Arrest")'
    elif how == "nul_in_court":
        row[at("Court")] = "Varick\x00"
    elif how == "cut_off_row":
        row = row[:5]
    elif how == "future":
        row[at("Date")] = "01/02/2099"
    elif how == "before_2000":
        row[at("Date")] = "12/31/1999"
    elif how == "long_shift":
        row[at("Type")], row[at("Time")], row[at("Until")] = "Watch shift", "6:00 AM", "11:30 PM"
    elif how == "long_cell":
        row[at("Warrant")] = "Admin" + " " * 300
    elif how == "not_utf8":
        return (
            _csv_line(row)
            .replace(b"Varick", b"Var\xffck")
            .replace(b"Broadway", b"Br\xffadway")
            .replace(b"Newark", b"New\xffrk")
            .replace(b"Elizabeth", b"Eliz\xffbeth")
            .replace(b"26 Federal Plaza", b"26 F\xffderal Plaza")
        )
    return row


def _csv_line(row: list[str]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerow(row)
    return buffer.getvalue().encode("utf-8")


def spreadsheet(rows: int, bad_share: float = 0.05, seed: int = 14) -> Spreadsheet:
    """A CSV file (bytes: BOM, CRLF, like a spreadsheet's export) of ``rows`` rows."""
    rng = random.Random(seed)
    bad_every = round(1 / bad_share) if bad_share else 0
    lines = [b"\xef\xbb\xbf" + _csv_line(HEADER)]
    bad = 0
    for number in range(rows):
        if bad_every and number % bad_every == bad_every - 1:
            made = _bad_row(rng, BAD_KINDS[bad % len(BAD_KINDS)])
            bad += 1
        else:
            made = _good_row(rng)
        lines.append(made if isinstance(made, bytes) else _csv_line(made))
    return Spreadsheet(data=b"".join(lines), good=rows - bad, bad=bad)
