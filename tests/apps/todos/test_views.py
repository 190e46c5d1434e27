"""The todos page through the whole site: the list, its forms, errors and prefixes."""

from __future__ import annotations

import re
from typing import Any

import pytest
from markupsafe import escape

from portal.apps import todos
from portal.apps.todos import queries
from portal.apps.todos.queries import NAME_MAX_LENGTH
from portal.platform.auth.users import User
from portal.settings import Settings
from portal.testing import PASSWORD, Client, MakeClient, csrf_token, log_in

_LINK = re.compile(r'(?:href|action|src)="([^"]*)"')
_ACTION = re.compile(r'<form [^>]*action="([^"]*)"')
_CSRF = re.compile(r'<input type="hidden" name="csrf_token" value="[^"]{20,}">')
#: The old prefix as a path segment (``/todos.css`` is a file name, not the prefix).
_OLD_PREFIX = re.compile(r"/todos(?:/|$|\?)")


async def _stored(conn: Any) -> list[tuple[str, bool]]:
    return [(t.name, t.finished) for t in await queries.list_todos(conn)]


async def _logged_in(client: Client, user: User) -> Client:
    response = await log_in(client, user.username)
    assert response.status == 303
    return client


@pytest.fixture
async def alice(client: Client, user: User) -> Client:
    """The site's client with the ordinary user ``alice`` logged in."""
    return await _logged_in(client, user)


async def _post(client: Client, path: str, index: str = "/todos/", **form: str) -> Any:
    """POST *form* to *path* with the CSRF token of the page at *index*."""
    token = await csrf_token(client, index)
    return await client.post(path, data={"csrf_token": token, **form}, allow_redirects=False)


# Reading, anonymously


async def test_index_lists_every_todo_in_id_order(client: Client, conn: Any) -> None:
    await queries.create_todo(conn, "First")
    await queries.create_todo(conn, "Second")

    response = await client.get("/todos/")

    body = await response.text()
    assert response.status == 200
    assert body.index('<span class="name">First</span>') < body.index(
        '<span class="name">Second</span>'
    )
    assert "2 todos, 0 finished." in body


async def test_index_marks_finished_todos_with_text_not_only_style(
    client: Client, conn: Any
) -> None:
    done = await queries.create_todo(conn, "Done", finished=True)
    open_ = await queries.create_todo(conn, "Open")

    body = await (await client.get("/todos/")).text()

    done_item = re.search(rf'<li class="todo finished" id="todo-{done.id}">(.*?)</li>', body, re.S)
    open_item = re.search(rf'<li class="todo" id="todo-{open_.id}">(.*?)</li>', body, re.S)
    assert done_item
    assert open_item
    assert "Finished" in done_item.group(1)
    assert "To do" in open_item.group(1)
    assert "Finished" not in open_item.group(1)
    assert "1 finished." in body


async def test_index_says_there_is_nothing_to_do_without_todos(client: Client) -> None:
    response = await client.get("/todos/")

    assert response.status == 200
    assert "Nothing to do yet." in await response.text()


async def test_index_without_trailing_slash_redirects_to_it(client: Client) -> None:
    response = await client.get("/todos", allow_redirects=False)

    assert response.status in {301, 308}
    assert response.headers["Location"] == "/todos/"


async def test_anonymous_index_links_to_login_and_back_and_shows_no_forms(
    client: Client, conn: Any
) -> None:
    await queries.create_todo(conn, "Read me")

    body = await (await client.get("/todos/")).text()

    assert '<a href="/login?next=/todos/">Log in to add or change todos</a>' in body
    assert "<form" not in body
    assert "Read me" in body


async def test_todo_names_are_html_escaped(client: Client, user: User, conn: Any) -> None:
    await queries.create_todo(conn, "<b>x</b>")

    anonymous = await (await client.get("/todos/")).text()
    await _logged_in(client, user)
    logged_in = await (await client.get("/todos/")).text()

    for body in (anonymous, logged_in):
        assert "&lt;b&gt;x&lt;/b&gt;" in body
        assert "<b>x</b>" not in body


async def test_static_stylesheet_is_served_and_linked_versioned(client: Client) -> None:
    body = await (await client.get("/todos/")).text()
    match = re.search(r'<link rel="stylesheet" href="(/todos/static/todos\.css\?v=[^"]+)">', body)

    response = await client.get("/todos/static/todos.css")

    assert match
    assert response.status == 200
    assert response.content_type == "text/css"
    assert ".todo" in await response.text()


async def test_home_page_lists_todos_with_its_description(client: Client) -> None:
    body = await (await client.get("/")).text()

    assert '<a href="/todos/">Todos</a>' in body
    assert todos.spec.description in body


# Anonymous changes go to the login page


@pytest.mark.parametrize(
    ("path", "form"),
    [("/todos/", {"name": "Sneaky"}), ("/todos/{id}/toggle", {}), ("/todos/{id}/delete", {})],
)
async def test_anonymous_post_redirects_to_login_and_changes_nothing(
    client: Client, conn: Any, path: str, form: dict[str, str]
) -> None:
    existing = await queries.create_todo(conn, "Existing")
    token = await csrf_token(client)  # an anonymous session with a valid token

    response = await client.post(
        path.format(id=existing.id),
        data={"csrf_token": token, **form},
        allow_redirects=False,
    )

    assert response.status == 303
    assert response.headers["Location"] == "/login?next=/todos/"
    assert await _stored(conn) == [("Existing", False)]


async def test_anonymous_post_for_a_missing_todo_also_goes_to_login(client: Client) -> None:
    token = await csrf_token(client)

    response = await client.post(
        "/todos/4242/delete", data={"csrf_token": token}, allow_redirects=False
    )

    assert response.status == 303
    assert response.headers["Location"] == "/login?next=/todos/"


async def test_logging_in_from_the_todos_link_comes_back_to_the_list(
    client: Client, user: User
) -> None:
    login_page = await (await client.get("/login?next=/todos/")).text()
    assert 'name="next" value="/todos/"' in login_page
    token = await csrf_token(client)

    response = await client.post(
        "/login",
        data={
            "username": user.username,
            "password": PASSWORD,
            "next": "/todos/",
            "csrf_token": token,
        },
        allow_redirects=False,
    )

    assert response.status == 303
    assert response.headers["Location"] == "/todos/"


# Logged in: the forms


async def test_logged_in_index_has_the_add_form_with_its_csrf_field(alice: Client) -> None:
    body = await (await alice.get("/todos/")).text()

    assert '<form method="post" action="/todos/" class="add-todo">' in body
    assert re.search(r'<input id="todo-name" name="name" value=""', body)
    assert _CSRF.search(body)
    assert "Log in to add or change todos" not in body


async def test_logged_in_index_has_a_toggle_and_a_delete_form_per_todo(
    alice: Client, conn: Any
) -> None:
    first = await queries.create_todo(conn, "One")
    second = await queries.create_todo(conn, "Two", finished=True)

    body = await (await alice.get("/todos/")).text()

    actions = _ACTION.findall(body)
    for created in (first, second):
        assert f"/todos/{created.id}/toggle" in actions
        assert f"/todos/{created.id}/delete" in actions
    assert "Mark finished<span" in body
    assert "Mark not finished<span" in body
    # Every form on the page carries the token (the add form, 2 x 2, logout).
    assert len(_CSRF.findall(body)) == len(actions) == 6


async def test_add_stores_the_todo_and_redirects_to_the_list(alice: Client, conn: Any) -> None:
    response = await _post(alice, "/todos/", name="Buy milk")

    assert response.status == 303
    assert response.headers["Location"] == "/todos/"
    assert await _stored(conn) == [("Buy milk", False)]


async def test_add_flashes_once_on_the_list_it_redirects_to(alice: Client) -> None:
    token = await csrf_token(alice, "/todos/")

    page = await alice.post("/todos/", data={"name": "Buy milk", "csrf_token": token})
    again = await alice.get("/todos/")

    assert page.url.path == "/todos/"
    assert "Added “Buy milk”." in await page.text()
    assert "Added “Buy milk”." not in await again.text()


async def test_add_stores_the_name_stripped(alice: Client, conn: Any) -> None:
    await _post(alice, "/todos/", name="   Water plants  ")

    assert await _stored(conn) == [("Water plants", False)]


async def test_toggle_marks_finished_then_not_finished(alice: Client, conn: Any) -> None:
    created = await queries.create_todo(conn, "Flip")

    first = await _post(alice, f"/todos/{created.id}/toggle")
    after_first = await _stored(conn)
    second = await _post(alice, f"/todos/{created.id}/toggle")

    assert (first.status, first.headers["Location"]) == (303, "/todos/")
    assert after_first == [("Flip", True)]
    assert second.status == 303
    assert await _stored(conn) == [("Flip", False)]


async def test_toggle_flashes_the_new_state(alice: Client, conn: Any) -> None:
    created = await queries.create_todo(conn, "Flip")
    token = await csrf_token(alice, "/todos/")

    page = await alice.post(f"/todos/{created.id}/toggle", data={"csrf_token": token})

    body = await page.text()
    assert "Marked “Flip” as finished." in body
    assert f'<li class="todo finished" id="todo-{created.id}">' in body


async def test_delete_removes_only_that_todo(alice: Client, conn: Any) -> None:
    doomed = await queries.create_todo(conn, "Doomed")
    await queries.create_todo(conn, "Kept")

    response = await _post(alice, f"/todos/{doomed.id}/delete")

    assert (response.status, response.headers["Location"]) == (303, "/todos/")
    assert await _stored(conn) == [("Kept", False)]
    page = await (await alice.get("/todos/")).text()
    assert "Deleted “Doomed”." in page
    assert "Doomed</span>" not in page


@pytest.mark.parametrize(
    ("path", "form"),
    [("/todos/", {"name": "Sneaky"}), ("/todos/{id}/toggle", {}), ("/todos/{id}/delete", {})],
)
async def test_post_without_the_csrf_token_is_403_and_changes_nothing(
    alice: Client, conn: Any, path: str, form: dict[str, str]
) -> None:
    existing = await queries.create_todo(conn, "Existing")

    response = await alice.post(path.format(id=existing.id), data=form, allow_redirects=False)

    assert response.status == 403
    assert await _stored(conn) == [("Existing", False)]


async def test_post_with_a_wrong_csrf_token_is_403_and_adds_nothing(
    alice: Client, conn: Any
) -> None:
    response = await alice.post(
        "/todos/", data={"name": "Forged", "csrf_token": "not-the-token"}, allow_redirects=False
    )

    assert response.status == 403
    assert await _stored(conn) == []


# Errors come back on the page


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("", "The name must not be empty."),
        ("   ", "The name must not be blank."),
        ("y" * (NAME_MAX_LENGTH + 1), f"The name must be at most {NAME_MAX_LENGTH} characters"),
    ],
)
async def test_add_with_an_invalid_name_is_400_with_the_message_and_name_kept(
    alice: Client, conn: Any, typed: str, message: str
) -> None:
    response = await _post(alice, "/todos/", name=typed)

    body = await response.text()
    assert response.status == 400
    assert f'<p class="error" id="todo-name-error" role="alert">{message}' in body
    assert f'name="name" value="{typed}"' in body
    assert 'aria-invalid="true" aria-describedby="todo-name-error"' in body
    assert await _stored(conn) == []


async def test_add_without_a_name_field_is_400_and_stores_nothing(alice: Client, conn: Any) -> None:
    response = await _post(alice, "/todos/")

    assert response.status == 400
    assert "The name must not be empty." in await response.text()
    assert await _stored(conn) == []


async def test_add_with_a_duplicate_name_is_409_with_the_message_and_name_kept(
    alice: Client, conn: Any
) -> None:
    await queries.create_todo(conn, "Buy milk")

    response = await _post(alice, "/todos/", name=" Buy milk ")

    body = await response.text()
    assert response.status == 409
    assert "A todo named “Buy milk” already exists." in body
    assert 'name="name" value=" Buy milk "' in body
    assert await _stored(conn) == [("Buy milk", False)]


async def test_the_error_page_still_lists_the_todos(alice: Client, conn: Any) -> None:
    await queries.create_todo(conn, "Listed")

    response = await _post(alice, "/todos/", name="")

    assert '<span class="name">Listed</span>' in await response.text()


async def test_a_typed_name_kept_after_an_error_is_escaped(alice: Client, conn: Any) -> None:
    await queries.create_todo(conn, '"><b>x</b>')

    response = await _post(alice, "/todos/", name='"><b>x</b>')

    body = await response.text()
    assert response.status == 409
    assert f'value="{escape(chr(34) + "><b>x</b>")}"' in body
    assert "<b>x</b>" not in body


@pytest.mark.parametrize("action", ["toggle", "delete"])
async def test_changing_a_missing_todo_is_the_html_404_page(
    alice: Client, conn: Any, action: str
) -> None:
    existing = await queries.create_todo(conn, "Existing")

    response = await _post(alice, f"/todos/{existing.id + 1000}/{action}")

    body = await response.text()
    assert response.status == 404
    assert response.content_type == "text/html"
    assert "404 · Not Found" in body
    assert "There is no such todo." in body
    assert '<header class="site-header">' in body
    assert await _stored(conn) == [("Existing", False)]


async def test_a_todo_id_too_big_for_the_column_is_404(alice: Client) -> None:
    response = await _post(alice, f"/todos/{10**20}/toggle")

    assert response.status == 404


# The app under a moved prefix


@pytest.fixture
async def tasks(make_client: MakeClient, settings: Settings) -> Client:
    """A client over the site with todos moved from ``/todos/`` to ``/tasks/``."""
    return await make_client(settings.with_overrides(apps={"todos": "/tasks/"}))


async def test_moved_prefix_serves_the_list_and_leaves_the_old_one_404(tasks: Client) -> None:
    assert (await tasks.get("/tasks/")).status == 200
    assert (await tasks.get("/todos/")).status == 404
    assert (await tasks.get("/tasks/static/todos.css")).status == 200


async def test_moved_prefix_anonymous_links_point_under_it(tasks: Client, conn: Any) -> None:
    await queries.create_todo(conn, "Moved")

    index = _LINK.findall(await (await tasks.get("/tasks/")).text())
    home = _LINK.findall(await (await tasks.get("/")).text())

    assert "/login?next=/tasks/" in index
    assert "/tasks/" in index  # the navigation
    assert "/tasks/" in home
    assert any(link.startswith("/tasks/static/todos.css?v=") for link in index)
    assert [link for link in index + home if _OLD_PREFIX.search(link)] == []


async def test_moved_prefix_forms_and_links_point_under_it(
    tasks: Client, user: User, conn: Any
) -> None:
    created = await queries.create_todo(conn, "Moved")
    await _logged_in(tasks, user)

    links = _LINK.findall(await (await tasks.get("/tasks/")).text())

    assert "/tasks/" in links
    assert f"/tasks/{created.id}/toggle" in links
    assert f"/tasks/{created.id}/delete" in links
    assert [link for link in links if _OLD_PREFIX.search(link)] == []


async def test_moved_prefix_redirects_point_under_it(tasks: Client, user: User, conn: Any) -> None:
    created = await queries.create_todo(conn, "Moved")
    anonymous = await _post(tasks, "/tasks/", index="/login", name="x")
    await _logged_in(tasks, user)

    added = await _post(tasks, "/tasks/", index="/tasks/", name="Added")
    toggled = await _post(tasks, f"/tasks/{created.id}/toggle", index="/tasks/")
    deleted = await _post(tasks, f"/tasks/{created.id}/delete", index="/tasks/")

    assert anonymous.headers["Location"] == "/login?next=/tasks/"
    for response in (added, toggled, deleted):
        assert (response.status, response.headers["Location"]) == (303, "/tasks/")
    assert await _stored(conn) == [("Added", False)]


def test_todos_factory_returns_a_fresh_unfrozen_app_each_call(settings: Settings) -> None:
    first = todos.create_app(settings)
    second = todos.create_app(settings)

    assert first is not second
    assert not first.frozen
    assert not second.frozen
