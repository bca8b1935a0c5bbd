"""Photos: accepted by their content (not their name or declared type), and a
public copy that carries pixels only.

An upload is refused, with nothing stored, when it is larger than the limit,
is not a JPEG, PNG, WebP or HEIC by its content, has more pixels than any
phone takes (a decompression bomb: a small file that decodes to gigabytes), or
does not decode to the end (truncated).

The public copy is re-encoded from decoded pixels into a new image, turned
upright first (EXIF orientation), and saved as JPEG with no EXIF, GPS, XMP,
IPTC, ICC profile, comment or maker note: nothing of the original file's
metadata survives, because nothing of the file is copied.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import warnings
from dataclasses import dataclass

import pillow_heif
from PIL import Image, ImageOps, UnidentifiedImageError

pillow_heif.register_heif_opener()

CONTENT_TYPES = {
    "JPEG": "image/jpeg",
    "PNG": "image/png",
    "WEBP": "image/webp",
    "HEIF": "image/heic",
}
# A 48-megapixel phone photo is 8064 x 6048; anything past this is not a photo.
MOST_PIXELS = 50_000_000
MOST_BYTES = 15 * 1024 * 1024
PUBLIC_QUALITY = 85
# The public copy is for a page, not for forensics (the sealed original is).
PUBLIC_LONGEST_SIDE = 2048


class PhotoRefused(ValueError):
    """An upload that is not a photo courtwatch keeps; ``status`` is the HTTP answer."""

    def __init__(self, reason: str, status: int = 422) -> None:
        super().__init__(reason)
        self.status = status


@dataclass(frozen=True)
class PhotoInfo:
    format: str
    content_type: str
    width: int
    height: int


def _open(data: bytes) -> Image.Image:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            return Image.open(io.BytesIO(data), formats=list(CONTENT_TYPES))
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        # Pillow refuses the largest ones while reading the header.
        raise PhotoRefused("the photo has more pixels than any camera takes", 422) from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, EOFError):
        raise PhotoRefused("not a JPEG, PNG, WebP or HEIC photo", 415) from None


def inspect(data: bytes, most_bytes: int = MOST_BYTES) -> PhotoInfo:
    """What the photo is, after decoding it whole; PhotoRefused if it cannot be kept."""
    if len(data) > most_bytes:
        raise PhotoRefused(f"a photo is at most {most_bytes // (1024 * 1024)} MB", 413)
    if not data:
        raise PhotoRefused("the photo is empty", 422)
    image = _open(data)
    width, height = image.size
    if width < 1 or height < 1 or width * height > MOST_PIXELS:
        raise PhotoRefused("the photo has more pixels than any camera takes", 422)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise PhotoRefused("the photo has more pixels than any camera takes", 422) from None
    except (OSError, ValueError, SyntaxError, EOFError):
        raise PhotoRefused("the photo is damaged or cut short", 422) from None
    fmt = image.format or ""
    if fmt not in CONTENT_TYPES:
        raise PhotoRefused("not a JPEG, PNG, WebP or HEIC photo", 415)
    return PhotoInfo(fmt, CONTENT_TYPES[fmt], width, height)


@dataclass(frozen=True)
class Checked:
    """What ``inspect`` found in some bytes, and the SHA-256 of those bytes.

    Decoding a phone photo whole takes ~300 ms. The report form checks every
    photo before it stores the report, then seals them: with this, sealing
    trusts the first check instead of decoding again, but only for the very
    bytes that were checked (``describes``).
    """

    info: PhotoInfo
    sha256: bytes

    def describes(self, data: bytes) -> bool:
        return hmac.compare_digest(hashlib.sha256(data).digest(), self.sha256)


def check(data: bytes, most_bytes: int = MOST_BYTES) -> Checked:
    """``inspect``, remembering which bytes it vouches for."""
    return Checked(inspect(data, most_bytes), hashlib.sha256(data).digest())


def public_copy(data: bytes) -> bytes:
    """A JPEG of the photo's pixels only (see the module docstring)."""
    image = _open(data)
    image.load()
    upright = ImageOps.exif_transpose(image)
    if upright.mode not in ("RGB", "L"):
        background = Image.new("RGB", upright.size, (255, 255, 255))
        rgba = upright.convert("RGBA")
        background.paste(rgba, mask=rgba.getchannel("A"))
        upright = background
    upright.thumbnail((PUBLIC_LONGEST_SIDE, PUBLIC_LONGEST_SIDE))
    # A new image from raw pixels: no info dict, no EXIF, no ICC, nothing of the file.
    clean = Image.frombytes(upright.mode, upright.size, upright.tobytes())
    out = io.BytesIO()
    clean.save(out, "JPEG", quality=PUBLIC_QUALITY, optimize=True)
    return out.getvalue()
