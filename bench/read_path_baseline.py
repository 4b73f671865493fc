"""Baseline for bench/read_path.py: the project read path as one hand-written JSON endpoint.

POST /read with {"id": "<project global id>"} and `Authorization: Bearer <token>` answers
{"data": {"project": {...}}} shaped like the GraphQL read

    project(id) { id title milestones { id title description dueDate completed overdue }
                  chat(last: 20) { edges { cursor node { id kind body createdAt } } } }

doing the same reads: token -> user, project by id with the membership check, milestones
by (due_date, id), the last 20 chat messages. No GraphQL, no per-field machinery.

    DATABASE_URL=sqlite://bench.sqlite3 python bench/read_path_baseline.py --port 8100

It only reads: the schema must already exist (bench/read_path.py seeds it through the
GraphQL server first). Served by uvicorn with the same settings as server.py.
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import hashlib
import os
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from tortoise.contrib.starlette import RegisterTortoise

from models import AccessToken, ChatMessage, Milestone, Project, Role
from models.db import tortoise_config

CHAT_PAGE = 20


def _global_id(type_name: str, pk: int) -> str:
    return base64.urlsafe_b64encode(f"{type_name}:{pk}".encode()).decode().rstrip("=")


def _pk(global_id: str, type_name: str) -> int | None:
    try:
        padded = global_id + "=" * (-len(global_id) % 4)
        name, _, pk = base64.urlsafe_b64decode(padded.encode()).decode().partition(":")
        number = int(pk)
    except (ValueError, UnicodeError):
        return None
    return number if name == type_name and number > 0 else None


def _error(code: str, message: str, status: int = 200) -> JSONResponse:
    return JSONResponse(
        {"data": {"project": None}, "errors": [{"message": message, "extensions": {"code": code}}]},
        status_code=status,
    )


async def read_project(request: Request) -> JSONResponse:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.strip().partition(" ")
    token = token.strip() if scheme.lower() == "bearer" else ""
    if not token or len(token) > 200:
        return _error("UNAUTHENTICATED", "Sign in to do this.")
    token_hash = hashlib.sha256(token.encode()).hexdigest()  # as services/auth.py stores it
    row = await AccessToken.filter(token_hash=token_hash).select_related("user").first()
    if row is None:
        return _error("UNAUTHENTICATED", "Sign in to do this.")
    viewer = row.user

    body = await request.json()
    pk = _pk(str(body.get("id", "")), "Project")
    project = await Project.get_or_none(id=pk) if pk else None
    if project is None or not (viewer.role == Role.ADMIN or project.is_member(viewer.id)):
        return _error("NOT_FOUND", "Project not found.")

    today = dt.datetime.now(dt.UTC).date()
    milestones = await Milestone.filter(project_id=project.id).order_by("due_date", "id")
    newest = await ChatMessage.filter(project_id=project.id).order_by("-id").limit(CHAT_PAGE + 1)
    chat = list(reversed(newest[:CHAT_PAGE]))

    return JSONResponse(
        {
            "data": {
                "project": {
                    "id": _global_id("Project", project.id),
                    "title": project.title,
                    "milestones": [
                        {
                            "id": _global_id("Milestone", m.id),
                            "title": m.title,
                            "description": m.description,
                            "dueDate": m.due_date.isoformat(),
                            "completed": m.completed_at is not None,
                            "overdue": m.completed_at is None and m.due_date < today,
                        }
                        for m in milestones
                    ],
                    "chat": {
                        "edges": [
                            {
                                "cursor": _global_id("cursor.chat", c.id),
                                "node": {
                                    "id": _global_id("ChatMessage", c.id),
                                    "kind": c.kind.value,
                                    "body": c.body,
                                    "createdAt": c.created_at.isoformat(),
                                },
                            }
                            for c in chat
                        ]
                    },
                }
            }
        }
    )


def create_app(database_url: str) -> Starlette:
    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with RegisterTortoise(app, config=tortoise_config(database_url)):
            yield

    return Starlette(routes=[Route("/read", read_project, methods=["POST"])], lifespan=lifespan)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8100)
    args = parser.parse_args()
    import uvicorn

    database_url = os.environ.get("DATABASE_URL", "").strip() or "sqlite://db.sqlite3"
    # log_level="info" as server.py, so both servers write one access-log line per request.
    uvicorn.run(create_app(database_url), host=args.host, port=args.port, log_level="info")
    return 0


if __name__ == "__main__":
    sys.exit(main())
