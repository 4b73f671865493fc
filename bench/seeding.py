"""A team made through the API as people make one (a client and a freelancer sign up, the
client creates a project, the admin records the payment and unlocks it): the start of the
benchmarks that subscribe and write.
"""

from __future__ import annotations

import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.support import PASSWORD
from tests.support_processes import run_create_admin

# (document, variables, bearer token or "", payload field) -> that field of the answer.
# A benchmark's own caller decides what an error does: seeding cannot go on after one.
Call = Callable[[str, dict[str, Any] | None, str, str], Awaitable[dict[str, Any]]]

SIGN_UP = """mutation($input: SignUpInput!) {
  signUp(input: $input) { errors { code field message } token user { id } } }"""
LOG_IN = """mutation($input: LogInInput!) {
  logIn(input: $input) { errors { code field message } token } }"""
CREATE_PROJECT = """mutation($input: CreateProjectInput!) {
  createProject(input: $input) { errors { code field message } project { id } } }"""
RECORD_PAYMENT = """mutation($input: ProjectRefInput!) {
  recordInitialPayment(input: $input) { errors { code field message } } }"""
UNLOCK = """mutation($input: ProjectRefInput!) {
  unlockMilestones(input: $input) { errors { code field message } } }"""
ROLES = ("CLIENT", "FREELANCER")


@dataclass
class Team:
    """Bearer tokens and e-mail addresses of a project's two members, and the project."""

    client: str
    freelancer: str
    client_email: str
    freelancer_email: str
    project_id: str


async def create_admin(env: dict[str, str], email: str, name: str) -> None:
    """`server.py create-admin` with the server's environment, as an operator runs it."""
    status, output = await run_create_admin(env, email, name)
    if status != 0:
        raise RuntimeError(f"create-admin failed: {output}")


async def log_in(call: Call, email: str) -> str:
    logged = await call(LOG_IN, {"input": {"email": email, "password": PASSWORD}}, "", "logIn")
    return str(logged["token"])


async def make_team(
    call: Call, admin: str, tag: str, project: dict[str, Any], names: str = ""
) -> Team:
    """Two members signed up as `<tag>-<role>@example.com` (named "Client<names>",
    "Freelancer<names>") and their project (`project`: CreateProjectInput without the
    freelancer), paid and unlocked by `admin`."""
    signed = {}
    for role in ROLES:
        email = f"{tag}-{role.lower()}@example.com"
        account = {"email": email, "password": PASSWORD, "name": role.title() + names}
        answer = await call(SIGN_UP, {"input": {**account, "role": role}}, "", "signUp")
        signed[role] = (str(answer["token"]), str(answer["user"]["id"]), email)
    (client, _, client_email), (freelancer, freelancer_id, freelancer_email) = signed.values()
    created = await call(
        CREATE_PROJECT, {"input": {**project, "freelancerId": freelancer_id}}, client,
        "createProject",
    )  # fmt: skip
    ref = {"input": {"projectId": created["project"]["id"]}}
    await call(RECORD_PAYMENT, ref, admin, "recordInitialPayment")
    await call(UNLOCK, ref, admin, "unlockMilestones")
    return Team(client, freelancer, client_email, freelancer_email, created["project"]["id"])


async def more_log_ins(call: Call, team: Team, count: int) -> list[str]:
    """`count` more tokens, the client and the freelancer logging in again in turn."""
    emails = (team.client_email, team.freelancer_email)
    return [await log_in(call, emails[n % 2]) for n in range(count)]
