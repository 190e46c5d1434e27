"""The bare aiohttp reference: ``python -m bench.ref_aiohttp --port P``.

One ``web.Application``, no sub-app, no middleware. Its API handlers do what
portal's API does the naive way: a SQLAlchemy Core statement built per
request and run with ``conn.execute(stmt)`` through ``aiopg.sa``, answering
the same JSON. Beside them: a JSON handler with no database (portal's
``/api/`` body), aiohttp's own static route, and the aiohttp-jinja2 page of
:mod:`bench.ref_jinja`. The database URL comes from ``BENCH_DATABASE_URL``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import json
import os
from collections.abc import AsyncIterator, Sequence
from typing import Any

import aiopg.sa
import sqlalchemy as sa
from aiohttp import web

from bench.ref_jinja import engine_key, setup_page
from bench.ref_tables import choice, question, todo

__all__ = ["create_app", "main", "rfc3339"]

#: Pool bounds as portal's defaults (``db_pool_min``/``db_pool_max``).
POOL_MIN, POOL_MAX = 1, 10

_dumps = functools.partial(json.dumps, separators=(",", ":"))
database_url_key = web.AppKey("database_url_key", str)


def rfc3339(value: dt.datetime) -> str:
    """A datetime as pydantic writes it in JSON (``Z`` for UTC)."""
    text = value.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def _json(data: Any) -> web.Response:
    return web.json_response(data, dumps=_dumps)


def _not_found() -> web.HTTPNotFound:
    return web.HTTPNotFound(text='{"detail":"Not Found"}', content_type="application/json")


def _todo(row: Any) -> dict[str, Any]:
    return {
        "id": row.id,
        "name": row.name,
        "finished": row.finished,
        "url": f"/api/todos/{row.id}",
    }


def _choice(row: Any) -> dict[str, Any]:
    return {
        "id": row.id,
        "question_id": row.question_id,
        "choice_text": row.choice_text,
        "votes": row.votes,
        "vote_url": f"/api/questions/{row.question_id}/choices/{row.id}/vote",
    }


async def api_index(request: web.Request) -> web.Response:
    """Portal's ``/api/`` body, with no database and no middleware."""
    return _json(
        {"todos": "/api/todos/", "questions": "/api/questions/", "openapi": "/api/openapi.json"}
    )


async def get_todo(request: web.Request) -> web.Response:
    """One todo by id."""
    todo_id = int(request.match_info["todo_id"])
    async with request.app[engine_key].acquire() as conn:
        result = await conn.execute(sa.select(todo).where(todo.c.id == todo_id))
        row = await result.first()
    if row is None:
        raise _not_found()
    return _json(_todo(row))


async def list_todos(request: web.Request) -> web.Response:
    """A keyset page of todos: ``?limit=`` (default 20) after ``?after=``."""
    limit = int(request.query.get("limit", "20"))
    after = int(request.query.get("after", "0"))
    query = sa.select(todo).where(todo.c.id > after).order_by(todo.c.id).limit(limit + 1)
    async with request.app[engine_key].acquire() as conn:
        rows = [row async for row in await conn.execute(query)]
    shown = rows[:limit]
    following = f"/api/todos/?limit={limit}&after={shown[-1].id}" if len(rows) > limit else None
    return _json({"items": [_todo(row) for row in shown], "next": following})


async def get_question(request: web.Request) -> web.Response:
    """A question with its choices: two statements, as portal runs them."""
    question_id = int(request.match_info["question_id"])
    async with request.app[engine_key].acquire() as conn:
        result = await conn.execute(sa.select(question).where(question.c.id == question_id))
        row = await result.first()
        if row is None:
            raise _not_found()
        choices_query = (
            sa.select(choice).where(choice.c.question_id == question_id).order_by(choice.c.id)
        )
        choices = [c async for c in await conn.execute(choices_query)]
    return _json(
        {
            "id": row.id,
            "question_text": row.question_text,
            "pub_date": rfc3339(row.pub_date),
            "url": f"/api/questions/{row.id}",
            "choices_url": f"/api/questions/{row.id}/choices/",
            "choices": [_choice(c) for c in choices],
        }
    )


async def vote(request: web.Request) -> web.Response:
    """``UPDATE choice SET votes = votes + 1 ... RETURNING``, no authentication."""
    question_id = int(request.match_info["question_id"])
    choice_id = int(request.match_info["choice_id"])
    statement = (
        choice.update()
        .where(choice.c.id == choice_id, choice.c.question_id == question_id)
        .values(votes=choice.c.votes + 1)
        .returning(choice.c.id, choice.c.question_id, choice.c.votes)
    )
    async with request.app[engine_key].acquire() as conn:
        result = await conn.execute(statement)
        row = await result.first()
    if row is None:
        raise _not_found()
    return _json({"id": row.id, "question_id": row.question_id, "votes": row.votes})


async def _engine_ctx(app: web.Application) -> AsyncIterator[None]:
    engine = await aiopg.sa.create_engine(  # type: ignore[no-untyped-call]
        dsn=app[database_url_key], minsize=POOL_MIN, maxsize=POOL_MAX
    )
    app[engine_key] = engine
    try:
        yield
    finally:
        engine.close()
        await engine.wait_closed()


async def healthz(request: web.Request) -> web.Response:
    """What portal's liveness route answers."""
    return web.json_response({"status": "ok"})


def create_app(database_url: str) -> web.Application:
    """The reference app on *database_url*."""
    app = web.Application()
    app[database_url_key] = database_url
    app.cleanup_ctx.append(_engine_ctx)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/api/", api_index, name="api:index")
    app.router.add_get("/api/todos/", list_todos)
    app.router.add_get(r"/api/todos/{todo_id:\d+}", get_todo)
    app.router.add_get(r"/api/questions/{question_id:\d+}", get_question)
    app.router.add_post(r"/api/questions/{question_id:\d+}/choices/{choice_id:\d+}/vote", vote)
    setup_page(app)
    return app


def main(argv: Sequence[str] | None = None) -> None:
    """Serve the reference app on 127.0.0.1, without an access log.

    On uvloop with ``--uvloop`` (the default of ``make bench``, as portal's
    server runs), else on asyncio's own loop (``BENCH_REF_UVLOOP=0``).
    """
    parser = argparse.ArgumentParser(prog="python -m bench.ref_aiohttp")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--uvloop", action="store_true", help="run on uvloop")
    args = parser.parse_args(argv)
    app = create_app(os.environ["BENCH_DATABASE_URL"])
    loop = None
    if args.uvloop:
        import uvloop

        loop = uvloop.new_event_loop()
    web.run_app(app, host="127.0.0.1", port=args.port, access_log=None, print=None, loop=loop)


if __name__ == "__main__":
    main()
