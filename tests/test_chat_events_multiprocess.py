"""Two `python server.py` processes on one PostgreSQL database and one Redis behave as one.

Needs TEST_DATABASE_URL and TEST_REDIS_URL: skipped without them, failing (not skipped)
when they are set but the services cannot be reached (see the fixtures in conftest.py).
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from tests.support import pk
from tests.support_processes import api_for, create_admin, make_team_with, server_process
from tests.support_ws import WsClient, drain, send, until_live, ws_url


async def test_a_subscriber_on_one_process_receives_changes_made_through_the_other(
    postgres_url: str, reachable_redis: str, tmp_path: Path
) -> None:
    async with server_process(postgres_url, reachable_redis, tmp_path, "a") as url_a:
        async with (
            server_process(postgres_url, reachable_redis, tmp_path, "b") as url_b,
            api_for(url_a) as api_a,
            api_for(url_b) as api_b,
        ):
            admin = await create_admin(api_a, postgres_url, tmp_path)
            team = await make_team_with(api_a, admin)
            async with (
                WsClient.open(ws_url(url_a), team.client.token) as on_a,
                WsClient.open(ws_url(url_b), team.freelancer.token) as on_b,
            ):
                op_a = await on_a.subscribe(team.project_id)
                op_b = await on_b.subscribe(team.project_id)
                await until_live(on_a, api_b, team)
                await until_live(on_b, api_a, team)
                await drain(on_a, op_a)
                await drain(on_b, op_b)

                added = await api_b.add_milestone(team.freelancer, team.project_id, "Load test")
                event = await on_a.event(op_a)
                assert event["kind"] == "MILESTONE_ADDED"
                assert event["milestone"]["id"] == added["milestone"]["id"]
                assert event["actor"]["id"] == team.freelancer.id
                assert (await on_b.event(op_b))["kind"] == "MILESTONE_ADDED"

                # Concurrent writers on both processes: every subscriber sees every event,
                # once, in the same (commit) order.
                ids = await asyncio.gather(
                    *(
                        send(api, account, team.project_id, f"burst {i}")
                        for i, (api, account) in enumerate(
                            [(api_a, team.client), (api_b, team.freelancer)] * 10
                        )
                    )
                )
                seen_a = [pk((await on_a.event(op_a))["id"]) for _ in ids]
                seen_b = [pk((await on_b.event(op_b))["id"]) for _ in ids]
                assert seen_a == seen_b == sorted(ids)
                await on_a.nothing(0.3)
                await on_b.nothing(0.3)
