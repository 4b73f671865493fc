"""GET /metrics: scraped over HTTP from a server process, parsed as Prometheus parses it.

Each test runs `python server.py` with METRICS=1 on a SQLite file of its own, so that
every figure is that process's alone; the counters are read before and after real
requests, WebSockets and e-mails.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from tests.support import Api, eventually, future
from tests.support_processes import api_for, create_admin, make_team_with, server_process
from tests.support_ws import WsClient, drain_all, until_live, ws_url

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]

METRICS_ON = {
    "METRICS": "1",
    # Deliver at once, and remind at once of a project unlocked with no milestone.
    "MAIL_WORKER": "1",
    "MAIL_POLL_SECONDS": "0.05",
    "MILESTONE_REMINDER_DELAY_SECONDS": "0",
    "MILESTONE_REMINDER_CHECK_SECONDS": "0.05",
    # One project per user: the second is refused.
    "RATE_LIMITS": "create_project_burst=1/600",
}
NOT_FOUND = "query Missing($id: ID!) { project(id: $id) { id } }"


async def scrape(api: Api) -> Samples:
    response = await api.client.get("/metrics")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8"
    samples: Samples = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return samples


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


@contextlib.asynccontextmanager
async def metered(tmp_path: Path) -> AsyncIterator[tuple[str, Api]]:
    database_url = f"sqlite://{tmp_path / 'db.sqlite3'}"
    async with server_process(database_url, "", tmp_path, env=METRICS_ON) as url:
        async with api_for(url) as api:
            yield url, api


async def test_operations_are_counted_by_name_and_outcome_and_timed(tmp_path: Path) -> None:
    async with metered(tmp_path) as (_, api):
        before = await scrape(api)
        user = await api.sign_up("CLIENT")
        for _ in range(3):
            await api.data("query Me { me { id } }", token=user.token)
        missing = await api.post(NOT_FOUND, {"id": "UHJvamVjdDo5OTk5"}, user.token)
        assert missing["errors"]
        # Made-up names of documents that do not validate never become labels.
        made_up = f"Probe{uuid.uuid4().hex}"
        await api.post(f"query {made_up} {{ nothing }}")
        after = await scrape(api)

    ops = "milestones_graphql_operations_total"
    assert value(after, ops, operation="Me", type="query", outcome="ok") == 3
    assert value(before, ops, operation="Me", type="query", outcome="ok") == 0
    # A name earns its label by running without error (tests/security/test_metrics_labels.py).
    assert value(after, ops, operation="Missing", type="query", outcome="error") == 0
    failed = value(after, ops, operation="other", type="query", outcome="error")
    assert failed - value(before, ops, operation="other", type="query", outcome="error") == 1
    invalid = value(after, ops, operation="other", type="unknown", outcome="invalid")
    assert invalid - value(before, ops, operation="other", type="unknown", outcome="invalid") == 1
    assert not any(made_up in str(labels) for _, labels in after)
    errors = "milestones_graphql_errors_total"
    code = missing["errors"][0]["extensions"]["code"]
    assert value(after, errors, code=code) - value(before, errors, code=code) == 1
    invalid_code = "GRAPHQL_VALIDATION_FAILED"  # schema/error_codes.py codes it first
    assert value(after, errors, code=invalid_code) - value(before, errors, code=invalid_code) == 1
    latency = "milestones_graphql_operation_duration_seconds"
    assert value(after, f"{latency}_count", operation="Me", type="query") == 3
    assert value(after, f"{latency}_sum", operation="Me", type="query") > 0
    assert value(after, f"{latency}_bucket", operation="Me", type="query", le="+Inf") == 3


async def test_refusals_sockets_fan_out_outbox_mail_and_reminders(tmp_path: Path) -> None:
    async with metered(tmp_path) as (url, api):
        admin = await create_admin(api, f"sqlite://{tmp_path / 'db.sqlite3'}", tmp_path)
        team = await make_team_with(api, admin)
        # Unlocked with no milestone and a delay of 0: its reminder is queued at once.
        await eventually(lambda: _has(api, "milestones_reminder_lag_seconds_count", 1), within=15)
        refused = await api.post(
            """mutation($input: CreateProjectInput!) { createProject(input: $input) {
                 errors { code } } }""",
            {
                "input": {
                    "title": "A second one",
                    "freelancerId": team.freelancer.id,
                    "completionDate": future(60),
                }
            },
            team.client.token,
        )
        assert refused["errors"][0]["extensions"]["code"] == "RATE_LIMITED"
        async with WsClient.open(ws_url(url), team.client.token) as ws:
            await ws.subscribe(team.project_id)
            await until_live(ws, api, team)
            await drain_all(ws)
            during = await scrape(api)
            await api.add_milestone(team.freelancer, team.project_id, "Audit", future(5))
            await ws.receive()
            after = await scrape(api)
        # Every e-mail (unlock, reminder, milestone) goes out through the worker.
        await eventually(lambda: _has(api, "milestones_email_send_duration_seconds_count", 3))
        drained = await scrape(api)

    assert value(during, "milestones_rate_limit_refusals_total", budget="create_project") == 1
    assert value(during, "milestones_websockets_open") == 1
    assert value(during, "milestones_subscriptions_active") == 1
    fanned = "milestones_chat_events_fanned_out_total"
    assert value(after, fanned) - value(during, fanned) == 1
    assert value(drained, "milestones_email_send_duration_seconds_count", outcome="sent") >= 3
    assert value(drained, "milestones_outbox_pending") == 0
    assert value(drained, "milestones_outbox_failed") == 0
    assert value(drained, "milestones_reminder_lag_seconds_count") == 1


async def _has(api: Api, name: str, at_least: float) -> bool:
    samples = await scrape(api)
    return sum(v for (n, _), v in samples.items() if n == name) >= at_least


async def test_the_outbox_backlog_is_read_at_scrape_time(tmp_path: Path) -> None:
    database_url = f"sqlite://{tmp_path / 'db.sqlite3'}"
    # No worker: what is queued stays pending, and ages.
    env = METRICS_ON | {"MAIL_WORKER": "0", "MILESTONE_REMINDER_DELAY_SECONDS": "3600"}
    async with server_process(database_url, "", tmp_path, env=env) as url, api_for(url) as api:
        admin = await create_admin(api, database_url, tmp_path)
        empty = await scrape(api)
        await make_team_with(api, admin)  # the unlock e-mails the freelancer
        backlog = await scrape(api)
    assert value(empty, "milestones_outbox_pending") == 0
    assert value(backlog, "milestones_outbox_pending") == 1
    assert value(backlog, "milestones_outbox_oldest_pending_age_seconds") > 0


async def test_metrics_are_not_served_unless_turned_on(api: Api) -> None:
    assert (await api.client.get("/metrics")).status_code == 404
    # The control: the same server answers its probes.
    assert (await api.client.get("/livez")).status_code == 200


def test_operation_names_are_bounded_earned_and_given_back() -> None:
    from schema.observe import ANONYMOUS, OTHER, OperationNames

    names = OperationNames(limit=2, idle_seconds=10)

    def labels(*named: str | None, earned: bool = True, now: float = 0) -> list[str]:
        return [names.label(n, earned=earned, now=now) for n in named]

    assert labels("Failed", earned=False) == [OTHER]
    assert labels("A", "B", "C", "A", None) == ["A", "B", OTHER, "A", ANONYMOUS]
    # A name with a slot keeps counting under it when it fails.
    assert labels("B", earned=False, now=5) == ["B"]
    # A (last used at 0) is idle at 10: its slot goes to C; B, used at 5, stays.
    assert labels("C", "A", now=10) == ["C", OTHER]
    assert labels("B", now=10) == ["B"]
    assert OperationNames().label("X" * 101, earned=True, now=0) == OTHER


async def test_request_ids_are_taken_when_safe_and_made_otherwise(api: Api) -> None:
    given = await api.client.get("/livez", headers={"X-Request-ID": "edge-7f3a:42"})
    assert given.headers["x-request-id"] == "edge-7f3a:42"
    for bad in ("has spaces", "<script>", "x" * 129):
        made = await api.client.get("/livez", headers={"X-Request-ID": bad})
        assert len(made.headers["x-request-id"]) == 32 and made.headers["x-request-id"] != bad
    async with httpx.AsyncClient(base_url=str(api.client.base_url)) as plain:
        response = await plain.get("/livez")
    assert len(response.headers["x-request-id"]) == 32
