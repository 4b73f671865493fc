"""Global IDs cannot be guessed: knowing one ID does not let anyone write another that resolves.

The probe: user IDs were base64 of `User:<number>`, so a client forged the neighbours of one
ID it knew, called `createProject` with each and read `freelancer { email }` of every
project created. Out-of-range numbers in IDs and cursors gave "Internal error.".
"""

from __future__ import annotations

import base64
import os
import re
from pathlib import Path

import httpx
import pytest

from tests.support import PASSWORD, Api, future, make_team
from tests.support_processes import serving

CREATE = """
mutation($i: CreateProjectInput!) {
  createProject(input: $i) { errors { code field } project { id freelancer { email } } }
}
"""
NODE = "query($id: ID!) { node(id: $id) { id } }"


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _raw(global_id: str) -> bytes:
    return base64.urlsafe_b64decode(global_id + "=" * (-len(global_id) % 4))


def _neighbours(global_id: str) -> list[str]:
    """What the probe tried: decode, change the number, encode; with the rest kept or not."""
    raw = _raw(global_id)
    match = re.match(rb"([A-Za-z.]+):(\d+)(.*)", raw, re.DOTALL)
    assert match is not None, raw
    type_name, number, rest = match[1], int(match[2]), match[3]
    forged = []
    for n in (number - 1, number + 1, number + 2):
        body = type_name + b":" + str(n).encode()
        forged += [_b64(body), _b64(body + rest)]
    return forged


async def test_neighbours_of_a_known_user_id_name_nobody(api: Api) -> None:
    team = await make_team(api, unlocked=False)
    known = team.freelancer
    variables = {"title": "Probe", "completionDate": future(), "freelancerId": known.id}
    # Control: the ID the client was given works.
    created = await api.data(CREATE, {"i": variables}, token=team.client.token)
    assert created["createProject"]["errors"] == []
    assert created["createProject"]["project"]["freelancer"]["email"] == known.email

    for forged in _neighbours(known.id):
        result = await api.data(
            CREATE, {"i": {**variables, "freelancerId": forged}}, token=team.client.token
        )
        assert result["createProject"]["project"] is None
        assert result["createProject"]["errors"] == [{"code": "INVALID", "field": ["freelancerId"]}]
    # The forged numbers name real users (the client signed up just before, the outsider
    # just after), and their own IDs do reach them: only forging fails.
    assert _number(team.client.id) == _number(known.id) - 1
    assert _number(team.outsider.id) == _number(known.id) + 1
    real = await api.data(
        CREATE, {"i": {**variables, "freelancerId": team.outsider.id}}, token=team.client.token
    )
    assert real["createProject"]["project"]["freelancer"]["email"] == team.outsider.email


def _number(global_id: str) -> int:
    match = re.match(rb"User:(\d+)", _raw(global_id))
    assert match is not None, global_id
    return int(match[1])


async def test_forged_and_out_of_range_ids_are_not_found(api: Api) -> None:
    team = await make_team(api)
    token = team.client.token
    assert (await api.data(NODE, {"id": team.project_id}, token=token))["node"] is not None
    candidates = [
        *_neighbours(team.project_id),
        _b64(b"Project:999999999999999999999999999999"),
        _b64(b"Project:2147483648"),
        "not base64 at all!",
        "",
    ]
    for forged in candidates:
        body = await api.post(NODE, {"id": forged}, token=token)
        assert body["data"] == {"node": None}, forged
        assert [e["extensions"]["code"] for e in body["errors"]] == ["NOT_FOUND"], forged


async def test_forged_cursors_are_bad_input(api: Api) -> None:
    team = await make_team(api)
    page = """query($p: ID!, $after: String) {
      project(id: $p) { chat(first: 5, after: $after) { edges { cursor } } }
    }"""
    token = team.client.token
    await api.data(
        'mutation($p: ID!) { sendChatMessage(input: {projectId: $p, body: "hi"}) { errors { code } } }',
        {"p": team.project_id},
        token=token,
    )
    edges = (await api.data(page, {"p": team.project_id}, token=token))["project"]["chat"]["edges"]
    real = edges[0]["cursor"]
    assert (await api.post(page, {"p": team.project_id, "after": real}, token=token)).get(
        "errors"
    ) is None
    for forged in [*_neighbours(real), _b64(b"cursor.chat:99999999999999999999")]:
        body = await api.post(page, {"p": team.project_id, "after": forged}, token=token)
        assert [e["extensions"]["code"] for e in body["errors"]] == ["BAD_USER_INPUT"], forged


@pytest.mark.long
def test_without_a_configured_key_the_database_keeps_one(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "ID_SECRET"}
    env |= {"DATABASE_URL": f"sqlite://{tmp_path / 'db.sqlite3'}", "MAIL_WORKER": "0"}
    env |= {"MAIL_DIR": str(tmp_path / "mail")}
    sign_up = "mutation($i: SignUpInput!) { signUp(input: $i) { token user { id } } }"
    account = {"email": "ida@example.com", "password": PASSWORD, "name": "Ida", "role": "CLIENT"}
    with serving(env, tmp_path) as url:
        answer = httpx.post(
            f"{url}/graphql", json={"query": sign_up, "variables": {"i": account}}
        ).json()
    token, user_id = answer["data"]["signUp"]["token"], answer["data"]["signUp"]["user"]["id"]
    # A restarted process (or a second one on the same database) reads the same key.
    with serving(env, tmp_path) as url:
        node = httpx.post(
            f"{url}/graphql",
            json={"query": NODE, "variables": {"id": user_id}},
            headers={"Authorization": f"Bearer {token}"},
        ).json()
        me = httpx.post(
            f"{url}/graphql",
            json={"query": "{ me { id } }"},
            headers={"Authorization": f"Bearer {token}"},
        ).json()
    assert node["data"]["node"] == {"id": user_id}
    assert me["data"]["me"] == {"id": user_id}
