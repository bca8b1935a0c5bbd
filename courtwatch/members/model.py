"""Team members: who they are to courtwatch (a display name and roles), nothing more.

Reporters stay anonymous; team members sign in. A member is a pseudonym, the
roles a coordinator gave them, and whether they were revoked. No email, no
phone, no real name is ever asked for or kept.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from uuid import UUID


class MemberRole(StrEnum):
    # Triage, verify, dispute, dispatch, record outcomes.
    RESPONDER = "responder"
    # Reads sealed details when they exist, exports.
    LAWYER = "lawyer"
    # Members, courthouses, jurisdictions, the transparency log's checkpoints.
    COORDINATOR = "coordinator"


ROLES: tuple[str, ...] = tuple(role.value for role in MemberRole)

DISPLAY_NAME_MAX = 60
LABEL_MAX = 60


class MemberError(Exception):
    """Something about members a client asked for that cannot be done."""


class InvalidMemberField(MemberError):
    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


class InviteNotUsable(MemberError):
    """The invite is unknown, was used already, or expired (which one is not said)."""

    def __init__(self) -> None:
        super().__init__("this invite link is not valid: it was used, it expired, or it is wrong")


class TooManyCeremonies(MemberError):
    """More passkey ceremonies are open than any team needs: someone is filling
    the table. Refused until the oldest expires (``retry_after`` seconds)."""

    def __init__(self, retry_after: int) -> None:
        super().__init__("too many sign-in attempts are open right now; try again shortly")
        self.retry_after = retry_after


class MemberNotFound(MemberError):
    def __init__(self, member_id: object) -> None:
        super().__init__(f"no member {member_id}")


class PasskeyRefused(MemberError):
    """A WebAuthn response that does not prove what it claims (or was seen before)."""

    def __init__(self, reason: str = "the passkey response was refused") -> None:
        super().__init__(reason)


@dataclass(frozen=True)
class Member:
    id: UUID
    display_name: str
    roles: frozenset[str]
    revoked: bool = False

    def may(self, role: str) -> bool:
        """Roles are explicit: a coordinator who verifies also holds 'responder'."""
        return not self.revoked and role in self.roles

    def sees_members_views(self) -> bool:
        """Members-only views (the console, names withheld from the public, full
        bundles) need at least one role: a member left with none is suspended."""
        return not self.revoked and bool(self.roles)

    def as_dict(self) -> dict[str, object]:
        return {
            "id": str(self.id),
            "display_name": self.display_name,
            "roles": sorted(self.roles),
            "revoked": self.revoked,
        }


@dataclass(frozen=True)
class Passkey:
    credential_id: bytes
    member_id: UUID
    created_at: datetime
    last_used_at: datetime | None


@dataclass(frozen=True)
class ApiToken:
    id: UUID
    member_id: UUID
    label: str
    created_at: datetime
    last_used_at: datetime | None


@dataclass(frozen=True)
class OpenInvite:
    """An invite not used and not expired, as coordinators list it: never its
    link (only a hash is kept). ``id`` is the start of that hash."""

    id: str
    roles: frozenset[str]
    invited_by: UUID | None
    created_at: datetime
    expires_at: datetime


@dataclass(frozen=True)
class Invite:
    """A one-time invite; ``token`` exists only in the answer to its creation."""

    token: str
    roles: frozenset[str]
    expires_at: datetime


@dataclass(frozen=True)
class Session:
    """A signed-in browser; ``id`` (the cookie value) is known only when it is created."""

    id: str
    member: Member
    csrf_token: str


def check_display_name(raw: object) -> str:
    """1-60 characters of text a person can read: no control or format characters.

    Leading and trailing spaces are dropped; lone surrogates, NUL and the like are
    refused outright rather than cleaned, so what is stored is what was sent.
    """
    if not isinstance(raw, str):
        raise InvalidMemberField("display_name", "text")
    if len(raw) > DISPLAY_NAME_MAX * 4:
        raise InvalidMemberField("display_name", f"at most {DISPLAY_NAME_MAX} characters")
    name = raw.strip()
    if not name:
        raise InvalidMemberField("display_name", "required")
    if len(name) > DISPLAY_NAME_MAX:
        raise InvalidMemberField("display_name", f"at most {DISPLAY_NAME_MAX} characters")
    _check_printable("display_name", name)
    return name


# Letters from other scripts that look like Latin ones: "Ana" with a Cyrillic A
# must not pass for a second "Ana". Not every confusable in Unicode, the
# common ones.
_LOOK_ALIKES = str.maketrans(
    {
        **dict(
            zip(
                "\u0430\u0435\u043e\u0440\u0441\u0443\u0445\u0456\u0458\u0455\u0501\u04bb\u04cf",
                "aeopcyxijsdhl",
                strict=True,
            )
        ),  # Cyrillic
        **dict(
            zip(
                "\u03b1\u03b5\u03b9\u03ba\u03bd\u03bf\u03c1\u03c4\u03c5\u03c7",
                "aeikvoptux",
                strict=True,
            )
        ),  # Greek
    }
)
_SEPARATORS = re.compile(r"[\s\-_.\u00b7'\u2019]+")


def name_key(display_name: str) -> str:
    """What two display names must not share: the name without case, accents,
    compatibility forms, look-alike letters or separators. Members are told
    apart by their display name on every page, so "Ana", "ANA", "Aná" and
    "Ana" spelt with a Cyrillic A are one name."""
    folded = unicodedata.normalize("NFKD", unicodedata.normalize("NFKC", display_name).casefold())
    bare = "".join(c for c in folded if not unicodedata.combining(c)).translate(_LOOK_ALIKES)
    return _SEPARATORS.sub(" ", bare).strip()


class DisplayNameTaken(InvalidMemberField):
    def __init__(self) -> None:
        super().__init__(
            "display_name",
            "another member already uses this name (or one that looks the same); choose another",
        )


def check_label(raw: object) -> str:
    """A token's label ("laptop script"): like a display name, may be empty."""
    if not isinstance(raw, str):
        raise InvalidMemberField("label", "text")
    label = raw.strip()
    if len(label) > LABEL_MAX:
        raise InvalidMemberField("label", f"at most {LABEL_MAX} characters")
    _check_printable("label", label)
    return label


def _check_printable(field: str, text: str) -> None:
    for char in text:
        # Cc control, Cf format (bidi overrides, zero-width), Cs lone surrogates,
        # Co private use, Cn unassigned; line and paragraph separators too.
        if unicodedata.category(char)[0] in ("C",) or unicodedata.category(char) in ("Zl", "Zp"):
            raise InvalidMemberField(field, "control characters are not allowed")


def check_roles(raw: object) -> frozenset[str]:
    if isinstance(raw, str):
        raw = [raw]
    if not isinstance(raw, list | tuple | set | frozenset) or len(raw) > len(ROLES):
        raise InvalidMemberField("roles", f"a list of {', '.join(ROLES)}")
    roles = frozenset(raw)
    if not roles <= set(ROLES) or not all(isinstance(r, str) for r in raw):
        raise InvalidMemberField("roles", f"each one of {', '.join(ROLES)}")
    return roles
