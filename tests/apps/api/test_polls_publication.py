"""``/api/questions/``: a question whose ``pub_date`` is to come is absent, except to staff."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from portal.apps.polls.tables import question
from tests.apps.api.conftest import Api, body_of, problem_of
from tests.apps.polls.conftest import Poll, create_question, one_second_ahead, votes_of


async def _listed(api: Api) -> list[str]:
    """The question texts of the list's first page, in order."""
    response = await api.get("/api/questions/")
    assert response.status == 200
    return [item["question_text"] for item in (await body_of(response))["items"]]


def _reads(poll: Poll) -> list[str]:
    """Every read of one question: itself, its choices, one choice."""
    base = f"/api/questions/{poll.id}"
    return [base, f"{base}/choices/", f"{base}/choices/{poll.choice_ids[0]}"]


# The list


async def test_list_leaves_out_a_future_question(anonymous: Api, conn: Any) -> None:
    await create_question(conn, "Past question.", days=-30)
    await create_question(conn, "Future question.", days=30)

    assert await _listed(anonymous) == ["Past question."]


async def test_list_shows_a_question_published_one_second_ago(anonymous: Api, conn: Any) -> None:
    await create_question(conn, "Just now?", seconds=-1)

    assert await _listed(anonymous) == ["Just now?"]


async def test_list_leaves_out_a_question_published_one_second_ahead(
    anonymous: Api, conn: Any
) -> None:
    _, listed = await one_second_ahead(conn, lambda poll: _listed(anonymous))

    assert listed == []


async def test_list_leaves_out_future_questions_for_a_user_who_is_not_staff(
    api: Api, conn: Any
) -> None:
    await create_question(conn, "Future question.", days=30)

    assert await _listed(api) == []


async def test_list_shows_future_questions_to_a_staff_token(staff_api: Api, conn: Any) -> None:
    await create_question(conn, "Past question.", days=-30)
    await create_question(conn, "Future question.", days=30)

    assert await _listed(staff_api) == ["Past question.", "Future question."]


async def test_list_with_an_unknown_token_is_the_public_list(anonymous: Api, conn: Any) -> None:
    await create_question(conn, "Past question.", days=-30)
    await create_question(conn, "Future question.", days=30)

    assert await _listed(anonymous.with_token("pt_not-a-real-token")) == ["Past question."]


async def test_list_pages_skip_future_questions_without_losing_published_ones(
    anonymous: Api, conn: Any
) -> None:
    for n in range(5):
        await create_question(conn, f"Q{n}", days=-1 if n % 2 == 0 else 1)

    first = await body_of(await anonymous.get("/api/questions/?limit=2"))
    second = await body_of(await anonymous.get(first["next"]))

    assert [q["question_text"] for q in first["items"]] == ["Q0", "Q2"]
    assert [q["question_text"] for q in second["items"]] == ["Q4"]
    assert second["next"] is None


# One question, its choices, one choice


async def test_every_read_of_a_future_question_is_404(anonymous: Api, conn: Any) -> None:
    future = await create_question(conn, "Future question.", days=5)

    for path in _reads(future):
        problem = await problem_of(await anonymous.get(path), 404)
        assert "Future question." not in str(problem), path


async def test_every_read_of_a_future_question_is_404_for_a_user_who_is_not_staff(
    api: Api, conn: Any
) -> None:
    future = await create_question(conn, "Future question.", days=5)

    for path in _reads(future):
        await problem_of(await api.get(path), 404)


async def test_every_read_of_a_question_published_one_second_ago_answers(
    anonymous: Api, conn: Any
) -> None:
    poll = await create_question(conn, "Just now?", seconds=-1)

    for path in _reads(poll):
        assert (await anonymous.get(path)).status == 200, path


async def test_every_read_of_a_question_published_one_second_ahead_is_404(
    anonymous: Api, conn: Any
) -> None:
    async def statuses(poll: Poll) -> list[int]:
        return [(await anonymous.get(path)).status for path in _reads(poll)]

    _, answered = await one_second_ahead(conn, statuses)

    assert answered == [404, 404, 404]


async def test_a_staff_token_reads_a_future_question(staff_api: Api, conn: Any) -> None:
    future = await create_question(conn, "Future question.", days=5, choices=("Later",))

    detail, choices, one = [await staff_api.get(path) for path in _reads(future)]

    assert [detail.status, choices.status, one.status] == [200, 200, 200]
    assert (await body_of(detail))["question_text"] == "Future question."
    assert [c["choice_text"] for c in (await body_of(choices))["items"]] == ["Later"]
    assert (await body_of(one))["choice_text"] == "Later"


# Voting


async def test_vote_on_a_future_question_is_404_and_counts_nothing(api: Api, conn: Any) -> None:
    future = await create_question(conn, "Future question.", days=5)

    response = await api.post(f"/api/questions/{future.id}/choices/{future.choice_ids[0]}/vote")

    await problem_of(response, 404)
    assert await votes_of(conn, future.id) == [0, 0]


async def test_staff_token_cannot_vote_on_a_future_question(staff_api: Api, conn: Any) -> None:
    future = await create_question(conn, "Future question.", days=5)

    response = await staff_api.post(
        f"/api/questions/{future.id}/choices/{future.choice_ids[0]}/vote"
    )

    await problem_of(response, 404)
    assert await votes_of(conn, future.id) == [0, 0]


async def test_vote_on_a_question_published_one_second_ahead_counts_nothing(
    api: Api, conn: Any
) -> None:
    poll, response = await one_second_ahead(
        conn,
        lambda poll: api.post(f"/api/questions/{poll.id}/choices/{poll.choice_ids[0]}/vote"),
    )

    assert response.status == 404
    assert await votes_of(conn, poll.id) == [0, 0]


async def test_vote_on_a_question_published_one_second_ago_is_counted(api: Api, conn: Any) -> None:
    poll = await create_question(conn, "Just now?", seconds=-1)

    response = await api.post(f"/api/questions/{poll.id}/choices/{poll.choice_ids[0]}/vote")

    assert response.status == 200
    assert await votes_of(conn, poll.id) == [1, 0]


# Publication by the clock alone


async def test_a_question_appears_in_the_api_when_its_time_comes(api: Api, conn: Any) -> None:
    poll = await create_question(conn, "Coming?", days=1)
    await problem_of(await api.get(f"/api/questions/{poll.id}"), 404)

    await conn.execute(
        question.update()
        .where(question.c.id == poll.id)
        .values(pub_date=sa.func.now() - sa.text("interval '1 second'"))
    )

    assert (await api.get(f"/api/questions/{poll.id}")).status == 200
    assert await _listed(api) == ["Coming?"]
    vote = await api.post(f"/api/questions/{poll.id}/choices/{poll.choice_ids[0]}/vote")
    assert vote.status == 200


async def test_a_staff_patch_to_a_future_date_hides_the_question(
    staff_api: Api, anonymous: Api, conn: Any
) -> None:
    poll = await create_question(conn, "Postponed?", days=-1)

    patched = await staff_api.patch(
        f"/api/questions/{poll.id}", json={"pub_date": "2999-01-01T00:00:00Z"}
    )

    assert patched.status == 204
    await problem_of(await anonymous.get(f"/api/questions/{poll.id}"), 404)
    assert (await staff_api.get(f"/api/questions/{poll.id}")).status == 200
