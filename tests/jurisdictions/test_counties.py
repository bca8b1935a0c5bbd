"""The county of each courthouse, from its coordinates and the us-atlas outlines.

The expected counties below were written by hand from the courts' addresses
(and, for the local courthouses, from their known coordinates), not computed:
a wrong decoder, a swapped lat/lon or a lost hole would move some of them.
EOIR courts are placed at their ZIP code's centroid (courtwatch/gazetteer.py),
so the county is the one of that point; every court below has its centroid in
the same county as its real address.
"""

from __future__ import annotations

import math

import pytest

from courtwatch.gazetteer import immigration_courts, local_courthouse
from courtwatch.jurisdictions import counties
from courtwatch.jurisdictions.counties import NEAREST_WITHIN_KM, county_at, county_by_fips
from courtwatch.jurisdictions.places import county_of_courthouses, place_of

# EOIR code -> (county FIPS, why it is that county).
EOIR_COUNTIES = {
    "NYC": ("36061", "26 Federal Plaza, Manhattan = New York County"),
    "NYD": ("36061", "201 Varick St, Manhattan"),
    "NYV": ("36061", "201 Varick St, Manhattan"),
    "NYB": ("36061", "290 Broadway, Manhattan"),
    "NEW": ("34013", "970 Broad St, Newark = Essex County NJ"),
    "ELZ": ("34039", "625 Evans St, Elizabeth = Union County NJ, across the line from Essex"),
    "BAL": ("24510", "31 Hopkins Plaza, Baltimore city (independent), not Baltimore County"),
    "HYA": ("24033", "Hyattsville = Prince George's County, next to DC"),
    "CHI": ("17031", "55 E Monroe, Chicago = Cook County"),
    "NLA": ("06037", "300 N Los Angeles St = Los Angeles County"),
    "VNS": ("06037", "Van Nuys is a district of the city of Los Angeles"),
    "SNC": ("06059", "Santa Ana = Orange County CA, next to Los Angeles County"),
    "SFR": ("06075", "100 Montgomery St = San Francisco, on the coast"),
    "CCC": ("06013", "Concord = Contra Costa County"),
    "MIA": ("12086", "333 S Miami Ave = Miami-Dade"),
    "KRO": ("12086", "Krome, unincorporated west Miami-Dade"),
    "ORL": ("12095", "Orlando = Orange County FL (not Orange County CA)"),
    "HOU": ("48201", "500 Jefferson St, Houston = Harris County"),
    "CIC": ("48339", "Conroe = Montgomery County TX, north of Harris"),
    "FTW": ("48439", "Fort Worth = Tarrant County, next to Dallas County"),
    "DAL": ("48113", "Dallas = Dallas County"),
    "SNA": ("48029", "San Antonio = Bexar County"),
    "HLG": ("48061", "Harlingen = Cameron County"),
    "ANN": ("51059", "Annandale = Fairfax County VA"),
    "FCI": ("51059", "5107 Leesburg Pike (ZIP 22041) is in Fairfax County, not Falls Church city"),
    "STE": ("51107", "Sterling = Loudoun County"),
    "RIC": ("51760", "Richmond city (independent), not Henrico or Chesterfield"),
    "ATL": ("13121", "Atlanta downtown = Fulton County"),
    "BOS": ("25025", "JFK Federal Building, Boston = Suffolk County"),
    "CHE": ("25017", "Chelmsford = Middlesex County MA"),
    "NOL": ("22071", "365 Canal St = Orleans Parish"),
    "BTR": ("22033", "Baton Rouge = East Baton Rouge Parish"),
    "DEN": ("08031", "1961 Stout St = Denver (city and county)"),
    "SEA": ("53033", "Seattle = King County"),
    "TAC": ("53053", "Tacoma = Pierce County"),
    "PHO": ("04013", "Phoenix = Maricopa County"),
    "ELO": ("04021", "Eloy = Pinal County"),
    "HON": ("15003", "Honolulu, on the coast = Honolulu County"),
    "SAJ": ("72061", "Guaynabo = Guaynabo Municipio, Puerto Rico"),
    "BLM": ("27053", "Fort Snelling (unorganized) = Hennepin County"),
    "KAN": ("29095", "Kansas City MO = Jackson County"),
    "PHI": ("42101", "Philadelphia = Philadelphia County"),
    "DET": ("26163", "Detroit = Wayne County"),
    "ULS": ("36111", "Napanoch = Ulster County"),
    "BTV": ("36037", "Batavia = Genesee County"),
}

# Courthouses coordinators may add, at coordinators' typical coordinates: the
# county equivalents the EOIR list lacks.
LOCAL_POINTS = {
    "Arlington County Courthouse, 1425 N Courthouse Rd": (38.8898, -77.0869, "51013"),
    "St. Louis Civil Courts, 10 N Tucker Blvd (St. Louis city)": (38.6270, -90.1935, "29510"),
    "Baltimore County Circuit Court, Towson": (39.4015, -76.6019, "24005"),
    "Kings County Supreme Court, 360 Adams St, Brooklyn": (40.6935, -73.9899, "36047"),
    "Bronx County Hall of Justice, Grand Concourse": (40.8255, -73.9220, "36005"),
    "Queens Criminal Court, Kew Gardens": (40.7143, -73.8290, "36081"),
    "Richmond County courts, St. George, Staten Island": (40.6420, -74.0770, "36085"),
    "D.C. Superior Court": (38.8951, -77.0364, "11001"),
    "Carson City courthouse": (39.1638, -119.7674, "32510"),
}


def test_the_county_of_a_hand_checked_sample_of_eoir_courts() -> None:
    courts = {c.code: c for c in immigration_courts()}
    found = {code: place_of(courts[code]).county for code in EOIR_COUNTIES}
    wrong = {
        code: (None if county is None else county.fips, expected, why)
        for code, (expected, why) in EOIR_COUNTIES.items()
        if (county := found[code]) is None or county.fips != expected
    }
    assert wrong == {}
    assert len(EOIR_COUNTIES) >= 15


@pytest.mark.parametrize("name", sorted(LOCAL_POINTS))
def test_the_county_of_local_courthouses_near_county_lines(name: str) -> None:
    lat, lon, expected = LOCAL_POINTS[name]
    county = county_at(lat, lon)
    assert county is not None and county.fips == expected, name


def test_every_eoir_court_has_a_county_in_its_own_state() -> None:
    for court in immigration_courts():
        county = place_of(court).county
        assert county is not None, court.code
        assert county.state == court.state, (court.code, county)


def test_names_tell_a_city_from_the_county_of_the_same_name() -> None:
    assert county_by_fips("24510").label == "Baltimore city, MD"  # type: ignore[union-attr]
    assert county_by_fips("24005").label == "Baltimore County, MD"  # type: ignore[union-attr]
    assert county_by_fips("29510").label == "St. Louis city, MO"  # type: ignore[union-attr]
    assert county_by_fips("51013").label == "Arlington County, VA"  # type: ignore[union-attr]
    assert county_by_fips("22071").label == "Orleans Parish, LA"  # type: ignore[union-attr]
    assert county_by_fips("32510").label == "Carson City, NV"  # type: ignore[union-attr]
    assert county_by_fips("36061").state_name == "New York"  # type: ignore[union-attr]


def _directly_inside(lat: float, lon: float) -> bool:
    return any(
        s.bbox[0] <= lon <= s.bbox[2]
        and s.bbox[1] <= lat <= s.bbox[3]
        and counties._inside(lon, lat, s.rings)
        for s in counties._shapes()
    )


@pytest.mark.parametrize(
    ("lat", "lon", "expected"),
    [
        (37.76, -122.53, "06075"),  # Ocean Beach, San Francisco: ~1.7 km into the sea at 10m
        (25.79, -80.116, "12086"),  # Miami Beach's shore
        (21.278, -157.85, "15003"),  # Waikiki, Honolulu
    ],
)
def test_a_shore_point_outside_the_coarse_outlines_takes_the_nearest_county(
    lat: float, lon: float, expected: str
) -> None:
    assert not _directly_inside(lat, lon)  # else this tests nothing
    county = county_at(lat, lon)
    assert county is not None and county.fips == expected


def test_a_point_far_from_any_county_has_none() -> None:
    assert county_at(37.76, -122.80) is None  # ~25 km off San Francisco
    assert county_at(30.0, -60.0) is None  # mid-Atlantic
    assert county_at(48.85, 2.35) is None  # Paris
    assert NEAREST_WITHIN_KM < 25


@pytest.mark.parametrize(
    ("lat", "lon"),
    [(math.nan, -74.0), (40.7, math.inf), (90.0, 180.0), (-90.0, -180.0), (0.0, 0.0)],
)
def test_hostile_coordinates_give_no_county_and_no_error(lat: float, lon: float) -> None:
    assert county_at(lat, lon) is None


def test_unknown_or_hostile_fips_codes_name_no_county() -> None:
    for fips in ("99999", "", "3606", "360610", "36061\x00", "٣٦٠٦١", "9" * 5000):
        assert county_by_fips(fips) is None
    assert county_by_fips(36061) is None  # type: ignore[arg-type]


def test_a_local_courthouse_gets_its_county_and_keeps_its_city() -> None:
    towson = local_courthouse(
        {"code": "TOWSON-CC", "name": "Circuit Court", "kind": "county", "city": "Towson",
         "lat": 39.4015, "lon": -76.6019}
    )  # fmt: skip
    place = place_of(towson)
    assert place.city == "Towson" and place.county is not None
    assert place.county.fips == "24005"
    assert county_of_courthouses([towson]) == {"TOWSON-CC": "24005"}
