"""The citation block on a report page: what a lawyer pastes into a brief.

For each event of the report: its leaf in the transparency log, its event hash,
and the newest signed checkpoint covering it, plus one ready-to-paste line.
Anyone holding that line can later ask the log for an inclusion proof against
that exact checkpoint, and check it with the published key.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC
from typing import Any
from uuid import UUID

from jinja2 import Environment, FileSystemLoader, select_autoescape

from courtwatch.services import Services
from projections.transparency_log import store as audit_log
from web.assets import TEMPLATES_DIR

_env = Environment(
    loader=FileSystemLoader(TEMPLATES_DIR),
    autoescape=select_autoescape(default=True, default_for_string=True),
)


def citation_line(
    origin: str,
    report_id: UUID | str,
    version: int,
    leaf_index: int,
    tree_size: int,
    root_hex: str,
    permalink: str,
) -> str:
    """The one line a lawyer pastes; the report page and a bundle's record.html share it."""
    return (
        f"courtwatch log {origin}, report {report_id} v{version}, leaf {leaf_index}, "
        f"checkpoint {tree_size} ({root_hex[:16]}…), {permalink}"
    )


def citation_context(services: Services, report_id: UUID) -> dict[str, Any]:
    database, settings = services.database, services.settings
    # The configured origin, never the request's Host header: a forged Host would
    # otherwise put an attacker's address into a line pasted into a court filing.
    permalink = f"{settings.public_url}/reports/{report_id}"
    latest = audit_log.latest_checkpoint(database)
    entries = []
    for leaf in audit_log.leaves_of(database, report_id):
        covered = latest is not None and latest.tree_size > leaf.leaf_index
        entry: dict[str, Any] = {
            "version": leaf.version,
            "leaf_index": leaf.leaf_index,
            "event_hash": leaf.leaf_hash.hex(),
            "checkpoint": latest if covered else None,
        }
        if covered and latest is not None:
            entry["published"] = latest.published_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
            entry["line"] = citation_line(
                settings.log_origin,
                report_id,
                leaf.version,
                leaf.leaf_index,
                latest.tree_size,
                latest.root_hash.hex(),
                permalink,
            )
        entries.append(entry)
    return {
        "permalink": permalink,
        "origin": settings.log_origin,
        "entries": entries,
        "evidence_url": f"/reports/{report_id}/evidence.zip",
        "key_url": "/.well-known/courtwatch-log-key",
    }


def render_citation(
    services: Services, report_id: UUID, t: Callable[[str], str], lang: str = "en"
) -> str:
    """HTML for ``report.html``'s ``citation_html`` slot (autoescaped), in ``t``'s language.

    The line a lawyer pastes stays in English whatever the page's language:
    courts and log tools read one fixed form.
    """
    context = citation_context(services, report_id)
    return _env.get_template("citation.html").render(**context, t=t, lang=lang)
