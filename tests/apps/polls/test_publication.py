"""A question whose ``pub_date`` is still to come does not exist for the public.

The index and detail tests port the Django tutorial's ``QuestionIndexViewTests``
and ``QuestionDetailViewTests``; the rest carry the same rule to every other
page: results, the live socket, the vote, and staff, who see what is to come.
"""

from __future__ import annotations

import re
from typing import Any

import aiohttp
import pytest
import sqlalchemy as sa

from portal.apps.polls.tables import question
from portal.platform.auth.tables import users
from portal.platform.auth.users import User
from portal.testing import Client, csrf_token, log_in
from tests.apps.polls.conftest import Poll, create_question, one_second_ahead, votes_of

_LISTED = re.compile(r'<li><a href="/polls/\d+/">([^<]*)</a></li>')


async def _listed(client: Client) -> list[str]:
    """The question texts the index lists, in order."""
    response = await client.get("/polls/")
    assert response.status == 200
    return _LISTED.findall(await response.text())


async def _vote(client: Client, poll: Poll) -> Any:
    # The login form carries the session's token: the poll's own page may be a 404.
    token = await csrf_token(client, "/login")
    return await client.post(
        f"/polls/{poll.id}/vote",
        data={"choice": str(poll.choice_ids[0]), "csrf_token": token},
        allow_redirects=False,
    )


async def _live_status(client: Client, poll: Poll) -> int:
    """The status the live socket's handshake answers (101 when it opens)."""
    try:
        ws = await client.ws_connect(f"/polls/{poll.id}/live")
    except aiohttp.WSServerHandshakeError as exc:
        return exc.status
    await ws.close()
    return 101


# The index, as the Django tutorial's QuestionIndexViewTests


async def test_index_with_no_questions_says_no_polls_are_available(client: Client) -> None:
    response = await client.get("/polls/")

    assert response.status == 200
    assert "No polls are available." in await response.text()
    assert await _listed(client) == []


async def test_index_lists_a_question_published_in_the_past(client: Client, conn: Any) -> None:
    await create_question(conn, "Past question.", days=-30)

    assert await _listed(client) == ["Past question."]


async def test_index_does_not_list_a_question_published_in_the_future(
    client: Client, conn: Any
) -> None:
    await create_question(conn, "Future question.", days=30)

    response = await client.get("/polls/")

    assert "No polls are available." in await response.text()
    assert await _listed(client) == []


async def test_index_with_a_future_and_a_past_question_lists_only_the_past_one(
    client: Client, conn: Any
) -> None:
    await create_question(conn, "Past question.", days=-30)
    await create_question(conn, "Future question.", days=30)

    assert await _listed(client) == ["Past question."]


async def test_index_lists_two_past_questions_newest_first(client: Client, conn: Any) -> None:
    await create_question(conn, "Past question 1.", days=-30)
    await create_question(conn, "Past question 2.", days=-5)

    assert await _listed(client) == ["Past question 2.", "Past question 1."]


async def test_index_lists_a_question_published_one_second_ago(client: Client, conn: Any) -> None:
    await create_question(conn, "Just now.", seconds=-1)

    assert await _listed(client) == ["Just now."]


async def test_index_does_not_list_a_question_published_one_second_ahead(
    client: Client, conn: Any
) -> None:
    _, listed = await one_second_ahead(conn, lambda poll: _listed(client))

    assert listed == []


# The detail page, as the Django tutorial's QuestionDetailViewTests


async def test_detail_of_a_future_question_is_404(client: Client, conn: Any) -> None:
    future = await create_question(conn, "Future question.", days=5)

    response = await client.get(f"/polls/{future.id}/")

    assert response.status == 404
    body = await response.text()
    assert "There is no such question." in body
    assert "Future question." not in body


async def test_detail_of_a_past_question_shows_its_text(client: Client, conn: Any) -> None:
    past = await create_question(conn, "Past Question.", days=-5)

    response = await client.get(f"/polls/{past.id}/")

    assert response.status == 200
    assert "Past Question." in await response.text()


async def test_detail_of_a_question_published_one_second_ago_is_shown(
    client: Client, conn: Any
) -> None:
    poll = await create_question(conn, "Just now?", seconds=-1)

    response = await client.get(f"/polls/{poll.id}/")

    assert response.status == 200
    assert "Just now?" in await response.text()


async def test_detail_of_a_question_published_one_second_ahead_is_404(
    client: Client, conn: Any
) -> None:
    _, response = await one_second_ahead(conn, lambda poll: client.get(f"/polls/{poll.id}/"))

    assert response.status == 404


# Every other page


async def test_results_of_a_future_question_is_404(client: Client, conn: Any) -> None:
    future = await create_question(conn, "Future question.", days=5)

    response = await client.get(f"/polls/{future.id}/results")

    assert response.status == 404
    assert "Future question." not in await response.text()


async def test_results_of_a_question_published_one_second_ahead_is_404(
    client: Client, conn: Any
) -> None:
    _, response = await one_second_ahead(conn, lambda poll: client.get(f"/polls/{poll.id}/results"))

    assert response.status == 404


async def test_live_socket_of_a_future_question_is_refused_with_404(
    client: Client, conn: Any
) -> None:
    future = await create_question(conn, "Future question.", days=5)

    assert await _live_status(client, future) == 404


async def test_live_socket_of_a_published_question_opens(client: Client, conn: Any) -> None:
    past = await create_question(conn, "Past question.", seconds=-1)

    assert await _live_status(client, past) == 101


async def test_vote_on_a_future_question_is_404_and_counts_nothing(
    client: Client, conn: Any
) -> None:
    future = await create_question(conn, "Future question.", days=5)

    response = await _vote(client, future)

    assert response.status == 404
    assert await votes_of(conn, future.id) == [0, 0]


async def test_vote_on_a_question_published_one_second_ahead_counts_nothing(
    client: Client, conn: Any
) -> None:
    poll, response = await one_second_ahead(conn, lambda poll: _vote(client, poll))

    assert response.status == 404
    assert await votes_of(conn, poll.id) == [0, 0]


async def test_vote_on_a_question_published_one_second_ago_is_counted(
    client: Client, conn: Any
) -> None:
    poll = await create_question(conn, "Just now?", seconds=-1)

    response = await _vote(client, poll)

    assert response.status == 303
    assert await votes_of(conn, poll.id) == [1, 0]


async def test_a_question_appears_by_itself_when_its_time_comes(client: Client, conn: Any) -> None:
    poll = await create_question(conn, "Coming?", days=1)
    assert (await client.get(f"/polls/{poll.id}/")).status == 404

    # Its time comes (moved, rather than waited for): the same running site shows it.
    await conn.execute(
        question.update()
        .where(question.c.id == poll.id)
        .values(pub_date=sa.func.now() - sa.text("interval '1 second'"))
    )

    assert (await client.get(f"/polls/{poll.id}/")).status == 200
    assert (await client.get(f"/polls/{poll.id}/results")).status == 200
    assert await _listed(client) == ["Coming?"]
    assert (await _vote(client, poll)).status == 303
    assert await votes_of(conn, poll.id) == [1, 0]


async def test_a_question_moved_back_into_the_future_disappears(client: Client, conn: Any) -> None:
    poll = await create_question(conn, "Withdrawn?", days=-1)
    assert (await client.get(f"/polls/{poll.id}/")).status == 200

    await conn.execute(
        question.update()
        .where(question.c.id == poll.id)
        .values(pub_date=sa.func.now() + sa.text("interval '1 day'"))
    )

    assert (await client.get(f"/polls/{poll.id}/")).status == 404
    assert (await _vote(client, poll)).status == 404
    assert await votes_of(conn, poll.id) == [0, 0]


# Staff


async def test_staff_session_sees_the_detail_and_results_of_a_future_question(
    client: Client, conn: Any, staff_user: User
) -> None:
    future = await create_question(conn, "Future question.", days=5)
    assert (await log_in(client, staff_user.username)).status == 303

    detail = await client.get(f"/polls/{future.id}/")
    results = await client.get(f"/polls/{future.id}/results")

    assert detail.status == 200
    assert results.status == 200
    for body in (await detail.text(), await results.text()):
        assert "Future question." in body
        assert "Not published yet: only staff see this question" in body


async def test_staff_see_the_vote_form_of_a_future_question_disabled(
    client: Client, conn: Any, staff_user: User
) -> None:
    future = await create_question(conn, "Future question.", days=5)
    await log_in(client, staff_user.username)

    body = await (await client.get(f"/polls/{future.id}/")).text()

    assert "<fieldset disabled>" in body
    assert '<button type="submit" disabled>Vote</button>' in body


async def test_staff_session_opens_the_live_socket_of_a_future_question(
    client: Client, conn: Any, staff_user: User
) -> None:
    future = await create_question(conn, "Future question.", days=5)
    await log_in(client, staff_user.username)

    assert await _live_status(client, future) == 101


async def test_staff_cannot_vote_on_a_future_question(
    client: Client, conn: Any, staff_user: User
) -> None:
    future = await create_question(conn, "Future question.", days=5)
    await log_in(client, staff_user.username)

    response = await _vote(client, future)

    assert response.status == 404
    assert await votes_of(conn, future.id) == [0, 0]


async def test_staff_see_no_notice_on_a_published_question(
    client: Client, conn: Any, staff_user: User
) -> None:
    past = await create_question(conn, "Past question.", days=-5)
    await log_in(client, staff_user.username)

    body = await (await client.get(f"/polls/{past.id}/")).text()

    assert "Not published yet" not in body
    assert "disabled" not in body


async def test_staff_index_still_lists_only_published_questions(
    client: Client, conn: Any, staff_user: User
) -> None:
    # As in Django's tutorial, the index is the public's list; staff use the admin.
    await create_question(conn, "Past question.", days=-5)
    await create_question(conn, "Future question.", days=5)
    await log_in(client, staff_user.username)

    assert await _listed(client) == ["Past question."]


async def test_a_logged_in_user_who_is_not_staff_gets_404(
    client: Client, conn: Any, user: User
) -> None:
    future = await create_question(conn, "Future question.", days=5)
    assert (await log_in(client, user.username)).status == 303

    assert (await client.get(f"/polls/{future.id}/")).status == 404
    assert (await client.get(f"/polls/{future.id}/results")).status == 404
    assert await _live_status(client, future) == 404


async def test_a_deactivated_staff_users_session_gets_404(
    client: Client, conn: Any, staff_user: User
) -> None:
    future = await create_question(conn, "Future question.", days=5)
    await log_in(client, staff_user.username)
    await conn.execute(users.update().where(users.c.id == staff_user.id).values(is_active=False))

    assert (await client.get(f"/polls/{future.id}/")).status == 404


@pytest.mark.parametrize("path", ["/admin/polls/question/", "/admin/polls/choice/"])
async def test_the_admin_lists_future_questions_and_their_choices(
    client: Client, conn: Any, staff_user: User, path: str
) -> None:
    await create_question(conn, "Future question.", days=5, choices=("Later",))
    await log_in(client, staff_user.username)

    response = await client.get(path)

    assert response.status == 200
    assert ("Future question." if "question" in path else "Later") in await response.text()
