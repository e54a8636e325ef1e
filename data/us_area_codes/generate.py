#!/usr/bin/env python3
"""Writes area_codes.tsv: the US jurisdictions of each North American area code: the country
libphonenumber places it in, and the state (or district, or territory) its geocoding data names.

The data is Google's libphonenumber (Apache-2.0), read from the Python port's copy (the
`phonenumbers` package on PyPI). dialer never runs this script: the generated file is committed
and compiled into the binary. To refresh it:

    python3 -m venv venv
    venv/bin/pip install phonenumbers          # or phonenumbers==<version>
    venv/bin/python generate.py
    cp venv/lib/python3*/site-packages/phonenumbers-*.dist-info/licenses/LICENSE LICENSE

then update the version in NOTICE and run the tests.

Output: one line per area code from 200 to 999, `NPA<TAB>US ST …`: `US`, then every US state,
district or territory that an English description of the area code, or of any longer prefix
inside it, names (an overlay or a border exchange may name more than one), as USPS codes,
sorted; a territory's area code gives its own code (`US PR`). A US area code no description
places (toll-free, 5XX, 900), or one libphonenumber does not place at all, is `US` alone. An area code of Canada or of another country of the
North American plan is `-`: no US rule applies to its numbers.
"""

import collections
import os
import sys

import phonenumbers
from phonenumbers.geodata import GEOCODE_DATA

STATES = {
    "Alabama": "AL", "Alaska": "AK", "Arizona": "AZ", "Arkansas": "AR", "California": "CA",
    "Colorado": "CO", "Connecticut": "CT", "Delaware": "DE", "Florida": "FL", "Georgia": "GA",
    "Hawaii": "HI", "Idaho": "ID", "Illinois": "IL", "Indiana": "IN", "Iowa": "IA",
    "Kansas": "KS", "Kentucky": "KY", "Louisiana": "LA", "Maine": "ME", "Maryland": "MD",
    "Massachusetts": "MA", "Michigan": "MI", "Minnesota": "MN", "Mississippi": "MS",
    "Missouri": "MO", "Montana": "MT", "Nebraska": "NE", "Nevada": "NV", "New Hampshire": "NH",
    "New Jersey": "NJ", "New Mexico": "NM", "New York": "NY", "North Carolina": "NC",
    "North Dakota": "ND", "Ohio": "OH", "Oklahoma": "OK", "Oregon": "OR", "Pennsylvania": "PA",
    "Rhode Island": "RI", "South Carolina": "SC", "South Dakota": "SD", "Tennessee": "TN",
    "Texas": "TX", "Utah": "UT", "Vermont": "VT", "Virginia": "VA", "Washington State": "WA",
    "Washington": "WA", "West Virginia": "WV", "Wisconsin": "WI", "Wyoming": "WY",
    "Washington D.C.": "DC", "District of Columbia": "DC", "Puerto Rico": "PR",
    "US Virgin Islands": "VI", "U.S. Virgin Islands": "VI", "Guam": "GU",
    "American Samoa": "AS", "Northern Mariana Islands": "MP",
}
CODES = set(STATES.values())


def state_of(description: str):
    """The USPS code a description names: `Miami, FL`, `Florida`, `Washington State`."""
    if description in STATES:
        return STATES[description]
    tail = description.rsplit(", ", 1)[-1].strip()
    if tail in CODES:
        return tail
    return STATES.get(tail)


def main() -> None:
    here = os.path.dirname(os.path.abspath(__file__))
    out = os.path.join(here, "area_codes.tsv")
    by_npa = collections.defaultdict(set)
    unplaced = collections.Counter()
    for prefix, names in GEOCODE_DATA.items():
        if not prefix.startswith("1") or len(prefix) < 4 or "en" not in names:
            continue
        state = state_of(names["en"])
        if state:
            by_npa[prefix[1:4]].add(state)
        else:
            unplaced[names["en"]] += 1
    territories = {"PR", "GU", "AS", "MP", "VI"}
    lines = []
    for code in range(200, 1000):
        npa = str(code)
        number = phonenumbers.parse(f"+1{npa}2345678")
        region = phonenumbers.region_code_for_number(number)
        # An area code libphonenumber does not place (unassigned yet) counts as the US's: a
        # code opened after this data was taken is far likelier a US overlay than anything
        # else, and the US rules are the stricter assumption.
        if region in ("US", None, "001", "ZZ"):
            places = sorted(by_npa.get(npa, set()) - territories)
        elif region in territories:
            places = [region]
        else:
            lines.append(f"{npa}\t-\n")
            continue
        lines.append(f"{npa}\t{' '.join(['US'] + places)}\n")
    with open(out, "w", encoding="utf-8", newline="\n") as f:
        f.write(f"# libphonenumber {phonenumbers.__version__}: US area code to state\n")
        f.writelines(lines)
    print(f"{len(lines)} area codes from phonenumbers {phonenumbers.__version__}", file=sys.stderr)
    print(f"left out (not a US place): {len(unplaced)} descriptions", file=sys.stderr)


if __name__ == "__main__":
    main()
