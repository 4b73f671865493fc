"""The access rules of services/access.py as one table: rule × who asks → allowed or not.

Pure functions over in-memory models, no server: the end-to-end tests
(test_authorization.py, test_node.py) check that the API applies them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest

from models import Project, Role, User
from services import access

ADMIN = User(id=1, role=Role.ADMIN, name="Ada", email="ada@example.com")
CLIENT = User(id=2, role=Role.CLIENT, name="Carl", email="carl@example.com")
FREELANCER = User(id=3, role=Role.FREELANCER, name="Fay", email="fay@example.com")
OTHER_CLIENT = User(id=4, role=Role.CLIENT, name="Olga", email="olga@example.com")
OTHER_FREELANCER = User(id=5, role=Role.FREELANCER, name="Otto", email="otto@example.com")
ACTORS = {
    "admin": ADMIN,
    "client": CLIENT,
    "freelancer": FREELANCER,
    "other client": OTHER_CLIENT,
    "other freelancer": OTHER_FREELANCER,
}


def _project(*, client: User = CLIENT, unlocked: bool = True) -> Project:
    project = Project(
        id=10,
        title="Churn model",
        completion_date=dt.date(2030, 6, 30),
        milestones_unlocked_at=dt.datetime(2030, 1, 1, tzinfo=dt.UTC) if unlocked else None,
    )
    # The key columns, as a row read from the database has them.
    project.client_id, project.freelancer_id = client.id, FREELANCER.id
    return project


UNLOCKED = _project(unlocked=True)
LOCKED = _project(unlocked=False)

Rule = Callable[[User], bool]


def _shared(viewer: User, user: User) -> Project | None:
    """What access.project_shared_with finds in a database holding only UNLOCKED."""
    members = {UNLOCKED.client_id, UNLOCKED.freelancer_id}
    return UNLOCKED if {viewer.id, user.id} == members else None


# rule -> the actors it allows; every other actor of ACTORS is refused.
RULES: dict[str, tuple[Rule, set[str]]] = {
    "see the project": (
        lambda viewer: access.can_see_project(viewer, UNLOCKED),
        {"admin", "client", "freelancer"},
    ),
    "see it in one's own calendar feed": (
        lambda viewer: access.in_calendar_feed(viewer, UNLOCKED),
        {"client", "freelancer"},
    ),
    "create projects": (access.can_create_projects, {"admin", "client", "other client"}),
    "record the payment, unlock": (
        lambda viewer: access.can_administer_project(viewer, UNLOCKED),
        {"admin"},
    ),
    "set the time zone": (
        lambda viewer: access.can_set_time_zone(viewer, UNLOCKED),
        {"admin", "client"},
    ),
    "change milestones": (
        lambda viewer: access.can_change_milestones(viewer, LOCKED),
        {"freelancer"},
    ),
    "accept a milestone or send it back": (
        lambda viewer: access.can_review_milestones(viewer, UNLOCKED),
        {"client"},
    ),
    "edit milestones now (unlocked)": (
        lambda viewer: access.can_edit_milestones_now(viewer, UNLOCKED),
        {"freelancer"},
    ),
    "edit milestones now (locked)": (
        lambda viewer: access.can_edit_milestones_now(viewer, LOCKED),
        set(),
    ),
    "post to the chat": (
        lambda viewer: access.can_post_to_chat(viewer, UNLOCKED),
        {"admin", "client", "freelancer"},
    ),
    "see the freelancer's e-mail on the project": (
        lambda viewer: access.can_see_email(viewer, FREELANCER, UNLOCKED),
        {"admin", "client", "freelancer"},
    ),
    "see the client's e-mail with no project between them": (
        lambda viewer: access.can_see_email(viewer, CLIENT, None),
        {"admin", "client"},
    ),
    "see the client (as node)": (
        lambda viewer: access.can_see_user(viewer, CLIENT, _shared(viewer, CLIENT)),
        {"admin", "client", "freelancer"},
    ),
    "see the freelancer (as node)": (
        lambda viewer: access.can_see_user(viewer, FREELANCER, _shared(viewer, FREELANCER)),
        {"admin", "client", "freelancer"},
    ),
    "see undelivered e-mails": (access.can_see_undelivered_emails, {"admin"}),
}


@pytest.mark.parametrize("actor", ACTORS)
@pytest.mark.parametrize("rule", RULES)
def test_access_rule(rule: str, actor: str) -> None:
    check, allowed = RULES[rule]
    assert check(ACTORS[actor]) is (actor in allowed)


def test_a_project_member_sees_the_other_member_but_not_through_a_project_of_others() -> None:
    # The e-mail rule needs both people on the project it is shown through.
    theirs = _project(client=OTHER_CLIENT)
    assert access.can_see_email(CLIENT, FREELANCER, UNLOCKED)
    assert not access.can_see_email(CLIENT, FREELANCER, theirs)
