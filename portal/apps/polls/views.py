"""The polls pages. Thin: parse the request, call a query, render or redirect."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from portal.appkit import (
    AppSession,
    Connection,
    Event,
    NotFound,
    app_session,
    current_user,
    db_key,
    event_socket,
    flash,
    read_form,
    redirect,
    render,
)
from portal.apps.polls import queries

__all__ = ["REMEMBERED_VOTES", "detail", "index", "live", "results", "vote"]


#: How many questions a session remembers voting on, the latest first kept:
#: the session is a cookie, and browsers drop one past 4 KB.
REMEMBERED_VOTES = 50


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


async def _sees_unpublished(request: web.Request) -> bool:
    """Whether this request may see questions before their ``pub_date``: staff only.

    The page's layout loads the user anyway, so this costs no extra query.
    """
    user = await current_user(request)
    return user is not None and user.is_staff


async def _visible_question(conn: Connection, question_id: int, *, staff: bool) -> queries.Question:
    """The question, or the 404 page: for the public an unpublished one does not exist."""
    try:
        return await queries.get_question(conn, question_id, include_unpublished=staff)
    except NotFound:
        raise web.HTTPNotFound(text="There is no such question.") from None


async def _question_page(
    request: web.Request, template: str, *, error: str | None = None, status: int = 200
) -> web.Response:
    question_id = _question_id(request)
    # Before the connection is taken: the user lookup may need one of its own.
    staff = await _sees_unpublished(request)
    async with request.config_dict[db_key].acquire() as conn:
        question = await _visible_question(conn, question_id, staff=staff)
        choices, more = await queries.first_choices(conn, question_id)
    voted = question_id in _voted(await app_session(request, "polls"))
    context = {
        "question": question,
        "choices": choices,
        "more_choices": more,
        "error": error,
        "voted": voted,
    }
    return await render(request, template, context, status=status)


async def detail(request: web.Request) -> web.Response:
    """A question with its vote form."""
    return await _question_page(request, "polls/detail.html")


async def results(request: web.Request) -> web.Response:
    """A question's vote counts."""
    return await _question_page(request, "polls/results.html")


async def vote(request: web.Request) -> web.StreamResponse:
    """Count a vote for the posted ``choice``, then redirect to the results.

    An unpublished question is a 404 here for everyone, staff included (see
    :func:`portal.apps.polls.queries.vote`), and nothing is counted.
    """
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
    earlier = [voted for voted in _voted(polls_session) if voted != question_id]
    polls_session["voted"] = [*earlier, question_id][-REMEMBERED_VOTES:]
    await flash(request, f"Thanks! Your vote for “{choice.choice_text}” was counted.", "success")
    raise redirect(request, "polls:results", question_id=question_id)


async def live(request: web.Request) -> web.WebSocketResponse:
    """A WebSocket with the question's counts, then each change as it commits.

    It carries what the results page shows: the first
    :data:`~portal.apps.polls.queries.MAX_CHOICES` choices, and the changes to them.
    """
    question_id = _question_id(request)
    staff = await _sees_unpublished(request)
    async with request.config_dict[db_key].acquire() as conn:
        await _visible_question(conn, question_id, staff=staff)
    # This socket's own view of which choices its page shows (never more than
    # MAX_CHOICES ids), renewed with each snapshot.
    shown: set[int] = set()
    partial = False

    async def snapshot() -> dict[str, Any]:
        nonlocal shown, partial
        async with request.config_dict[db_key].acquire() as conn:
            choices, partial = await queries.first_choices(conn, question_id)
        shown = {c.id for c in choices}
        return {"choices": [{"id": c.id, "text": c.choice_text, "votes": c.votes} for c in choices]}

    async def translate(event: Event) -> dict[str, Any] | None:
        if event.data.get("question_id") != question_id:
            return None
        if event.data.get("op") == "update":
            if partial and event.data.get("choice_id") not in shown:
                # A vote for a choice beyond those on the page: the page would
                # reload for a row it cannot show.
                return None
            # The count travels in the event: no query per open page per vote.
            return {
                "type": "votes",
                "choice_id": event.data["choice_id"],
                "votes": event.data["votes"],
            }
        return {"type": "snapshot", **await snapshot()}

    return await event_socket(request, topic="polls.choice", snapshot=snapshot, translate=translate)
