"""record_pdf: deterministic, every character drawn safely, long records over several pages."""

from __future__ import annotations

from tests.web.transparency.test_record import assert_pdf_opens
from web.transparency.record_pdf import record_pdf


def page(body: str) -> bytes:
    return f'<!doctype html><html lang="es"><head><title>x</title><style>h1{{}}</style></head><body>{body}</body></html>'.encode()


def test_the_same_record_gives_the_same_pdf_and_hostile_text_is_drawn_as_text() -> None:
    rows = "".join(
        f"<tr><td>{i}</td><td>Corregido (por) su autor \\ {i}<ul><li><strong>Agencia</strong>: "
        f"<del>No se sabe</del> → <ins>ICE ERO</ins></li></ul></td><td>2026-11-20 09:05 EST</td></tr>"
        for i in range(1, 120)
    )
    html = page(
        "<h1>Registro de evidencia</h1><p>Año, niño, ¿qué? ¡sí! — 北京 ✓</p>"
        "<dl><dt>Tribunal</dt><dd>New York Immigration Court, New York, NY</dd></dl>"
        f"<table><thead><tr><th>#</th></tr></thead><tbody>{rows}</tbody></table>"
        f'<p class="cite"><code>{"ab" * 200}</code></p>) Tj /F1 99 Tf (injected'
    )
    pdf = record_pdf(html)
    assert pdf == record_pdf(html)
    assert_pdf_opens(pdf, "Registro de evidencia", "No se sabe -> ICE ERO", "119.")
    assert b"/Count 1 " not in pdf  # 119 history rows do not fit one page
    assert b"/Lang (es)" in pdf
    # Parentheses and backslashes are escaped: text cannot end its string and draw operators.
    assert b"Corregido \\(por\\) su autor \\\\ 1" in pdf
    assert "Año, niño, ¿qué? ¡sí! — ?? v".encode("cp1252") in pdf
    assert b"(injected" not in pdf.replace(b"\\(injected", b"")


def test_a_very_long_word_is_cut_in_linear_time() -> None:
    # Cutting by trying ever shorter prefixes took minutes for one 30,000-character word.
    pdf = record_pdf(page(f"<h1>x</h1><p>{'a' * 30_000}</p>"))
    assert pdf.count(b"(aaaa") > 300  # about 85 characters a line
