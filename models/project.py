"""Projects and their milestones."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.indexes import Index
from tortoise.models import Model

if TYPE_CHECKING:
    from models.user import User


class Project(Model):
    """A client engaging one freelancer, with an agreed completion date."""

    id = fields.IntField(primary_key=True)
    title = fields.CharField(max_length=200)
    description = fields.TextField(default="")
    client: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="client_projects", on_delete=fields.RESTRICT
    )
    freelancer: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="freelancer_projects", on_delete=fields.RESTRICT
    )
    completion_date = fields.DateField()
    initial_payment_required = fields.BooleanField(default=True)
    initial_payment_completed_at = fields.DatetimeField(null=True)
    milestones_unlocked_at = fields.DatetimeField(null=True)
    # Set when the "add your milestones" reminder is queued, so it is queued once per project.
    milestone_reminder_queued_at = fields.DatetimeField(null=True)
    # IANA name of the zone in which the project's due dates end (services/deadlines.py).
    # The database default fills the column of projects made before it existed.
    time_zone = fields.CharField(max_length=64, default="UTC", db_default="UTC")
    created_at = fields.DatetimeField(auto_now_add=True)

    # The key columns Tortoise adds beside each foreign key, declared for type checkers
    # only: a bare annotation creates no field.
    client_id: int
    freelancer_id: int

    milestones: fields.ReverseRelation[Milestone]

    class Meta:
        table = "project"
        indexes = [
            Index(fields=["client_id"]),
            Index(fields=["freelancer_id"]),
            # The reminder worker's "earliest unlock still unreminded" (services/reminders.py).
            Index(fields=["milestone_reminder_queued_at", "milestones_unlocked_at"]),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def milestones_unlocked(self) -> bool:
        return self.milestones_unlocked_at is not None

    def is_member(self, user_id: int) -> bool:
        return user_id in (self.client_id, self.freelancer_id)


class MilestoneState(StrEnum):
    """Where a milestone stands: OPEN until the freelancer ticks it, COMPLETED until the
    client accepts it (or the clock does), then ACCEPTED, which is final."""

    OPEN = "OPEN"
    COMPLETED = "COMPLETED"
    ACCEPTED = "ACCEPTED"


class Milestone(Model):
    """A dated step of a project, ticked off by the freelancer."""

    id = fields.IntField(primary_key=True)
    project: fields.ForeignKeyRelation[Project] = fields.ForeignKeyField(
        "models.Project", related_name="milestones", on_delete=fields.CASCADE
    )
    title = fields.CharField(max_length=120)
    description = fields.TextField(default="")
    due_date = fields.DateField()
    completed_at = fields.DatetimeField(null=True)
    completed_by: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name=False, null=True, on_delete=fields.SET_NULL
    )
    # Set once, when the client (or the clock: accepted_by null) accepts it; never cleared,
    # since an accepted milestone is final (services/acceptance.py).
    accepted_at = fields.DatetimeField(null=True)
    accepted_by: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name=False, null=True, on_delete=fields.SET_NULL
    )
    # When the client's reminder of the coming automatic acceptance was queued; cleared
    # whenever completed_at changes, so each completion is reminded of once.
    acceptance_reminded_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)
    # Rises by one with every edit and every tick or untick: the SEQUENCE of the milestone's
    # event in calendar feeds, which calendar apps compare to know an event changed.
    sequence = fields.IntField(default=0)

    # Key columns of the foreign keys above (annotations only, see Project).
    project_id: int
    completed_by_id: int | None
    accepted_by_id: int | None

    class Meta:
        table = "milestone"
        indexes = [
            # The chronological listing of a project reads exactly this order.
            Index(fields=["project_id", "due_date", "id"]),
            # Automatic acceptance's "completed, not accepted, oldest completion first".
            Index(fields=["accepted_at", "completed_at"]),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def state(self) -> MilestoneState:
        return milestone_state(self.completed_at, self.accepted_at)


def milestone_state(
    completed_at: dt.datetime | None, accepted_at: dt.datetime | None
) -> MilestoneState:
    """The state the two timestamps say: a milestone read as a row has the same rule."""
    if accepted_at is not None:
        return MilestoneState.ACCEPTED
    if completed_at is not None:
        return MilestoneState.COMPLETED
    return MilestoneState.OPEN


class ReminderKind(StrEnum):
    DUE_SOON = "DUE_SOON"
    OVERDUE = "OVERDUE"


class MilestoneReminder(Model):
    """One due-soon or overdue reminder of a milestone, armed ahead of its moment.

    The key (milestone, due date, kind, offset) is unique: a reminder is queued once, by the
    worker that settles its row, however many run (services/deadline_reminders.py).
    """

    id = fields.IntField(primary_key=True)
    milestone: fields.ForeignKeyRelation[Milestone] = fields.ForeignKeyField(
        "models.Milestone", related_name=False, on_delete=fields.CASCADE
    )
    due_date = fields.DateField()
    kind = fields.CharEnumField(ReminderKind, max_length=16)
    # Days before the due date (DUE_SOON) or after it (OVERDUE) of the reminder's morning.
    offset_days = fields.IntField()
    # The instant the reminder goes out: the reminder hour of that day in the project's zone.
    due_at = fields.DatetimeField()
    # An overdue reminder that repeats an earlier one: e-mailed again, not posted to the chat.
    repeat = fields.BooleanField(default=False)
    # When a worker queued it (or found it no longer applied); null while it waits.
    settled_at = fields.DatetimeField(null=True)

    milestone_id: int

    class Meta:
        table = "milestone_reminder"
        unique_together = (("milestone_id", "due_date", "kind", "offset_days"),)
        # The worker's "earliest reminder still waiting" and "those due now".
        indexes = [Index(fields=["settled_at", "due_at"])]

    def __str__(self) -> str:
        return f"{self.kind} {self.offset_days} of milestone {self.milestone_id}"
