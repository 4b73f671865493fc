"""What the soak run checks after the load: each subscriber's ids against the project's
chat, the server's log, the e-mails written (bench/soak.py)."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path


def compare(received: list[str], start_id: str, position: dict[str, int]) -> Counter[str]:
    """One subscriber's ids against the project's chat (`position`: id -> index, from the
    first event it must have)."""
    outcome: Counter[str] = Counter()
    if start_id in received:
        received = received[received.index(start_id) :]
    seen: set[str] = set()
    furthest = -1
    for message_id in received:
        if message_id not in position:
            outcome["unexpected"] += 1
        elif message_id in seen:
            outcome["repeated"] += 1
        else:
            seen.add(message_id)
            outcome["delivered"] += 1
            if position[message_id] < furthest:
                outcome["out of order"] += 1
            furthest = max(furthest, position[message_id])
    outcome["lost"] = len(position) - len(seen)
    return outcome


def server_log_problems(log: Path) -> tuple[list[str], int]:
    """ERROR / CRITICAL lines and tracebacks in the server's log; and how many warnings."""
    errors: list[str] = []
    warnings = 0
    error = re.compile(r"(^|\s)(ERROR|CRITICAL)(:|\s)")
    previous = ""
    for line in log.read_text(errors="replace").splitlines():
        # A traceback counts on its own only when no ERROR line announced it.
        if error.search(line) or (line.startswith("Traceback") and not error.search(previous)):
            errors.append(line)
        elif re.search(r"(^|\s)WARNING(:|\s)", line):
            warnings += 1
        previous = line
    return errors, warnings


def count_files(folder: Path) -> int:
    return sum(1 for _ in folder.glob("*.eml")) if folder.exists() else 0
