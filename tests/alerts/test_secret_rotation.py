"""A coordinator rotates a webhook's signing secret without losing an alert: during
the grace, deliveries carry a signature under the new secret and one under the
old, so the receiver can switch whenever it likes."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from courtwatch.alerts import signing
from courtwatch.alerts.sender import AlertSender
from courtwatch.infrastructure.database import Database
from courtwatch.services import Services
from tests.alerts.conftest import hooked_member, submit, until
from tests.alerts.receiver import Receiver
from tests.members.tokens import member_token


def _hook_of(services: Services, member_id: uuid.UUID) -> uuid.UUID:
    (hook,) = services.alerts.webhooks(member_id)
    return hook.id


def test_during_the_grace_a_delivery_is_signed_with_the_old_and_the_new_secret(
    services: Services, database: Database, receiver: Receiver, delivering: AlertSender
) -> None:
    member = hooked_member(services, receiver)
    old = receiver.secret  # the receiver has not been given the new secret yet
    new, previous_until = services.alerts.rotate_webhook_secret(member, _hook_of(services, member))
    assert new != old and new.startswith("whsec_")
    assert previous_until > datetime.now(UTC) + timedelta(hours=23), "a day's grace"
    submit(services)
    (got,) = until(lambda: receiver.accepted)
    assert got.signature.count("v1=") == 2
    signing.verify(old, got.signature, got.raw)  # a receiver still on the old secret
    signing.verify(new, got.signature, got.raw)  # and one already on the new
    assert not receiver.refused

    # The grace is over: the new secret alone signs.
    with database.connect() as conn:
        conn.execute("UPDATE alert_webhooks SET previous_until = clock_timestamp()")
    receiver.secret = new
    submit(services)
    latest = until(lambda: len(receiver.accepted) == 2 and receiver.accepted[1])
    assert latest.signature.count("v1=") == 1
    signing.verify(new, latest.signature, latest.raw)
    with pytest.raises(signing.SignatureRefused):
        signing.verify(old, latest.signature, latest.raw)


def test_rotating_twice_keeps_only_the_last_two_secrets(
    services: Services, database: Database, receiver: Receiver
) -> None:
    member = hooked_member(services, receiver)
    hook = _hook_of(services, member)
    second, _ = services.alerts.rotate_webhook_secret(member, hook)
    third, _ = services.alerts.rotate_webhook_secret(member, hook)
    with database.connect() as conn:
        row = conn.execute(
            "SELECT secret, previous_secret, previous_until > clock_timestamp() "
            "FROM alert_webhooks WHERE id = %s",
            (hook,),
        ).fetchone()
    assert row == (third, second, True), "the first secret signs nothing any more"


async def test_only_the_hooks_coordinator_rotates_its_secret(
    client: httpx.AsyncClient, services: Services
) -> None:
    owner = {"Authorization": f"Bearer {member_token(services, 'Owner', 'coordinator')}"}
    other = {"Authorization": f"Bearer {member_token(services, 'Other', 'coordinator')}"}
    responder = {"Authorization": f"Bearer {member_token(services, 'Resp', 'responder')}"}
    made = await client.post(
        "/api/alerts/webhooks", json={"url": "http://127.0.0.1:9/hook"}, headers=owner
    )
    assert made.status_code == 201, made.text
    path = f"/api/alerts/webhooks/{made.json()['id']}/secret"
    assert (await client.post(path)).status_code == 401
    assert (await client.post(path, headers=responder)).status_code == 403
    assert (await client.post(path, headers=other)).status_code == 404
    unknown = f"/api/alerts/webhooks/{uuid.uuid4()}/secret"
    assert (await client.post(unknown, headers=owner)).status_code == 404
    rotated = await client.post(path, headers=owner)
    assert rotated.status_code == 200, rotated.text
    answer = rotated.json()
    assert answer["secret"].startswith("whsec_") and answer["secret"] != made.json()["secret"]
    assert answer["previous_valid_until"]
    listed = (await client.get("/api/alerts/webhooks", headers=owner)).json()
    assert "whsec_" not in str(listed), "a secret is shown once, never listed"
