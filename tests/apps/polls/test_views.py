"""The polls pages through the whole site: list, detail, vote, results, errors."""

from __future__ import annotations

import base64
import json
import re
from typing import Any

import sqlalchemy as sa
from aiohttp_session import Session
from cryptography.fernet import Fernet

from portal.apps.polls import queries
from portal.apps.polls.tables import choice
from portal.platform.sessions.storage import AppSession, derive_key
from portal.testing import TEST_SECRET, Client, csrf_token

_RADIO = re.compile(r'<input type="radio" name="choice" id="choice\d+" value="(\d+)">')


async def _poll(conn: Any, text: str = "Tabs or spaces?") -> tuple[int, list[int]]:
    created = await queries.create_question(conn, text, ["Tabs", "Spaces"])
    return created.id, [c.id for c in await queries.get_choices(conn, created.id)]


async def _votes(conn: Any, question_id: int) -> list[int]:
    rows = await conn.execute(
        sa.select(choice.c.votes).where(choice.c.question_id == question_id).order_by(choice.c.id)
    )
    return [row.votes async for row in rows]


async def _vote(client: Client, question_id: int, **form: str) -> Any:
    token = await csrf_token(client, f"/polls/{question_id}/")
    return await client.post(
        f"/polls/{question_id}/vote", data={"csrf_token": token, **form}, allow_redirects=False
    )


async def test_index_links_each_question_under_the_polls_prefix(client: Client, conn: Any) -> None:
    first, _ = await _poll(conn, "First question")
    second, _ = await _poll(conn, "Second question")

    response = await client.get("/polls/")

    body = await response.text()
    assert response.status == 200
    assert f'<a href="/polls/{first}/">First question</a>' in body
    assert f'<a href="/polls/{second}/">Second question</a>' in body


async def test_index_says_no_polls_are_available_when_there_are_none(client: Client) -> None:
    response = await client.get("/polls/")

    assert response.status == 200
    assert "No polls are available." in await response.text()


async def test_index_without_trailing_slash_redirects_to_it(client: Client) -> None:
    response = await client.get("/polls", allow_redirects=False)

    assert response.status in {301, 308}
    assert response.headers["Location"] == "/polls/"


async def test_detail_shows_the_vote_form_with_csrf_field_and_choice_radios(
    client: Client, conn: Any
) -> None:
    question_id, choice_ids = await _poll(conn)

    response = await client.get(f"/polls/{question_id}/")

    body = await response.text()
    assert response.status == 200
    assert f'<form method="post" action="/polls/{question_id}/vote"' in body
    assert re.search(r'<input type="hidden" name="csrf_token" value="[^"]{20,}">', body)
    assert [int(v) for v in _RADIO.findall(body)] == choice_ids
    assert ">Tabs</label>" in body
    assert ">Spaces</label>" in body


async def test_missing_question_is_the_html_404_page_in_the_shared_layout(
    client: Client,
) -> None:
    response = await client.get("/polls/4242/")

    body = await response.text()
    assert response.status == 404
    assert response.content_type == "text/html"
    assert "404 · Not Found" in body
    assert "There is no such question." in body
    assert '<header class="site-header">' in body
    assert '<a href="/polls/">Polls</a>' in body


async def test_results_of_a_missing_question_is_404(client: Client) -> None:
    response = await client.get("/polls/4242/results")

    assert response.status == 404
    assert "There is no such question." in await response.text()


async def test_vote_redirects_to_the_results_with_303(client: Client, conn: Any) -> None:
    question_id, (tabs, _) = await _poll(conn)

    response = await _vote(client, question_id, choice=str(tabs))

    assert response.status == 303
    assert response.headers["Location"] == f"/polls/{question_id}/results"


async def test_vote_is_counted_and_shown_on_the_results_page(client: Client, conn: Any) -> None:
    question_id, (tabs, _) = await _poll(conn)

    await _vote(client, question_id, choice=str(tabs))
    response = await client.get(f"/polls/{question_id}/results")

    body = await response.text()
    assert await _votes(conn, question_id) == [1, 0]
    assert f'<td class="votes" data-choice-id="{tabs}">1</td>' in body
    assert '<span id="total">1 vote</span> in all.' in body


async def test_vote_flashes_thanks_on_the_results_page_once(client: Client, conn: Any) -> None:
    question_id, (tabs, _) = await _poll(conn)
    token = await csrf_token(client, f"/polls/{question_id}/")

    results = await client.post(
        f"/polls/{question_id}/vote", data={"choice": str(tabs), "csrf_token": token}
    )
    again = await client.get(f"/polls/{question_id}/results")

    assert results.url.path == f"/polls/{question_id}/results"
    assert "Thanks! Your vote for “Tabs” was counted." in await results.text()
    assert "Thanks! Your vote" not in await again.text()


async def test_vote_without_a_choice_is_400_and_counts_nothing(client: Client, conn: Any) -> None:
    question_id, _ = await _poll(conn)

    response = await _vote(client, question_id)

    body = await response.text()
    assert response.status == 400
    assert "You didn&#39;t select a choice." in body
    assert 'name="choice"' in body  # the form is shown again
    assert await _votes(conn, question_id) == [0, 0]


async def test_vote_with_a_non_numeric_choice_is_400_and_counts_nothing(
    client: Client, conn: Any
) -> None:
    question_id, _ = await _poll(conn)

    response = await _vote(client, question_id, choice="tabs")

    assert response.status == 400
    assert "You didn&#39;t select a choice." in await response.text()
    assert await _votes(conn, question_id) == [0, 0]


async def test_vote_for_a_choice_of_another_question_is_400_and_counts_nothing(
    client: Client, conn: Any
) -> None:
    question_id, _ = await _poll(conn, "Asked")
    other_id, (other_choice, _) = await _poll(conn, "Other")

    response = await _vote(client, question_id, choice=str(other_choice))

    assert response.status == 400
    assert "That choice is not one of this question&#39;s." in await response.text()
    assert await _votes(conn, question_id) == [0, 0]
    assert await _votes(conn, other_id) == [0, 0]


async def test_vote_on_a_missing_question_is_404(client: Client, conn: Any) -> None:
    question_id, (tabs, _) = await _poll(conn)
    token = await csrf_token(client, f"/polls/{question_id}/")

    response = await client.post(
        f"/polls/{question_id + 1000}/vote",
        data={"choice": str(tabs), "csrf_token": token},
        allow_redirects=False,
    )

    assert response.status == 404
    assert "There is no such question." in await response.text()
    assert await _votes(conn, question_id) == [0, 0]


async def test_vote_without_the_csrf_token_is_refused_and_counts_nothing(
    client: Client, conn: Any
) -> None:
    question_id, (tabs, _) = await _poll(conn)
    await client.get(f"/polls/{question_id}/")  # the session and its token exist

    response = await client.post(
        f"/polls/{question_id}/vote", data={"choice": str(tabs)}, allow_redirects=False
    )

    assert response.status == 403
    assert await _votes(conn, question_id) == [0, 0]


async def test_results_page_says_you_voted_only_after_voting_on_that_question(
    client: Client, conn: Any
) -> None:
    question_id, (tabs, _) = await _poll(conn, "Voted on")
    other_id, _ = await _poll(conn, "Not voted on")
    before = await (await client.get(f"/polls/{question_id}/results")).text()

    await _vote(client, question_id, choice=str(tabs))
    after = await (await client.get(f"/polls/{question_id}/results")).text()
    other = await (await client.get(f"/polls/{other_id}/results")).text()

    assert "You have voted on this question" not in before
    assert "You have voted on this question" in after
    assert "You have voted on this question" not in other


async def test_session_cookie_stores_the_vote_under_the_polls_namespace(
    client: Client, conn: Any
) -> None:
    question_id, (tabs, _) = await _poll(conn)

    await _vote(client, question_id, choice=str(tabs))

    cookie = client.session.cookie_jar.filter_cookies(client.make_url("/"))["portal_session"]
    fernet = Fernet(base64.urlsafe_b64encode(derive_key(TEST_SECRET, "session")))
    stored = json.loads(fernet.decrypt(cookie.value.encode()))["session"]
    assert stored["polls.voted"] == [question_id]
    assert "voted" not in stored


def test_app_session_keeps_each_apps_keys_under_its_own_prefix() -> None:
    session = Session(None, data=None, new=True)
    polls, todos = AppSession(session, "polls"), AppSession(session, "todos")

    polls["voted"] = [1]
    todos["filter"] = "open"

    assert session["polls.voted"] == [1]
    assert dict(polls) == {"voted": [1]}
    assert dict(todos) == {"filter": "open"}
    assert "voted" not in todos
    del polls["voted"]
    assert "polls.voted" not in session
    assert len(polls) == 0
    assert len(todos) == 1


async def test_question_text_is_html_escaped(client: Client, conn: Any) -> None:
    question_id, _ = await _poll(conn, "<script>alert(1)</script>")

    index = await (await client.get("/polls/")).text()
    detail = await (await client.get(f"/polls/{question_id}/")).text()

    for body in (index, detail):
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body
        assert "<script>alert(1)</script>" not in body


async def test_choice_text_is_html_escaped(client: Client, conn: Any) -> None:
    created = await queries.create_question(conn, "Safe?", ['<img src=x onerror="boom">'])

    body = await (await client.get(f"/polls/{created.id}/results")).text()

    assert "&lt;img src=x onerror=&#34;boom&#34;&gt;" in body
    assert "<img" not in body


async def test_static_stylesheet_is_served_as_text_css(client: Client) -> None:
    response = await client.get("/polls/static/polls.css")

    assert response.status == 200
    assert response.content_type == "text/css"
    assert ".results" in await response.text()


async def test_pages_link_the_versioned_stylesheet_of_the_app(client: Client, conn: Any) -> None:
    question_id, _ = await _poll(conn)

    body = await (await client.get(f"/polls/{question_id}/results")).text()
    match = re.search(r'<link rel="stylesheet" href="(/polls/static/polls\.css\?v=[^"]+)">', body)

    assert match
    assert (await client.get(match.group(1).replace("&amp;", "&"))).status == 200
