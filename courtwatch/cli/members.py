"""`courtwatch members`: invite the first coordinator (and anyone else), list, set roles, revoke.

An invite is a one-time link, valid 48 hours, printed once (and as a QR code
for a phone). Only its SHA-256 is stored, so it cannot be printed again: if it
is lost, issue another.
"""

from __future__ import annotations

import argparse
import io
import sys
from uuid import UUID

import segno

from courtwatch.cli import arguments, command
from courtwatch.cli.bootstrap import connect_database
from courtwatch.infrastructure.config import Settings
from courtwatch.members import ROLES, Invite, MemberError, MemberStore


def invite_link(public_url: str, invite: Invite) -> str:
    return f"{public_url}/invite/{invite.token}"


def invite(store: MemberStore, public_url: str, roles: list[str]) -> str:
    """Issue an invite granting ``roles``; the one-time link to hand over."""
    return invite_link(public_url, store.invite(roles))


def terminal_qr(link: str) -> str:
    out = io.StringIO()
    segno.make(link, error="m").terminal(out=out, compact=True)
    return out.getvalue()


def _members_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "action", choices=["invite", "list", "roles", "revoke", "invites", "cancel-invite"]
    )
    parser.add_argument(
        "member",
        nargs="?",
        help="the member's id (for roles and revoke; see `list`), "
        "or an invite's id (for cancel-invite; see `invites`)",
    )
    parser.add_argument(
        "--name",
        default="",
        help="who the invite is for, to recognise it in this terminal only (not stored)",
    )
    parser.add_argument(
        "--role",
        action="append",
        choices=ROLES,
        default=[],
        help="a role to grant (repeat for several): responder, lawyer, coordinator",
    )
    parser.add_argument("--no-qr", action="store_true", help="print the link only")


@command("members", help="invite team members (one-time passkey link), list, set roles, revoke")
@arguments(_members_args)
def members(args: argparse.Namespace, settings: Settings) -> int:
    store = MemberStore(connect_database(settings))
    try:
        if args.action == "invite":
            if not args.role:
                print("courtwatch members invite: give at least one --role", file=sys.stderr)
                return 2
            link = invite(store, settings.public_url, args.role)
            who = f" for {args.name}" if args.name else ""
            print(f"One-time invite{who} ({', '.join(sorted(set(args.role)))}), valid 48 hours:")
            print(link)
            if not args.no_qr:
                print(terminal_qr(link))
            return 0
        if args.action == "list":
            for member in store.members():
                state = "revoked" if member.revoked else ",".join(sorted(member.roles)) or "-"
                print(f"{member.id}  {state:<30}  {member.display_name}")
            return 0
        if args.action == "invites":
            for open_invite in store.open_invites():
                print(
                    f"{open_invite.id}  {','.join(sorted(open_invite.roles)):<30}  "
                    f"expires {open_invite.expires_at.isoformat(timespec='minutes')}"
                )
            return 0
        if args.action == "cancel-invite":
            if args.member is None or not store.cancel_invite(args.member, by=None):
                print("no open invite with that id (see `invites`)", file=sys.stderr)
                return 1
            print(f"cancelled invite {args.member}: its link no longer works")
            return 0
        if args.member is None:
            print(f"courtwatch members {args.action}: which member (an id)?", file=sys.stderr)
            return 2
        member_id = UUID(args.member)
        if args.action == "roles":
            changed = store.set_roles(member_id, args.role, by=None)
            print(f"{changed.display_name}: {', '.join(sorted(changed.roles)) or 'no roles'}")
            return 0
        if not store.revoke(member_id, by=None):
            print(f"no member {member_id} that is not already revoked", file=sys.stderr)
            return 1
        print(f"revoked {member_id}: its sessions and API tokens no longer work")
        return 0
    except (MemberError, ValueError) as error:
        print(f"courtwatch members {args.action}: {error}", file=sys.stderr)
        return 1
