"""Idempotency-Key under concurrency and failure: one run, whatever arrives meanwhile.

A request "still running" is made deterministic on PostgreSQL by holding the project's row
lock, which every change to the project waits for; SQLite serialises writers, so there
the concurrent sends only race.
"""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import pytest

from infra.mail_worker import running_worker
from server import mail_worker
from tests.support import Api, RunningServer, eventually, make_team
from tests.support_idempotency import (
    add,
    error_code,
    held_keys,
    project_row_locked,
    state,
)
from tests.support_mail import Sink, all_sent, smtp_server, worker_settings
from tests.support_processes import api_for, create_admin, make_team_with, server_process


async def test_concurrent_retries_run_the_mutation_once(api: Api, server: RunningServer) -> None:
    team = await make_team(api)
    key = str(uuid.uuid4())
    sink = Sink()
    with smtp_server(sink) as controller:
        async with running_worker(mail_worker(worker_settings(server, controller.port))):
            sent = [add(api, team.freelancer, team.project_id, "Audit", key) for _ in range(5)]
            responses = await asyncio.gather(*sent)
            final = await add(api, team.freelancer, team.project_id, "Audit", key)
            await eventually(lambda: all_sent(team.client.email, 1))

    assert final.status_code == 200 and final.headers["idempotent-replayed"] == "true"
    for response in responses:
        if response.status_code == 409:
            assert error_code(response) == "IDEMPOTENCY_KEY_IN_USE"
        else:
            assert (response.status_code, response.content) == (200, final.content)
    ran = [r for r in responses if r.status_code == 200 and "idempotent-replayed" not in r.headers]
    assert len(ran) == 1
    titles, kinds = await state(api, team.client, team.project_id)
    assert titles["Audit"] == 1 and kinds["MILESTONE_ADDED"] == 1
    assert len(sink.to(team.client.email)) == 1


async def test_a_retry_while_the_first_runs_is_refused_as_in_use(
    api: Api, server: RunningServer
) -> None:
    if not server.settings.database_url.startswith("postgres"):
        pytest.skip("holding a request mid-way takes a row lock: PostgreSQL")
    team = await make_team(api)
    key = str(uuid.uuid4())
    async with project_row_locked(server.settings.database_url, team.project_id) as conn:
        first = asyncio.create_task(add(api, team.freelancer, team.project_id, "Audit", key))

        async def first_holds_the_key() -> bool:
            return await held_keys(conn, team.freelancer.id) == 1

        await eventually(first_holds_the_key)
        in_use = await add(api, team.freelancer, team.project_id, "Audit", key)
        reused = await add(api, team.freelancer, team.project_id, "Report", key)
        assert not first.done()
    answered = await first

    assert in_use.status_code == 409 and error_code(in_use) == "IDEMPOTENCY_KEY_IN_USE"
    assert in_use.headers["retry-after"] == "1"
    assert reused.status_code == 422 and error_code(reused) == "IDEMPOTENCY_KEY_REUSED"
    assert answered.status_code == 200
    retry = await add(api, team.freelancer, team.project_id, "Audit", key)
    assert retry.content == answered.content and retry.headers["idempotent-replayed"] == "true"
    titles, kinds = await state(api, team.client, team.project_id)
    assert titles == {"Audit": 1} and kinds["MILESTONE_ADDED"] == 1


async def test_a_failed_request_is_not_kept_and_its_retry_runs(
    postgres_url: str, tmp_path: Path
) -> None:
    """The first attempt waits on the row lock past its time budget: TIMEOUT, nothing kept."""
    env = {"REQUEST_TIMEOUT_SECONDS": "1"}
    async with server_process(postgres_url, "", tmp_path, env=env) as url, api_for(url) as api:
        team = await make_team_with(api, await create_admin(api, postgres_url, tmp_path))
        key = str(uuid.uuid4())
        async with project_row_locked(postgres_url, team.project_id) as conn:
            failed = await add(api, team.freelancer, team.project_id, "Audit", key)
            assert error_code(failed) == "TIMEOUT"
            assert await held_keys(conn, team.freelancer.id) == 0
        retry = await add(api, team.freelancer, team.project_id, "Audit", key)
        assert retry.status_code == 200 and "idempotent-replayed" not in retry.headers
        assert retry.json()["data"]["addMilestone"]["milestone"]["title"] == "Audit"
        again = await add(api, team.freelancer, team.project_id, "Audit", key)
        assert again.content == retry.content
        titles, _ = await state(api, team.client, team.project_id)
        assert titles == {"Audit": 1}
