"""What the todos API accepts and answers, as pydantic models.

The same models validate requests, serialise responses and generate the
OpenAPI document's schemas.
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, StrictBool, model_validator

from portal.appkit import Input, OrderedPageQuery, QueryBool, search_text, text
from portal.apps.todos.queries import NAME_MAX_LENGTH

__all__ = ["TodoCreate", "TodoListQuery", "TodoOut", "TodoPatch"]


class TodoOut(BaseModel):
    """A todo."""

    id: int
    name: str
    finished: bool
    url: str


class TodoCreate(Input):
    """A new todo."""

    name: Annotated[str, text(NAME_MAX_LENGTH)]
    finished: StrictBool = False


def _absent_keeps(schema: dict[str, Any]) -> None:
    # The field may be left out, but null is not a value it takes: no default in the document.
    schema.pop("default", None)


class TodoPatch(Input):
    """The change to a todo: its name, whether it is finished, or both; absent ones stay."""

    # At least one field: an empty object changes nothing and is refused.
    model_config = ConfigDict(extra="forbid", json_schema_extra={"minProperties": 1})

    # None stands for "absent" and is never validated (pydantic does not
    # validate defaults), so an explicit null is still refused: neither column
    # takes null. The declared types are what a client may send.
    name: Annotated[str, text(NAME_MAX_LENGTH)] = Field(  # type: ignore[assignment]
        None, json_schema_extra=_absent_keeps
    )
    finished: StrictBool = Field(None, json_schema_extra=_absent_keeps)  # type: ignore[assignment]

    @model_validator(mode="after")
    def _something_to_change(self) -> Self:
        if not self.model_fields_set:
            raise ValueError("Send at least one of the fields name and finished.")
        return self

    def changes(self) -> dict[str, Any]:
        """The fields the client sent, by name."""
        return {name: getattr(self, name) for name in sorted(self.model_fields_set)}


class TodoListQuery(OrderedPageQuery):
    """The todo list's query string: page, ordering and filters."""

    sort_types: ClassVar[dict[str, Any]] = {"id": int, "name": str}

    ordering: Literal["id", "-id", "name", "-name"] = Field(
        "id", description="The order of the todos: by id or by name; `-` is descending."
    )
    finished: QueryBool | None = Field(
        None, description="Only finished todos (true) or only unfinished ones (false)."
    )
    name_contains: Annotated[str, search_text(NAME_MAX_LENGTH)] | None = Field(
        None,
        description="Only todos whose name contains this text, ignoring case "
        "(`%` and `_` are plain characters here).",
    )
