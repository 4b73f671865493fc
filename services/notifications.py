"""What each change tells people: the chat event it posts and the e-mail it queues.

Everything here runs inside the change's UnitOfWork, so the change, its chat event and its
e-mail commit together or not at all. Recipients are chosen here, per the operating contract.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial

from infra.outbox import enqueue
from infra.unit_of_work import UnitOfWork
from mailers import milestone_mailer
from mailers.milestone_mailer import Deadline, MilestoneNews
from mailers.render import RenderedEmail
from models import ChatEventKind, ChatMessage, FieldChange, Milestone, Project, User


async def _post(
    work: UnitOfWork,
    project: Project,
    kind: ChatEventKind,
    body: str,
    *,
    actor: User | None,
    milestone: Milestone | None = None,
    changes: Sequence[FieldChange] = (),
) -> ChatMessage:
    message = await ChatMessage.create(
        project_id=project.id,
        kind=kind,
        body=body,
        author=None,
        actor=actor,
        milestone=milestone,
        changes=[change.to_json() for change in changes],
    )
    work.posted.append(message)
    return message


async def _email_client(
    project: Project,
    render: Callable[[MilestoneNews], RenderedEmail],
    milestone: Milestone,
    actor: User,
) -> None:
    """Milestone changes are told to the project's client."""
    client = await project.client
    news = MilestoneNews(
        recipient_name=client.name,
        actor_name=actor.name,
        project_title=project.title,
        milestone_title=milestone.title,
        due_date=milestone.due_date,
        time_zone=project.time_zone,
    )
    await enqueue(render(news), to=client, project_id=project.id)


async def chat_message(work: UnitOfWork, project: Project, author: User, body: str) -> ChatMessage:
    message = await ChatMessage.create(
        project_id=project.id, kind=ChatEventKind.MESSAGE, body=body, author=author, actor=author
    )
    work.posted.append(message)
    return message


async def milestones_unlocked(work: UnitOfWork, project: Project, admin: User) -> None:
    freelancer = await project.freelancer
    await _post(
        work,
        project,
        ChatEventKind.MILESTONES_UNLOCKED,
        f"Milestones are unlocked: {freelancer.name} can now add the project's milestones.",
        actor=admin,
    )
    email = milestone_mailer.milestones_unlocked(
        recipient_name=freelancer.name,
        actor_name="The platform team",
        project_title=project.title,
        completion_date=project.completion_date,
    )
    await enqueue(email, to=freelancer, project_id=project.id)


async def _milestone_changed(
    work: UnitOfWork,
    project: Project,
    milestone: Milestone,
    actor: User,
    event: tuple[ChatEventKind, str],
    render: Callable[[MilestoneNews], RenderedEmail],
    *,
    changes: Sequence[FieldChange] = (),
    deleted: bool = False,
) -> None:
    """Post the chat `event` (kind, body) about `milestone`, and e-mail the client."""
    kind, body = event
    # A deleted row is about to go: its event keeps the title in the body, not a dangling link.
    linked = None if deleted else milestone
    await _post(work, project, kind, body, actor=actor, milestone=linked, changes=changes)
    await _email_client(project, render, milestone, actor)


async def milestone_added(
    work: UnitOfWork, project: Project, milestone: Milestone, actor: User
) -> None:
    due = f"{milestone.due_date.isoformat()} ({project.time_zone})"
    body = f"{actor.name} added the milestone “{milestone.title}”, due {due}."
    render = partial(milestone_mailer.milestone_added, description=milestone.description)
    await _milestone_changed(
        work, project, milestone, actor, (ChatEventKind.MILESTONE_ADDED, body), render
    )


async def milestone_edited(
    work: UnitOfWork,
    project: Project,
    milestone: Milestone,
    actor: User,
    changes: Sequence[FieldChange],
) -> None:
    renamed = next((c for c in changes if c.field == "title"), None)
    named = f"“{renamed.old}” (now “{milestone.title}”)" if renamed else f"“{milestone.title}”"
    changed = ", ".join(c.label.lower() for c in changes)
    body = f"{actor.name} edited the milestone {named}: {changed} changed."
    render = partial(milestone_mailer.milestone_edited, changes=changes)
    event = (ChatEventKind.MILESTONE_EDITED, body)
    await _milestone_changed(work, project, milestone, actor, event, render, changes=changes)


async def milestone_deleted(
    work: UnitOfWork, project: Project, milestone: Milestone, actor: User
) -> None:
    body = f"{actor.name} deleted the milestone “{milestone.title}”."
    event = (ChatEventKind.MILESTONE_DELETED, body)
    render = milestone_mailer.milestone_deleted
    await _milestone_changed(work, project, milestone, actor, event, render, deleted=True)


async def milestone_completion_changed(
    work: UnitOfWork, project: Project, milestone: Milestone, actor: User, completed: bool
) -> None:
    kind = ChatEventKind.MILESTONE_COMPLETED if completed else ChatEventKind.MILESTONE_REOPENED
    verb = "completed" if completed else "reopened"
    render = (
        milestone_mailer.milestone_completed if completed else milestone_mailer.milestone_reopened
    )
    body = f"{actor.name} {verb} the milestone “{milestone.title}”."
    await _milestone_changed(work, project, milestone, actor, (kind, body), render)


def _deadline(project: Project, milestone: Milestone, to: User, link: str) -> Deadline:
    return Deadline(
        recipient_name=to.name,
        project_title=project.title,
        milestone_title=milestone.title,
        due_date=milestone.due_date,
        time_zone=project.time_zone,
        link=link,
    )


async def milestone_due_soon(project: Project, milestone: Milestone, days: int, link: str) -> None:
    """The due-soon reminder goes to the freelancer, who does the work."""
    freelancer = await project.freelancer
    email = milestone_mailer.milestone_due_soon(
        _deadline(project, milestone, freelancer, link), days=days
    )
    await enqueue(email, to=freelancer, project_id=project.id)


async def milestone_overdue(
    work: UnitOfWork,
    project: Project,
    milestone: Milestone,
    days_late: int,
    *,
    repeat: bool,
    link: str,
) -> None:
    """An overdue milestone is e-mailed to both members, and posted to the chat unless this
    is a `repeat` (the chat says it once per time the milestone becomes overdue)."""
    if not repeat:
        due = f"{milestone.due_date.isoformat()} ({project.time_zone})"
        body = f"The milestone “{milestone.title}” is overdue: it was due {due} and is still open."
        kind = ChatEventKind.MILESTONE_OVERDUE
        await _post(work, project, kind, body, actor=None, milestone=milestone)
    for member in (await project.freelancer, await project.client):
        email = milestone_mailer.milestone_overdue(
            _deadline(project, milestone, member, link), days_late=days_late
        )
        await enqueue(email, to=member, project_id=project.id)
