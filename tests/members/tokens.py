"""A member with an API token, for tests of endpoints that need a role."""

from __future__ import annotations

from courtwatch.services import Services


def member_token(services: Services, name: str, *roles: str) -> str:
    """Create a member holding ``roles`` and issue it a bearer token."""
    member = services.members.create_member(name, roles)
    _, token = services.members.issue_api_token(member.id, "tests")
    return token
