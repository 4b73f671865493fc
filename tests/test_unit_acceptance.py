"""The state machine of the client's word on finished work, as one table: every state ×
every action × every role, with what comes of it.

Pure: in-memory models, no server. Who may act is asked of services/access.py, as
schema/authorize.py asks it (NOT_FOUND for outsiders, then FORBIDDEN); what the action
does to the state is asked of services/acceptance.py, as every milestone change asks it.
The end-to-end tests (test_acceptance.py, test_authorization.py) show the API applies both.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest

from models import Milestone, MilestoneState, Project, Role, User
from services import access
from services.acceptance import Action, auto_accept_at, transition
from services.errors import UserInputError

OPEN, COMPLETED, ACCEPTED = MilestoneState
CLIENT = User(id=2, role=Role.CLIENT, name="Carl", email="carl@example.com")
FREELANCER = User(id=3, role=Role.FREELANCER, name="Fay", email="fay@example.com")
ADMIN = User(id=1, role=Role.ADMIN, name="Ada", email="ada@example.com")
OUTSIDER = User(id=4, role=Role.CLIENT, name="Olga", email="olga@example.com")
ROLES = {"client": CLIENT, "freelancer": FREELANCER, "admin": ADMIN, "outsider": OUTSIDER}

# Who may take each action: the freelancer changes milestones, the client judges them.
RULES: dict[Action, Callable[[User, Project], bool]] = {
    Action.TICK: access.can_change_milestones,
    Action.UNTICK: access.can_change_milestones,
    Action.EDIT: access.can_change_milestones,
    Action.DELETE: access.can_change_milestones,
    Action.ACCEPT: access.can_review_milestones,
    Action.REQUEST_CHANGES: access.can_review_milestones,
}
ACTORS = {action: "freelancer" if rule is access.can_change_milestones else "client"
          for action, rule in RULES.items()}  # fmt: skip

# state -> action -> what the one who may take it gets: the state after (the same state:
# nothing changes) or the user error code.
TABLE: dict[MilestoneState, dict[Action, MilestoneState | str]] = {
    OPEN: {
        Action.TICK: COMPLETED,
        Action.UNTICK: OPEN,
        Action.EDIT: OPEN,
        Action.DELETE: OPEN,
        Action.ACCEPT: "NOT_COMPLETED",
        Action.REQUEST_CHANGES: "NOT_COMPLETED",
    },
    COMPLETED: {
        Action.TICK: COMPLETED,
        Action.UNTICK: OPEN,
        Action.EDIT: COMPLETED,
        Action.DELETE: COMPLETED,
        Action.ACCEPT: ACCEPTED,
        Action.REQUEST_CHANGES: OPEN,
    },
    ACCEPTED: {
        Action.TICK: ACCEPTED,
        Action.UNTICK: "MILESTONE_ACCEPTED",
        Action.EDIT: "MILESTONE_ACCEPTED",
        Action.DELETE: "MILESTONE_ACCEPTED",
        Action.ACCEPT: ACCEPTED,
        Action.REQUEST_CHANGES: "NOT_COMPLETED",
    },
}

WHEN = dt.datetime(2031, 3, 1, 9, 0, tzinfo=dt.UTC)


def _project() -> Project:
    project = Project(id=10, title="Churn model", completion_date=dt.date(2031, 6, 30))
    project.client_id, project.freelancer_id = CLIENT.id, FREELANCER.id
    project.milestones_unlocked_at = WHEN - dt.timedelta(days=30)
    return project


def _milestone(state: MilestoneState) -> Milestone:
    milestone = Milestone(id=20, title="Feature store", due_date=dt.date(2031, 4, 1))
    milestone.completed_at = None if state is OPEN else WHEN
    milestone.accepted_at = WHEN + dt.timedelta(days=1) if state is ACCEPTED else None
    return milestone


def outcome(state: MilestoneState, action: Action, role: str) -> MilestoneState | str:
    """What `role` gets for `action` on a milestone in `state`, as the API decides it."""
    viewer, project = ROLES[role], _project()
    if not access.can_see_project(viewer, project):
        return "NOT_FOUND"
    if not RULES[action](viewer, project):
        return "FORBIDDEN"
    try:
        return transition(_milestone(state), action)
    except UserInputError as refused:
        [error] = refused.errors
        assert error.message
        return error.code


def expected(state: MilestoneState, action: Action, role: str) -> MilestoneState | str:
    if role == "outsider":
        return "NOT_FOUND"
    if role != ACTORS[action]:
        return "FORBIDDEN"  # the other member, and admins: they see the project
    return TABLE[state][action]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("action", list(Action))
@pytest.mark.parametrize("state", list(MilestoneState))
def test_state_action_role(state: MilestoneState, action: Action, role: str) -> None:
    assert outcome(state, action, role) == expected(state, action, role)


def test_the_table_covers_every_state_and_action() -> None:
    assert {(s, a) for s in TABLE for a in TABLE[s]} == {
        (s, a) for s in MilestoneState for a in Action
    }


@pytest.mark.parametrize("state", list(MilestoneState))
def test_state_reads_the_two_timestamps(state: MilestoneState) -> None:
    assert _milestone(state).state is state


def test_automatic_acceptance_is_due_only_while_completed_and_on() -> None:
    completed = _milestone(COMPLETED)
    assert auto_accept_at(completed, 14) == WHEN + dt.timedelta(days=14)
    assert auto_accept_at(completed, 1) == WHEN + dt.timedelta(days=1)
    assert auto_accept_at(completed, 0) is None  # turned off
    assert auto_accept_at(_milestone(OPEN), 14) is None
    assert auto_accept_at(_milestone(ACCEPTED), 14) is None
