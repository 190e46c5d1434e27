"""The polls app's API: questions, their choices and votes, under the API's prefix.

Declared here and named in the polls ``spec`` (``api=ENDPOINTS``); the api
app serves them, at ``/api/questions/``, when both apps are installed.
"""

from __future__ import annotations

from aiohttp import web

from portal.appkit import (
    MAX_LIMIT,
    Call,
    Connection,
    Endpoint,
    FieldError,
    NotFound,
    Page,
    PageQuery,
    json_response,
    problem_response,
)
from portal.apps.polls import queries
from portal.apps.polls.schemas import (
    ChoiceCreate,
    ChoiceOut,
    QuestionCreate,
    QuestionDetail,
    QuestionListQuery,
    QuestionOut,
    QuestionPatch,
    VoteOut,
)

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


async def _staff(call: Call, conn: Connection) -> bool:
    """Whether the caller is a staff user: only staff see a question before its ``pub_date``.

    Anyone else, with a token or without, sees what everyone sees, as on the
    todo reads; nothing more is revealed.
    """
    user = await call.reader(conn)
    return user is not None and user.is_staff


async def _detail(call: Call, conn: Connection, question: queries.Question) -> QuestionDetail:
    # Bounded like the pages: a question with more choices than MAX_CHOICES
    # (added by the admin or psql) links the rest instead of embedding them.
    choices, more = await queries.first_choices(conn, question.id)
    following = None
    if more:
        following = call.url(
            "questions.choices",
            query={"limit": MAX_LIMIT, "after": choices[-1].id},
            question_id=question.id,
        )
    return QuestionDetail(
        **_question(call, question).model_dump(),
        choices=[_choice(call, choice) for choice in choices],
        choices_next=following,
    )


async def list_questions(call: Call) -> web.Response:
    query: QuestionListQuery = call.query
    async with call.db() as conn:
        staff = await _staff(call, conn)
        if query.published is False and not staff:
            return problem_response(
                call.request,
                403,
                "Only staff may list unpublished questions.",
                errors=[FieldError(field="published", message="published=false is for staff.")],
            )
        rows = await queries.find_questions(
            conn,
            limit=query.limit + 1,
            ordering=query.ordering,
            after=query.after,
            # The public only ever sees published questions; staff see both unless they ask.
            published=query.published if staff else True,
            pub_date_after=query.pub_date_after,
            pub_date_before=query.pub_date_before,
            text_contains=query.question_text_contains,
        )
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
        question = await queries.get_question(
            conn, call.params["question_id"], include_unpublished=await _staff(call, conn)
        )
        detail = await _detail(call, conn, question)
    return json_response(detail)


async def update_question(call: Call) -> web.Response:
    body: QuestionPatch = call.body
    async with call.db() as conn:
        await queries.update_question(
            conn,
            call.params["question_id"],
            question_text=body.question_text,
            pub_date=body.pub_date,
        )
    return web.Response(status=204)


async def delete_question(call: Call) -> web.Response:
    async with call.db() as conn:
        await queries.delete_question(conn, call.params["question_id"])
    return web.Response(status=204)


async def list_choices(call: Call) -> web.Response:
    query: PageQuery = call.query
    question_id = call.params["question_id"]
    async with call.db() as conn:
        await queries.get_question(conn, question_id, include_unpublished=await _staff(call, conn))
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
            conn,
            call.params["question_id"],
            call.params["choice_id"],
            include_unpublished=await _staff(call, conn),
        )
    return json_response(_choice(call, choice))


async def vote(call: Call) -> web.Response:
    """One vote; 404 for a question not published yet, whoever asks (staff too)."""
    question_id, choice_id = call.params["question_id"], call.params["choice_id"]
    async with call.db() as conn:
        try:
            choice = await queries.vote(conn, question_id, choice_id)
        except queries.ChoiceNotInQuestion:
            # In a URL, a choice of another question is simply not there.
            raise NotFound(f"question {question_id} has no choice {choice_id}") from None
    return json_response(VoteOut(id=choice.id, question_id=choice.question_id, votes=choice.votes))


_Q = "/questions/{question_id}"
_UNPUBLISHED = (
    "A question whose `pub_date` is still to come does not exist here (404, not listed), "
    "except for a staff user's token."
)

ENDPOINTS: tuple[Endpoint, ...] = (
    Endpoint(
        "GET",
        "/questions/",
        "questions",
        list_questions,
        "List questions",
        "polls",
        query=QuestionListQuery,
        response=Page[QuestionOut],
        errors=(403,),
        description=(
            f"{_UNPUBLISHED} A page of questions, filtered by `pub_date` range, text and "
            "(staff) publication, in the chosen `ordering`; follow `next`, or pass `cursor` "
            "as `after`, for the following page."
        ),
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
        description=_UNPUBLISHED,
    ),
    Endpoint(
        "PATCH",
        _Q,
        "questions.item",
        update_question,
        "Edit a question",
        "polls",
        status=204,
        body=QuestionPatch,
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
        description=_UNPUBLISHED,
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
        errors=(409,),
        description=f"A question has at most {queries.MAX_CHOICES} choices: one more is 409.",
    ),
    Endpoint(
        "GET",
        _Q + "/choices/{choice_id}",
        "questions.choice",
        get_choice,
        "Get a choice",
        "polls",
        response=ChoiceOut,
        description=_UNPUBLISHED,
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
        description=(
            "One atomic increment; answers the choice's new count. A question whose "
            "`pub_date` is still to come is 404 for everyone, staff too: nothing is counted."
        ),
    ),
)
