"""Recording and reading detainer policies through the application's event store.

Kept beside the Courtwatch façade rather than inside it: the façade is shared
by every feature, and policies need nothing of it but its repository and save.
"""

from __future__ import annotations

import random
import threading
import time
from datetime import date
from typing import Any

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import IntegrityError

from courtwatch.application import Courtwatch, WriteContention
from courtwatch.jurisdictions.policies import POLICIES_ID, DetainerPolicies

WRITE_ATTEMPTS = 20
RETRY_PAUSE = 0.01
# Serialises writers in this process; writers in other processes meet at the
# event store's unique (aggregate, version) and retry.
_write_lock = threading.Lock()


def load_policies(app: Courtwatch) -> DetainerPolicies:
    try:
        return app.repository.get(POLICIES_ID)
    except AggregateNotFoundError:
        return DetainerPolicies(POLICIES_ID)


def record_policy(app: Courtwatch, *, today: date, **fields: Any) -> int:
    """Store a new policy entry; returns its entry number."""
    return _save(app, lambda book: book.record(today=today, **fields))


def correct_policy(app: Courtwatch, *, today: date, **fields: Any) -> int:
    """Store an entry that replaces ``fields['entry']``; returns the new entry's number."""
    return _save(app, lambda book: book.correct(today=today, **fields))


def _save(app: Courtwatch, change: Any) -> int:
    with _write_lock:
        for attempt in range(WRITE_ATTEMPTS):
            book = load_policies(app)
            entry: int = change(book)  # guards raise before anything is stored
            try:
                app.save(book)
            except IntegrityError:
                time.sleep(random.uniform(0, RETRY_PAUSE * (attempt + 1)))
                continue
            return entry
    raise WriteContention("the policy history kept changing; try again")
