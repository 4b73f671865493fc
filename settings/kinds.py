"""How the text of an environment variable becomes a setting's value, or a clear refusal.

A `Kind` pairs a conversion with the words that complete "NAME must be ...", so the error
for a bad value says what the variable expects in the same words everywhere. Conversions
raise ValueError on text they cannot use; `Settings.from_env` turns that into the error.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar
from urllib.parse import urlsplit

T = TypeVar("T")

_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off")


@dataclass(frozen=True, slots=True)
class Kind(Generic[T]):
    """How a variable's text becomes a setting's value.

    `convert` raises ValueError on text it cannot use; `expected` completes the sentence
    "NAME must be ..." of the error that follows.
    """

    expected: str
    convert: Callable[[str], T]
    # Passwords keep their spaces; everything else is trimmed first.
    strip: bool = True


def whole(minimum: int, maximum: int | None = None) -> Kind[int]:
    """A whole number from `minimum` (up to `maximum`, if given)."""

    def convert(text: str) -> int:
        value = int(text)
        if value < minimum or (maximum is not None and value > maximum):
            raise ValueError(text)
        return value

    bounds = f"from {minimum} to {maximum}" if maximum is not None else f"of at least {minimum}"
    return Kind(f"a whole number {bounds}", convert)


def seconds(*, zero: bool) -> Kind[float]:
    """A finite number of seconds, above 0, or 0 too where 0 means "at once"."""

    def convert(text: str) -> float:
        value = float(text)
        if not (math.isfinite(value) and (value > 0 or (zero and value == 0))):
            raise ValueError(text)
        return value

    return Kind(
        "a number of seconds, 0 or more" if zero else "a number of seconds above 0", convert
    )


def days(maximum: float) -> Kind[float]:
    """A number of days above 0, up to `maximum`; fractions too (0.5 is twelve hours)."""

    def convert(text: str) -> float:
        value = float(text)
        if not (math.isfinite(value) and 0 < value <= maximum):
            raise ValueError(text)
        return value

    return Kind(f"a number of days above 0, at most {maximum:g}", convert)


def one_of(*choices: str) -> Kind[str]:
    """One of `choices`, in any letter case."""

    def convert(text: str) -> str:
        if text.lower() not in choices:
            raise ValueError(text)
        return text.lower()

    return Kind(f"one of {', '.join(choices)}", convert)


def _flag(text: str) -> bool:
    if text.lower() in _TRUE + _FALSE:
        return text.lower() in _TRUE
    raise ValueError(text)


def _names(text: str) -> tuple[str, ...]:
    return tuple(item.strip() for item in text.split(",") if item.strip())


def _introspection(text: str) -> str:
    if text.lower() in ("auto", "signed-in"):
        return text.lower()
    return "on" if _flag(text) else "off"


TEXT = Kind("text", str)
SECRET = Kind("text", str, strip=False)
PATH = Kind("a folder path", Path)
FLAG = Kind("1 or 0 (or true/false, yes/no, on/off)", _flag)
NAMES = Kind("a comma-separated list", _names)
PORT = whole(1, 65535)
INTROSPECTION = Kind("1 or 0 (or on/off), signed-in or auto", _introspection)


Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def _networks(text: str) -> tuple[Network, ...]:
    # A bare address is a network of one (1.2.3.4 is 1.2.3.4/32).
    return tuple(ipaddress.ip_network(item, strict=False) for item in _names(text))


def _rates(text: str) -> tuple[tuple[str, int, int], ...]:
    rates = []
    for item in _names(text):
        name, _, rate = item.partition("=")
        count, _, per = rate.partition("/")
        if not name.strip() or int(count) < 1 or int(per) < 1:
            raise ValueError(item)
        rates.append((name.strip(), int(count), int(per)))
    return tuple(rates)


def _day_counts(text: str) -> tuple[int, ...]:
    counts = sorted({int(item) for item in _names(text)}, reverse=True)
    if not counts or counts[-1] < 0 or counts[0] > 365:
        raise ValueError(text)
    return tuple(counts)


DAY_COUNTS = Kind("a comma-separated list of whole numbers of days from 0 to 365", _day_counts)


def _public_url(text: str) -> str:
    # A base for links in e-mails: scheme and host, maybe a path; no query or fragment to
    # which a link's own path could not be appended.
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
        raise ValueError(text)
    return text.rstrip("/")


def _time_of_day(text: str) -> dt.time:
    if len(text) not in (5, 8):  # HH:MM or HH:MM:SS, as the default is written
        raise ValueError(text)
    return dt.time.fromisoformat(text)


PUBLIC_URL = Kind("an http(s) URL such as https://api.example.com", _public_url)
TIME_OF_DAY = Kind("a time of day as HH:MM (or HH:MM:SS), e.g. 08:00", _time_of_day)
NETWORKS = Kind("a comma-separated list of IP addresses or networks (10.0.0.0/8)", _networks)
RATES = Kind("a comma-separated list of NAME=COUNT/SECONDS (whole numbers above 0)", _rates)


def env(name: str, kind: Kind[Any] = TEXT) -> dict[str, Any]:
    """The metadata of a field read from the variable `name`."""
    return {"env": name, "kind": kind}
