"""Alerts: members subscribe to courthouses or an area; deliveries go out by webhook or Web Push.

See docs/alerts.md. The model and guards are in ``model``, the tables in
``store``, webhook signatures in ``signing``, Web Push in ``push``, and the
loop that sends from the outbox in ``sender``. Matching runs in the delivery
projection (projections/alerts).
"""

from courtwatch.alerts.model import (
    AlertError,
    InvalidAlertField,
    SubscriptionNotFound,
    TooManySubscriptions,
)
from courtwatch.alerts.store import AlertStore

__all__ = [
    "AlertError",
    "AlertStore",
    "InvalidAlertField",
    "SubscriptionNotFound",
    "TooManySubscriptions",
]
