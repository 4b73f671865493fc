"""The client's word on finished work: a completed milestone is accepted, or sent back.

The states (`models.MilestoneState`): OPEN, then COMPLETED when the freelancer ticks it,
then ACCEPTED when the client accepts it, or when MILESTONE_AUTO_ACCEPT_DAYS pass after the
completion with no word from the client (so a silent client cannot hold the work hostage).
ACCEPTED is final: the work was taken, so nothing may change it any more (editing,
unticking and deleting it are MILESTONE_ACCEPTED). From COMPLETED the freelancer may still
untick it, and the client may send it back with a reason: it is OPEN again, and the reason
is kept as a `ChangeRequest`.

Like every change (services/milestones.py), each runs in one UnitOfWork under the project
lock, with its chat event and its e-mail; a change that changes nothing posts and sends
nothing. Callers have authorized the actor (`services.access.can_review_milestones`).
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from infra import clock
from infra.unit_of_work import UnitOfWork, atomic
from models import (
    ChangeRequest,
    ChatEventKind,
    ChatMessage,
    Milestone,
    MilestoneState,
    Project,
    User,
)
from models.rows import MilestoneRow
from services import deadline_reminders, notifications
from services.errors import UserInputError
from services.validation import Checker
from settings import Settings

REASON_MAX = 2000
# The newest requests a milestone shows (all are kept): it bounds what one read of a
# project's milestones may return, as the query cost limit counts it.
CHANGE_REQUESTS_SHOWN = 20
# MILESTONE_AUTO_ACCEPT_DAYS of this process, set at start (`configure`).
_auto_accept_days = Settings().milestone_auto_accept_days


def configure(settings: Settings) -> None:
    """The automatic acceptance delay this process shows and applies; set at start."""
    global _auto_accept_days
    _auto_accept_days = settings.milestone_auto_accept_days


def auto_accept_days() -> int:
    """Days after its completion at which a milestone is accepted automatically; 0: never."""
    return _auto_accept_days


def auto_accept_at(milestone: Milestone | MilestoneRow, settings_days: int) -> dt.datetime | None:
    """When a COMPLETED milestone will be accepted automatically; None in any other state,
    or when automatic acceptance is off (`settings_days` 0)."""
    completed_at = milestone.completed_at
    if settings_days <= 0 or completed_at is None or milestone.accepted_at is not None:
        return None
    return completed_at + dt.timedelta(days=settings_days)


class Action(StrEnum):
    """What may be done to a milestone: the freelancer's changes, and the client's word."""

    TICK = "tick"
    UNTICK = "untick"
    EDIT = "edit"
    DELETE = "delete"
    ACCEPT = "accept"
    REQUEST_CHANGES = "request changes"


_OPEN, _COMPLETED, _ACCEPTED = MilestoneState
# The state machine: (state, action) -> the state after it (the same state: nothing
# changes, nothing is posted), or the user error that refuses it. Editing and deleting
# keep the state; deleting, once allowed, removes the milestone.
TRANSITIONS: dict[tuple[MilestoneState, Action], MilestoneState | str] = {
    (_OPEN, Action.TICK): _COMPLETED,
    (_OPEN, Action.UNTICK): _OPEN,
    (_OPEN, Action.EDIT): _OPEN,
    (_OPEN, Action.DELETE): _OPEN,
    (_OPEN, Action.ACCEPT): "NOT_COMPLETED",
    # Never completed, or reopened by the freelancer. Sent back and not ticked since, it
    # is sending back twice: no change (`_sent_back_last`, read before this table).
    (_OPEN, Action.REQUEST_CHANGES): "NOT_COMPLETED",
    (_COMPLETED, Action.TICK): _COMPLETED,
    (_COMPLETED, Action.UNTICK): _OPEN,
    (_COMPLETED, Action.EDIT): _COMPLETED,
    (_COMPLETED, Action.DELETE): _COMPLETED,
    (_COMPLETED, Action.ACCEPT): _ACCEPTED,
    (_COMPLETED, Action.REQUEST_CHANGES): _OPEN,
    # Final: done already is no change; anything else is refused.
    (_ACCEPTED, Action.TICK): _ACCEPTED,
    (_ACCEPTED, Action.UNTICK): "MILESTONE_ACCEPTED",
    (_ACCEPTED, Action.EDIT): "MILESTONE_ACCEPTED",
    (_ACCEPTED, Action.DELETE): "MILESTONE_ACCEPTED",
    (_ACCEPTED, Action.ACCEPT): _ACCEPTED,
    (_ACCEPTED, Action.REQUEST_CHANGES): "NOT_COMPLETED",
}
_REFUSALS = {
    "NOT_COMPLETED": "Only a completed milestone can be accepted or sent back.",
    "MILESTONE_ACCEPTED": (
        "The client accepted this milestone: it can no longer be edited, unticked or deleted."
    ),
}


def transition(milestone: Milestone, action: Action) -> MilestoneState:
    """The state `action` leaves `milestone` in (its own state: no change), or the
    UserInputError that refuses it. Read under the project lock."""
    after = TRANSITIONS[milestone.state, action]
    if not isinstance(after, MilestoneState):  # a StrEnum: a state is a str too
        raise UserInputError.single(after, None, _REFUSALS[after])
    return after


async def _relock(work: UnitOfWork, milestone: Milestone) -> tuple[Project, Milestone]:
    """Lock the milestone's project, and re-read the milestone under that lock: a concurrent
    change (or another process's automatic acceptance) may have committed since."""
    project = await work.lock_project(milestone.project_id)
    return project, await Milestone.get(id=milestone.id)


async def save_completion(milestone: Milestone, by: User | None) -> None:
    """Tick the milestone as done by `by`, or reopen it (`by` None: unticked or sent back).

    Either way a period before automatic acceptance ends or starts afresh, so the day-before
    reminder is owed anew, and the calendar event's SEQUENCE rises to show the new state.
    Called under the project lock, in the change's UnitOfWork.
    """
    milestone.completed_at = clock.now() if by is not None else None
    milestone.completed_by = by  # type: ignore[assignment]  # Tortoise's relation setter takes None for a nullable relation
    milestone.acceptance_reminded_at = None
    milestone.sequence += 1
    await milestone.save(
        update_fields=[
            "completed_at",
            "completed_by_id",
            "acceptance_reminded_at",
            "sequence",
            "updated_at",
        ]
    )


async def accept_milestone(actor: User | None, milestone: Milestone) -> tuple[Project, Milestone]:
    """The client (`actor`) accepts a COMPLETED milestone; `actor` None: the clock does.

    Accepting an ACCEPTED milestone changes nothing (accepting twice, or the clock after the
    client). The clock accepts only a milestone whose `auto_accept_at` has come, as read
    under the lock, and otherwise changes nothing: it may have been unticked or sent back
    (and ticked again, a new period) since the caller chose it. A person accepting an OPEN
    milestone is told NOT_COMPLETED.
    """
    async with atomic() as work:
        project, milestone = await _relock(work, milestone)
        now = clock.now()
        if actor is None:
            due = auto_accept_at(milestone, _auto_accept_days)
            if due is None or due > now:
                return project, milestone
        if transition(milestone, Action.ACCEPT) is milestone.state:
            return project, milestone
        milestone.accepted_at = now
        milestone.accepted_by = actor  # type: ignore[assignment]  # Tortoise's relation setter takes None for a nullable relation
        milestone.sequence += 1  # its calendar event shows the new state
        await milestone.save(
            update_fields=["accepted_at", "accepted_by_id", "sequence", "updated_at"]
        )
        await notifications.milestone_accepted(work, project, milestone, actor)
        # Nothing is ahead of a finished milestone: drop any reminder still waiting.
        await deadline_reminders.arm([milestone], project.time_zone)
    return project, milestone


async def request_milestone_changes(
    actor: User, milestone: Milestone, reason: str
) -> tuple[Project, Milestone]:
    """The client sends a COMPLETED milestone back with `reason`: it is OPEN again, as when
    unticked (its reminders planned again, automatic acceptance and its reminder called
    off), and the reason is kept.

    Sending back twice (an OPEN milestone whose last change of state was being sent back)
    changes nothing and posts nothing, as repeating any other change does; the payload shows
    the reason that was kept. Any other OPEN milestone, or an ACCEPTED one, is NOT_COMPLETED.
    """
    check = Checker()
    reason = check.required_text("reason", reason, label="Reason", max_length=REASON_MAX)
    check.done()
    async with atomic() as work:
        project, milestone = await _relock(work, milestone)
        if milestone.state is MilestoneState.OPEN and await _sent_back_last(milestone):
            return project, milestone
        transition(milestone, Action.REQUEST_CHANGES)
        await save_completion(milestone, None)
        await ChangeRequest.create(milestone=milestone, reason=reason, requested_by=actor)
        await notifications.milestone_changes_requested(work, project, milestone, actor, reason)
        await deadline_reminders.arm([milestone], project.time_zone)
    return project, milestone


_STATE_EVENTS = (
    ChatEventKind.MILESTONE_COMPLETED,
    ChatEventKind.MILESTONE_REOPENED,
    ChatEventKind.MILESTONE_CHANGES_REQUESTED,
)


async def _sent_back_last(milestone: Milestone) -> bool:
    """Whether the milestone's last change of state was the client sending it back: its
    chat events say so (one indexed read, under the project lock)."""
    last = (
        await ChatMessage.filter(milestone_id=milestone.id, kind__in=_STATE_EVENTS)
        .order_by("-id")
        .first()
        .values_list("kind", flat=True)
    )
    return last == ChatEventKind.MILESTONE_CHANGES_REQUESTED
