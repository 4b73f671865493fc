"""The Idempotency-Key header: a retried mutation runs once, and its response is replayed.

Each "nothing happened twice" is checked beside a control that does happen: the same
request under a new key adds a second milestone, posts a second event, sends a second
e-mail, so a duplicate would have been seen.
"""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from infra.mail_worker import running_worker
from models import IdempotencyKey
from server import mail_worker
from tests.support import PASSWORD, Api, RunningServer, Team, eventually, make_team, pk
from tests.support_deadlines import clock_at
from tests.support_idempotency import ADD, SEND, add, add_input, error_code, post, state
from tests.support_mail import Sink, all_sent, smtp_server, worker_settings


@pytest.fixture
async def team(api: Api) -> Team:
    return await make_team(api)


def new_key() -> str:
    return str(uuid.uuid4())


async def test_a_retried_add_milestone_adds_one_posts_one_event_and_sends_one_email(
    api: Api, server: RunningServer, team: Team
) -> None:
    key = new_key()
    sink = Sink()
    with smtp_server(sink) as controller:
        async with running_worker(mail_worker(worker_settings(server, controller.port))):
            first = await add(api, team.freelancer, team.project_id, "Audit", key)
            retries = [await add(api, team.freelancer, team.project_id, "Audit", key) for _ in "ab"]
            # The control: the same request under another key runs.
            control = await add(api, team.freelancer, team.project_id, "Audit", new_key())
            await eventually(lambda: all_sent(team.client.email, 2))

    assert first.status_code == 200 and first.json()["data"]["addMilestone"]["errors"] == []
    assert "idempotent-replayed" not in first.headers
    for retry in retries:
        assert (retry.status_code, retry.content) == (200, first.content)
        assert retry.headers["idempotent-replayed"] == "true"
        assert retry.headers["content-type"] == first.headers["content-type"]
    assert control.status_code == 200 and control.content != first.content
    titles, kinds = await state(api, team.client, team.project_id)
    assert titles["Audit"] == 2 and kinds["MILESTONE_ADDED"] == 2
    assert len(sink.to(team.client.email)) == 2


async def test_a_user_error_is_kept_like_any_answer(api: Api, team: Team) -> None:
    key = new_key()
    blank = add_input(team.project_id, "   ")
    first = await post(api, team.freelancer, ADD, blank, key)
    assert first.json()["data"]["addMilestone"]["errors"][0]["code"] == "BLANK"
    retry = await post(api, team.freelancer, ADD, blank, key)
    assert retry.content == first.content and retry.headers["idempotent-replayed"] == "true"


async def test_the_same_key_with_another_request_is_refused_and_changes_nothing(
    api: Api, team: Team
) -> None:
    key = new_key()
    assert (await add(api, team.freelancer, team.project_id, "Audit", key)).status_code == 200
    before = await state(api, team.client, team.project_id)
    other_variables = await add(api, team.freelancer, team.project_id, "Report", key)
    other_document = await post(
        api, team.freelancer, ADD.replace("dueDate", ""), add_input(team.project_id, "Audit"), key
    )
    for refused in (other_variables, other_document):
        assert refused.status_code == 422
        assert error_code(refused) == "IDEMPOTENCY_KEY_REUSED"
    assert await state(api, team.client, team.project_id) == before
    # The control: the refused request runs under a key of its own.
    assert (
        await add(api, team.freelancer, team.project_id, "Report", new_key())
    ).status_code == 200
    titles, _ = await state(api, team.client, team.project_id)
    assert titles["Report"] == 1


async def test_keys_are_per_user(api: Api, team: Team) -> None:
    """The client and the freelancer send the very same request with the same key: both run."""
    key = new_key()
    hello = {"input": {"projectId": team.project_id, "body": "Hello"}}
    by_client = await post(api, team.client, SEND, hello, key)
    by_freelancer = await post(api, team.freelancer, SEND, hello, key)
    for response in (by_client, by_freelancer):
        assert response.status_code == 200 and "idempotent-replayed" not in response.headers
    assert by_client.content != by_freelancer.content
    _, kinds = await state(api, team.client, team.project_id)
    assert kinds["MESSAGE"] == 2
    # Each user's own retry is the replay of their own request.
    again = await post(api, team.client, SEND, hello, key)
    assert again.content == by_client.content


async def test_a_key_is_kept_for_24_hours_then_forgotten_and_purged(
    api: Api, server: RunningServer, team: Team
) -> None:
    key = new_key()
    first = await add(api, team.freelancer, team.project_id, "Audit", key)
    real_now = dt.datetime.now(dt.UTC)
    # The server's clock (infra/clock.py, the in-process server's) moves a day and more on.
    with clock_at(real_now + dt.timedelta(hours=23, minutes=59)):
        replay = await add(api, team.freelancer, team.project_id, "Audit", key)
    assert replay.content == first.content and replay.headers["idempotent-replayed"] == "true"

    with clock_at(real_now + dt.timedelta(hours=24, seconds=5)):
        anew = await add(api, team.freelancer, team.project_id, "Audit", key)
    assert anew.status_code == 200 and "idempotent-replayed" not in anew.headers
    assert anew.content != first.content
    titles, _ = await state(api, team.client, team.project_id)
    assert titles["Audit"] == 2
    assert await IdempotencyKey.filter(user_id=pk(team.freelancer.id)).count() == 1

    # A day after the second run, the delivery worker's chore deletes the row.
    with clock_at(real_now + dt.timedelta(hours=48, seconds=10)), smtp_server(Sink()) as controller:
        async with running_worker(mail_worker(worker_settings(server, controller.port))):
            await eventually(
                lambda: _no_keys_of(pk(team.freelancer.id)),
            )


async def _no_keys_of(user_id: int) -> bool:
    return not await IdempotencyKey.filter(user_id=user_id).exists()


async def test_what_is_stored_is_hashed(api: Api, team: Team) -> None:
    key = f"key-{new_key()}"
    await add(api, team.freelancer, team.project_id, "Secret plan", key)
    [row] = await IdempotencyKey.filter(user_id=pk(team.freelancer.id))
    assert key not in row.key_hash and len(row.key_hash) == len(row.fingerprint) == 64
    assert "Secret plan" not in row.fingerprint


@pytest.mark.parametrize(
    ("header", "reason"),
    [
        ("", "empty"),
        ('""', "empty"),
        ("k" * 256, "longer than 255"),
        ("caf\u00e9", "printable ASCII"),
        ("tab\there", "printable ASCII"),
    ],
)
async def test_a_malformed_key_is_refused_with_400(
    api: Api, team: Team, header: str, reason: str
) -> None:
    response = await api.client.post(
        "/graphql",
        json={"query": ADD, "variables": add_input(team.project_id, "Audit")},
        headers=[
            ("Authorization", f"Bearer {team.freelancer.token}"),
            ("Idempotency-Key", header.encode("latin-1")),
        ],
    )
    assert response.status_code == 400
    assert reason in response.json()["errors"][0]["message"]
    titles, _ = await state(api, team.client, team.project_id)
    assert titles["Audit"] == 0


async def test_the_draft_s_quoted_form_and_the_bare_key_are_one_key(api: Api, team: Team) -> None:
    key = new_key()
    first = await add(api, team.freelancer, team.project_id, "Audit", f'"{key}"')
    retry = await add(api, team.freelancer, team.project_id, "Audit", key)
    assert retry.content == first.content and retry.headers["idempotent-replayed"] == "true"


async def test_queries_and_anonymous_callers_are_served_as_without_a_key(
    api: Api, team: Team
) -> None:
    key = new_key()
    query = "query { me { id } }"
    response = await post(api, team.freelancer, query, {}, key)
    assert response.json() == {"data": {"me": {"id": team.freelancer.id}}}
    # The same key then runs a mutation: the query kept nothing under it.
    assert (await add(api, team.freelancer, team.project_id, "Audit", key)).status_code == 200
    # Without a token the key is ignored: signUp runs again (and says the address is
    # taken) rather than replaying the session token it answered with.
    sign_up = """mutation($input: SignUpInput!) { signUp(input: $input) {
      errors { code } token } }"""
    email = f"anon-{new_key()}@example.com"
    body = {
        "query": sign_up,
        "variables": {
            "input": {"email": email, "password": PASSWORD, "name": "A", "role": "CLIENT"}
        },
    }
    headers = {"Idempotency-Key": key}
    first = await api.client.post("/graphql", json=body, headers=headers)
    again = await api.client.post("/graphql", json=body, headers=headers)
    assert first.json()["data"]["signUp"]["token"]
    assert again.json()["data"]["signUp"] == {"errors": [{"code": "TAKEN"}], "token": None}
    assert "idempotent-replayed" not in again.headers
