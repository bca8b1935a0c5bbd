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
    # A team member on scene confirmed it (ConfirmedOnScene). Anonymous
    # corroboration never gives it (courtwatch.domain.fold.status_of); old
    # rows that once said it for anonymous counts are read from their verdict.
    CORROBORATED = "corroborated"
    VERIFIED = "verified"
    DISPUTED = "disputed"
    # Verified, then changed by its author: the verification no longer stands.
    AMENDED_AFTER_VERDICT = "amended_after_verdict"


class DisputeReason(StrEnum):
    """Why a verifier disputes a report: a closed list, never free text.

    The reason is in the public log forever; free text there named people
    ("she was not there, it was her cousin J. Doe") and could not be erased.
    Details belong in the sealed notes that come with sealed fields.
    """

    NOT_IMMIGRATION_AGENTS = "not_immigration_agents"  # other police, security, a process server
    NOT_FOUND_ON_SCENE = "not_found_on_scene"  # a responder went and saw nothing
    WRONG_PLACE_OR_TIME = "wrong_place_or_time"
    DUPLICATE = "duplicate"  # the same event is already reported
    UNCONFIRMED_RUMOUR = "unconfirmed_rumour"  # passed on, no one saw it
    FALSE_REPORT = "false_report"  # made up or a deliberate hoax
    OTHER = "other"


class TakenTo(StrEnum):
    """Where an arrested person was taken: kinds of place, never a named one.

    A closed list because free text here named people ("J. Doe DOB ...") and the
    log is public and forever. Which facility exactly is for sealed fields later.
    """

    ICE_FIELD_OFFICE = "ice_field_office"  # e.g. the holding rooms at 26 Federal Plaza
    ICE_PROCESSING_CENTER = "ice_processing_center"
    DETENTION_FACILITY = "detention_facility"  # jail or contract facility holding for ICE
    POLICE_STATION = "police_station"
    HOSPITAL = "hospital"
    OTHER = "other"
    UNKNOWN = "unknown"


class IceOffice(StrEnum):
    """ICE offices a call-in letter names: the 25 ERO field offices and the
    check-in offices courtwatch's reference data names. Each is a row of
    courtwatch/data/ice_offices.csv (provenance in data/PROVENANCE.md); a test
    keeps the two equal. A check-in office not listed is OTHER until added.
    """

    ERO_ATLANTA = "ero_atlanta"
    ERO_BALTIMORE = "ero_baltimore"
    ERO_BOSTON = "ero_boston"
    ERO_BUFFALO = "ero_buffalo"
    ERO_CHICAGO = "ero_chicago"
    ERO_DALLAS = "ero_dallas"
    ERO_DENVER = "ero_denver"
    ERO_DETROIT = "ero_detroit"
    ERO_EL_PASO = "ero_el_paso"
    ERO_HARLINGEN = "ero_harlingen"
    ERO_HOUSTON = "ero_houston"
    ERO_LOS_ANGELES = "ero_los_angeles"
    ERO_MIAMI = "ero_miami"
    ERO_NEW_ORLEANS = "ero_new_orleans"
    ERO_NEW_YORK_CITY = "ero_new_york_city"  # 26 Federal Plaza
    ERO_NEWARK = "ero_newark"
    ERO_PHILADELPHIA = "ero_philadelphia"
    ERO_PHOENIX = "ero_phoenix"
    ERO_SALT_LAKE_CITY = "ero_salt_lake_city"
    ERO_SAN_ANTONIO = "ero_san_antonio"
    ERO_SAN_DIEGO = "ero_san_diego"
    ERO_SAN_FRANCISCO = "ero_san_francisco"
    ERO_SEATTLE = "ero_seattle"
    ERO_ST_PAUL = "ero_st_paul"
    ERO_WASHINGTON = "ero_washington"
    CHECK_IN_NYC_201_VARICK = "check_in_nyc_201_varick"
    OTHER = "other"
    UNKNOWN = "unknown"


class RedactionReason(StrEnum):
    """Why a report's sealed details were erased: closed, because the Redacted
    event is public and forever (free text here could name the person)."""

    PERSON_ASKED = "person_asked"  # the affected person, through a coordinator
    AUTHOR_ASKED = "author_asked"  # the watcher who wrote it, with the edit key
    SAFETY = "safety"  # keeping it puts someone at risk
    ENTERED_IN_ERROR = "entered_in_error"  # wrong person, wrong report
    NO_LONGER_NEEDED = "no_longer_needed"  # the case is closed


class PoliceAgency(StrEnum):
    """Which kind of local agency had the person in contact before ICE acted (S-Comm:
    a booking sends fingerprints through the FBI to DHS). Kinds, never a named agency."""

    CITY_POLICE = "city_police"
    COUNTY_SHERIFF = "county_sheriff"
    STATE_POLICE = "state_police"
    OTHER = "other"
    UNKNOWN = "unknown"


class PoliceOutcome(StrEnum):
    """What came of that police contact, as far as the watcher knows."""

    NO_CHARGE = "no_charge"
    VIOLATION = "violation"
    MISDEMEANOUR = "misdemeanour"
    FELONY = "felony"
    UNKNOWN = "unknown"
