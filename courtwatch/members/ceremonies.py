"""Passkeys (WebAuthn): registering one with an invite, adding another, signing in.

The relying party is the configured public origin, never a request's Host
header: a passkey made for courtwatch.example.org is useless to a look-alike
site, and a proxy that forwards another Host cannot change what is checked.

Every ceremony starts with a random challenge stored server-side for a few
minutes. The answer names its challenge (inside clientDataJSON); that row is
deleted as it is read, so an assertion or attestation can be used once only.
On sign-in the authenticator's signature counter must also move forward.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit
from uuid import UUID, uuid4

from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import parse_client_data_json
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.parse_authentication_credential_json import (
    parse_authentication_credential_json,
)
from webauthn.helpers.parse_registration_credential_json import (
    parse_registration_credential_json,
)
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from courtwatch.members.model import Member, PasskeyRefused, Session, check_display_name
from courtwatch.members.store import MemberStore

TIMEOUT_MS = 120_000
# Whatever the parsers and checks raise on a malformed or forged response is a
# refusal, not a 500: py_webauthn raises its own errors, but CBOR, ASN.1 and
# cryptography errors of every kind can surface from hostile bytes. These blocks
# touch no database, so nothing else is swallowed; they fail closed.
_MALFORMED = (WebAuthnException, Exception)


@dataclass(frozen=True)
class RelyingParty:
    id: str
    origin: str
    name: str = "courtwatch"

    @classmethod
    def for_public_url(cls, public_url: str) -> RelyingParty:
        parts = urlsplit(public_url)
        if not parts.hostname:
            raise ValueError(f"no host in the public URL {public_url!r}")
        return cls(id=parts.hostname, origin=f"{parts.scheme}://{parts.netloc}")


def _selection() -> AuthenticatorSelectionCriteria:
    # A discoverable credential lets a member sign in without typing a name.
    return AuthenticatorSelectionCriteria(
        resident_key=ResidentKeyRequirement.REQUIRED,
        user_verification=UserVerificationRequirement.REQUIRED,
    )


def _challenge_of(client_data_json: bytes) -> bytes:
    return bytes(parse_client_data_json(client_data_json).challenge)


def registration_options(
    store: MemberStore,
    rp: RelyingParty,
    display_name: object,
    invite_token: str | None = None,
    member: Member | None = None,
) -> dict[str, Any]:
    """Options for navigator.credentials.create(): for an invite, or a member's extra passkey."""
    if member is None:
        if invite_token is None:
            raise PasskeyRefused("an invite is needed")
        store.usable_invite(invite_token)
        name = check_display_name(display_name)
        member_id = uuid4()
        exclude: list[PublicKeyCredentialDescriptor] = []
    else:
        name = member.display_name
        member_id = member.id
        exclude = [
            PublicKeyCredentialDescriptor(id=p.credential_id) for p in store.passkeys(member.id)
        ]
    challenge = secrets.token_bytes(32)
    options = generate_registration_options(
        rp_id=rp.id,
        rp_name=rp.name,
        user_id=member_id.bytes,
        user_name=name,
        user_display_name=name,
        challenge=challenge,
        timeout=TIMEOUT_MS,
        authenticator_selection=_selection(),
        exclude_credentials=exclude,
    )
    store.remember_challenge(challenge, "register", member_id, invite_token)
    return json.loads(options_to_json(options))  # type: ignore[no-any-return]


def _verified_registration(
    store: MemberStore, rp: RelyingParty, credential: object, invite_token: str | None
) -> tuple[UUID, Any]:
    try:
        parsed = parse_registration_credential_json(json.dumps(credential))
        challenge = _challenge_of(parsed.response.client_data_json)
    except _MALFORMED:
        raise PasskeyRefused() from None
    member_id = store.take_challenge(challenge, "register", invite_token)
    if member_id is None:
        raise PasskeyRefused()
    try:
        verified = verify_registration_response(
            credential=parsed,
            expected_challenge=challenge,
            expected_rp_id=rp.id,
            expected_origin=rp.origin,
            require_user_verification=True,
        )
    except _MALFORMED:
        raise PasskeyRefused() from None
    return member_id, verified


def join_with_invite(
    store: MemberStore,
    rp: RelyingParty,
    invite_token: str,
    display_name: object,
    credential: object,
) -> Session:
    """Use an invite: the attestation is checked, then member, passkey and session are stored."""
    name = check_display_name(display_name)
    member_id, verified = _verified_registration(store, rp, credential, invite_token)
    return store.join(
        invite_token,
        member_id,
        name,
        bytes(verified.credential_id),
        bytes(verified.credential_public_key),
        int(verified.sign_count),
    )


def add_passkey(store: MemberStore, rp: RelyingParty, member: Member, credential: object) -> None:
    """Another passkey for a signed-in member (a second phone, a security key)."""
    member_id, verified = _verified_registration(store, rp, credential, None)
    if member_id != member.id:
        raise PasskeyRefused()
    store.add_passkey(
        member.id,
        bytes(verified.credential_id),
        bytes(verified.credential_public_key),
        int(verified.sign_count),
    )


def signin_options(store: MemberStore, rp: RelyingParty) -> dict[str, Any]:
    challenge = secrets.token_bytes(32)
    options = generate_authentication_options(
        rp_id=rp.id,
        challenge=challenge,
        timeout=TIMEOUT_MS,
        user_verification=UserVerificationRequirement.REQUIRED,
    )
    store.remember_challenge(challenge, "signin")
    return json.loads(options_to_json(options))  # type: ignore[no-any-return]


def sign_in(store: MemberStore, rp: RelyingParty, credential: object) -> Session:
    try:
        parsed = parse_authentication_credential_json(json.dumps(credential))
        challenge = _challenge_of(parsed.response.client_data_json)
        credential_id = bytes(parsed.raw_id)
    except _MALFORMED:
        raise PasskeyRefused() from None
    # The challenge is used up first: a replayed assertion fails here even
    # before its signature is looked at.
    store.take_challenge(challenge, "signin")
    member_id, public_key, sign_count = store.passkey_for_signin(credential_id)
    try:
        verified = verify_authentication_response(
            credential=parsed,
            expected_challenge=challenge,
            expected_rp_id=rp.id,
            expected_origin=rp.origin,
            credential_public_key=public_key,
            credential_current_sign_count=sign_count,
            require_user_verification=True,
        )
    except _MALFORMED as error:
        if "sign count" in str(error):
            # The authenticator has signed since: this assertion is an old or copied one.
            raise PasskeyRefused("this passkey's signature counter did not move forward") from None
        raise PasskeyRefused() from None
    if parsed.response.user_handle is not None and bytes(parsed.response.user_handle) != (
        member_id.bytes
    ):
        raise PasskeyRefused()
    return store.sign_in(credential_id, sign_count, int(verified.new_sign_count))
