"""record.pdf: the readable record (record.html) as a PDF, in every bundle.

Why not a browser's print-to-PDF or WeasyPrint: a bundle is built by the web
process on request, and its bytes must be the same for the same evidence (the
bundle's SHA-256 is citable). Chromium's print embeds a creation date and a
random document ID and costs a browser process per bundle; WeasyPrint is not a
dependency this project allows. So the PDF is written here, in a few
milliseconds, from record.html's own text: its headings, fields, history rows
(with before -> after) and citation line, laid out on A4 with the three fonts
every PDF reader has (Helvetica, Helvetica-Bold, Courier; WinAnsi encoding,
which covers English and Spanish). No date, no ID, nothing random: the same
record.html gives the same PDF, byte for byte. record.html stays the reference
(and prints to A4 itself); the PDF is for readers and filings that want one.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from html.parser import HTMLParser

PAGE_WIDTH, PAGE_HEIGHT = 595.28, 841.89  # A4 in points
MARGIN = 56.0
TEXT_WIDTH = PAGE_WIDTH - 2 * MARGIN

# Helvetica's advance widths (Adobe's AFM, 1/1000 em) for printable ASCII;
# Helvetica-Bold is a little wider: a 6 % allowance keeps its lines inside.
_HELVETICA = dict(
    zip(
        " !\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~",
        [278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278]
        + [556] * 10
        + [278, 278, 584, 584, 584, 556, 1015, 667, 667, 722, 722, 667, 611, 778, 722, 278]
        + [500, 667, 556, 833, 722, 778, 667, 778, 722, 667, 611, 722, 667, 944, 667, 667]
        + [611, 278, 278, 278, 469, 556, 333, 556, 556, 500, 556, 556, 278, 556, 556, 222]
        + [222, 500, 222, 833, 556, 556, 556, 556, 333, 500, 278, 556, 500, 722, 500, 500]
        + [500, 334, 260, 334, 584],
        strict=True,
    )
)
_WIDE = {"\u2014": 1000, "\u2026": 1000, "\u2013": 556, "\u00bf": 611, "\u00a1": 333}
# What WinAnsi lacks, in words a reader still understands.
_PLAIN = str.maketrans({"\u2192": "->", "\u2713": "v", "\u2717": "x", "\u2009": " ", "\u00a0": " "})

REGULAR, BOLD, MONO = "F1", "F2", "F3"


def _width(text: str, font: str, size: float) -> float:
    if font == MONO:
        return len(text) * 600 * size / 1000
    units = 0
    for ch in text:
        base = ch
        if ch not in _HELVETICA and ch not in _WIDE:
            # An accented letter is as wide as its base letter, near enough.
            base = _unaccented(ch)
        units += _WIDE.get(base, _HELVETICA.get(base, 556))
    return units * size / 1000 * (1.06 if font == BOLD else 1.0)


def _unaccented(ch: str) -> str:
    decomposed = unicodedata.normalize("NFD", ch)
    return decomposed[0] if decomposed else ch


@dataclass
class _Block:
    kind: str  # h1 h2 h3 p label value row item code
    text: str
    items: list[str] = field(default_factory=list)


_BLOCKS = {"h1", "h2", "h3", "p", "dt", "dd"}


class _RecordText(HTMLParser):
    """record.html's visible text as blocks, in reading order."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.blocks: list[_Block] = []
        self._skip = 0
        self._kind: str | None = None
        self._buffer: list[str] = []
        self._row: list[str] | None = None
        self._cell: list[str] = []
        self._items: list[str] = []
        self._sub: list[str] | None = None
        self._code = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("head", "style", "script", "title", "thead"):
            self._skip += 1
        elif self._skip:
            return  # the table's header row: its titles are not a history row
        elif tag == "tr":
            self._row, self._items = [], []
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []
        elif tag in ("li", "div") and self._row is not None:
            self._sub = []
        elif tag in _BLOCKS:
            self._flush()
            self._kind = {"dt": "label", "dd": "value"}.get(tag, tag)
        elif tag == "code" and self._kind == "p":
            self._code = True

    def handle_endtag(self, tag: str) -> None:
        if tag in ("head", "style", "script", "title", "thead"):
            self._skip -= 1
        elif tag in ("li", "div") and self._row is not None and self._sub is not None:
            self._items.append(_squash("".join(self._sub)))
            self._sub = None
        elif tag in ("td", "th") and self._row is not None:
            self._row.append(_squash("".join(self._cell)))
        elif tag == "tr" and self._row is not None and not self._skip:
            number, *rest = [*self._row, "", ""]
            title = " \u2014 ".join(part for part in (rest[0], rest[1]) if part)
            self.blocks.append(_Block("row", f"{number}. {title}", [i for i in self._items if i]))
            self._row = None
        elif tag in _BLOCKS:
            self._flush()

    def handle_data(self, data: str) -> None:
        if self._skip:
            return
        if self._row is not None:
            (self._sub if self._sub is not None else self._cell).append(data)
        elif self._kind is not None:
            self._buffer.append(data)

    def _flush(self) -> None:
        text = _squash("".join(self._buffer))
        if self._kind is not None and text:
            self.blocks.append(_Block("code" if self._code else self._kind, text))
        self._kind, self._buffer, self._code = None, [], False


def _squash(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


_STYLE: dict[str, tuple[str, float, float, float]] = {  # kind -> (font, size, space before, indent)
    "h1": (BOLD, 17, 0, 0),
    "h2": (BOLD, 13.5, 14, 0),
    "h3": (BOLD, 11.5, 9, 0),
    "p": (REGULAR, 10.5, 5, 0),
    "label": (BOLD, 10, 4, 0),
    "value": (REGULAR, 10.5, 0, 14),
    "row": (BOLD, 10.5, 5, 0),
    "item": (REGULAR, 10, 1, 18),
    "code": (MONO, 8.5, 4, 0),
}


def _wrap(text: str, font: str, size: float, width: float) -> list[str]:
    lines: list[str] = []
    line = ""
    for word in text.split(" "):
        candidate = f"{line} {word}" if line else word
        if _width(candidate, font, size) <= width:
            line = candidate
            continue
        if line:
            lines.append(line)
        # A word longer than the line (a hash, a key): cut it where it must be cut,
        # in one pass over its characters (a 200,000-character word stays linear).
        if _width(word, font, size) > width:
            piece, used = "", 0.0
            for ch in word:
                step = _width(ch, font, size)
                if piece and used + step > width:
                    lines.append(piece)
                    piece, used = "", 0.0
                piece += ch
                used += step
            word = piece
        line = word
    if line:
        lines.append(line)
    return lines


def _pdf_string(text: str) -> bytes:
    raw = text.translate(_PLAIN).encode("cp1252", errors="replace")
    return b"(" + raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)") + b")"


def _layout(blocks: list[_Block]) -> list[list[tuple[str, float, float, float, str]]]:
    """Pages of (font, size, x, y, text)."""
    pages: list[list[tuple[str, float, float, float, str]]] = [[]]
    y = PAGE_HEIGHT - MARGIN

    def put(kind: str, text: str) -> None:
        nonlocal y
        font, size, before, indent = _STYLE[kind]
        leading = size * 1.35
        lines = _wrap(text, font, size, TEXT_WIDTH - indent)
        y -= before
        for number, line in enumerate(lines):
            if y - leading < MARGIN + 14:  # room for the page number
                pages.append([])
                y = PAGE_HEIGHT - MARGIN
            y -= leading
            hanging = 8 if number and kind in ("row", "item", "code") else 0
            pages[-1].append((font, size, MARGIN + indent + hanging, y, line))

    for block in blocks:
        put(block.kind, block.text)
        for item in block.items:
            put("item", item)
    return pages


def record_pdf(record_html: bytes) -> bytes:
    """The PDF of a rendered record.html. The same bytes in give the same bytes out."""
    parser = _RecordText()
    parser.feed(record_html.decode("utf-8"))
    parser.close()
    blocks = parser.blocks
    title = blocks[0].text if blocks else "courtwatch record"
    pages = _layout(blocks)
    lang = re.search(rb'<html lang="([a-z]{2})"', record_html)

    objects: list[bytes] = []  # object n is objects[n - 1]

    def add(body: bytes) -> int:
        objects.append(body)
        return len(objects)

    catalog = add(b"")  # filled in below, once the pages object's number is known
    pages_obj = add(b"")
    fonts = {
        REGULAR: add(
            b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"
        ),
        BOLD: add(
            b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold "
            b"/Encoding /WinAnsiEncoding >>"
        ),
        MONO: add(
            b"<< /Type /Font /Subtype /Type1 /BaseFont /Courier /Encoding /WinAnsiEncoding >>"
        ),
    }
    resources = (
        b"<< /Font << "
        + b" ".join(f"/{name} {number} 0 R".encode() for name, number in fonts.items())
        + b" >> >>"
    )
    kids: list[int] = []
    for number, lines in enumerate(pages, start=1):
        ops = [b"BT"]
        for font, size, x, y, text in lines:
            ops.append(
                f"/{font} {size:g} Tf 1 0 0 1 {x:.2f} {y:.2f} Tm ".encode()
                + _pdf_string(text)
                + b" Tj"
            )
        footer = f"{number} / {len(pages)}"
        x = PAGE_WIDTH - MARGIN - _width(footer, REGULAR, 8.5)
        ops.append(
            f"/{REGULAR} 8.5 Tf 1 0 0 1 {x:.2f} {MARGIN - 20:.2f} Tm ".encode()
            + _pdf_string(footer)
            + b" Tj"
        )
        ops.append(b"ET")
        stream = b"\n".join(ops) + b"\n"
        content = add(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"endstream")
        kids.append(
            add(
                f"<< /Type /Page /Parent {pages_obj} 0 R /MediaBox [0 0 {PAGE_WIDTH} {PAGE_HEIGHT}] "
                f"/Contents {content} 0 R /Resources ".encode()
                + resources
                + b" >>"
            )
        )
    objects[pages_obj - 1] = (
        f"<< /Type /Pages /Kids [{' '.join(f'{k} 0 R' for k in kids)}] /Count {len(kids)} >>".encode()
    )
    language = b" /Lang (" + lang.group(1) + b")" if lang else b""
    objects[catalog - 1] = f"<< /Type /Catalog /Pages {pages_obj} 0 R".encode() + language + b" >>"
    info = add(b"<< /Title " + _pdf_string(title) + b" /Producer (courtwatch) >>")

    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % at for at in offsets)
    out += b"trailer\n<< /Size %d /Root %d 0 R /Info %d 0 R >>\n" % (
        len(objects) + 1,
        catalog,
        info,
    )
    out += b"startxref\n%d\n%%%%EOF\n" % xref
    return bytes(out)
