"""The schema: wiring of the root types to their resolvers, permissions and limits."""

from __future__ import annotations

import logging

import strawberry
from graphql import GraphQLError
from strawberry.extensions import MaskErrors
from strawberry.types import ExecutionContext

from resolvers import email_queries, queries, subscriptions
from resolvers.mutations import (
    account_log_in,
    account_log_out,
    account_log_out_everywhere,
    account_sign_up,
    account_update_notification_settings,
    calendar_feed_rotate,
    chat_message_send,
    milestone_accept,
    milestone_add,
    milestone_delete,
    milestone_edit,
    milestone_request_changes,
    milestone_set_completed,
    project_create,
    project_record_initial_payment,
    project_set_time_zone,
    project_unlock_milestones,
)
from schema.cost import QueryCostLimiter
from schema.error_codes import CodedParser, ValidationErrorCodes
from schema.executor import ApiExecutor
from schema.mutation import mutation
from schema.observe import Observed
from schema.operation_choice import OneOperationOrItsName
from schema.permissions import CanCreateProjects, CanSeeUndeliveredEmails, IsAuthenticated
from schema.types.common import Node
from schema.types.email import OutboxEmailType
from schema.types.project import ChatMessageType, MilestoneType, ProjectType
from schema.types.project_connection import ProjectConnection
from schema.types.user import UserType
from schema.visibility import VisibilityValidation
from services import throttles
from services.errors import ApiError

# Nodes one operation may ask for, counted before it runs (see schema/cost.py). The limits
# on the document itself (length, tokens, depth, aliases, ...) are in schema/document_limits.py.
MAX_COST = 10_000

logger = logging.getLogger("milestones.graphql")


def _is_internal(error: GraphQLError) -> bool:
    """Errors raised while resolving that are not ours to show: bugs, database errors."""
    original = error.original_error
    return (
        error.path is not None
        and original is not None
        and not isinstance(original, (ApiError, GraphQLError))
    )


@strawberry.type(description="Reads.")
class Query:
    me: UserType | None = strawberry.field(
        resolver=queries.me,
        description="The signed-in user; null when the request carries no valid token.",
    )
    node: Node | None = strawberry.field(
        resolver=queries.node,
        description="Any object by its global ID, if the viewer may see it.",
        permission_classes=[IsAuthenticated],
    )
    project: ProjectType | None = strawberry.field(
        resolver=queries.project,
        description=(
            "Null with a NOT_FOUND error when missing or when the viewer is not a member; "
            "admins see every project."
        ),
        permission_classes=[IsAuthenticated],
    )
    projects: ProjectConnection = strawberry.field(
        resolver=queries.projects,
        description="The viewer's projects (every project, for an admin), newest first.",
        permission_classes=[IsAuthenticated],
    )
    undelivered_emails: list[OutboxEmailType] = strawberry.field(
        resolver=email_queries.undelivered_emails,
        description=(
            "ADMIN only: e-mails not delivered yet after a failed attempt, and those given up "
            "(FAILED), most recently queued first; `first` (1-100) limits the list."
        ),
        permission_classes=[CanSeeUndeliveredEmails],
    )


@strawberry.type(description="Changes.")
class Mutation:
    sign_up = mutation(
        account_sign_up.sign_up,
        "Creates a client or freelancer account.",
        throttle=throttles.SIGN_UP,
    )
    # Throttled inside services.auth.log_in: what it counts depends on the outcome.
    log_in = mutation(account_log_in.log_in, "Signs in with e-mail and password.")
    log_out: bool = strawberry.mutation(
        resolver=account_log_out.log_out,
        description="Revokes the token this request was made with.",
        permission_classes=[IsAuthenticated],
    )
    log_out_everywhere: bool = strawberry.mutation(
        resolver=account_log_out_everywhere.log_out_everywhere,
        description="Revokes every token of the viewer, on every device and open socket.",
        permission_classes=[IsAuthenticated],
    )
    update_notification_settings = mutation(
        account_update_notification_settings.update_notification_settings,
        "The viewer's own settings; fields left out stay as they are.",
        IsAuthenticated,
    )
    create_project = mutation(
        project_create.create_project,
        "A CLIENT creates a project with a freelancer; an ADMIN may create one for any client.",
        IsAuthenticated,
        CanCreateProjects,
        throttle=throttles.CREATE_PROJECT,
    )
    record_initial_payment = mutation(
        project_record_initial_payment.record_initial_payment,
        "ADMIN only: the client's initial payment has been received. Idempotent.",
        IsAuthenticated,
    )
    unlock_milestones = mutation(
        project_unlock_milestones.unlock_milestones,
        "ADMIN only: opens the milestone feature of a project. Idempotent.",
        IsAuthenticated,
    )
    set_project_time_zone = mutation(
        project_set_time_zone.set_project_time_zone,
        "The project's CLIENT or an ADMIN.",
        IsAuthenticated,
        throttle=throttles.CHANGE_MILESTONES,
    )
    add_milestone = mutation(
        milestone_add.add_milestone,
        "The project's FREELANCER only, once unlocked; e-mails the client and posts to the chat.",
        IsAuthenticated,
        throttle=throttles.CHANGE_MILESTONES,
    )
    edit_milestone = mutation(
        milestone_edit.edit_milestone,
        "The project's FREELANCER only; e-mails the client and posts to the chat when "
        "something changed. An ACCEPTED milestone is final: MILESTONE_ACCEPTED.",
        IsAuthenticated,
        throttle=throttles.CHANGE_MILESTONES,
    )
    set_milestone_completed = mutation(
        milestone_set_completed.set_milestone_completed,
        "The project's FREELANCER only; e-mails the client and posts to the chat when the "
        "state changed. Unticking an ACCEPTED milestone is MILESTONE_ACCEPTED.",
        IsAuthenticated,
        throttle=throttles.CHANGE_MILESTONES,
    )
    delete_milestone = mutation(
        milestone_delete.delete_milestone,
        "The project's FREELANCER only; e-mails the client and posts to the chat. An "
        "ACCEPTED milestone is final: MILESTONE_ACCEPTED.",
        IsAuthenticated,
        throttle=throttles.CHANGE_MILESTONES,
    )
    accept_milestone = mutation(
        milestone_accept.accept_milestone,
        "The project's CLIENT only; a COMPLETED milestone becomes ACCEPTED. E-mails the "
        "freelancer and posts to the chat.",
        IsAuthenticated,
        throttle=throttles.CHANGE_MILESTONES,
    )
    request_milestone_changes = mutation(
        milestone_request_changes.request_milestone_changes,
        "The project's CLIENT only; a COMPLETED milestone becomes OPEN again. E-mails the "
        "freelancer and posts the reason to the chat.",
        IsAuthenticated,
        throttle=throttles.CHANGE_MILESTONES,
    )
    rotate_calendar_feed = mutation(
        calendar_feed_rotate.rotate_calendar_feed,
        "A new secret calendar feed URL for the viewer; the previous one stops working.",
        IsAuthenticated,
        throttle=throttles.ROTATE_CALENDAR_FEED,
    )
    send_chat_message = mutation(
        chat_message_send.send_chat_message,
        "Any member of the project (client, freelancer) or an admin.",
        IsAuthenticated,
        throttle=throttles.SEND_CHAT_MESSAGE,
    )


@strawberry.type(description="Live updates over the graphql-transport-ws protocol.")
class Subscription:
    chat_events: ChatMessageType = strawberry.subscription(  # type: ignore[assignment]  # strawberry reads the element type from the annotation; the resolver returns a stream
        resolver=subscriptions.chat_events,
        description=(
            "Every chat message and milestone event of one project as it happens; "
            "members and admins only. With `after`, the messages missed since come first."
        ),
        permission_classes=[IsAuthenticated],
    )


class MilestonesSchema(strawberry.Schema):
    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        # Access errors and user mistakes are expected; log only what is a bug.
        for error in errors:
            if _is_internal(error):
                logger.error("internal error", exc_info=error.original_error)
            elif error.path is None:
                # A document refused before execution (a parse error is raised): the frames
                # of its traceback hold the request, body and text, and the error itself, a
                # cycle that only the garbage collector frees, and server.py makes it run
                # rarely. 250 refused documents of 0.9 MB held 430 MB that way.
                error.__traceback__ = None


schema = MilestonesSchema(
    query=Query,
    mutation=Mutation,
    subscription=Subscription,
    types=[UserType, ProjectType, MilestoneType, ChatMessageType],
    # Hides suggestions from variable coercion errors too; a memo per subscription event.
    execution_context_class=ApiExecutor,
    extensions=[
        # Outermost: counts and times the whole operation (schema/observe.py).
        Observed,
        # Then, so that it codes the errors of every validation check listed after it.
        ValidationErrorCodes,
        # Parses within the length and token limits, cached; coded GRAPHQL_PARSE_FAILED.
        CodedParser,
        # Checks the document limits, then validates, cached; hides the schema from whom
        # INTROSPECTION says (in place of strawberry's ValidationCache).
        VisibilityValidation,
        OneOperationOrItsName,  # several operations need `operationName` (the spec's rule)
        # After validation: costs only a valid document, and refuses it before execution.
        lambda: QueryCostLimiter(limit=MAX_COST),
        lambda: MaskErrors(should_mask_error=_is_internal, error_message="Internal error."),
    ],
)
