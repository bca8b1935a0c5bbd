"""Builds the policy book and the courthouse -> county map from the running application."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from courtwatch.application import Courtwatch
from courtwatch.jurisdictions.places import county_of_courthouses
from courtwatch.jurisdictions.service import load_policies
from projections.jurisdictions.policy_book import PolicyBook, policy_grouping


def policy_book(app: Courtwatch) -> PolicyBook:
    return PolicyBook(load_policies(app).entries)


def courthouse_policy_grouping(app: Courtwatch) -> Callable[[str | None, date], str]:
    """The seam for the lag and share figures: (courthouse code, day) -> policy in force.

    Read once per summary: it holds the policy history as it was when built.
    """
    return policy_grouping(policy_book(app), county_of_courthouses(app.courthouses()))
