"""The layout's rules, checked on the source: dependencies point one way, and
every read model's tables are named in SQL by that read model's modules only."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("courtwatch", "projections", "web")
# What each package may import of the others; the CLI is the composition root.
ALLOWED: dict[str, set[str]] = {
    "courtwatch": {"courtwatch"},
    "projections": {"projections", "courtwatch"},
    "web": {"web", "projections", "courtwatch"},
}
COMPOSITION_ROOT = ROOT / "courtwatch" / "cli"

# Read model tables, and the folder (or module) that owns them.
OWNERS: dict[str, str] = {
    "map_reports": "projections/live_map",
    "activity_feed": "projections/live_map",
    "livemap_tracking": "projections/live_map",
    "log_leaves": "projections/transparency_log",
    "log_nodes": "projections/transparency_log",
    "log_checkpoints": "projections/transparency_log",
    "log_keys": "projections/transparency_log",
    "log_cosignatures": "projections/transparency_log",
    "trend_counts": "projections/trends",
    "trend_watch": "projections/trends",
    "trend_reports": "projections/trends",
    "trend_meta": "projections/trends",
    "trends_tracking": "projections/trends",
    "published_summaries": "projections/trends/publishing.py",
    "projection_parked": "projections/parking.py",
    "courtwatch_members": "courtwatch/members/store.py",
    "courtwatch_member_invites": "courtwatch/members/store.py",
    "courtwatch_member_passkeys": "courtwatch/members/store.py",
    "courtwatch_member_sessions": "courtwatch/members/store.py",
    "courtwatch_member_api_tokens": "courtwatch/members/store.py",
    "courtwatch_webauthn_challenges": "courtwatch/members/store.py",
    "courtwatch_secrets": "courtwatch/credentials.py",
    "sealed_org_keys": "courtwatch/sealed/store.py",
    "sealed_envelopes": "courtwatch/sealed/store.py",
    "sealed_reads": "courtwatch/sealed/store.py",
    "sealed_photos": "courtwatch/sealed/store.py",
    "alert_webhooks": "courtwatch/alerts/store.py",
    "alert_subscriptions": "courtwatch/alerts/store.py",
    "alert_push_endpoints": "courtwatch/alerts/store.py",
    "alert_threads": "courtwatch/alerts/store.py",
    "alert_reports": "courtwatch/alerts/store.py",
    "alert_deliveries": "courtwatch/alerts/store.py",
    "alert_delivery_log": "courtwatch/alerts/store.py",
    "alerts_tracking": "projections/alerts",
}
SQL_WORDS = re.compile(
    r"\b(SELECT|INSERT|UPDATE|DELETE|CREATE|DROP|TRUNCATE|COPY|FROM|JOIN|INTO)\b"
)


def sources(*packages: str) -> Iterator[Path]:
    for package in packages:
        yield from sorted((ROOT / package).rglob("*.py"))


def imported_modules(tree: ast.AST) -> Iterator[tuple[int, str]]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.lineno, node.module


def sql_strings(tree: ast.AST) -> Iterator[tuple[int, str]]:
    """String literals (f-string parts included) that read as SQL, docstrings excluded."""
    docstrings = {
        id(body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        and (body := node.body)
        and isinstance(body[0], ast.Expr)
        and isinstance(body[0].value, ast.Constant)
    }
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and id(node) not in docstrings
            and SQL_WORDS.search(node.value)
        ):
            yield node.lineno, node.value


def test_dependencies_point_from_web_to_projections_to_courtwatch() -> None:
    wrong = []
    for path in sources(*PACKAGES):
        if COMPOSITION_ROOT in path.parents:
            continue
        package = path.relative_to(ROOT).parts[0]
        for line, module in imported_modules(ast.parse(path.read_text())):
            target = module.split(".")[0]
            if target in PACKAGES and target not in ALLOWED[package]:
                wrong.append(f"{path.relative_to(ROOT)}:{line} imports {module}")
    assert not wrong, (
        "imports against the direction web -> projections -> courtwatch:\n" + "\n".join(wrong)
    )


def test_the_check_catches_a_wrong_arrow() -> None:
    tree = ast.parse("def f():\n    from web.app import create_app\n")
    assert [m for _, m in imported_modules(tree)] == ["web.app"]


def owned_by(path: Path, owner: str) -> bool:
    relative = path.relative_to(ROOT).as_posix()
    return relative == owner or relative.startswith(owner.rstrip("/") + "/")


def test_sql_naming_a_read_models_tables_lives_with_that_read_model() -> None:
    strays = []
    for path in sources(*PACKAGES):
        for line, text in sql_strings(ast.parse(path.read_text())):
            for table, owner in OWNERS.items():
                if re.search(rf"\b{table}\b", text) and not owned_by(path, owner):
                    strays.append(f"{path.relative_to(ROOT)}:{line} names {table} (owner: {owner})")
    assert not strays, "\n".join(strays)


@pytest.mark.parametrize(
    ("source", "found"),
    [
        ('q = "SELECT * FROM map_reports"', True),
        ('q = f"SELECT * FROM {t} JOIN activity_feed"', True),
        ('"""Reads map_reports FROM the view."""', False),
    ],
)
def test_the_sql_check_reads_literals_and_skips_docstrings(source: str, found: bool) -> None:
    texts = [t for _, t in sql_strings(ast.parse(source))]
    assert any(re.search(r"\b(map_reports|activity_feed)\b", t) for t in texts) is found
