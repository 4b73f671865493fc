"""Soak run (run by hand, not a test): the server as an operator runs it, under a steady mixed
load for a bounded time, checking that live chat loses, repeats and reorders nothing and
that memory stays flat.

    .venv/bin/python bench/soak.py [--minutes 10] [--subscribers 500] [--projects 10]
        [--database-url postgres://user@host:5432/postgres] [--redis-url redis://host:6379/0]
        [--server-log FILE] [--seed 1]

What it does, all on 127.0.0.1:

1. Starts `python server.py` as a subprocess with a temporary SQLite database (or, with
   --database-url, a fresh PostgreSQL database created beside the one given and dropped
   after), REDIS_URL only if --redis-url is given, MAIL_DIR in a temporary folder and the
   mail worker on. The admin is made with `server.py create-admin` (ADMIN_PASSWORD).
2. Seeds through the API: per project a client and a freelancer sign up, the client
   creates the project, the admin records the payment and unlocks it; 10 milestones and 10
   chat messages; two more log-ins per project, so that subscribers use five distinct
   tokens per project (client, freelancer, their second log-ins, the admin).
3. Opens --subscribers WebSocket connections (graphql-transport-ws, one `chatEvents`
   subscription each, spread evenly over the projects) and sends one chat message per
   project that every subscriber of that project must receive: the events from that
   message on are what each subscriber must see.
4. For --minutes, a steady load at fixed rates, each well inside the default rate limits
   (services/throttles.py) so that nothing is refused for going too fast:
   - `project { milestones chat(last: 20) }`, once a second per project, by its members
     and the admin in turn;
   - `projects(first: 20)`, twice a second, by every user in turn;
   - one chat message every 5 s per project, the client and the freelancer taking turns
     (one message per user every 10 s: chat_burst allows 30 per 10 s, chat_steady 600 an
     hour, i.e. one per 6 s);
   - one milestone change every 6 s per project by its freelancer, add, edit, tick, untick
     or delete, keeping 8 to 40 milestones (10 a minute: milestones_burst allows 100 a
     minute; 100 per 10 minutes: milestones_daily allows 1,000 a day).
   The server's VmRSS (/proc/<pid>/status) is read every 10 s.
5. Stops the load, waits for the last events to arrive, reads every project's chat back
   through the API and compares each subscriber's ChatMessage ids with it: lost, repeated,
   out of order, and ids that do not belong. Waits for the mail worker to write the
   expected e-mails (one per unlock and per milestone change), closes the sockets and
   stops the server with SIGTERM.

Errors of every kind are counted: HTTP statuses other than 200, transport failures,
GraphQL errors (by extensions.code), user errors in mutation payloads, `error` or
`complete` messages on a subscription, sockets the server closed, ERROR lines in the
server's log, missing e-mails, and a server that does not exit cleanly. The exit status is
1 if anything was lost, repeated, reordered or errored, or if the server's RSS grew by more
than 10 % between the warm-up sample (after the first minute) and the end; 130 if the run
was interrupted (Ctrl-C or SIGTERM; the server is stopped either way).

The load generator is this one asyncio process; it prints its own CPU use and how late its
event loop ran, next to the server's CPU, so a reader can see it was not the bottleneck.
With --redis-url, rate-limit counts live in Redis and are keyed by user id, which a fresh
database numbers from 1 again: successive runs against the same Redis share the per-day
milestone budget (about 100 changes per freelancer per 10-minute run, 1,000 a day).

Its parts, one job each: bench/soak_plan.py (rates and documents), soak_api.py (requests
and errors counted), soak_projects.py (seeding and milestone changes), soak_subscribers.py,
soak_load.py (the paced load and the RSS monitor), soak_drive.py (the run), soak_checks.py
and soak_report.py (the verdict).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shutil
import signal
import sys
import tempfile
import uuid
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.measures import raise_open_files_limit
from bench.seeding import create_admin
from bench.servers import ServerError, database, server_process
from bench.soak_api import Api, ApiError, Stats
from bench.soak_drive import Plan, drive
from bench.soak_plan import WARM_UP
from bench.soak_report import report


def server_env(database_url: str, redis_url: str, mail_dir: Path) -> dict[str, str]:
    env = {**os.environ, "DATABASE_URL": database_url, "MAIL_DIR": str(mail_dir)}
    env["MAIL_WORKER"] = "1"
    env.pop("REDIS_URL", None)
    env.pop("ADMIN_PASSWORD", None)
    if redis_url:
        env["REDIS_URL"] = redis_url
    return env


async def soak(args: argparse.Namespace, tmp: Path) -> int:
    # SIGTERM, like Ctrl-C, ends the run through the same clean-up: the server is stopped.
    main_task = asyncio.current_task()
    assert main_task is not None
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, main_task.cancel)
    stats = Stats()
    duration = args.minutes * 60
    plan = Plan(args.projects, args.subscribers, duration, min(WARM_UP, duration / 2))
    mail_dir, log = tmp / "mail", tmp / "server.log"
    stopped: dict[str, Any] = {}
    backend = "PostgreSQL" if args.database_url.startswith("postgres") else "SQLite"
    hub = "Redis" if args.redis_url else "in-process"
    print(
        f"Soak run: {args.minutes:g} min, {args.subscribers} subscribers over {args.projects}"
        f" projects, {backend}, {hub} events, mail worker on",
        flush=True,
    )
    async with database(args.database_url, tmp, "soak.sqlite3") as database_url:
        env = server_env(database_url, args.redis_url, mail_dir)
        admin_email = f"soak-admin-{uuid.uuid4().hex[:8]}@example.com"
        await create_admin(env, admin_email, "Soak Admin")
        try:
            async with (
                server_process(env, log, stopped) as (server, url),
                httpx.AsyncClient(base_url=url, timeout=30) as http,
            ):
                api, rng = Api(http, stats), random.Random(args.seed)
                result = await drive(plan, api, rng, server, url, admin_email, mail_dir)
        finally:
            if args.server_log and log.exists():
                shutil.copyfile(log, args.server_log)
    return report(stats, result, stopped, log, plan.warm_up)


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--minutes", type=float, default=10.0, help="length of the load")
    parser.add_argument("--subscribers", type=int, default=500)
    parser.add_argument("--projects", type=int, default=10)
    parser.add_argument(
        "--database-url", default="", help="postgres://… (a fresh database is made beside it)"
    )
    parser.add_argument("--redis-url", default="")
    parser.add_argument("--server-log", default="", help="keep the server's log in this file")
    parser.add_argument("--seed", type=int, default=1, help="of the random choices")
    args = parser.parse_args()
    if args.minutes <= 0 or args.subscribers < args.projects or args.projects < 1:
        parser.error("need --minutes > 0 and --subscribers >= --projects >= 1")
    return args


def main() -> int:
    args = arguments()
    raise_open_files_limit()  # the server inherits it too
    with tempfile.TemporaryDirectory(prefix="soak-") as tmp:
        try:
            return asyncio.run(soak(args, Path(tmp)))
        except (ApiError, ServerError) as e:
            print(f"RESULT: FAIL: {e}", file=sys.stderr)
            return 1
        except (KeyboardInterrupt, asyncio.CancelledError):
            print("RESULT: interrupted", file=sys.stderr)
            return 130


if __name__ == "__main__":
    sys.exit(main())
