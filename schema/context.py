"""The typed per-request context: the viewer, their token and the request's DataLoaders."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeAlias

from strawberry.types import Info as StrawberryInfo

from models import User
from schema.dataloaders import Loaders
from services.errors import Unauthenticated

if TYPE_CHECKING:  # the edge (web/) makes the request; the schema only carries it
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.websockets import WebSocket


@dataclass(slots=True)
class Context:
    """What every resolver may read; built once per HTTP request or WebSocket connection."""

    request: Request | WebSocket
    response: Response | WebSocket | None
    viewer: User | None = None
    token: str = ""
    # Where the request comes from, as far as we can trust (web/client_address.py).
    client_address: str = ""
    loaders: Loaders = field(default_factory=Loaders)
    # The INTROSPECTION mode of the endpoint: `on`, `off` or `signed-in` (schema/visibility.py).
    introspection: str = "off"
    # The graphql-transport-ws connection_init payload (WebSocket connections only).
    connection_params: dict[str, Any] = field(default_factory=dict)

    def require_viewer(self) -> User:
        """The signed-in user; fields that call this declare IsAuthenticated too."""
        if self.viewer is None:
            raise Unauthenticated()
        return self.viewer


Info: TypeAlias = StrawberryInfo[Context, None]
