"""The closed vocabularies a report is written in (PRODUCT.md, "What gets recorded").

Values are stable identifiers stored in events; labels live in ``web/i18n.py``.
"""

from enum import StrEnum


class Kind(StrEnum):
    COURTHOUSE_ARREST = "courthouse_arrest"
    SIGHTING = "sighting"
    CALL_IN = "call_in"
    WATCH_SHIFT = "watch_shift"


class Place(StrEnum):
    """Where in or around the courthouse."""

    COURTROOM = "courtroom"
    HALLWAY = "hallway"
    ENTRANCE = "entrance"
    OUTSIDE = "outside"
    UNKNOWN = "unknown"


class Agency(StrEnum):
    ICE_ERO = "ice_ero"
    HSI = "hsi"
    CBP = "cbp"
    UNKNOWN = "unknown"


class Warrant(StrEnum):
    JUDICIAL = "judicial"
    ADMINISTRATIVE = "administrative"
    NONE = "none"
    UNKNOWN = "unknown"


class Role(StrEnum):
    """The arrested person's role at court."""

    DEFENDANT = "defendant"
    WITNESS = "witness"
    SURVIVOR = "survivor"  # survivor or victim
    FAMILY_COURT_LITIGANT = "family_court_litigant"
    FAMILY_MEMBER = "family_member"
    OTHER = "other"
    UNKNOWN = "unknown"


class ArrestOutcome(StrEnum):
    DETAINED = "detained"
    RELEASED = "released"
    UNKNOWN = "unknown"


class CallInOutcome(StrEnum):
    PENDING = "pending"
    RELEASED = "released"
    DETAINED = "detained"
    TOLD_TO_RETURN = "told_to_return"
    UNKNOWN = "unknown"


class Answer(StrEnum):
    """Yes / no / not known: a watcher often cannot tell, and must be able to say so."""

    YES = "yes"
    NO = "no"
    UNKNOWN = "unknown"


class Status(StrEnum):
    UNVERIFIED = "unverified"
    # No longer produced: anonymous corroboration does not change a status
    # (courtwatch.domain.fold.status_of). Kept so old rows and old summaries
    # that say it can still be read.
    CORROBORATED = "corroborated"
    VERIFIED = "verified"
    DISPUTED = "disputed"
    # Verified, then changed by its author: the verification no longer stands.
    AMENDED_AFTER_VERDICT = "amended_after_verdict"
