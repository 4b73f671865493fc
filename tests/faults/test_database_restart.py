"""PostgreSQL restarted under load: requests fail fast while it is down, and everything comes
back by itself once it is up, without restarting the server.

The database is a private PostgreSQL cluster made for these tests (`initdb`, then `pg_ctl`
on a free port, its socket in a temporary directory), never the shared server of
TEST_DATABASE_URL, so that it can be stopped as an operator or a crash would stop it. The
cluster is made once for the module (`initdb` takes seconds); each test gets it running,
with a fresh database of its own. The tests fail, rather than skip, when the PostgreSQL
server programs are not installed.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable
from pathlib import Path
from typing import TypeVar

import httpx
import pytest

from schema import ids
from tests.support import TEST_ID_SECRET, Account, free_port, fresh_postgres_database
from tests.support_processes import api_for, create_admin, make_team_with, server_process
from tests.support_ws import WsClient, drain, until_live, ws_url

# One worker runs both tests, so that the cluster is made once.
pytestmark = pytest.mark.xdist_group("private-postgres")
T = TypeVar("T")
# Every answer while the database is down, and the first ones after, come within this.
FAST = 3.0
PROJECT = "query($id: ID!) { project(id: $id) { title milestones { title } } }"
UNHEALTHY = {"status": "unavailable"}
LOG_IN = 'mutation { logIn(input: {email: "no@example.com", password: "a password"}) { token } }'


@pytest.fixture(autouse=True)
def id_key() -> None:
    """Read the processes' global IDs (signed with the suite's key) without a server here."""
    ids.use_key(TEST_ID_SECRET.encode())


def postgres_programs() -> Path:
    """The folder holding `initdb` and `pg_ctl`: on PATH, else where `pg_config` says."""
    folders = [Path(found).parent for found in [shutil.which("pg_ctl")] if found]
    if pg_config := shutil.which("pg_config"):
        bindir = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True)
        folders.append(Path(bindir.stdout.strip()))
    for folder in folders:
        if (folder / "initdb").exists() and (folder / "pg_ctl").exists():
            return folder
    pytest.fail(
        "PostgreSQL server programs (initdb, pg_ctl) not found on PATH nor in "
        "`pg_config --bindir`: install the PostgreSQL server to run this test"
    )


class PrivatePostgres:
    """A throwaway PostgreSQL cluster that can be stopped and started again on its port."""

    def __init__(self, directory: Path) -> None:
        self.programs = postgres_programs()
        self.directory = directory
        self.port = free_port()
        self.admin_url = f"postgres://postgres@127.0.0.1:{self.port}/postgres"
        # The database the current test's server uses (see the `postgres` fixture).
        self.url = self.admin_url
        # PostgreSQL refuses to run as root: then it runs as the `postgres` account.
        self.user: str | None = None
        if os.geteuid() == 0:
            try:
                account = pwd.getpwnam("postgres")
            except KeyError:
                pytest.fail("run the tests as a user other than root, or add a postgres user")
            self.user = "postgres"
            os.chown(directory, account.pw_uid, account.pw_gid)

    async def pg(self, program: str, *args: str, check: bool = True) -> int:
        done = await asyncio.to_thread(
            subprocess.run,
            [str(self.programs / program), *args],
            user=self.user,
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert done.returncode == 0 or not check, f"{program} {args}: {done.stdout}{done.stderr}"
        return done.returncode

    async def create(self) -> None:
        data = str(self.directory / "data")
        await self.pg("initdb", "-D", data, "-U", "postgres", "-A", "trust", "--no-sync")

    async def start(self) -> None:
        options = f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1 -c fsync=off"
        log = str(self.directory / "postgres.log")
        await self.pg(
            "pg_ctl", "-D", str(self.directory / "data"), "-l", log, "-w", "-o", options, "start"
        )

    async def stop(self) -> None:
        # Fast: what a restart by an operator or a supervisor does; clients are cut off.
        await self.pg("pg_ctl", "-D", str(self.directory / "data"), "-m", "fast", "-w", "stop")

    async def ensure_running(self) -> None:
        """Running and answering again, whatever a test before left it in."""
        with contextlib.suppress(OSError):  # not running
            self.signal_all(signal.SIGCONT)
        if await self.pg("pg_ctl", "-D", str(self.directory / "data"), "status", check=False):
            await self.start()

    def signal_all(self, signum: int) -> None:
        """Signal the server and every backend (each is a session of its own, hence /proc)."""
        postmaster = (self.directory / "data" / "postmaster.pid").read_text().split()[0]
        for status in Path("/proc").glob("[0-9]*/status"):
            with contextlib.suppress(OSError):  # gone meanwhile
                if f"\nPPid:\t{postmaster}\n" in status.read_text():
                    os.kill(int(status.parent.name), signum)
        os.kill(int(postmaster), signum)


@contextlib.asynccontextmanager
async def private_postgres() -> AsyncIterator[PrivatePostgres]:
    # A short path of its own: the socket's path must fit in 107 bytes.
    directory = Path(tempfile.mkdtemp(prefix="pg-"))
    try:
        postgres = PrivatePostgres(directory)
        await postgres.create()
        await postgres.start()
        try:
            yield postgres
        finally:
            with contextlib.suppress(OSError):  # not running
                postgres.signal_all(signal.SIGCONT)  # a frozen one would never stop
            with contextlib.suppress(AssertionError):  # already stopped
                await postgres.stop()
    finally:
        shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture(scope="module")
async def cluster() -> AsyncIterator[PrivatePostgres]:
    async with private_postgres() as postgres:
        yield postgres


@pytest.fixture
async def postgres(cluster: PrivatePostgres) -> AsyncIterator[PrivatePostgres]:
    """The module's cluster, running, its `url` naming a fresh database for this test."""
    await cluster.ensure_running()
    async with fresh_postgres_database(cluster.admin_url) as url:
        cluster.url = url
        try:
            yield cluster
        finally:
            cluster.url = cluster.admin_url
            await cluster.ensure_running()  # to drop the database


class Load:
    """Readers asking for a project in a loop, each answer timed: users during the restart."""

    def __init__(self, client: httpx.AsyncClient, reader: Account, project_id: str) -> None:
        self.client, self.reader, self.project_id = client, reader, project_id
        # (started, seconds taken, outcome) of every request.
        self.answers: list[tuple[float, float, str]] = []
        self.stopping = asyncio.Event()

    async def read(self) -> str:
        response = await self.client.post(
            "/graphql",
            json={"query": PROJECT, "variables": {"id": self.project_id}},
            headers={"Authorization": f"Bearer {self.reader.token}"},
        )
        return outcome(response)

    async def burst(self, count: int = 12) -> set[str]:
        """The outcomes of `count` reads at once: more than the pool has connections."""
        return set(await asyncio.gather(*(self.read() for _ in range(count))))

    async def reader_loop(self) -> None:
        while not self.stopping.is_set():
            started = time.monotonic()
            result = await self.read()
            self.answers.append((started, time.monotonic() - started, result))
            await asyncio.sleep(0.02)

    @contextlib.asynccontextmanager
    async def running(self, readers: int) -> AsyncIterator[Load]:
        tasks = [asyncio.create_task(self.reader_loop()) for _ in range(readers)]
        try:
            yield self
        finally:
            self.stopping.set()
            await asyncio.gather(*tasks)


def outcome(response: httpx.Response) -> str:
    """ "ok", or how the request failed: "unavailable" (503) or "masked" (GraphQL error)."""
    body = response.json()
    if response.status_code == 503:
        assert body["errors"][0]["extensions"]["code"] == "SERVICE_UNAVAILABLE", body
        return "unavailable"
    assert response.status_code == 200, response.text
    if body.get("errors"):
        assert [e["message"] for e in body["errors"]] == ["Internal error."], body
        return "masked"
    return "ok"


async def timed(request: Awaitable[T]) -> tuple[T, float]:
    started = time.monotonic()
    answer = await request
    return answer, time.monotonic() - started


def written(mail_dir: Path, kind: str, address: str) -> bool:
    """Whether the worker has written an e-mail of `kind` to `address` under MAIL_DIR."""
    return any(address in p.read_text() for p in mail_dir.glob(f"*-{kind}.eml"))


async def mail_to(mail_dir: Path, kind: str, address: str, within: float = 15) -> None:
    deadline = time.monotonic() + within
    while not written(mail_dir, kind, address):
        assert time.monotonic() < deadline, f"no {kind} e-mail to {address}"
        await asyncio.sleep(0.1)


def server_log(tmp_path: Path) -> Path:
    return next(tmp_path.glob("server-*.log"))


async def test_requests_fail_fast_while_postgres_restarts_and_everything_comes_back(
    tmp_path: Path, postgres: PrivatePostgres
) -> None:
    mail = tmp_path / "mail"
    fast_worker = {
        "MAIL_WORKER": "1",
        "MAIL_POLL_SECONDS": "0.1",
        "MILESTONE_REMINDER_DELAY_SECONDS": "2",
        "MILESTONE_REMINDER_CHECK_SECONDS": "0.2",
    }
    async with (
        server_process(postgres.url, "", tmp_path, env=fast_worker) as url,
        api_for(url) as api,
    ):
        admin = await create_admin(api, postgres.url, tmp_path)
        team = await make_team_with(api, admin)
        await mail_to(mail, "milestones_unlocked", team.freelancer.email)  # the worker works
        async with WsClient.open(ws_url(url), team.client.token) as subscriber:
            op = await subscriber.subscribe(team.project_id)
            await until_live(subscriber, api, team)
            await drain(subscriber, op)
            load = Load(api.client, team.client, team.project_id)
            # Every pooled connection in use once, so that each has to survive the restart.
            assert await load.burst() == {"ok"}
            # Its reminder falls due while the database is down.
            waiting = await make_team_with(api, admin)
            await restart_under(load, postgres)

            # The subscriber connected before the outage gets the next change on its socket.
            added = await api.add_milestone(team.freelancer, team.project_id, "After the restart")
            event = await subscriber.event(op)
            assert (event["kind"], event["milestone"]["id"]) == (
                "MILESTONE_ADDED",
                added["milestone"]["id"],
            )
        await mail_to(mail, "milestone_added", team.client.email)
        await mail_to(mail, "milestone_reminder", waiting.freelancer.email)
        text = server_log(tmp_path).read_text()
        assert "health check: database unreachable" in text
        assert "health check: database reachable again" in text
        assert "Exception in ASGI application" not in text  # every failure was handled


async def restart_under(load: Load, postgres: PrivatePostgres) -> None:
    """Stop PostgreSQL while `load` reads, start it again: fast failures, then full service."""
    client = load.client
    async with load.running(readers=4):
        await asyncio.sleep(0.3)
        await postgres.stop()
        down_at = time.monotonic()
        health, took = await timed(client.get("/healthz"))
        assert (health.status_code, health.json(), took < FAST) == (503, UNHEALTHY, True)
        anonymous, took = await timed(client.post("/graphql", json={"query": LOG_IN}))
        assert (outcome(anonymous), took < FAST) == ("masked", True)
        await asyncio.sleep(2.5)  # longer than the reminder delay
        starting_at = time.monotonic()
        await postgres.start()
        up_at = time.monotonic()
        health, took = await timed(client.get("/healthz"))
        assert (health.status_code, took < FAST) == (200, True)
        # The first requests after the restart succeed: no dead connection is reused.
        assert await load.burst() == {"ok"}
        await asyncio.sleep(0.3)
    assert all(took < FAST for _, took, _ in load.answers), max(load.answers)
    during = {r for started, took, r in load.answers if down_at < started < starting_at - took}
    assert during and during <= {"unavailable", "masked"}, during
    after = {result for started, _, result in load.answers if started > up_at}
    assert after == {"ok"}, after


async def test_a_database_that_stops_answering_is_given_up_on_in_seconds(
    tmp_path: Path, postgres: PrivatePostgres
) -> None:
    # The operator's own bounds, in the URL, win over the defaults.
    bounded = f"{postgres.url}?timeout=1&command_timeout=1"
    async with server_process(bounded, "", tmp_path) as url, api_for(url) as api:
        reader, freelancer = await api.sign_up("CLIENT"), await api.sign_up("FREELANCER")
        load = Load(api.client, reader, await api.create_project(reader, freelancer))
        assert await load.burst() == {"ok"}
        postgres.signal_all(signal.SIGSTOP)  # accepts connections, never answers
        try:
            (health, health_took), (read, read_took) = await asyncio.gather(
                timed(api.client.get("/healthz")), timed(load.read())
            )
        finally:
            postgres.signal_all(signal.SIGCONT)
        assert (health.status_code, health_took < FAST) == (503, True)
        assert (read, read_took < FAST) == ("unavailable", True)
        assert await load.burst() == {"ok"}
