"""The clock of due dates, reminders, batched e-mails and kept responses: the system's, or
one a test moves.

Everything that asks "is this milestone overdue?", "is this reminder due?", "is this batch
due?" or "has this kept response expired?" reads `now()` here, so tests can stand at any
instant (a due date in Kiritimati, the morning a reminder goes out) without waiting for it.
In production nothing is set and `now()` is the system clock. CLOCK_OFFSET_FILE (tests
only) names a file holding a number of seconds added to the system clock, re-read whenever
it changes, so a test can move the clock of several server processes at once; `set_offset`
does the same inside this process.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

_offset = dt.timedelta(0)
_file: Path | None = None
# (mtime_ns, size) of the file when its offset was last read.
_seen: tuple[int, int] | None = None


def now() -> dt.datetime:
    """The current instant, in UTC."""
    if _file is not None:
        _reread()
    return dt.datetime.now(dt.UTC) + _offset


def set_offset(seconds: float) -> None:
    """Move this process's clock `seconds` away from the system clock."""
    global _offset
    _offset = dt.timedelta(seconds=seconds)


def use_offset_file(path: Path) -> None:
    """Read the offset from `path` from now on."""
    global _file, _seen
    _file, _seen = path, None


def _reread() -> None:
    global _seen
    assert _file is not None
    try:
        status = os.stat(_file)
    except FileNotFoundError:
        set_offset(0)
        return
    seen = (status.st_mtime_ns, status.st_size)
    if seen != _seen:
        text = _file.read_text().strip()
        set_offset(float(text) if text else 0.0)
        _seen = seen
