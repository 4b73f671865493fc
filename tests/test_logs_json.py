"""LOG_FORMAT=json: `python server.py`'s whole output, read line by line as a log shipper
would: every line one JSON object, request ids followed from the request to its e-mail,
and no token or password anywhere."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.support import PASSWORD, eventually, future
from tests.support_processes import api_for, create_admin, make_team_with, server_process

JSON_LOGS = {"LOG_FORMAT": "json", "MAIL_WORKER": "1", "MAIL_POLL_SECONDS": "0.05"}
REQUEST_ID = "req-0b5e7v3d:milestone"
ADD = """mutation AddAudit($input: AddMilestoneInput!) {
  addMilestone(input: $input) { errors { code } milestone { id } } }"""


def log_lines(tmp: Path) -> list[dict[str, Any]]:
    lines = []
    for path in sorted(tmp.glob("*.log")):
        for text in path.read_text().splitlines():
            line = json.loads(text)  # fails the test on any line that is not JSON
            assert isinstance(line, dict), text
            lines.append(line)
    return lines


async def test_every_line_is_json_and_a_request_id_follows_its_email(tmp_path: Path) -> None:
    database_url = f"sqlite://{tmp_path / 'db.sqlite3'}"
    async with server_process(database_url, "", tmp_path, env=JSON_LOGS) as url:
        async with api_for(url) as api:
            admin = await create_admin(api, database_url, tmp_path)
            team = await make_team_with(api, admin)
            response = await api.client.post(
                "/graphql",
                json={
                    "query": ADD,
                    "operationName": "AddAudit",
                    "variables": {
                        "input": {
                            "projectId": team.project_id,
                            "title": "Audit",
                            "dueDate": future(5),
                        }
                    },
                },
                headers={
                    "Authorization": f"Bearer {team.freelancer.token}",
                    "X-Request-ID": REQUEST_ID,
                },
            )
            assert response.json()["data"]["addMilestone"]["errors"] == []
            assert response.headers["x-request-id"] == REQUEST_ID
            # A password sent the wrong way (a mutation in a GET query string) is refused,
            # and its URL logged without the query string.
            refused = await api.client.get(
                "/graphql",
                params={"query": f'mutation {{ logIn(input: {{password: "{PASSWORD}"}}) }}'},
            )
            assert refused.status_code == 405  # a mutation by GET (GraphQL over HTTP)
            await _until_sent(tmp_path, team.client.email)

    lines = log_lines(tmp_path)
    for line in lines:
        assert {"time", "level", "logger", "message"} <= line.keys(), line
    loggers = {line["logger"] for line in lines}
    assert {"uvicorn.error", "uvicorn.access", "milestones.mail"} <= loggers

    mine = [line for line in lines if line.get("request_id") == REQUEST_ID]
    [access] = [line for line in mine if line["logger"] == "uvicorn.access"]
    assert access["operation"] == "AddAudit"
    assert access["method"] == "POST" and access["path"] == "/graphql"
    assert access["status"] == 200 and access["duration_ms"] > 0
    assert access["user_id"] > 0
    [sent] = [line for line in mine if line["logger"] == "milestones.mail"]
    assert "sent by" in sent["message"] and team.client.email in sent["message"]

    whole = "\n".join(json.dumps(line) for line in lines)
    assert "/graphql" in whole and "logIn" not in whole
    for secret in (PASSWORD, admin.token, team.client.token, team.freelancer.token):
        assert secret not in whole


def _logged_as_sent(tmp: Path, address: str) -> bool:
    text = "\n".join(p.read_text() for p in tmp.glob("*.log"))
    return any(
        "sent by" in line and address in line and REQUEST_ID in line for line in text.splitlines()
    )


async def _until_sent(tmp: Path, address: str) -> None:
    """Until the worker has logged an e-mail to `address` as sent."""

    async def logged() -> bool:
        return _logged_as_sent(tmp, address)

    await eventually(logged)
