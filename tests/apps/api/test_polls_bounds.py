"""No ``/api/questions/`` answer grows with the choice table, and a question has at most
MAX_CHOICES choices through the API."""

from __future__ import annotations

import asyncio
from typing import Any

import sqlalchemy as sa

from portal.apps.polls.queries import MAX_CHOICES
from portal.apps.polls.tables import question
from portal.platform.api.pagination import decode_cursor
from portal.testing import MakeClient
from tests.apps.api.conftest import Api, body_of, problem_of
from tests.apps.polls.conftest import count_choices, create_crowded_question

MANY = 20_000
#: Far above a detail embedding MAX_CHOICES choices, far below one embedding MANY.
BODY_BYTES = 100_000


async def test_question_embeds_a_bounded_number_of_choices_and_links_the_rest(
    make_client: MakeClient, conn: Any
) -> None:
    crowded = await create_crowded_question(conn, MANY)
    api = Api(await make_client())

    response = await api.get(f"/api/questions/{crowded.id}")

    detail = await body_of(response)
    assert response.status == 200
    assert len(await response.read()) < BODY_BYTES
    assert [c["id"] for c in detail["choices"]] == crowded.choice_ids[:MAX_CHOICES]
    following = await body_of(await api.get(detail["choices_next"]))
    assert following["items"][0]["id"] == crowded.choice_ids[MAX_CHOICES]


async def test_choice_list_of_a_crowded_question_is_paged(
    make_client: MakeClient, conn: Any
) -> None:
    crowded = await create_crowded_question(conn, MANY)
    api = Api(await make_client())

    page = await body_of(await api.get(f"/api/questions/{crowded.id}/choices/"))

    assert [c["id"] for c in page["items"]] == crowded.choice_ids[:20]
    cursor = page["cursor"]
    assert decode_cursor(cursor, "id", int).id == crowded.choice_ids[19]
    assert page["next"] == f"/api/questions/{crowded.id}/choices/?limit=20&after={cursor}"


async def test_question_with_all_its_choices_embedded_links_no_more(
    anonymous: Api, conn: Any
) -> None:
    full = await create_crowded_question(conn, MAX_CHOICES)

    detail = await body_of(await anonymous.get(f"/api/questions/{full.id}"))

    assert len(detail["choices"]) == MAX_CHOICES
    assert detail["choices_next"] is None


async def test_adding_a_choice_beyond_the_most_is_409_and_adds_nothing(
    staff_api: Api, conn: Any
) -> None:
    full = await create_crowded_question(conn, MAX_CHOICES)

    response = await staff_api.post(
        f"/api/questions/{full.id}/choices/", json={"choice_text": "One more"}
    )

    problem = await problem_of(response, 409)
    assert str(MAX_CHOICES) in problem["detail"]
    assert await count_choices(conn, full.id) == MAX_CHOICES


async def test_adding_the_last_choice_allowed_is_201(staff_api: Api, conn: Any) -> None:
    nearly = await create_crowded_question(conn, MAX_CHOICES - 1)

    response = await staff_api.post(
        f"/api/questions/{nearly.id}/choices/", json={"choice_text": "The last"}
    )

    assert response.status == 201
    assert await count_choices(conn, nearly.id) == MAX_CHOICES


async def test_concurrent_additions_never_pass_the_most(staff_api: Api, conn: Any) -> None:
    nearly = await create_crowded_question(conn, MAX_CHOICES - 1)

    responses = await asyncio.gather(
        *(
            staff_api.post(f"/api/questions/{nearly.id}/choices/", json={"choice_text": f"#{n}"})
            for n in range(5)
        )
    )

    assert sorted(r.status for r in responses) == [201, 409, 409, 409, 409]
    assert await count_choices(conn, nearly.id) == MAX_CHOICES


async def test_creating_a_question_with_too_many_choices_is_422(staff_api: Api, conn: Any) -> None:
    choices = [{"choice_text": f"#{n}"} for n in range(MAX_CHOICES + 1)]

    response = await staff_api.post(
        "/api/questions/", json={"question_text": "Too many?", "choices": choices}
    )

    problem = await problem_of(response, 422)
    assert [e["field"] for e in problem["errors"]] == ["choices"]
    assert await conn.scalar(sa.select(sa.func.count()).select_from(question)) == 0
