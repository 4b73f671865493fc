"""The fast paths resting on frameworks' unpublished parts, and the start-up version check.

Each `FastPath` names the distributions whose internals it uses and the releases it was
tested with (lowest, inclusive; below, exclusive: the next minor version). `configure` runs
when the app is built: a fast path whose distributions are all inside their ranges stays on;
any outside (or FAST_PATHS=0) turns it off, with one warning line saying why, and the code
that holds it takes the public path. `runs` counts what each did (GET /metrics shows both),
so that a test can tell that the fast path served, or that it did not.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from importlib import metadata

logger = logging.getLogger("milestones.frameworks")

Version = tuple[int, ...]


@dataclass(frozen=True)
class Tested:
    """Releases of one distribution a fast path was tested with: lowest <= v < below."""

    distribution: str
    lowest: Version
    below: Version

    def admits(self, version: Version) -> bool:
        return self.lowest <= version < self.below

    def describe(self) -> str:
        low = ".".join(map(str, self.lowest))
        high = ".".join(map(str, self.below))
        return f"{self.distribution} >={low},<{high}"


# The releases each fast path below was tested with; pyproject.toml bounds the same.
GRAPHQL_CORE = Tested("graphql-core", (3, 3), (3, 4))
STRAWBERRY = Tested("strawberry-graphql", (0, 341), (0, 342))
UVICORN = Tested("uvicorn", (0, 54), (0, 56))
TORTOISE = Tested("tortoise-orm", (1, 1, 9), (1, 2))
PYTHON = Tested("python", (3, 11), (3, 12))


@dataclass(eq=False)
class FastPath:
    """One fast path: on unless a version check or FAST_PATHS turned it off."""

    name: str
    summary: str
    tested: tuple[Tested, ...]
    on: bool = True
    # How many times it served (objects read, sockets held, ...): read by GET /metrics.
    runs: int = field(default=0)


PLAIN_LEAVES = FastPath(
    "plain_leaves",
    "plain scalar fields read without graphql-core's per-field machinery",
    (GRAPHQL_CORE, STRAWBERRY),
)
EVENT_MEMO = FastPath(
    "event_memo",
    "each subscription event gets its own subfield memo, so that none grows for ever",
    (GRAPHQL_CORE,),
)
LIVE_OPERATIONS = FastPath(
    "live_operations",
    "a live chatEvents subscription waits as a record in the connection's operations",
    (STRAWBERRY,),
)
EAGER_WRITES = FastPath(
    "eager_writes",
    "a WebSocket write runs in the caller's turn, a task only if it must wait",
    (PYTHON,),
)
LEAN_WEBSOCKETS = FastPath(
    "lean_websockets",
    "uvicorn's WebSocket protocol, keeping less for each open socket",
    (UVICORN,),
)
HTTP_DEADLINES = FastPath(
    "http_deadlines",
    "uvicorn's HTTP protocol, with deadlines for slow request heads and stalled readers",
    (UVICORN,),
)
ROW_LOOKUP = FastPath(
    "row_lookup",
    "one row by a unique column in one plain SELECT, without a Tortoise query set",
    (TORTOISE,),
)

ALL = (
    PLAIN_LEAVES,
    EVENT_MEMO,
    LIVE_OPERATIONS,
    EAGER_WRITES,
    LEAN_WEBSOCKETS,
    HTTP_DEADLINES,
    ROW_LOOKUP,
)


def parse_version(text: str) -> Version:
    """The leading numbers of a version ("0.341.3" -> (0, 341, 3); "3.3.0a1" -> (3, 3, 0))."""
    numbers = []
    for part in text.split("."):
        digits = re.match(r"\d+", part)
        if digits is None:
            break
        numbers.append(int(digits.group()))
        if digits.group() != part:
            break
    return tuple(numbers)


def installed_version(distribution: str) -> str | None:
    """The installed release of `distribution` (Python's own for "python"); None if none."""
    if distribution == "python":
        return ".".join(map(str, sys.version_info[:3]))
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return None


def untested(path: FastPath, installed: Callable[[str], str | None]) -> list[str]:
    """The distributions of `path` installed outside their tested range, as "name version"."""
    found = []
    for tested in path.tested:
        version = installed(tested.distribution)
        if version is None or not tested.admits(parse_version(version)):
            found.append(f"{tested.distribution} {version or 'missing'} ({tested.describe()})")
    return found


def configure(enabled: bool = True, installed: Mapping[str, str] | None = None) -> list[FastPath]:
    """Turn each fast path on or off for this process; the ones turned off.

    `enabled` False (FAST_PATHS=0) turns every one off; `installed` stands in for the
    installed versions (tests). One warning line for each fast path turned off (that was on).
    """
    versions: Callable[[str], str | None] = (
        installed.get if installed is not None else installed_version
    )
    off = []
    for path in ALL:
        reasons = untested(path, versions) if enabled else []
        was_on, path.on = path.on, enabled and not reasons
        if path.on:
            continue
        off.append(path)
        if not was_on:
            continue  # said already (the worker's command and the app both check)
        why = "FAST_PATHS=0" if not enabled else "untested versions: " + "; ".join(reasons)
        logger.warning("fast path %s is off (%s): the public path serves", path.name, why)
    return off
