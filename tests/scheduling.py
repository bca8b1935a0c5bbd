"""Longest files first, so the suite's last minutes are not one long file on one worker.

`make test` runs files whole on each worker (`--dist loadfile`) and hands the next file
to whichever worker is free, in collection order (`--no-loadscope-reorder`). Left to
itself xdist orders files by their number of tests, which put a one-test file that
takes 80 s (summaries over 10,000 reports) at the very end: the other worker sat idle
for it. Sorting by measured seconds instead is the classic longest-first rule, which
bounds the idle tail by the shortest files.

`tests/file_seconds.json` holds each file's seconds (setup + call + teardown of all its
tests) from one run. Refresh it after adding slow tests with
`make test PYTEST_ARGS="--record-file-seconds"`; a file not listed counts as the median.
"""

from __future__ import annotations

import json
import statistics
from collections import defaultdict
from pathlib import Path

import pytest

FILE_SECONDS = Path(__file__).with_name("file_seconds.json")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--record-file-seconds",
        action="store_true",
        default=False,
        help=f"write each test file's total seconds to {FILE_SECONDS.name}",
    )


def _file_of(nodeid: str) -> str:
    return nodeid.split("::", 1)[0]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    try:
        seconds: dict[str, float] = json.loads(FILE_SECONDS.read_text())
    except (OSError, ValueError):
        return
    if not seconds:
        return
    unknown = statistics.median(seconds.values())
    # A stable sort: each file's tests stay together and in their own order.
    items.sort(key=lambda item: -seconds.get(_file_of(item.nodeid), unknown))


class FileSecondsRecorder:
    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        self.seconds[_file_of(report.nodeid)] += report.duration

    def pytest_sessionfinish(self) -> None:
        ordered = dict(sorted(self.seconds.items(), key=lambda kv: -kv[1]))
        rounded = {path: round(total, 1) for path, total in ordered.items()}
        FILE_SECONDS.write_text(json.dumps(rounded, indent=1) + "\n")


def pytest_configure(config: pytest.Config) -> None:
    # Only the controlling process sees every worker's reports.
    if config.getoption("--record-file-seconds") and not hasattr(config, "workerinput"):
        config.pluginmanager.register(FileSecondsRecorder(), "file-seconds-recorder")
