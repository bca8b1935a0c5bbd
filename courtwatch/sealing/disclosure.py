"""Disclosing one sealed value to a court, and checking the disclosure offline.

A disclosure is a small JSON file given together with the report's evidence
bundle (``courtwatch export --report ID``):

    {"format": "courtwatch-disclosure/1", "report_id": "<uuid>",
     "field": "person_name", "value": "<the value>", "salt": "<base64, 32 bytes>",
     "commitment": "<64 hex>"}

It checks when (1) the bundle verifies against the operator's key, (2) the
bundle holds the report's ``DetailsSealed`` event, (3) that event's logged
commitment for ``field`` equals ``commitment``, and (4) SHA-256 of the value
and salt (see ``commitments``) gives that commitment. Changing one character of
the value, the salt or the field name fails (4) or (3).
"""

from __future__ import annotations

import base64
import binascii
import io
import json
import zipfile
from pathlib import Path
from typing import Any
from uuid import UUID

from courtwatch.sealing.commitments import SALT_BYTES, commitment_to_bytes, matches

FORMAT = "courtwatch-disclosure/1"
SEALED_EVENT_SUFFIX = ":Report.DetailsSealed"
PHOTO_EVENT_SUFFIX = ":Report.PhotoSealed"
PHOTO_PREFIX = "photo:"
EVENTS_FILE = "events.jsonl"
_MAX_EVENTS_BYTES = 512 * 1024 * 1024


def make_photo_disclosure(
    report_id: UUID, photo_id: str, file_name: str, salt: bytes, logged: str
) -> dict[str, Any]:
    """A photo's disclosure: the file itself travels next to it, named ``file``."""
    return {
        "format": FORMAT,
        "report_id": str(report_id),
        "field": PHOTO_PREFIX + photo_id,
        "file": file_name,
        "salt": base64.b64encode(salt).decode(),
        "commitment": logged,
    }


def check_photo_disclosure(
    disclosure: Any, photo: bytes, events: list[dict[str, Any]]
) -> list[str]:
    """Problems with a photo's disclosure (``photo``: the disclosed file's bytes)."""
    try:
        report_id = UUID(str(disclosure["report_id"]))
        label, logged = str(disclosure["field"]), str(disclosure["commitment"])
        salt = base64.b64decode(str(disclosure["salt"]), validate=True)
    except (KeyError, TypeError, ValueError, binascii.Error):
        return ["the disclosure is incomplete or malformed"]
    photo_id = label.removeprefix(PHOTO_PREFIX)
    if len(salt) != SALT_BYTES or not label.isascii() or not label.startswith(PHOTO_PREFIX):
        return ["the disclosure's salt or photo id is malformed"]
    sealed = [
        event
        for event in events
        if event.get("id") == str(report_id)
        and str(event.get("topic", "")).endswith(PHOTO_EVENT_SUFFIX)
        and isinstance(event.get("payload"), dict)
        and event["payload"].get("photo_id") == photo_id
    ]
    if not sealed:
        return [f"the bundle holds no event sealing photo {photo_id} of report {report_id}"]
    on_record = sealed[0]["payload"].get("commitment")
    problems = []
    if on_record != logged:
        problems.append("the disclosure's commitment is not the one in the logged event")
    if commitment_to_bytes(report_id, label, salt, photo) != on_record:
        problems.append(
            "the disclosed photo file and salt do not hash to the logged commitment: "
            "this is not the file that was sealed"
        )
    return problems


def make_disclosure(
    report_id: UUID, field: str, value: str, salt: bytes, logged: str
) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "report_id": str(report_id),
        "field": field,
        "value": value,
        "salt": base64.b64encode(salt).decode(),
        "commitment": logged,
    }


def check_disclosure(disclosure: Any, events: list[dict[str, Any]]) -> list[str]:
    """Problems with ``disclosure`` against verified canonical events (none: it holds)."""
    if not isinstance(disclosure, dict) or disclosure.get("format") != FORMAT:
        return [f"the disclosure is not a {FORMAT} document"]
    try:
        report_id = UUID(str(disclosure["report_id"]))
        field, value, logged = disclosure["field"], disclosure["value"], disclosure["commitment"]
        salt = base64.b64decode(str(disclosure["salt"]), validate=True)
    except (KeyError, ValueError, binascii.Error):
        return ["the disclosure is incomplete or malformed"]
    if not all(isinstance(item, str) for item in (field, value, logged)):
        return ["the disclosure's field, value and commitment must be text"]
    if len(salt) != SALT_BYTES:
        return [f"the disclosed salt is not {SALT_BYTES} bytes"]
    sealed = [
        event
        for event in events
        if event.get("id") == str(report_id)
        and str(event.get("topic", "")).endswith(SEALED_EVENT_SUFFIX)
    ]
    if not sealed:
        return [f"the bundle holds no sealed-details event of report {report_id}"]
    payload = sealed[0].get("payload")
    logged_commitments = payload.get("commitments") if isinstance(payload, dict) else None
    on_record = logged_commitments.get(field) if isinstance(logged_commitments, dict) else None
    if on_record is None:
        return [f"the logged event has no commitment for the field {field!r}"]
    problems = []
    if on_record != logged:
        problems.append("the disclosure's commitment is not the one in the logged event")
    if not matches(report_id, field, salt, value, on_record):
        problems.append(
            f"the disclosed value and salt of {field!r} do not hash to the logged commitment: "
            "the value (or the salt) is not what was sealed"
        )
    return problems


def events_of_bundle(bundle: str | Path | bytes) -> list[dict[str, Any]]:
    """The canonical events in an evidence bundle (check the bundle with verify first)."""
    source = io.BytesIO(bundle) if isinstance(bundle, bytes) else Path(bundle)
    with zipfile.ZipFile(source) as archive:
        info = archive.getinfo(EVENTS_FILE)
        if info.file_size > _MAX_EVENTS_BYTES:
            raise ValueError("the bundle's events file is too large")
        data = archive.read(info)
    events = []
    for line in data.splitlines():
        if line:
            item = json.loads(line)
            if isinstance(item, dict) and isinstance(item.get("event"), dict):
                events.append(item["event"])
    return events
