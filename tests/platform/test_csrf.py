"""CSRF: every unsafe request to an HTML section carries the session's token."""

from __future__ import annotations

from typing import Any

import pytest

from portal.apps.polls.queries import Choice, create_question, get_choices
from portal.platform.auth.users import User
from portal.testing import Client, MakeClient, csrf_token, log_in


@pytest.fixture
async def tea(conn: Any) -> Choice:
    """The first choice of a fresh question."""
    question = await create_question(conn, "Tea or coffee?", ["Tea", "Coffee"])
    return (await get_choices(conn, question.id))[0]


async def vote(
    client: Client, choice: Choice, headers: dict[str, str] | None = None, **form: str
) -> Any:
    return await client.post(
        f"/polls/{choice.question_id}/vote",
        data={"choice": str(choice.id), **form},
        headers=headers,
        allow_redirects=False,
    )


async def assert_csrf_refusal(response: Any) -> None:
    assert response.status == 403
    assert response.content_type == "text/html"
    body = await response.text()
    assert '<nav class="site-nav"' in body
    assert "security token" in body


async def test_logout_without_token_is_refused(client: Client) -> None:
    await csrf_token(client)  # the session has a token; the form does not send it

    response = await client.post("/logout", allow_redirects=False)

    await assert_csrf_refusal(response)


async def test_logout_without_any_session_is_refused(client: Client) -> None:
    response = await client.post("/logout", allow_redirects=False)

    await assert_csrf_refusal(response)


async def test_vote_without_token_is_refused(client: Client, tea: Choice) -> None:
    await csrf_token(client, f"/polls/{tea.question_id}/")

    response = await vote(client, tea)

    await assert_csrf_refusal(response)


async def test_refused_vote_is_not_counted(client: Client, conn: Any, tea: Choice) -> None:
    await csrf_token(client, f"/polls/{tea.question_id}/")

    await vote(client, tea, csrf_token="forged")

    assert (await get_choices(conn, tea.question_id))[0].votes == 0


async def test_vote_with_wrong_token_is_refused(client: Client, tea: Choice) -> None:
    token = await csrf_token(client, f"/polls/{tea.question_id}/")

    response = await vote(client, tea, csrf_token=token[::-1])

    await assert_csrf_refusal(response)


async def test_token_from_another_session_is_refused(
    client: Client, make_client: MakeClient, tea: Choice
) -> None:
    other = await make_client()
    their_token = await csrf_token(other, f"/polls/{tea.question_id}/")
    await csrf_token(client, f"/polls/{tea.question_id}/")

    response = await vote(client, tea, csrf_token=their_token)

    await assert_csrf_refusal(response)


async def test_vote_with_right_token_is_counted(client: Client, conn: Any, tea: Choice) -> None:
    token = await csrf_token(client, f"/polls/{tea.question_id}/")

    response = await vote(client, tea, csrf_token=token)

    assert response.status == 303
    assert (await get_choices(conn, tea.question_id))[0].votes == 1


async def test_token_in_header_is_accepted(client: Client, tea: Choice) -> None:
    token = await csrf_token(client, f"/polls/{tea.question_id}/")

    response = await client.post(
        f"/polls/{tea.question_id}/vote",
        data={"choice": str(tea.id)},
        headers={"X-CSRF-Token": token},
        allow_redirects=False,
    )

    assert response.status == 303


async def test_logout_with_right_token_succeeds(client: Client) -> None:
    token = await csrf_token(client)

    response = await client.post("/logout", data={"csrf_token": token}, allow_redirects=False)

    assert response.status == 303


async def test_token_is_the_same_on_every_page_of_the_session(client: Client, tea: Choice) -> None:
    first = await csrf_token(client, "/login")

    second = await csrf_token(client, f"/polls/{tea.question_id}/")

    assert second == first


async def test_token_of_an_older_tab_stays_valid(client: Client, conn: Any, tea: Choice) -> None:
    first_tab = await csrf_token(client, f"/polls/{tea.question_id}/")
    second_tab = await csrf_token(client, f"/polls/{tea.question_id}/")
    assert (await vote(client, tea, csrf_token=second_tab)).status == 303

    response = await vote(client, tea, csrf_token=first_tab)

    assert response.status == 303
    assert (await get_choices(conn, tea.question_id))[0].votes == 2


async def test_token_changes_at_login(client: Client, user: User) -> None:
    before = await csrf_token(client)
    await log_in(client, "alice")

    after = await csrf_token(client)

    assert after != before


async def test_token_from_before_login_is_refused_after_login(client: Client, user: User) -> None:
    before = await csrf_token(client)
    await log_in(client, "alice")

    response = await client.post("/logout", data={"csrf_token": before}, allow_redirects=False)

    await assert_csrf_refusal(response)


async def test_vote_from_another_origin_is_refused_despite_its_token(
    client: Client, tea: Choice
) -> None:
    token = await csrf_token(client, f"/polls/{tea.question_id}/")

    response = await vote(client, tea, {"Origin": "http://evil.example"}, csrf_token=token)

    assert response.status == 403
    assert "another origin" in await response.text()


async def test_vote_from_an_opaque_origin_is_refused(client: Client, tea: Choice) -> None:
    token = await csrf_token(client, f"/polls/{tea.question_id}/")

    response = await vote(client, tea, {"Origin": "null"}, csrf_token=token)

    assert response.status == 403


@pytest.mark.parametrize("site", ["cross-site", "same-site"])
async def test_vote_a_browser_marks_as_from_another_site_is_refused(
    client: Client, tea: Choice, site: str
) -> None:
    token = await csrf_token(client, f"/polls/{tea.question_id}/")

    response = await vote(client, tea, {"Sec-Fetch-Site": site}, csrf_token=token)

    assert response.status == 403
    assert site in await response.text()


@pytest.mark.parametrize("site", ["same-origin", "none"])
async def test_vote_a_browser_marks_as_our_own_is_counted(
    client: Client, conn: Any, tea: Choice, site: str
) -> None:
    token = await csrf_token(client, f"/polls/{tea.question_id}/")
    origin = f"http://{client.server.host}:{client.server.port}"

    response = await vote(client, tea, {"Sec-Fetch-Site": site, "Origin": origin}, csrf_token=token)

    assert response.status == 303
    assert (await get_choices(conn, tea.question_id))[0].votes == 1
