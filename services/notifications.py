"""What each change tells people: the chat event it posts and the e-mail it queues.

Everything here runs inside the change's UnitOfWork, so the change, its chat event and its
e-mail (or, for a recipient who gets batched or daily e-mails, the notice held for that
e-mail) commit together or not at all. Recipients are chosen here, per the operating
contract; how each is told follows their settings (services/mail_preferences.py). The chat
is the same for everyone: one event per change, live.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

from infra.outbox import enqueue, hold
from infra.unit_of_work import UnitOfWork
from mailers import milestone_mailer
from mailers.milestone_mailer import MilestoneNews
from mailers.render import RenderedEmail
from models import (
    ChatEventKind,
    ChatMessage,
    FieldChange,
    Milestone,
    MilestoneEmailMode,
    Project,
    User,
)
from services.mail_preferences import MailKind, delivery_mode, unsubscribe_url
from services.net_changes import state_of

# A milestone's state before and after a change; None: it did not exist.
Span = tuple[dict[str, Any] | None, dict[str, Any] | None]


async def post_event(
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
    span: Span,
) -> None:
    """Milestone changes are told to the project's client."""
    await _email_member(await project.client, project, render, milestone, actor.name, span)


async def _email_member(
    to: User,
    project: Project,
    render: Callable[[MilestoneNews], RenderedEmail],
    milestone: Milestone,
    actor_name: str,
    span: Span,
) -> None:
    """Tell a member of a change to a milestone: at once, held for a batched or daily
    e-mail, or not at all, as they chose."""
    mode = delivery_mode(to, MailKind.MILESTONE_CHANGES)
    if mode is MilestoneEmailMode.OFF:
        return
    if mode is not MilestoneEmailMode.IMMEDIATE:
        before, after = span
        await hold(
            to=to,
            mode=mode,
            project_id=project.id,
            milestone_id=milestone.id,
            actor_name=actor_name,
            before=before,
            after=after,
        )
        return
    news = MilestoneNews(
        recipient_name=to.name,
        actor_name=actor_name,
        project_title=project.title,
        milestone_title=milestone.title,
        due_date=milestone.due_date,
        time_zone=project.time_zone,
        unsubscribe_url=unsubscribe_url(to, MailKind.MILESTONE_CHANGES),
    )
    await enqueue(render(news), to=to, project_id=project.id)


async def chat_message(work: UnitOfWork, project: Project, author: User, body: str) -> ChatMessage:
    message = await ChatMessage.create(
        project_id=project.id, kind=ChatEventKind.MESSAGE, body=body, author=author, actor=author
    )
    work.posted.append(message)
    return message


async def milestones_unlocked(work: UnitOfWork, project: Project, admin: User) -> None:
    # The platform team's word on an admin's action (MailKind.PLATFORM): always sent, with
    # no unsubscribe link, whatever the freelancer's settings.
    freelancer = await project.freelancer
    await post_event(
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
    span: Span,
    *,
    changes: Sequence[FieldChange] = (),
) -> None:
    """Post the chat `event` (kind, body) about `milestone`, and e-mail the client.

    `span`: the milestone's state before and after the change (after is None: deleted).
    """
    kind, body = event
    # A deleted row is about to go: its event keeps the title in the body, not a dangling link.
    linked = None if span[1] is None else milestone
    await post_event(work, project, kind, body, actor=actor, milestone=linked, changes=changes)
    await _email_client(project, render, milestone, actor, span)


async def milestone_added(
    work: UnitOfWork, project: Project, milestone: Milestone, actor: User
) -> None:
    due = f"{milestone.due_date.isoformat()} ({project.time_zone})"
    body = f"{actor.name} added the milestone “{milestone.title}”, due {due}."
    render = partial(milestone_mailer.milestone_added, description=milestone.description)
    event = (ChatEventKind.MILESTONE_ADDED, body)
    span = (None, state_of(milestone))
    await _milestone_changed(work, project, milestone, actor, event, render, span)


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
    after = state_of(milestone)
    before = after | {change.field: change.old for change in changes}
    span = (before, after)
    await _milestone_changed(work, project, milestone, actor, event, render, span, changes=changes)


async def milestone_deleted(
    work: UnitOfWork, project: Project, milestone: Milestone, actor: User
) -> None:
    body = f"{actor.name} deleted the milestone “{milestone.title}”."
    event = (ChatEventKind.MILESTONE_DELETED, body)
    render = milestone_mailer.milestone_deleted
    span = (state_of(milestone), None)
    await _milestone_changed(work, project, milestone, actor, event, render, span)


async def milestone_completion_changed(
    work: UnitOfWork, project: Project, milestone: Milestone, actor: User, completed: bool
) -> None:
    kind = ChatEventKind.MILESTONE_COMPLETED if completed else ChatEventKind.MILESTONE_REOPENED
    verb = "completed" if completed else "reopened"
    render = (
        milestone_mailer.milestone_completed if completed else milestone_mailer.milestone_reopened
    )
    body = f"{actor.name} {verb} the milestone “{milestone.title}”."
    after = state_of(milestone)
    span = (after | {"completed": not completed}, after)
    await _milestone_changed(work, project, milestone, actor, (kind, body), render, span)


async def milestone_accepted(
    work: UnitOfWork, project: Project, milestone: Milestone, actor: User | None
) -> None:
    """Acceptance is told to the freelancer, whose work was taken: by the client, or (`actor`
    None) automatically, the client having said nothing in time."""
    if actor is None:
        body = (
            f"The milestone “{milestone.title}” was accepted automatically: the client "
            "neither accepted it nor asked for changes in time."
        )
    else:
        body = f"{actor.name} accepted the milestone “{milestone.title}”."
    kind = ChatEventKind.MILESTONE_ACCEPTED
    await post_event(work, project, kind, body, actor=actor, milestone=milestone)
    after = state_of(milestone)
    span = (after | {"accepted": False}, after)
    render = partial(milestone_mailer.milestone_accepted, automatic=actor is None)
    name = actor.name if actor is not None else "Automatic acceptance"
    await _email_member(await project.freelancer, project, render, milestone, name, span)


async def milestone_changes_requested(
    work: UnitOfWork, project: Project, milestone: Milestone, actor: User, reason: str
) -> None:
    """A milestone sent back is told to the freelancer, with the client's reason; the chat
    event's body is that reason, as written."""
    kind = ChatEventKind.MILESTONE_CHANGES_REQUESTED
    await post_event(work, project, kind, reason, actor=actor, milestone=milestone)
    after = state_of(milestone) | {"changesRequested": reason}
    span = (state_of(milestone) | {"completed": True}, after)
    render = partial(milestone_mailer.milestone_changes_requested, reason=reason)
    await _email_member(await project.freelancer, project, render, milestone, actor.name, span)
