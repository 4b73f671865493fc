"""logOut: revoke the token the request was made with."""

from __future__ import annotations

from schema.context import Info
from services import auth


async def log_out(info: Info) -> bool:
    return await auth.revoke_token(info.context.token)
