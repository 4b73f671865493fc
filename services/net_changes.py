"""The net change to each milestone over several changes, for batched and daily e-mails.

Each held notice records the milestone's state before and after one change (None: it did
not exist). Over a run of notices only the first `before` and the last `after` count: added
then deleted is nothing, several edits are one old → new per field, completed then reopened
is nothing. The status reads open, completed or accepted; a milestone the client sent back
also shows the reason of the last request of the run, unless it ended elsewhere (accepted
since: that reason was dealt with).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from mailers.digest_mailer import FieldDiff, MilestoneLine
from models import Milestone, PendingNotice
from models.chat import FIELD_LABELS

# The fields an e-mail compares, in the order it lists them. "completed" stands for the
# status: notices held before acceptance existed have no "accepted".
_LABELS = {**FIELD_LABELS, "completed": "Status", "changesRequested": "Changes requested"}


def state_of(milestone: Milestone) -> dict[str, Any]:
    """What a notice records of a milestone: the fields the e-mails tell."""
    return {
        "title": milestone.title,
        "description": milestone.description,
        "dueDate": milestone.due_date.isoformat(),
        "completed": milestone.completed_at is not None,
        "accepted": milestone.accepted_at is not None,
    }


def _value(state: Mapping[str, Any], field: str) -> Any:
    if field == "completed":
        if state.get("accepted"):
            return "accepted"
        return "completed" if state.get("completed") else "open"
    return state.get(field)


def _shown(value: Any) -> str:
    return str(value or "")


def net_change(
    before: Mapping[str, Any] | None, after: Mapping[str, Any] | None
) -> MilestoneLine | None:
    """The line an e-mail shows for a milestone that went from `before` to `after`, if any."""
    if before is None and after is None:
        return None  # added, then deleted
    if before is None:
        assert after is not None
        return MilestoneLine("added", str(after["title"]), str(after["dueDate"]))
    if after is None:
        return MilestoneLine("deleted", str(before["title"]), str(before["dueDate"]))
    diffs = tuple(
        FieldDiff(label, _shown(_value(before, field)), _shown(_value(after, field)))
        for field, label in _LABELS.items()
        if _value(before, field) != _value(after, field)
    )
    if not diffs:
        return None
    return MilestoneLine("changed", str(after["title"]), str(after["dueDate"]), diffs)


def net_changes(notices: Iterable[PendingNotice]) -> dict[int, list[MilestoneLine]]:
    """By project id, the net change of each milestone the `notices` (oldest first) name."""
    spans: dict[tuple[int, int], tuple[Any, Any]] = {}
    for notice in notices:
        key = (notice.project_id, notice.milestone_id)
        first = spans[key][0] if key in spans else notice.before
        spans[key] = (first, notice.after)
    lines: dict[int, list[MilestoneLine]] = {}
    for (project_id, _), (before, after) in spans.items():
        line = net_change(before, after)
        if line is not None:
            lines.setdefault(project_id, []).append(line)
    return lines
