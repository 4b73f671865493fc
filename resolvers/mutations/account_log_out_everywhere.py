"""logOutEverywhere: revoke every token of the viewer, on every device and open socket."""

from __future__ import annotations

from schema.context import Info
from services import auth


async def log_out_everywhere(info: Info) -> bool:
    return await auth.revoke_all_tokens(info.context.require_viewer())
