"""A client generated from ``/api/openapi.json`` drives the API as a client developer's would.

One test validates the document the site serves (OpenAPI 3.1); the others
hand it to ``openapi-python-client generate``, import the package it writes,
and drive each flow through its generated, typed functions over HTTP. Each
answer must parse to the generated model its status declares: a response
the document leaves without content parses to ``None``, and a status it does
not declare raises ``UnexpectedStatus`` (the clients are made to raise).
"""

from __future__ import annotations

import asyncio
import hashlib
import importlib
import importlib.util
import json
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from openapi_spec_validator import OpenAPIV31SpecValidator, validate

from portal.testing import Client

# The generator's post hooks run ruff over its output: seconds, and nothing a test reads.
_GENERATOR_CONFIG = "post_hooks: []\n"

#: The packages generated so far in this process, by the digest of their document:
#: every test reads the same document, so one generation serves them all.
_generated: dict[str, Generated] = {}


@dataclass(frozen=True, slots=True)
class Generated:
    """The client package generated from one document, imported under a name of its own."""

    package: str

    def module(self, name: str) -> ModuleType:
        """The generated module *name* (``api.todos.create_todo``, ``models``…)."""
        return importlib.import_module(f"{self.package}.{name}")

    def operation(self, tag: str, operation_id: str) -> ModuleType:
        """The module of one operation: ``sync``/``asyncio`` and their ``_detailed`` forms."""
        return self.module(f"api.{tag}.{operation_id}")

    @property
    def models(self) -> ModuleType:
        return self.module("models")

    def client(self, base_url: str, token: str | None = None) -> Any:
        """A client of the site at *base_url*, authenticated with *token* if given.

        It raises on any status the document does not declare.
        """
        clients = self.module("client")
        if token is None:
            return clients.Client(base_url=base_url, raise_on_unexpected_status=True)
        return clients.AuthenticatedClient(
            base_url=base_url, token=token, raise_on_unexpected_status=True
        )


def _import(package: str, directory: Path) -> None:
    spec = importlib.util.spec_from_file_location(
        package, directory / "__init__.py", submodule_search_locations=[str(directory)]
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[package] = module
    spec.loader.exec_module(module)


async def _generate(document: bytes, directory: Path, package: str) -> Generated:
    """Run ``openapi-python-client generate`` on *document*, offline, and import the result."""
    source = directory / "openapi.json"
    source.write_bytes(document)
    config = directory / "generator.yaml"
    config.write_text(_GENERATOR_CONFIG)
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "openapi_python_client",
        "generate",
        "--path",
        str(source),
        "--meta",
        "none",
        "--output-path",
        str(directory / package),
        "--config",
        str(config),
        # A warning means a part of the document the client had to leave out.
        "--fail-on-warning",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await process.communicate()
    assert process.returncode == 0, output.decode()
    _import(package, directory / package)
    return Generated(package)


async def _served_document(client: Client) -> bytes:
    response = await client.get("/api/openapi.json")
    assert response.status == 200
    return await response.read()


@pytest.fixture
async def generated(client: Client, tmp_path_factory: pytest.TempPathFactory) -> Generated:
    """The client generated from the document this site serves (once per distinct document)."""
    document = await _served_document(client)
    digest = hashlib.sha256(document).hexdigest()[:16]
    if digest not in _generated:
        directory = tmp_path_factory.mktemp("generated-client")
        _generated[digest] = await _generate(document, directory, f"portal_client_{digest}")
    return _generated[digest]


def _base_url(client: Client) -> str:
    return str(client.make_url("/"))


@pytest.fixture
async def writer(generated: Generated, client: Client, api_token: str) -> AsyncIterator[Any]:
    """The generated client holding an ordinary user's write token."""
    async with generated.client(_base_url(client), api_token) as authenticated:
        yield authenticated


@pytest.fixture
async def staff(generated: Generated, client: Client, staff_token: str) -> AsyncIterator[Any]:
    """The generated client holding a staff user's token."""
    async with generated.client(_base_url(client), staff_token) as authenticated:
        yield authenticated


async def _create_todo(generated: Generated, writer: Any, name: str) -> Any:
    created = await generated.operation("todos", "create_todo").asyncio_detailed(
        client=writer, body=generated.models.TodoCreate(name=name)
    )
    assert created.status_code == 201
    assert isinstance(created.parsed, generated.models.TodoOut)
    return created


async def test_the_served_document_passes_the_openapi_3_1_validator(client: Client) -> None:
    document = json.loads(await _served_document(client))

    validate(document, cls=OpenAPIV31SpecValidator)


async def test_the_client_reads_the_document_as_its_model(
    generated: Generated, client: Client
) -> None:
    async with generated.client(_base_url(client)) as anonymous:
        document = await generated.operation("api", "openapi").asyncio(client=anonymous)

    assert isinstance(document, generated.models.OpenApiDocument)
    assert document["openapi"] == "3.1.0"


async def test_a_created_todo_is_at_its_location_and_in_the_list(
    generated: Generated, writer: Any
) -> None:
    created = await _create_todo(generated, writer, "Follow the Location")
    todo = created.parsed

    # The document links the create to get_todo by id; the Location is a URL to GET.
    location = created.headers["Location"]
    at_location = await writer.get_async_httpx_client().get(location)
    fetched = await generated.operation("todos", "get_todo").asyncio(todo.id, client=writer)
    list_todos = generated.operation("todos", "list_todos")
    await _create_todo(generated, writer, "Another one")
    page = await list_todos.asyncio(client=writer, name_contains="location")

    assert location == todo.url
    assert generated.models.TodoOut.from_dict(at_location.json()) == todo
    assert isinstance(fetched, generated.models.TodoOut)
    assert fetched == todo
    assert isinstance(page, generated.models.PageTodoOut)
    assert [item.id for item in page.items] == [todo.id]


async def test_a_change_with_the_current_etag_is_204_and_with_a_stale_one_a_typed_412(
    generated: Generated, writer: Any
) -> None:
    todo = (await _create_todo(generated, writer, "Edit me")).parsed
    read = await generated.operation("todos", "get_todo").asyncio_detailed(todo.id, client=writer)
    tag = read.headers["ETag"]
    update_todo = generated.operation("todos", "update_todo")
    finish = generated.models.TodoPatch(finished=True)

    changed = await update_todo.asyncio_detailed(todo.id, client=writer, body=finish, if_match=tag)
    stale = await update_todo.asyncio_detailed(todo.id, client=writer, body=finish, if_match=tag)

    assert changed.status_code == 204
    assert changed.headers["ETag"] != tag
    assert stale.status_code == 412
    assert isinstance(stale.parsed, generated.models.Problem)
    assert stale.parsed.status == 412


async def test_a_change_preferring_the_representation_answers_the_typed_todo(
    generated: Generated, writer: Any
) -> None:
    todo = (await _create_todo(generated, writer, "Show me")).parsed

    changed = await generated.operation("todos", "update_todo").asyncio_detailed(
        todo.id,
        client=writer,
        body=generated.models.TodoPatch(finished=True),
        prefer="return=representation",
    )

    assert changed.status_code == 200
    assert isinstance(changed.parsed, generated.models.TodoOut)
    assert changed.parsed.finished is True
    assert changed.headers["ETag"]


async def test_a_deleted_todo_is_then_a_typed_404(generated: Generated, writer: Any) -> None:
    todo = (await _create_todo(generated, writer, "Delete me")).parsed

    deleted = await generated.operation("todos", "delete_todo").asyncio_detailed(
        todo.id, client=writer
    )
    gone = await generated.operation("todos", "get_todo").asyncio(todo.id, client=writer)

    assert deleted.status_code == 204
    assert isinstance(gone, generated.models.Problem)
    assert gone.status == 404


async def test_an_empty_name_is_a_typed_422_naming_the_field(
    generated: Generated, writer: Any
) -> None:
    refused = await generated.operation("todos", "create_todo").asyncio(
        client=writer, body=generated.models.TodoCreate(name="")
    )

    assert isinstance(refused, generated.models.Problem)
    assert refused.status == 422
    assert [error.field for error in refused.errors] == ["name"]
    assert all(isinstance(error, generated.models.FieldError) for error in refused.errors)


async def test_a_read_token_s_write_is_a_typed_403(
    generated: Generated, client: Client, read_token: str
) -> None:
    async with generated.client(_base_url(client), read_token) as reader:
        refused = await generated.operation("todos", "create_todo").asyncio(
            client=reader, body=generated.models.TodoCreate(name="Not with this token")
        )

    assert isinstance(refused, generated.models.Problem)
    assert refused.status == 403


async def test_a_vote_through_the_client_shows_in_the_question_s_results(
    generated: Generated, staff: Any, writer: Any
) -> None:
    models = generated.models
    created = await generated.operation("polls", "create_question").asyncio(
        client=staff,
        body=models.QuestionCreate(
            question_text="Which client?",
            choices=[
                models.ChoiceCreate(choice_text="Generated"),
                models.ChoiceCreate(choice_text="Curl"),
            ],
        ),
    )
    assert isinstance(created, models.QuestionDetail)
    chosen = created.choices[0]

    vote = await generated.operation("polls", "vote").asyncio(created.id, chosen.id, client=writer)
    results = await generated.operation("polls", "get_question").asyncio(created.id, client=writer)

    assert isinstance(vote, models.VoteOut)
    assert (vote.id, vote.votes) == (chosen.id, 1)
    assert isinstance(results, models.QuestionDetail)
    assert {choice.choice_text: choice.votes for choice in results.choices} == {
        "Generated": 1,
        "Curl": 0,
    }


async def test_following_the_pages_reads_every_todo_once(generated: Generated, writer: Any) -> None:
    made = [(await _create_todo(generated, writer, f"Todo {n}")).parsed.id for n in range(5)]
    list_todos = generated.operation("todos", "list_todos")

    page = await list_todos.asyncio(client=writer, limit=2)
    read = [item.id for item in page.items]
    while page.next_ is not None:
        # The cursor is its own field: no URL to parse.
        page = await list_todos.asyncio(client=writer, limit=2, after=page.cursor)
        assert isinstance(page, generated.models.PageTodoOut)
        read += [item.id for item in page.items]

    assert read == made
