"""Team members: roles, invites, passkeys, sessions and API tokens (the identity core).

Reporters stay anonymous; responders, lawyers and coordinators sign in with a
passkey. See docs/members.md.
"""

from courtwatch.members.model import (
    ROLES,
    ApiToken,
    InvalidMemberField,
    Invite,
    InviteNotUsable,
    Member,
    MemberError,
    MemberNotFound,
    MemberRole,
    Passkey,
    PasskeyRefused,
    Session,
    TooManyCeremonies,
    check_display_name,
)
from courtwatch.members.store import INVITE_LIFETIME, MemberStore

__all__ = [
    "INVITE_LIFETIME",
    "ROLES",
    "ApiToken",
    "InvalidMemberField",
    "Invite",
    "InviteNotUsable",
    "Member",
    "MemberError",
    "MemberNotFound",
    "MemberRole",
    "MemberStore",
    "Passkey",
    "PasskeyRefused",
    "Session",
    "TooManyCeremonies",
    "check_display_name",
]
