"""The polls pages. Thin: parse the request, call a query, render or redirect."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from portal.apps.polls import queries
from portal.platform.errors import NotFound
from portal.platform.events import Event
from portal.platform.flash import flash
from portal.platform.formdata import read_form
from portal.platform.keys import db_key
from portal.platform.live import event_socket
from portal.platform.sessions import AppSession, app_session
from portal.platform.templating import render
from portal.platform.urls import redirect

__all__ = ["detail", "index", "live", "results", "vote"]


def _question_id(request: web.Request) -> int:
    return int(request.match_info["question_id"])


def _voted(polls_session: AppSession) -> list[int]:
    """The ids of the questions this session voted on (anything else stored there is dropped)."""
    stored = polls_session.get("voted")
    if not isinstance(stored, list):
        return []
    return [value for value in stored if type(value) is int]


async def index(request: web.Request) -> web.Response:
    """The latest questions."""
    async with request.config_dict[db_key].acquire() as conn:
        questions = await queries.latest_questions(conn)
    return await render(request, "polls/index.html", {"questions": questions})


async def _question_page(
    request: web.Request, template: str, *, error: str | None = None, status: int = 200
) -> web.Response:
    question_id = _question_id(request)
    async with request.config_dict[db_key].acquire() as conn:
        try:
            question = await queries.get_question(conn, question_id)
        except NotFound:
            raise web.HTTPNotFound(text="There is no such question.") from None
        choices = await queries.get_choices(conn, question_id)
    voted = question_id in _voted(await app_session(request, "polls"))
    context = {"question": question, "choices": choices, "error": error, "voted": voted}
    return await render(request, template, context, status=status)


async def detail(request: web.Request) -> web.Response:
    """A question with its vote form."""
    return await _question_page(request, "polls/detail.html")


async def results(request: web.Request) -> web.Response:
    """A question's vote counts."""
    return await _question_page(request, "polls/results.html")


async def vote(request: web.Request) -> web.StreamResponse:
    """Count a vote for the posted ``choice``, then redirect to the results."""
    question_id = _question_id(request)
    raw = (await read_form(request)).get("choice")
    try:
        choice_id = int(str(raw))
    except ValueError:
        return await _question_page(
            request, "polls/detail.html", error="You didn't select a choice.", status=400
        )
    async with request.config_dict[db_key].acquire() as conn:
        try:
            choice = await queries.vote(conn, question_id, choice_id)
        except NotFound:
            raise web.HTTPNotFound(text="There is no such question.") from None
        except queries.ChoiceNotInQuestion:
            return await _question_page(
                request,
                "polls/detail.html",
                error="That choice is not one of this question's.",
                status=400,
            )
    polls_session = await app_session(request, "polls")
    polls_session["voted"] = sorted({*_voted(polls_session), question_id})
    await flash(request, f"Thanks! Your vote for “{choice.choice_text}” was counted.", "success")
    raise redirect(request, "polls:results", question_id=question_id)


async def live(request: web.Request) -> web.WebSocketResponse:
    """A WebSocket with the question's counts, then each change as it commits."""
    question_id = _question_id(request)
    async with request.config_dict[db_key].acquire() as conn:
        try:
            await queries.get_question(conn, question_id)
        except NotFound:
            raise web.HTTPNotFound(text="There is no such question.") from None

    async def snapshot() -> dict[str, Any]:
        async with request.config_dict[db_key].acquire() as conn:
            choices = await queries.get_choices(conn, question_id)
        return {"choices": [{"id": c.id, "text": c.choice_text, "votes": c.votes} for c in choices]}

    async def translate(event: Event) -> dict[str, Any] | None:
        if event.data.get("question_id") != question_id:
            return None
        if event.data.get("op") == "update":
            # The count travels in the event: no query per open page per vote.
            return {
                "type": "votes",
                "choice_id": event.data["choice_id"],
                "votes": event.data["votes"],
            }
        return {"type": "snapshot", **await snapshot()}

    return await event_socket(request, topic="polls.choice", snapshot=snapshot, translate=translate)
