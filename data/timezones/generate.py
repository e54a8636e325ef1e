#!/usr/bin/env python3
"""Writes prefixes.tsv: libphonenumber's map from number prefixes to IANA time zones.

The map is Google's libphonenumber data (Apache-2.0), read from the Python port's copy
(the `phonenumbers` package on PyPI). dialer never runs this script: the generated file is
committed and compiled into the binary. To refresh it:

    python3 -m venv venv
    venv/bin/pip install phonenumbers          # or phonenumbers==<version>
    venv/bin/python generate.py
    cp venv/lib/python3*/site-packages/phonenumbers-*.dist-info/licenses/LICENSE LICENSE

then update the version in NOTICE and run the tests.

Output: one line per prefix, `PREFIX<TAB>ZONE ZONE …`, the prefix being the calling code and
the leading national digits (no `+`), the zones sorted and separated by one space, lines
sorted by prefix. libphonenumber's "Etc/Unknown" (no zone known) is left out, so such a
prefix is absent and its numbers fall back to shorter prefixes or the campaign's zone.
"""

import os
import sys

import phonenumbers
from phonenumbers.tzdata import TIMEZONE_DATA

UNKNOWN = "Etc/Unknown"


def main() -> None:
    here = os.path.dirname(os.path.abspath(__file__))
    out = os.path.join(here, "prefixes.tsv")
    lines = []
    for prefix, zones in TIMEZONE_DATA.items():
        known = sorted({z for z in zones if z != UNKNOWN})
        if not prefix.isdigit() or not known:
            continue
        lines.append(f"{prefix}\t{' '.join(known)}\n")
    lines.sort()
    with open(out, "w", encoding="utf-8", newline="\n") as f:
        f.write(f"# libphonenumber {phonenumbers.__version__}: prefix-to-time-zone map\n")
        f.writelines(lines)
    print(f"{len(lines)} prefixes from phonenumbers {phonenumbers.__version__}", file=sys.stderr)


if __name__ == "__main__":
    main()
