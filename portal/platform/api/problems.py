"""RFC 9457 problem documents, the one error shape under ``/api/``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from http import HTTPStatus

from aiohttp import web
from pydantic import BaseModel

__all__ = ["PROBLEM_TYPE", "FieldError", "Problem", "problem_response"]

#: The media type of every error the API sends.
PROBLEM_TYPE = "application/problem+json"


class FieldError(BaseModel):
    """One input at fault: where it is (``name``, ``choices.0.choice_text``) and why."""

    field: str
    message: str


class Problem(BaseModel):
    """An error response (RFC 9457)."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str | None = None
    errors: list[FieldError] | None = None


def problem_response(
    status: int,
    detail: str | None = None,
    *,
    title: str | None = None,
    errors: Sequence[FieldError] | None = None,
    headers: Mapping[str, str] | None = None,
) -> web.Response:
    """A ``application/problem+json`` response for *status*."""
    problem = Problem(
        title=title or HTTPStatus(status).phrase,
        status=status,
        detail=detail or None,
        errors=list(errors) if errors else None,
    )
    return web.Response(
        body=problem.model_dump_json(exclude_none=True).encode(),
        status=status,
        content_type=PROBLEM_TYPE,
        headers=headers,
    )
