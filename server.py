"""The milestones API server: the ASGI app, and the command line that runs it.

python server.py [serve] [--host H] [--port P]   serve (schema migrated on start)
python server.py create-admin --email E --name N [--password-stdin]
                                            password from ADMIN_PASSWORD, else standard input
python server.py create-admin --email E --password P --name N   (visible in ps: avoid)
python server.py worker                     deliver e-mails only (no HTTP), until SIGINT/SIGTERM
milestones-api ...                          the same, as the installed console script
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import getpass
import math
import os
import signal
import sys
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

from starlette.applications import Starlette
from tortoise.contrib.starlette import RegisterTortoise

from frameworks import fast_paths
from frameworks.uvicorn import protocols
from infra import events, idempotency_store, links, logs
from infra.feeds import LocalFeeds
from infra.mail_worker import MailWorker, running_worker
from infra.redis_hub import RedisHub
from infra.secrets import server_secret
from infra.shutdown import GracefulServer
from infra.token_lifetime import Lifetime
from models.db import migrate_database, open_database, tortoise_config
from schema import document_cache, ids
from schema.executor import limit_response_bytes
from schema.schema import schema
from schema.tracing import tracing, tracing_available
from services import (
    acceptance,
    auto_acceptance,
    batches,
    chat,
    deadline_reminders,
    reminders,
    sessions,
    throttles,
)
from settings import SettingError, Settings
from web.app import Lifespan, edge_app
from web.http_protocol import DeadlineHttpProtocol
from web.probes import Readiness
from web.ws_protocol import LeanWebSocketsProtocol

# In-flight requests get their whole time budget (REQUEST_TIMEOUT_SECONDS) and this much more
# to finish when the process is told to stop (infra/shutdown.py).
SHUTDOWN_MARGIN_SECONDS = 5


# Allocations between young collections (CPython's default is 700).
GC_GEN0_THRESHOLD = 50_000


def tune_garbage_collector() -> None:
    """Keep the collector from stalling fan-out to thousands of long-lived subscriptions.

    Every open socket keeps a few hundred objects alive (its protocol, its paused handler
    chain, its live subscriptions' records). Sending one event to thousands of them allocates so much that CPython's
    default thresholds run collections over that whole heap many times per event: measured,
    that tripled the p99 delivery latency (docs/performance.md). Freezing what start-up
    allocated and collecting the young generation less often keeps the collector (needed for
    cycles) without those stalls.
    """
    gc.freeze()
    _, gen1, gen2 = gc.get_threshold()
    gc.set_threshold(GC_GEN0_THRESHOLD, gen1, gen2)


def event_hub(settings: Settings) -> events.EventHub:
    """Redis pub/sub between processes with REDIS_URL; otherwise events stay in this process."""
    feeds = LocalFeeds(chat.load_delivery, settings.chat_queue_size)
    return RedisHub(settings.redis_url, feeds) if settings.redis_url else events.InProcessHub(feeds)


def mail_worker(settings: Settings) -> MailWorker:
    """The e-mail delivery worker; its chores queue the reminders, batches and digests that
    fall due, accept the milestones left unanswered, and purge expired idempotency keys."""
    chores = [
        reminders.chore(settings),
        deadline_reminders.chore(settings),
        batches.chore(settings),
        idempotency_store.chore(),
    ]
    if accepting := auto_acceptance.chore(settings):
        chores.append(accepting)
    return MailWorker(settings, chores=chores)


def lifespan_of(settings: Settings, counted: throttles.Throttles, readiness: Readiness) -> Lifespan:
    """What the app starts before it serves, and stops after: the database, the process's
    services, and with MAIL_WORKER the delivery worker."""

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await migrate_database(settings.database_url)
        async with AsyncExitStack() as stack:
            await stack.enter_async_context(
                RegisterTortoise(app, config=tortoise_config(settings.database_url))
            )
            ids.use_key(settings.id_secret.encode() or await server_secret("global-ids"))
            await links.start(settings)
            tune_garbage_collector()
            await stack.enter_async_context(events.running_hub(event_hub(settings)))
            await stack.enter_async_context(throttles.running(counted))
            lifetime = Lifetime.from_days(settings.token_idle_days, settings.token_max_days)
            await stack.enter_async_context(sessions.running(lifetime))
            if settings.run_mail_worker:
                await stack.enter_async_context(running_worker(mail_worker(settings)))
            stack.enter_context(tracing(schema, settings.tracing))
            stack.push_async_callback(readiness.close)
            yield

    return lifespan


def create_app(settings: Settings | None = None) -> Starlette:
    """The ASGI app (web/app.py) with this process's lifespan; settings from the environment
    unless given."""
    settings = settings or Settings.from_env()
    fast_paths.configure(settings.fast_paths)  # each on only with the releases it was tested with
    # Built now, so that an unknown RATE_LIMITS name stops the server before it serves.
    counted = throttles.from_settings(settings)
    deadline_reminders.configure(settings)
    acceptance.configure(settings)
    if settings.tracing:
        tracing_available()  # stops the server now when the extra is missing
    limit_response_bytes(settings.max_response_bytes)
    document_cache.size_caches(settings.document_cache_mib)
    readiness = Readiness(settings.redis_url)
    return edge_app(settings, readiness, lifespan_of(settings, counted, readiness))


async def create_admin(settings: Settings, email: str, password: str, name: str) -> int:
    from models import Role
    from services.auth import create_user
    from services.errors import UserInputError

    async with open_database(settings.database_url):
        try:
            user = await create_user(
                email=email,
                password=password,
                name=name,
                role=Role.ADMIN,
                allowed_roles=(Role.ADMIN,),
            )
        except UserInputError as e:
            for error in e.errors:
                print(f"error: {error.message}", file=sys.stderr)
            return 1
    print(f"created admin {user.email}")
    return 0


async def run_worker(settings: Settings) -> int:
    """Deliver e-mails (and queue reminders) until SIGINT or SIGTERM, then stop cleanly: the
    e-mail in hand is finished or handed back, and the command exits with status 0."""
    worker = mail_worker(settings)
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        # Before the migration: a signal during it still ends in a clean stop, not a kill.
        loop.add_signal_handler(signum, worker.stop)
    async with open_database(settings.database_url):
        await links.start(settings)
        await worker.run()
    return 0


def serve(settings: Settings, host: str, port: int) -> int:
    """Serve until SIGTERM or SIGINT, then stop gracefully (infra/shutdown.py) and return 0."""
    import uvicorn

    config = uvicorn.Config(
        create_app(settings),
        host=host,
        port=port,
        log_level="info",
        log_config=logs.uvicorn_log_config(settings.log_format),
        # No permessage-deflate: chat events are small, and its state costs ~45 KiB per socket.
        ws_per_message_deflate=False,
        # uvicorn's own protocols, keeping less for each idle socket (web/ws_protocol.py),
        # with deadlines for slow heads and clients that never read (web/http_protocol.py);
        # uvicorn's unchanged where the fast path resting on them is off (frameworks/).
        **protocols(
            LeanWebSocketsProtocol,
            DeadlineHttpProtocol.with_deadlines(
                settings.header_timeout_seconds, settings.write_timeout_seconds
            ),
        ),
        # The app alone decides whose X-Forwarded-For to believe (TRUSTED_PROXIES); uvicorn
        # would otherwise let any process on this machine name the client's address.
        proxy_headers=False,
        # WebSocket messages are held whole too; none of ours comes near the body limit.
        ws_max_size=settings.max_body_bytes,
        timeout_graceful_shutdown=math.ceil(settings.request_timeout_seconds)
        + SHUTDOWN_MARGIN_SECONDS,
    )
    logs.filter_access_log()  # again: uvicorn has just configured its loggers
    GracefulServer(config, delay_seconds=settings.shutdown_delay_seconds).run()
    return 0


def admin_password(args: argparse.Namespace) -> str:
    """create-admin's password: --password, else ADMIN_PASSWORD, else a line of standard input.

    A password on the command line is readable by every local user (`ps`) and lands in
    shell history; the other two ways leave no trace.
    """
    if args.password is not None:
        print(
            "warning: --password is visible to other users and kept in shell history; "
            "prefer --password-stdin or ADMIN_PASSWORD",
            file=sys.stderr,
        )
        return str(args.password)
    if not args.password_stdin and os.environ.get("ADMIN_PASSWORD"):
        return os.environ["ADMIN_PASSWORD"]
    if sys.stdin.isatty():
        return getpass.getpass("Password: ")
    # One line, without its line break; spaces are part of the password.
    return sys.stdin.readline().rstrip("\r\n")


def main(argv: list[str] | None = None) -> int:
    # No fixed prog: help names the command as it was run (server.py or milestones-api).
    parser = argparse.ArgumentParser(description="The milestones API server.")
    parser.add_argument("--host", default="127.0.0.1", help="address to serve on")
    parser.add_argument("--port", type=int, default=8000, help="port to serve on")
    commands = parser.add_subparsers(dest="command")
    serve_command = commands.add_parser("serve", help="serve HTTP and WebSocket (the default)")
    for flag, kind in (("--host", str), ("--port", int)):
        # SUPPRESS: unset here, they leave the values given before `serve` (or the defaults).
        serve_command.add_argument(flag, type=kind, default=argparse.SUPPRESS)
    admin = commands.add_parser("create-admin", help="create an admin account and exit")
    admin.add_argument("--email", required=True)
    secret = admin.add_mutually_exclusive_group()
    secret.add_argument("--password", help="visible in ps and shell history: prefer the others")
    secret.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the password from standard input even when ADMIN_PASSWORD is set",
    )
    admin.add_argument("--name", required=True)
    commands.add_parser("worker", help="run only the e-mail delivery worker")
    args = parser.parse_args(argv)
    try:
        settings = Settings.from_env()
    except SettingError as e:
        # A misconfiguration is the operator's to fix: say which variable, not where in the code.
        print(f"error: {e}", file=sys.stderr)
        return 2
    logs.configure(settings.log_format)
    fast_paths.configure(settings.fast_paths)  # for every command (create_app checks again)

    if args.command == "create-admin":
        password = admin_password(args)
        return asyncio.run(create_admin(settings, args.email, password, args.name))
    if args.command == "worker":
        return asyncio.run(run_worker(settings))

    return serve(settings, args.host, args.port)


if __name__ == "__main__":
    sys.exit(main())
