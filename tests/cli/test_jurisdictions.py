"""`courtwatch jurisdictions`: record a policy from a terminal, then list courthouses with it."""

from __future__ import annotations

import json

import pytest

from courtwatch.cli import main
from courtwatch.infrastructure.database import Database


def test_record_then_list_then_refuse_a_hostile_link(
    database: Database, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATABASE_URL", database.url)
    record = ["jurisdictions", "record", "34013", "--policy", "limits", "--effective-on",
              "2018-04-01", "--by", "Cora", "--source", "https://www.nj.gov/oag/dcj/agguide/"]  # fmt: skip
    assert main(record) == 0
    assert capsys.readouterr().out.strip() == "recorded entry 1"
    assert main(["jurisdictions", "list", "--on", "2018-04-01"]) == 0
    rows = {r["code"]: r for r in map(json.loads, capsys.readouterr().out.splitlines())}
    assert rows["NEW"]["county"]["fips"] == "34013" and rows["NEW"]["policy"] == "limits"
    assert rows["ELZ"]["county"]["fips"] == "34039" and rows["ELZ"]["policy"] == "unknown"
    hostile = [*record[:-1], "javascript:alert(1)"]
    assert main(hostile) == 1
    assert "source_url" in capsys.readouterr().err
    # A correction must name an entry of the same county.
    assert main([*record[:2], "36061", *record[3:], "--corrects", "1"]) == 1
    assert main([*record, "--corrects", "1"]) == 0
    assert capsys.readouterr().out.strip().endswith("recorded entry 2")
    assert main(["jurisdictions", "list", "--on", "not-a-day"]) == 2
