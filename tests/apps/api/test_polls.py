"""``/api/questions/``: questions, their choices, and voting."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

import pytest
import sqlalchemy as sa

from portal.apps.polls import queries
from portal.apps.polls.tables import choice
from portal.settings import Settings
from portal.testing import MakeClient
from tests.apps.api.conftest import Api, body_of, fields_of, problem_of

PUB_DATE = dt.datetime(2024, 5, 1, 12, 30, tzinfo=dt.UTC)


async def _question(conn: Any, text: str = "Tea?", choices: tuple[str, ...] = ("Yes", "No")) -> Any:
    return await queries.create_question(conn, text, list(choices), PUB_DATE)


def _when(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value)


# Questions


async def test_list_questions_is_a_page_without_choices(anonymous: Api, conn: Any) -> None:
    tea = await _question(conn, "Tea?")
    coffee = await _question(conn, "Coffee?")

    response = await anonymous.get("/api/questions/")

    assert response.status == 200
    page = await body_of(response)
    assert page["next"] is None
    assert [item["id"] for item in page["items"]] == [tea.id, coffee.id]
    assert page["items"][0] == {
        "id": tea.id,
        "question_text": "Tea?",
        "pub_date": page["items"][0]["pub_date"],
        "url": f"/api/questions/{tea.id}",
        "choices_url": f"/api/questions/{tea.id}/choices/",
    }
    assert _when(page["items"][0]["pub_date"]) == PUB_DATE


async def test_get_question_includes_its_choices(anonymous: Api, conn: Any) -> None:
    tea = await _question(conn, "Tea?", ("Yes", "No"))
    choices = await queries.get_choices(conn, tea.id)

    response = await anonymous.get(f"/api/questions/{tea.id}")

    assert response.status == 200
    detail = await body_of(response)
    assert detail["question_text"] == "Tea?"
    assert detail["choices"] == [
        {
            "id": c.id,
            "question_id": tea.id,
            "choice_text": c.choice_text,
            "votes": 0,
            "vote_url": f"/api/questions/{tea.id}/choices/{c.id}/vote",
        }
        for c in choices
    ]


async def test_get_unknown_question_is_404(anonymous: Api) -> None:
    await problem_of(await anonymous.get("/api/questions/999999"), 404)


async def test_create_question_with_choices_is_201_with_location(staff_api: Api, conn: Any) -> None:
    response = await staff_api.post(
        "/api/questions/",
        json={
            "question_text": "Best editor?",
            "pub_date": "2024-05-01T12:30:00Z",
            "choices": [{"choice_text": "vim"}, {"choice_text": "emacs"}],
        },
    )

    assert response.status == 201
    created = await body_of(response)
    assert response.headers["Location"] == created["url"] == f"/api/questions/{created['id']}"
    assert [c["choice_text"] for c in created["choices"]] == ["vim", "emacs"]
    assert [c["votes"] for c in created["choices"]] == [0, 0]
    assert _when(created["pub_date"]) == PUB_DATE
    assert [c.choice_text for c in await queries.get_choices(conn, created["id"])] == [
        "vim",
        "emacs",
    ]


async def test_created_question_is_what_its_location_returns(staff_api: Api) -> None:
    response = await staff_api.post(
        "/api/questions/", json={"question_text": "Found?", "choices": [{"choice_text": "Yes"}]}
    )

    fetched = await staff_api.get(response.headers["Location"])

    assert await body_of(fetched) == await body_of(response)


async def test_create_question_without_pub_date_is_published_now(staff_api: Api) -> None:
    before = dt.datetime.now(dt.UTC)

    response = await staff_api.post("/api/questions/", json={"question_text": "Now?"})

    published = _when((await body_of(response))["pub_date"])
    assert before - dt.timedelta(seconds=5) <= published <= dt.datetime.now(dt.UTC)


async def test_create_question_takes_a_date_without_offset_as_utc(staff_api: Api) -> None:
    response = await staff_api.post(
        "/api/questions/", json={"question_text": "When?", "pub_date": "2024-05-01T12:30:00"}
    )

    assert _when((await body_of(response))["pub_date"]) == PUB_DATE


async def test_create_question_with_a_non_staff_token_is_403(api: Api, conn: Any) -> None:
    response = await api.post("/api/questions/", json={"question_text": "Mine?"})

    await problem_of(response, 403)
    assert await queries.count_questions(conn) == 0


async def test_create_question_without_a_token_is_401(anonymous: Api, conn: Any) -> None:
    response = await anonymous.post("/api/questions/", json={"question_text": "Mine?"})

    await problem_of(response, 401)
    assert await queries.count_questions(conn) == 0


@pytest.mark.parametrize(
    ("body", "field"),
    [
        pytest.param({}, "question_text", id="missing-text"),
        pytest.param({"question_text": " "}, "question_text", id="blank-text"),
        pytest.param({"question_text": "Q", "pub_date": 1714566600}, "pub_date", id="epoch"),
        pytest.param({"question_text": "Q", "pub_date": "soon"}, "pub_date", id="bad-date"),
        pytest.param({"question_text": "Q", "pub_date": "0"}, "pub_date", id="epoch-text"),
        pytest.param(
            {"question_text": "Q", "pub_date": "2024-05-01 12:30:00Z"}, "pub_date", id="space"
        ),
        pytest.param(
            {"question_text": "Q", "pub_date": "2024-05-01T12:30Z"}, "pub_date", id="no-seconds"
        ),
        pytest.param(
            {"question_text": "Q", "pub_date": "0001-01-01T00:00:00+01:00"},
            "pub_date",
            id="before-year-1-in-utc",
        ),
        pytest.param(
            {"question_text": "Q", "choices": [{"choice_text": ""}]},
            "choices.0.choice_text",
            id="empty-choice",
        ),
    ],
)
async def test_create_question_with_bad_input_is_422_naming_the_field(
    staff_api: Api, conn: Any, body: dict[str, Any], field: str
) -> None:
    response = await staff_api.post("/api/questions/", json=body)

    assert fields_of(await problem_of(response, 422)) == [field]
    assert await queries.count_questions(conn) == 0


async def test_patch_question_text_changes_only_the_text(staff_api: Api, conn: Any) -> None:
    tea = await _question(conn, "Tea?")

    response = await staff_api.patch(f"/api/questions/{tea.id}", json={"question_text": "Chai?"})

    assert response.status == 204
    assert await queries.get_question(conn, tea.id) == queries.Question(tea.id, "Chai?", PUB_DATE)


async def test_patch_with_prefer_representation_answers_the_question(
    staff_api: Api, conn: Any
) -> None:
    tea = await _question(conn, "Tea?")

    response = await staff_api.patch(
        f"/api/questions/{tea.id}",
        json={"question_text": "Chai?"},
        headers={"Prefer": "return=representation"},
    )

    assert response.status == 200
    assert response.headers["Preference-Applied"] == "return=representation"
    changed = await body_of(response)
    assert changed["question_text"] == "Chai?"
    assert _when(changed["pub_date"]) == PUB_DATE
    assert len(changed["choices"]) == 2
    fetched = await staff_api.get(f"/api/questions/{tea.id}")
    assert changed == await body_of(fetched)
    assert response.headers["ETag"] == fetched.headers["ETag"]


async def test_patch_pub_date_changes_only_the_date(staff_api: Api, conn: Any) -> None:
    tea = await _question(conn, "Tea?")

    response = await staff_api.patch(
        f"/api/questions/{tea.id}", json={"pub_date": "2030-01-02T03:04:05+02:00"}
    )

    assert response.status == 204
    expected = dt.datetime(2030, 1, 2, 1, 4, 5, tzinfo=dt.UTC)
    fetched = await body_of(await staff_api.get(f"/api/questions/{tea.id}"))
    assert (fetched["question_text"], _when(fetched["pub_date"])) == ("Tea?", expected)


async def test_patch_question_with_a_non_staff_token_is_403(api: Api, conn: Any) -> None:
    tea = await _question(conn, "Tea?")

    response = await api.patch(f"/api/questions/{tea.id}", json={"question_text": "Chai?"})

    await problem_of(response, 403)
    assert (await queries.get_question(conn, tea.id)).question_text == "Tea?"


async def test_patch_unknown_question_is_404(staff_api: Api) -> None:
    response = await staff_api.patch("/api/questions/999999", json={"question_text": "Who?"})

    await problem_of(response, 404)


async def test_delete_question_is_204_and_it_is_gone(staff_api: Api, conn: Any) -> None:
    tea = await _question(conn)

    response = await staff_api.delete(f"/api/questions/{tea.id}")

    assert response.status == 204
    await problem_of(await staff_api.get(f"/api/questions/{tea.id}"), 404)


async def test_delete_question_deletes_its_choices(staff_api: Api, conn: Any) -> None:
    tea = await _question(conn, "Tea?", ("Yes", "No"))
    yes, _ = await queries.get_choices(conn, tea.id)

    await staff_api.delete(f"/api/questions/{tea.id}")

    await problem_of(await staff_api.get(f"/api/questions/{tea.id}/choices/{yes.id}"), 404)
    assert await conn.scalar(sa.select(sa.func.count()).select_from(choice)) == 0


async def test_delete_question_with_a_non_staff_token_is_403(api: Api, conn: Any) -> None:
    tea = await _question(conn)

    await problem_of(await api.delete(f"/api/questions/{tea.id}"), 403)
    assert await queries.count_questions(conn) == 1


# Choices


async def test_list_choices_of_a_question(anonymous: Api, conn: Any) -> None:
    tea = await _question(conn, "Tea?", ("Yes", "No"))
    await _question(conn, "Other?", ("Elsewhere",))

    response = await anonymous.get(f"/api/questions/{tea.id}/choices/")

    assert response.status == 200
    page = await body_of(response)
    assert [c["choice_text"] for c in page["items"]] == ["Yes", "No"]
    assert {c["question_id"] for c in page["items"]} == {tea.id}
    assert page["next"] is None


async def test_list_choices_of_an_unknown_question_is_404(anonymous: Api) -> None:
    await problem_of(await anonymous.get("/api/questions/999999/choices/"), 404)


async def test_add_choice_is_201_with_location(staff_api: Api, conn: Any) -> None:
    tea = await _question(conn, "Tea?", ("Yes",))

    response = await staff_api.post(
        f"/api/questions/{tea.id}/choices/", json={"choice_text": "Maybe"}
    )

    assert response.status == 201
    added = await body_of(response)
    assert added["choice_text"] == "Maybe"
    assert added["votes"] == 0
    assert response.headers["Location"] == f"/api/questions/{tea.id}/choices/{added['id']}"
    assert await body_of(await staff_api.get(response.headers["Location"])) == added
    assert [c.choice_text for c in await queries.get_choices(conn, tea.id)] == ["Yes", "Maybe"]


async def test_add_choice_to_an_unknown_question_is_404(staff_api: Api) -> None:
    response = await staff_api.post("/api/questions/999999/choices/", json={"choice_text": "?"})

    await problem_of(response, 404)


async def test_add_choice_with_a_non_staff_token_is_403(api: Api, conn: Any) -> None:
    tea = await _question(conn, "Tea?", ("Yes",))

    response = await api.post(f"/api/questions/{tea.id}/choices/", json={"choice_text": "Mine"})

    await problem_of(response, 403)
    assert len(await queries.get_choices(conn, tea.id)) == 1


async def test_get_choice_of_another_question_is_404(anonymous: Api, conn: Any) -> None:
    tea = await _question(conn, "Tea?", ("Yes",))
    other = await _question(conn, "Other?", ("Elsewhere",))
    (elsewhere,) = await queries.get_choices(conn, other.id)

    await problem_of(await anonymous.get(f"/api/questions/{tea.id}/choices/{elsewhere.id}"), 404)


# Voting


async def test_vote_answers_the_new_count(api: Api, conn: Any) -> None:
    tea = await _question(conn, "Tea?", ("Yes", "No"))
    yes, _ = await queries.get_choices(conn, tea.id)

    response = await api.post(f"/api/questions/{tea.id}/choices/{yes.id}/vote")

    assert response.status == 200
    assert await body_of(response) == {"id": yes.id, "question_id": tea.id, "votes": 1}


async def test_voting_twice_counts_two(api: Api, conn: Any) -> None:
    tea = await _question(conn, "Tea?", ("Yes", "No"))
    yes, _ = await queries.get_choices(conn, tea.id)

    await api.post(f"/api/questions/{tea.id}/choices/{yes.id}/vote")
    response = await api.post(f"/api/questions/{tea.id}/choices/{yes.id}/vote")

    assert (await body_of(response))["votes"] == 2
    assert [c.votes for c in await queries.get_choices(conn, tea.id)] == [2, 0]


async def test_vote_for_a_choice_of_another_question_is_404(api: Api, conn: Any) -> None:
    tea = await _question(conn, "Tea?", ("Yes",))
    other = await _question(conn, "Other?", ("Elsewhere",))
    (elsewhere,) = await queries.get_choices(conn, other.id)

    response = await api.post(f"/api/questions/{tea.id}/choices/{elsewhere.id}/vote")

    await problem_of(response, 404)
    assert (await queries.get_choice(conn, other.id, elsewhere.id)).votes == 0


async def test_vote_for_an_unknown_choice_is_404(api: Api, conn: Any) -> None:
    tea = await _question(conn, "Tea?", ("Yes",))

    await problem_of(await api.post(f"/api/questions/{tea.id}/choices/999999/vote"), 404)


async def test_vote_without_a_token_is_401(anonymous: Api, conn: Any) -> None:
    tea = await _question(conn, "Tea?", ("Yes",))
    (yes,) = await queries.get_choices(conn, tea.id)

    response = await anonymous.post(f"/api/questions/{tea.id}/choices/{yes.id}/vote")

    await problem_of(response, 401)
    assert (await queries.get_choice(conn, tea.id, yes.id)).votes == 0


CONCURRENT_VOTES = 50


async def test_concurrent_votes_are_all_counted(api: Api, conn: Any) -> None:
    tea = await _question(conn, "Busy?", ("Yes", "No"))
    yes, _ = await queries.get_choices(conn, tea.id)

    responses = await asyncio.gather(
        *(
            api.post(f"/api/questions/{tea.id}/choices/{yes.id}/vote")
            for _ in range(CONCURRENT_VOTES)
        )
    )

    assert [r.status for r in responses] == [200] * CONCURRENT_VOTES
    # Each vote saw its own increment: the counts answered are 1..50, once each.
    counts = sorted([(await body_of(r))["votes"] for r in responses])
    assert counts == list(range(1, CONCURRENT_VOTES + 1))
    assert [c.votes for c in await queries.get_choices(conn, tea.id)] == [CONCURRENT_VOTES, 0]


# A moved prefix


async def test_moved_prefix_carries_every_question_url(
    make_client: MakeClient, settings: Settings, staff_token: str
) -> None:
    moved = Api(
        await make_client(settings.with_overrides(apps={"api": "/v2/", "polls": "/surveys/"})),
        staff_token,
    )

    response = await moved.post(
        "/v2/questions/", json={"question_text": "Moved?", "choices": [{"choice_text": "Yes"}]}
    )

    created = await body_of(response)
    question = f"/v2/questions/{created['id']}"
    (yes,) = created["choices"]
    assert response.headers["Location"] == created["url"] == question
    assert created["choices_url"] == f"{question}/choices/"
    assert yes["vote_url"] == f"{question}/choices/{yes['id']}/vote"
    assert (await moved.post(yes["vote_url"])).status == 200
