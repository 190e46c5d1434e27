"""The API's own answers, as pydantic models: its index, its OpenAPI document and the
problem kinds.

Every other model belongs to the app whose operations use it
(``portal/apps/<app>/schemas.py``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, Field, RootModel, create_model

__all__ = [
    "ApiIndex",
    "OpenApiDocument",
    "ProblemTypeDescription",
    "ProblemTypeList",
    "index_model",
]


class ApiIndex(RootModel[dict[str, str]]):
    """Where each resource lives: the URL of each list and document, by its route name."""


class OpenApiDocument(RootModel[dict[str, Any]]):
    """An OpenAPI 3.1 document: this API's, generated from the operations it serves."""


def index_model(links: Mapping[str, str]) -> type[ApiIndex]:
    """:class:`ApiIndex` documenting exactly the keys this site's index has.

    *links* maps each key (a route name) to what its URL serves. The installed
    apps decide the keys, so the model is made when the API is built. Other
    keys stay allowed (as strings): installing an app adds its lists to the
    index, and a client should not break on a key it does not know.
    """
    documented = {
        name: {"type": "string", "description": summary} for name, summary in links.items()
    }

    def document(schema: dict[str, Any]) -> None:
        schema["properties"] = documented
        schema["required"] = list(documented)

    return create_model(
        "ApiIndex",
        __base__=ApiIndex,
        __doc__=ApiIndex.__doc__,
        __cls_kwargs__={"json_schema_extra": document},
    )


class ProblemTypeDescription(BaseModel):
    """One kind of problem: what a problem document whose ``type`` is this URI means."""

    type: str = Field(description="The URI problem documents of this kind carry as `type`.")
    title: str = Field(description="Their `title`.")
    status: int = Field(description="Their HTTP status.")
    description: str = Field(description="What happened, and what the client can do about it.")


class ProblemTypeList(BaseModel):
    """Every kind of problem the API answers with, in status order."""

    items: list[ProblemTypeDescription]
