"""Photos: sealed originals (salted commitment in the log), bad uploads refused
with nothing stored, and a public copy with no metadata, read off the file."""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import subprocess
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pillow_heif
import pytest
from PIL import Image, ImageCms

from courtwatch import photos
from courtwatch.infrastructure.database import Database
from courtwatch.members import MemberRole
from courtwatch.sealed.service import unsealing_key_path
from courtwatch.sealing import keys
from courtwatch.sealing.commitments import commitment_to_bytes
from courtwatch.sealing.envelope import unseal_blob
from courtwatch.services import Services
from projections.transparency_log import store as audit_log
from projections.transparency_log.evidence import export_bundle
from tests.conftest import ServerThread
from tests.members.tokens import member_token
from tests.projections.transparency_log.conftest import project
from tests.sealed.conftest import arrest, bearer, count
from tests.sealed.test_redaction_and_disclosure import cli
from tests.web.reports.test_privacy import pg_dump

pillow_heif.register_heif_opener()
CAMERA = "MarkerCam-Witness-9000"
GPS_IFD = 0x8825
EXIF_IFD = 0x8769


def exif_with_gps_make_and_time() -> Image.Exif:
    exif = Image.Exif()
    exif[0x010F] = CAMERA  # Make
    exif[0x0110] = "Model-7731"  # Model
    exif[0x0132] = "2026:11:20 09:41:07"  # DateTime
    exif.get_ifd(EXIF_IFD)[0x9003] = "2026:11:20 09:41:07"  # DateTimeOriginal
    gps = exif.get_ifd(GPS_IFD)
    gps[1] = "N"
    gps[2] = (40.0, 42.0, 51.9)  # 26 Federal Plaza, roughly
    gps[3] = "W"
    gps[4] = (74.0, 0.0, 15.6)
    return exif


def photo(fmt: str = "JPEG", size: tuple[int, int] = (640, 480)) -> bytes:
    image = Image.new("RGB", size, (30, 120, 200))
    for x in range(0, size[0], 7):  # some detail, so it is not one flat colour
        image.putpixel((x, x % size[1]), (250, 250, 0))
    out = io.BytesIO()
    extra: dict[str, object] = {"exif": exif_with_gps_make_and_time()}
    if fmt == "JPEG":
        srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
        xmp = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF><rdf:Description GPSLatitude="40,42.865N"/></rdf:RDF></x:xmpmeta>'
        extra.update(icc_profile=srgb, xmp=xmp, comment=b"taken by Witness 42")
    image.save(out, fmt, **extra)
    return out.getvalue()


async def sealed_report(client: httpx.AsyncClient) -> tuple[str, str]:
    created = await client.post(
        "/api/reports", json=arrest(), headers={"Idempotency-Key": uuid.uuid4().hex}
    )
    assert created.status_code == 201
    return created.json()["id"], created.json()["author_token"]


async def upload(
    client: httpx.AsyncClient, report_id: str, token: str, data: bytes, **headers: str
) -> httpx.Response:
    return await client.post(
        f"/api/reports/{report_id}/photos",
        content=data,
        headers={"X-Author-Token": token, "Content-Type": "image/jpeg", **headers},
    )


def assert_no_metadata(data: bytes) -> None:
    image = Image.open(io.BytesIO(data))
    assert image.format == "JPEG"
    exif = image.getexif()
    assert len(exif) == 0 and len(exif.get_ifd(GPS_IFD)) == 0 and len(exif.get_ifd(EXIF_IFD)) == 0
    for key in ("exif", "icc_profile", "xmp", "XML:com.adobe.xmp", "comment", "photoshop", "adobe"):
        assert key not in image.info, key
    assert getattr(image, "applist", []) == [] or all(
        marker not in ("APP1", "APP2", "APP13") for marker, _ in image.applist
    )
    for raw in (
        b"Exif",
        b"adobe:ns:meta",
        b"ICC_PROFILE",
        CAMERA.encode(),
        b"Witness 42",
        b"2026:11:20",
    ):
        assert raw not in data, raw


@pytest.mark.parametrize("fmt", ["JPEG", "HEIF"])
async def test_a_photo_is_sealed_and_its_public_copy_has_no_metadata(
    client: httpx.AsyncClient, services: Services, database: Database, fmt: str
) -> None:
    original = photo(fmt)
    # The check below can fail: the original carries what the public copy must not.
    assert CAMERA.encode() in original and b"Exif" in original
    gps = Image.open(io.BytesIO(original)).getexif().get_ifd(GPS_IFD)
    assert gps[1] == "N" and gps[3] == "W"
    if fmt == "JPEG":
        with pytest.raises(AssertionError):
            assert_no_metadata(original)
    report_id, token = await sealed_report(client)
    stored = await upload(client, report_id, token, original)
    assert stored.status_code == 201, stored.text
    photo_id = stored.json()["photo_id"]

    history = (await client.get(f"/api/reports/{report_id}")).json()["history"]
    sealed_event = next(e for e in history if e["event"] == "PhotoSealed")["data"]
    assert sealed_event["photo_id"] == photo_id
    # The sealed original, with its sealed salt, hashes to the logged commitment.
    private = keys.read_private_key(unsealing_key_path(services.settings))  # type: ignore[arg-type]
    found = services.sealed.store.photo(uuid.UUID(report_id), uuid.UUID(photo_id))
    assert found is not None
    salt, data = unseal_blob(
        uuid.UUID(report_id), f"photo:{photo_id}", found.ciphertext, found.wrapped_key, private
    )
    assert data == original
    logged = commitment_to_bytes(uuid.UUID(report_id), f"photo:{photo_id}", salt, original)
    assert logged == sealed_event["commitment"]
    dump = pg_dump(database)
    assert original[-200:-100].hex() not in dump and original[200:300].hex() not in dump

    public_url = f"/reports/{report_id}/photos/{photo_id}"
    assert (await client.get(public_url)).status_code == 404  # not until a responder says so
    lawyer = member_token(services, "Ana", MemberRole.LAWYER)
    responder = member_token(services, "Rio", MemberRole.RESPONDER)
    base = f"/api/reports/{report_id}/photos/{photo_id}"
    assert (await client.get(f"{base}/original")).status_code == 401
    assert (await client.get(f"{base}/original", headers=bearer(responder))).status_code == 403
    got = await client.get(f"{base}/original", headers=bearer(lawyer))
    assert got.status_code == 200 and got.content == original
    assert (await client.post(f"{base}/publish", headers=bearer(lawyer))).status_code == 403
    preview = await client.get(f"{base}/preview", headers=bearer(responder))
    assert preview.status_code == 200
    assert_no_metadata(preview.content)
    published = await client.post(f"{base}/publish", headers=bearer(responder))
    assert published.status_code == 200, published.text

    public = await client.get(public_url)
    assert public.status_code == 200 and public.headers["content-type"] == "image/jpeg"
    assert_no_metadata(public.content)
    assert Image.open(io.BytesIO(public.content)).size == (640, 480)
    history = (await client.get(f"/api/reports/{report_id}")).json()["history"]
    event = next(e for e in history if e["event"] == "PhotoPublished")["data"]
    assert event == {
        "photo_id": photo_id,
        "by": "Rio",
        "public_sha256": hashlib.sha256(public.content).hexdigest(),
    }

    # Redaction erases the original and the public copy.
    done = await client.post(
        f"/api/reports/{report_id}/redact", json={"reason": "safety", "token": token}
    )
    assert done.status_code == 200, done.text
    assert (await client.get(public_url)).status_code == 404
    assert (await client.get(f"{base}/original", headers=bearer(lawyer))).status_code == 410


def bomb() -> bytes:
    """A valid PNG header for 30,000 x 30,000 pixels (900 M) in a few hundred bytes."""
    image = Image.new("1", (30_000, 30_000))
    out = io.BytesIO()
    image.save(out, "PNG", optimize=True)
    return out.getvalue()


def damaged(data: bytes) -> bytes:
    middle = len(data) // 2
    return data[:middle] + bytes(b ^ 0xFF for b in data[middle : middle + 40]) + data[middle + 40 :]


def gif() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (10, 10)).save(out, "GIF")
    return out.getvalue()


BAD_UPLOADS = {
    "text pretending to be a JPEG": (b"\xff\xd8 not really a jpeg at all " * 10, 415),
    "a GIF (not a kind we keep)": (gif(), 415),
    "a truncated JPEG": (photo()[:2500], 422),
    "an empty body": (b"", 422),
    "a decompression bomb": (bomb(), 422),
    "a PNG damaged inside its pixel data": (damaged(photo("PNG")), 422),
}


@pytest.mark.parametrize("name", list(BAD_UPLOADS))
async def test_a_bad_upload_gets_a_4xx_and_nothing_is_stored(
    client: httpx.AsyncClient, services: Services, name: str
) -> None:
    data, status = BAD_UPLOADS[name]
    report_id, token = await sealed_report(client)
    before = count(services, "courtwatch_events")
    answer = await upload(client, report_id, token, data)
    assert answer.status_code == status, (name, answer.text)
    assert count(services, "sealed_photos") == 0
    assert count(services, "courtwatch_events") == before


async def chunks(megabytes: int) -> AsyncIterator[bytes]:
    for _ in range(megabytes):
        yield b"\xff" * (1024 * 1024)


async def status_of_declared_upload(port: int, path: str, length: int, token: str) -> bytes:
    """Send only the head of a request declaring ``length`` bytes; the server must answer first."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: image/jpeg\r\n"
        f"X-Author-Token: {token}\r\nContent-Length: {length}\r\n\r\n".encode()
    )
    await writer.drain()
    line = await asyncio.wait_for(reader.readline(), 10)
    writer.close()
    return line


async def test_oversize_wrong_token_and_a_retry_store_nothing_more(
    client: httpx.AsyncClient, services: Services, live_server: ServerThread
) -> None:
    report_id, token = await sealed_report(client)
    path = f"/api/reports/{report_id}/photos"
    huge = await status_of_declared_upload(live_server.port, path, 15 * 1024 * 1024 + 10, token)
    assert huge.startswith(b"HTTP/1.1 413")
    streamed = await client.post(
        path,
        content=chunks(16),  # chunked: no length declared
        headers={"X-Author-Token": token},
    )
    assert streamed.status_code == 413
    assert (await upload(client, report_id, "wrong", photo())).status_code == 403
    assert (await upload(client, str(uuid.uuid4()), token, photo())).status_code == 404
    # A check made of other bytes vouches for nothing: the bytes are decoded (and refused).
    good = photos.check(photo())
    with pytest.raises(photos.PhotoRefused):
        services.sealed.attach_photo(
            uuid.UUID(report_id), token, b"\xff\xd8 not a photo", None, good
        )
    assert count(services, "sealed_photos") == 0
    key = uuid.uuid4().hex
    first = await upload(client, report_id, token, photo(), **{"Idempotency-Key": key})
    again = await upload(client, report_id, token, photo(), **{"Idempotency-Key": key})
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["photo_id"] == again.json()["photo_id"]
    assert count(services, "sealed_photos") == 1
    # A report's other JSON routes keep the small limit.
    big_json = await client.post("/api/reports", content=b"{" + b" " * 70_000 + b"}")
    assert big_json.status_code == 413


async def test_a_photo_disclosure_proves_the_file_offline_and_an_altered_file_fails(
    client: httpx.AsyncClient, services: Services, database: Database, tmp_path: Path
) -> None:
    original = photo()
    report_id, token = await sealed_report(client)
    photo_id = (await upload(client, report_id, token, original)).json()["photo_id"]
    project(services.database)
    out = tmp_path / "disclosure.json"
    made = cli(
        "sealed", "disclose", report_id, f"photo:{photo_id}",
        "--key", str(unsealing_key_path(services.settings)), "--as", "Ana", "--out", str(out),
        database=database, tmp_path=tmp_path,
    )  # fmt: skip
    assert made.returncode == 0, made.stdout + made.stderr
    disclosed = tmp_path / json.loads(out.read_text())["file"]
    assert disclosed.read_bytes() == original
    bundle = tmp_path / "evidence.zip"
    export_bundle(services.database, services.settings, bundle, report_id=uuid.UUID(report_id))
    vkey = audit_log.public_key(services.database)

    def verify() -> subprocess.CompletedProcess[str]:
        return cli("verify", str(bundle), "--key", vkey, "--disclosure", str(out),
                   database=database, tmp_path=tmp_path)  # fmt: skip

    ok = verify()
    assert ok.returncode == 0, ok.stdout + ok.stderr
    altered = bytearray(original)
    altered[len(altered) // 2] ^= 1
    disclosed.write_bytes(bytes(altered))
    bad = verify()
    assert bad.returncode == 1 and "not the file that was sealed" in bad.stdout
    out.write_text(json.dumps({**json.loads(out.read_text()), "file": "../etc/passwd"}))
    assert verify().returncode == 1
