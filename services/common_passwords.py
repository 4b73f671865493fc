"""The most common passwords, which NIST SP 800-63B (5.1.1.2) says to refuse.

`data/common-passwords.txt.gz` holds the 10,000 most common passwords of a public list of
leaked ones (Mark Burnett's 10 million, as ranked by zxcvbn; source and licence in
`data/common-passwords.LICENSE`), lower-cased, one a line: 41 KB gzipped. Attackers try
these first, online at the log-in throttles' pace and offline against a leaked hash, so an
account with one falls first whatever else defends it. Read once, at the first check, into
a frozenset (about 1 MB).
"""

from __future__ import annotations

import gzip
from functools import cache
from importlib.resources import files


@cache
def _common() -> frozenset[str]:
    data = files("services").joinpath("data/common-passwords.txt.gz").read_bytes()
    return frozenset(gzip.decompress(data).decode("ascii").split())


def is_common(password: str) -> bool:
    """Whether `password` is on the list, whatever its case or surrounding spaces."""
    return password.strip().casefold() in _common()
