"""From cron: `courtwatch demo` then `courtwatch summarize`, which publishes once and then says unchanged."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from courtwatch.cli import main
from courtwatch.infrastructure.database import Database


def test_demo_then_summarize_publishes_once_then_reports_unchanged(
    database: Database,
    catch_up: Callable[[], None],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("DATABASE_URL", database.url)
    assert main(["demo", "--reports", "300", "--days", "21"]) == 0
    assert "added 300 demo reports" in capsys.readouterr().out
    catch_up()

    assert main(["summarize", "--period", "week", "--all-courthouses", "--wait", "1"]) == 0
    first = capsys.readouterr().out.splitlines()
    assert first[0].startswith("published week ") and "revision 1" in first[0]
    assert len(first) > 2  # the overall summary and one per active courthouse

    assert main(["summarize", "--period", "week", "--wait", "1"]) == 0
    assert capsys.readouterr().out.startswith("unchanged: week ")

    assert main(["summarize", "--period", "week", "--at", "2026-47", "--wait", "0"]) == 2
    assert "2026-W47" in capsys.readouterr().err
