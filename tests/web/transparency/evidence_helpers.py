"""One report with a real history (submitted, amended, verified) in a signed bundle."""

from __future__ import annotations

import uuid
from uuid import UUID

from courtwatch.services import Services

ARRESTED_AT = "2026-11-20T14:05:00+00:00"  # 09:05 in New York (EST)


def arrest_with_history(services: Services) -> UUID:
    """An arrest at the New York court, its agency amended, then verified by a member."""
    token = uuid.uuid4().hex
    result = services.app.submit(
        {
            "kind": "courthouse_arrest",
            "courthouse_code": "NYC",
            "observed_at": ARRESTED_AT,
            "place": "hallway",
            "agents_count": 3,
            "agency": "unknown",
            "outcome": "detained",
        },
        token,
    )
    services.app.amend(result.report_id, result.author_token, {"agency": "ice_ero"})
    services.app.verify(result.report_id, "Ana (rapid response)")
    return result.report_id
