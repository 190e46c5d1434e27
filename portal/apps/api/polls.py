"""``/api/questions/``: questions, their choices and votes, over the polls app's queries."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from portal.apps.api.schemas import (
    ChoiceCreate,
    ChoiceOut,
    QuestionCreate,
    QuestionDetail,
    QuestionOut,
    QuestionPatch,
    VoteOut,
)
from portal.apps.polls import queries
from portal.platform.api.endpoints import Call, Endpoint, json_response
from portal.platform.api.pagination import Page, PageQuery
from portal.platform.errors import NotFound

__all__ = ["ENDPOINTS"]


def _question(call: Call, question: queries.Question) -> QuestionOut:
    return QuestionOut(
        id=question.id,
        question_text=question.question_text,
        pub_date=question.pub_date,
        url=call.url("questions.item", question_id=question.id),
        choices_url=call.url("questions.choices", question_id=question.id),
    )


def _choice(call: Call, choice: queries.Choice) -> ChoiceOut:
    return ChoiceOut(
        id=choice.id,
        question_id=choice.question_id,
        choice_text=choice.choice_text,
        votes=choice.votes,
        vote_url=call.url("questions.vote", question_id=choice.question_id, choice_id=choice.id),
    )


async def _detail(call: Call, conn: Any, question: queries.Question) -> QuestionDetail:
    choices = await queries.get_choices(conn, question.id)
    return QuestionDetail(
        **_question(call, question).model_dump(),
        choices=[_choice(call, choice) for choice in choices],
    )


async def list_questions(call: Call) -> web.Response:
    query: PageQuery = call.query
    async with call.db() as conn:
        rows = await queries.list_questions(conn, after_id=query.after, limit=query.limit + 1)
    return call.page(rows, lambda question: _question(call, question), "questions")


async def create_question(call: Call) -> web.Response:
    body: QuestionCreate = call.body
    async with call.db() as conn:
        question = await queries.create_question(
            conn, body.question_text, [c.choice_text for c in body.choices], body.pub_date
        )
        detail = await _detail(call, conn, question)
    return json_response(detail, status=201, headers={"Location": detail.url})


async def get_question(call: Call) -> web.Response:
    async with call.db() as conn:
        question = await queries.get_question(conn, call.params["question_id"])
        detail = await _detail(call, conn, question)
    return json_response(detail)


async def update_question(call: Call) -> web.Response:
    body: QuestionPatch = call.body
    async with call.db() as conn:
        question = await queries.update_question(
            conn,
            call.params["question_id"],
            question_text=body.question_text,
            pub_date=body.pub_date,
        )
        detail = await _detail(call, conn, question)
    return json_response(detail)


async def delete_question(call: Call) -> web.Response:
    async with call.db() as conn:
        await queries.delete_question(conn, call.params["question_id"])
    return web.Response(status=204)


async def list_choices(call: Call) -> web.Response:
    query: PageQuery = call.query
    question_id = call.params["question_id"]
    async with call.db() as conn:
        await queries.get_question(conn, question_id)
        rows = await queries.list_choices(
            conn, question_id, after_id=query.after, limit=query.limit + 1
        )
    return call.page(
        rows, lambda choice: _choice(call, choice), "questions.choices", question_id=question_id
    )


async def create_choice(call: Call) -> web.Response:
    body: ChoiceCreate = call.body
    async with call.db() as conn:
        choice = await queries.add_choice(conn, call.params["question_id"], body.choice_text)
    out = _choice(call, choice)
    location = call.url("questions.choice", question_id=choice.question_id, choice_id=choice.id)
    return json_response(out, status=201, headers={"Location": location})


async def get_choice(call: Call) -> web.Response:
    async with call.db() as conn:
        choice = await queries.get_choice(
            conn, call.params["question_id"], call.params["choice_id"]
        )
    return json_response(_choice(call, choice))


async def vote(call: Call) -> web.Response:
    question_id, choice_id = call.params["question_id"], call.params["choice_id"]
    async with call.db() as conn:
        try:
            choice = await queries.vote(conn, question_id, choice_id)
        except queries.ChoiceNotInQuestion:
            # In a URL, a choice of another question is simply not there.
            raise NotFound(f"question {question_id} has no choice {choice_id}") from None
    return json_response(VoteOut(id=choice.id, question_id=choice.question_id, votes=choice.votes))


_Q = "/questions/{question_id}"

ENDPOINTS = (
    Endpoint(
        "GET",
        "/questions/",
        "questions",
        list_questions,
        "List questions",
        "polls",
        query=PageQuery,
        response=Page[QuestionOut],
    ),
    Endpoint(
        "POST",
        "/questions/",
        "questions",
        create_question,
        "Create a question with its choices",
        "polls",
        status=201,
        body=QuestionCreate,
        response=QuestionDetail,
        access="staff",
        location=True,
    ),
    Endpoint(
        "GET",
        _Q,
        "questions.item",
        get_question,
        "Get a question with its choices",
        "polls",
        response=QuestionDetail,
    ),
    Endpoint(
        "PATCH",
        _Q,
        "questions.item",
        update_question,
        "Edit a question",
        "polls",
        body=QuestionPatch,
        response=QuestionDetail,
        access="staff",
    ),
    Endpoint(
        "DELETE",
        _Q,
        "questions.item",
        delete_question,
        "Delete a question and its choices",
        "polls",
        status=204,
        access="staff",
    ),
    Endpoint(
        "GET",
        _Q + "/choices/",
        "questions.choices",
        list_choices,
        "List a question's choices",
        "polls",
        query=PageQuery,
        response=Page[ChoiceOut],
    ),
    Endpoint(
        "POST",
        _Q + "/choices/",
        "questions.choices",
        create_choice,
        "Add a choice to a question",
        "polls",
        status=201,
        body=ChoiceCreate,
        response=ChoiceOut,
        access="staff",
        location=True,
    ),
    Endpoint(
        "GET",
        _Q + "/choices/{choice_id}",
        "questions.choice",
        get_choice,
        "Get a choice",
        "polls",
        response=ChoiceOut,
    ),
    Endpoint(
        "POST",
        _Q + "/choices/{choice_id}/vote",
        "questions.vote",
        vote,
        "Vote for a choice",
        "polls",
        response=VoteOut,
        access="user",
        description="One atomic increment; answers the choice's new count.",
    ),
)
