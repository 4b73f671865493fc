"""Bulk rows for bench/scale.py: users, sessions, projects, milestones and chat, straight
into tables the server's migrations created (SQLite executemany, PostgreSQL COPY).

The bench client's projects are spread evenly through the id range (as a real user's are,
among everyone else's), so their rows sit among the others' in every table and index.
Every other project belongs to a handful of heavy clients and freelancers (80 %) or to
one of many light users. Unlock reminders are marked decided, as on a database in use, so
the server's reminder chore finds nothing to do.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import random
import secrets
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import asyncpg
from argon2 import PasswordHasher

Row = tuple[Any, ...]

COLUMNS: dict[str, tuple[str, ...]] = {
    "users": ("id", "email", "name", "role", "password_hash", "created_at", "milestone_emails",
              "reminder_emails", "time_zone", "milestone_emails_version", "reminder_emails_version"),
    "access_token": ("id", "user_id", "token_hash", "created_at", "last_used_at"),
    "project": ("id", "title", "description", "client_id", "freelancer_id", "completion_date",
                "initial_payment_required", "initial_payment_completed_at",
                "milestones_unlocked_at", "milestone_reminder_queued_at", "created_at", "time_zone"),
    "milestone": ("id", "project_id", "title", "description", "due_date", "completed_at",
                  "completed_by_id", "created_at", "updated_at", "sequence"),
    "chat_message": ("id", "project_id", "kind", "body", "author_id", "actor_id",
                     "milestone_id", "changes", "created_at"),
}  # fmt: skip

ADMIN, BENCH_CLIENT, BENCH_FREELANCER = 1, 2, 3
HEAVY_SHARE = 0.8
PASSWORD = "correct horse battery"


@dataclass(frozen=True, slots=True)
class Shape:
    projects: int
    bench_projects: int = 60
    milestones: int = 20
    messages: int = 50
    heavy_users: int = 5  # heavy clients, and as many heavy freelancers
    light_users: int = 500  # light clients, and as many light freelancers
    extra_tokens: int = 20_000

    @property
    def users(self) -> int:
        return 3 + 2 * self.heavy_users + 2 * self.light_users

    def is_bench(self, project_id: int) -> bool:
        step = self.projects // self.bench_projects
        return project_id % step == 0 and project_id // step <= self.bench_projects


@dataclass(frozen=True, slots=True)
class Seeded:
    client_token: str
    freelancer_token: str


class Rows:
    """Every row of every table, generated lazily and always the same for one shape."""

    def __init__(self, shape: Shape, now: dt.datetime) -> None:
        self.shape, self.now = shape, now
        self.client_token = secrets.token_urlsafe(32)
        self.freelancer_token = secrets.token_urlsafe(32)
        # One real hash (the server's parameters) for everyone: hashing is slow by design.
        hasher = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
        self.password_hash = hasher.hash(PASSWORD)

    def _ago(self, days: float) -> dt.datetime:
        return self.now - dt.timedelta(days=days)

    def users(self) -> Iterator[Row]:
        s = self.shape
        # Every notification at once (the default); no unsubscribe link revoked yet.
        settings = ("IMMEDIATE", True, "UTC", 0, 0)
        yield (ADMIN, "admin@example.com", "Admin", "ADMIN", self.password_hash, self._ago(400),
               *settings)  # fmt: skip
        yield (BENCH_CLIENT, "bench.client@example.com", "Bench Client", "CLIENT",
               self.password_hash, self._ago(400), *settings)  # fmt: skip
        yield (BENCH_FREELANCER, "bench.freelancer@example.com", "Bench Freelancer",
               "FREELANCER", self.password_hash, self._ago(400), *settings)  # fmt: skip
        for n in range(4, s.users + 1):
            role = "CLIENT" if n % 2 == 0 else "FREELANCER"
            yield (n, f"user{n}@example.com", f"User {n}", role, self.password_hash,
                   self._ago(300), *settings)  # fmt: skip

    def tokens(self) -> Iterator[Row]:
        fresh = self._ago(0.01)
        yield (1, BENCH_CLIENT, sha256(self.client_token), self._ago(5), fresh)
        yield (2, BENCH_FREELANCER, sha256(self.freelancer_token), self._ago(5), fresh)
        for n in range(self.shape.extra_tokens):
            user_id = 1 + n % self.shape.users
            yield (n + 3, user_id, sha256(f"filler-{n}"), self._ago(n % 80), self._ago(n % 20))

    def members(self, project_id: int, rng: random.Random) -> tuple[int, int]:
        """(client, freelancer) of a project: odd user ids are freelancers, even clients."""
        s = self.shape
        if s.is_bench(project_id):
            return BENCH_CLIENT, BENCH_FREELANCER
        if rng.random() < HEAVY_SHARE:
            pick = 4 + 2 * rng.randrange(s.heavy_users)
        else:
            pick = 4 + 2 * (s.heavy_users + rng.randrange(s.light_users))
        return pick, pick + 1

    def projects(self) -> Iterator[Row]:
        rng = random.Random(1)
        for pid in range(1, self.shape.projects + 1):
            client, freelancer = self.members(pid, rng)
            created = self._ago(365 * (1 - pid / self.shape.projects) + 3)
            unlocked = created + dt.timedelta(days=1)
            yield (pid, f"Project {pid}: churn model audit", "Audit the churn model.", client,
                   freelancer, (created + dt.timedelta(days=200)).date(), True, unlocked,
                   unlocked, unlocked + dt.timedelta(days=2), created, "UTC")  # fmt: skip

    def milestones(self) -> Iterator[Row]:
        s, mid = self.shape, 0
        for pid, _, _, _, freelancer, *_, created, _zone in self.projects():
            for n in range(s.milestones):
                mid += 1
                done = created + dt.timedelta(days=2 + n) if n < 5 else None
                yield (mid, pid, f"Milestone {n + 1}", f"Deliverable {n + 1} of the audit.",
                       (created + dt.timedelta(days=10 + 9 * n)).date(), done,
                       freelancer if done else None, created + dt.timedelta(days=1, minutes=n),
                       done or created + dt.timedelta(days=1, minutes=n), 0)  # fmt: skip

    def chat(self) -> Iterator[Row]:
        s, cid = self.shape, 0
        for pid, _, _, client, freelancer, *_, created, _zone in self.projects():
            first_milestone = (pid - 1) * s.milestones + 1
            for n in range(s.messages):
                cid += 1
                at = created + dt.timedelta(days=1, minutes=n)
                if n == 0:
                    row = ("MILESTONES_UNLOCKED", "Milestones unlocked.", None, ADMIN, None)
                elif n <= s.milestones:
                    row = ("MILESTONE_ADDED", f"Added Milestone {n}", None, freelancer,
                           first_milestone + n - 1)  # fmt: skip
                else:
                    who = client if n % 2 else freelancer
                    row = ("MESSAGE", f"Message {n}: how is the audit going?", who, who, None)
                yield (cid, pid, *row, "[]", at)

    def tables(self) -> dict[str, Iterator[Row]]:
        return {
            "users": self.users(),
            "access_token": self.tokens(),
            "project": self.projects(),
            "milestone": self.milestones(),
            "chat_message": self.chat(),
        }


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _sqlite_value(value: Any) -> Any:
    """As Tortoise stores it in SQLite: timestamps and dates as ISO text, booleans as 0/1."""
    if isinstance(value, dt.datetime | dt.date):
        return str(value)
    if isinstance(value, bool):
        return int(value)
    return value


def seed_sqlite(path: str, shape: Shape) -> Seeded:
    rows = Rows(shape, dt.datetime.now(dt.UTC))
    db = sqlite3.connect(path)
    try:
        db.execute("PRAGMA synchronous=OFF")  # a throw-away database: no fsync per batch
        with db:
            for table, generated in rows.tables().items():
                cols = COLUMNS[table]
                sql = f'INSERT INTO "{table}" ({", ".join(cols)}) VALUES ({", ".join("?" * len(cols))})'
                db.executemany(sql, (tuple(map(_sqlite_value, r)) for r in generated))
    finally:
        db.close()
    return Seeded(rows.client_token, rows.freelancer_token)


async def seed_postgres(dsn: str, shape: Shape) -> Seeded:
    rows = Rows(shape, dt.datetime.now(dt.UTC))
    conn = await asyncpg.connect(dsn)
    try:
        for table, generated in rows.tables().items():
            await conn.copy_records_to_table(table, records=generated, columns=list(COLUMNS[table]))
            # COPY with explicit ids leaves the sequence at 1: the server's inserts need it on.
            await conn.execute(
                f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), max(id)) FROM \"{table}\""
            )
        await conn.execute("ANALYZE")
    finally:
        await conn.close()
    return Seeded(rows.client_token, rows.freelancer_token)
