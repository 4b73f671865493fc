"""The ASGI GraphQL endpoint: builds each request's Context from its bearer token."""

from __future__ import annotations

from datetime import timedelta

from cross_web import AsyncHTTPRequestAdapter
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.exceptions import ConnectionRejectionError
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData
from strawberry.http.base import BaseRequestProtocol
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.types import ExecutionResult
from strawberry.types.execution import PreExecutionError
from strawberry.types.unset import UNSET, UnsetType

from schema.context import Context
from schema.schema import schema
from schema.visibility import introspection_mode
from services import auth
from settings import Network
from web.client_address import client_address
from web.graphiql import graphiql_html
from web.graphql_guards import GuardedGraphQL
from web.graphql_ws import SharedResultsWSHandler
from web.media_type import relabelling, wants_graphql_response
from web.persisted_queries import DocumentLru, PersistedQueries


class GraphQLApp(GuardedGraphQL):
    """POST /graphql, GraphiQL on GET, and graphql-transport-ws on the same path."""

    # Shares one execution of a chat event among subscribers that would get the same result.
    graphql_transport_ws_handler_class = SharedResultsWSHandler

    def __init__(
        self,
        *,
        graphiql: bool,
        allowed_origins: tuple[str, ...] = (),
        max_subscriptions_per_connection: int = 20,
        connection_init_wait_timeout: timedelta = timedelta(seconds=10),
        trusted_proxies: tuple[Network, ...] = (),
        introspection: str = "auto",
        request_timeout_seconds: float = 10.0,
        persisted_queries: DocumentLru | None = None,
    ) -> None:
        super().__init__(
            schema,
            graphql_ide="graphiql" if graphiql else None,
            connection_init_wait_timeout=connection_init_wait_timeout,
            max_subscriptions_per_connection=max_subscriptions_per_connection,
            allowed_origins=allowed_origins,
            request_timeout_seconds=request_timeout_seconds,
            # Only the contract's protocol: its handler is the one that ends sockets whose
            # session ended; the legacy `graphql-ws` one would keep serving them.
            subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
        )
        self.introspection = introspection_mode(introspection, graphiql=graphiql)
        # Peers whose X-Forwarded-For is believed (TRUSTED_PROXIES).
        self.trusted_proxies = trusted_proxies
        if persisted_queries is None:
            persisted_queries = DocumentLru(max_entries=1000, max_bytes=4 * 1024 * 1024)
        self.persisted_queries = PersistedQueries(persisted_queries)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # application/graphql-response+json for the clients that ask (web/media_type.py).
        if scope["type"] == "http":
            send = relabelling(scope, send)
        await super().__call__(scope, receive, send)

    async def execute_single(
        self,
        request: Request,
        request_adapter: AsyncHTTPRequestAdapter,
        sub_response: Response,
        context: Context,
        root_value: None,
        request_data: GraphQLRequestData,
    ) -> ExecutionResult:
        # Automatic persisted queries (web/persisted_queries.py).
        resolved = self.persisted_queries.resolve(request_data)
        if isinstance(resolved, ExecutionResult):
            result: ExecutionResult = resolved
        else:
            result = await super().execute_single(
                request, request_adapter, sub_response, context, root_value, resolved
            )
            if not isinstance(result, PreExecutionError):
                self.persisted_queries.remember(resolved)
        if isinstance(result, PreExecutionError) and wants_graphql_response(
            request.headers.get("accept")
        ):
            sub_response.status_code = 400  # GraphQL over HTTP: it failed before execution
        return result

    async def process_result(
        self, request: Request, result: ExecutionResult
    ) -> GraphQLHTTPResponse:
        processed = await super().process_result(request, result)
        if isinstance(result, PreExecutionError) and wants_graphql_response(
            request.headers.get("accept")
        ):
            # GraphQL over HTTP: no `data` entry when execution never started.
            processed.pop("data", None)
        return processed

    def should_render_graphql_ide(self, request: BaseRequestProtocol) -> bool:
        # A GET with only a persisted query's hash is an operation, not a browser's visit.
        return super().should_render_graphql_ide(request) and (
            request.query_params.get("extensions") is None
        )

    @property
    def graphql_ide_html(self) -> str:
        return graphiql_html()

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> Context:
        token = auth.bearer_token(request.headers.get("authorization"))
        viewer = await auth.user_for_token(token) if token else None
        return Context(
            request=request,
            response=response,
            viewer=viewer,
            token=token,
            client_address=client_address(
                request.client.host if request.client else None,
                request.headers.getlist("x-forwarded-for"),
                self.trusted_proxies,
            ),
            introspection=self.introspection,
        )

    async def on_ws_connect(self, context: Context) -> UnsetType | dict[str, object] | None:
        # The connection_init payload may carry the token; it wins over the upgrade header.
        params = context.connection_params
        header = params.get("Authorization", params.get("authorization"))
        if header is None:
            if context.token and context.viewer is None:
                # A token in the upgrade request that is unknown or revoked: refuse, as for
                # the payload's. No token at all opens an anonymous connection.
                raise ConnectionRejectionError({"message": "Invalid token."})
            return UNSET
        token = auth.bearer_token(str(header))
        viewer = await auth.user_for_token(token) if token else None
        if viewer is None:
            raise ConnectionRejectionError({"message": "Invalid token."})
        context.viewer, context.token = viewer, token
        return UNSET
