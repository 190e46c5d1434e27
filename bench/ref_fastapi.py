"""The FastAPI reference: uvicorn (uvloop, httptools, one worker) with asyncpg and raw SQL.

``uvicorn bench.ref_fastapi:create_app --factory`` with ``BENCH_DATABASE_URL``
set. The same reads and the same vote as portal's API, written as a FastAPI
user would: path and query parameters declared on the handler, pydantic
response models of the same shape as portal's, one pool in the lifespan.
Routes are added with ``add_api_route`` rather than decorators, so the module
type-checks whether or not the benchmark's extras are installed.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

import asyncpg
from fastapi import FastAPI, HTTPException, Query, Request
from pydantic import BaseModel

__all__ = ["create_app"]

#: Pool bounds as portal's defaults (``db_pool_min``/``db_pool_max``).
POOL_MIN, POOL_MAX = 1, 10


class TodoOut(BaseModel):
    id: int
    name: str
    finished: bool
    url: str


class TodoPage(BaseModel):
    items: list[TodoOut]
    next: str | None


class ChoiceOut(BaseModel):
    id: int
    question_id: int
    choice_text: str
    votes: int
    vote_url: str


class QuestionDetail(BaseModel):
    id: int
    question_text: str
    pub_date: dt.datetime
    url: str
    choices_url: str
    choices: list[ChoiceOut]


class VoteOut(BaseModel):
    id: int
    question_id: int
    votes: int


def _pool(request: Request) -> Any:
    return request.app.state.pool


def _todo(row: Any) -> TodoOut:
    return TodoOut(
        id=row["id"], name=row["name"], finished=row["finished"], url=f"/api/todos/{row['id']}"
    )


async def get_todo(request: Request, todo_id: int) -> TodoOut:
    row = await _pool(request).fetchrow(
        "SELECT id, name, finished FROM todo WHERE id = $1", todo_id
    )
    if row is None:
        raise HTTPException(status_code=404)
    return _todo(row)


async def list_todos(
    request: Request,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    after: Annotated[int, Query(ge=0)] = 0,
) -> TodoPage:
    rows = await _pool(request).fetch(
        "SELECT id, name, finished FROM todo WHERE id > $1 ORDER BY id LIMIT $2", after, limit + 1
    )
    shown = rows[:limit]
    following = f"/api/todos/?limit={limit}&after={shown[-1]['id']}" if len(rows) > limit else None
    return TodoPage(items=[_todo(row) for row in shown], next=following)


async def get_question(request: Request, question_id: int) -> QuestionDetail:
    async with _pool(request).acquire() as conn:
        row = await conn.fetchrow(
            "SELECT id, question_text, pub_date FROM question WHERE id = $1", question_id
        )
        if row is None:
            raise HTTPException(status_code=404)
        choices = await conn.fetch(
            "SELECT id, question_id, choice_text, votes FROM choice"
            " WHERE question_id = $1 ORDER BY id",
            question_id,
        )
    return QuestionDetail(
        id=row["id"],
        question_text=row["question_text"],
        pub_date=row["pub_date"],
        url=f"/api/questions/{row['id']}",
        choices_url=f"/api/questions/{row['id']}/choices/",
        choices=[
            ChoiceOut(
                id=c["id"],
                question_id=c["question_id"],
                choice_text=c["choice_text"],
                votes=c["votes"],
                vote_url=f"/api/questions/{c['question_id']}/choices/{c['id']}/vote",
            )
            for c in choices
        ],
    )


async def vote(request: Request, question_id: int, choice_id: int) -> VoteOut:
    row = await _pool(request).fetchrow(
        "UPDATE choice SET votes = votes + 1 WHERE id = $1 AND question_id = $2"
        " RETURNING id, question_id, votes",
        choice_id,
        question_id,
    )
    if row is None:
        raise HTTPException(status_code=404)
    return VoteOut(id=row["id"], question_id=row["question_id"], votes=row["votes"])


@asynccontextmanager
async def _lifespan(app: Any) -> AsyncIterator[None]:
    pool = await asyncpg.create_pool(
        os.environ["BENCH_DATABASE_URL"], min_size=POOL_MIN, max_size=POOL_MAX
    )
    app.state.pool = pool
    try:
        yield
    finally:
        await pool.close()


def create_app() -> FastAPI:
    """The reference app; its database is ``BENCH_DATABASE_URL``."""
    app = FastAPI(lifespan=_lifespan, openapi_url=None, docs_url=None, redoc_url=None)
    app.add_api_route("/api/todos/", list_todos, methods=["GET"])
    app.add_api_route("/api/todos/{todo_id}", get_todo, methods=["GET"])
    app.add_api_route("/api/questions/{question_id}", get_question, methods=["GET"])
    app.add_api_route(
        "/api/questions/{question_id}/choices/{choice_id}/vote", vote, methods=["POST"]
    )
    return app
