"""Request bodies: each section's limit, refused unread when declared, cut off when not."""

from __future__ import annotations

import asyncio
import gzip
from collections.abc import AsyncIterator

from portal.platform.auth.users import User
from portal.testing import Client, csrf_token

FORM_LIMIT = 256 * 1024
BOMB = gzip.compress(b"0" * (20 * 1024 * 1024))  # 20 MiB of zeros in ~20 KiB


async def raw_head(client: Client, head: str) -> tuple[str, bytes]:
    """Send only a request's head (no body) and read the status line and the response."""
    reader, writer = await asyncio.open_connection(client.server.host, client.server.port)
    try:
        writer.write(head.encode("latin-1"))
        await writer.drain()
        status = (await reader.readline()).decode("latin-1").strip()
        rest = await asyncio.wait_for(reader.read(65536), 5)
        return status, rest
    finally:
        writer.close()


def head(path: str, length: int, content_type: str) -> str:
    return (
        f"POST {path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: {content_type}\r\n"
        f"Content-Length: {length}\r\n\r\n"
    )


async def test_a_form_declared_over_the_limit_is_refused_before_it_is_sent(
    client: Client,
) -> None:
    status, rest = await raw_head(
        client, head("/login", 50 * 1024 * 1024, "application/x-www-form-urlencoded")
    )

    assert status == "HTTP/1.1 413 Request Entity Too Large"
    assert b"text/html" in rest


async def test_an_api_body_declared_over_the_limit_is_refused_before_it_is_sent(
    client: Client,
) -> None:
    status, rest = await raw_head(client, head("/api/todos/", 50 * 1024 * 1024, "application/json"))

    assert status == "HTTP/1.1 413 Request Entity Too Large"
    assert b"application/problem+json" in rest


async def _chunks(body: bytes, size: int = 16 * 1024) -> AsyncIterator[bytes]:
    for start in range(0, len(body), size):
        yield body[start : start + size]


async def test_a_chunked_form_over_the_limit_is_413(client: Client) -> None:
    token = await csrf_token(client)
    body = f"csrf_token={token}&username=".encode() + b"a" * FORM_LIMIT

    response = await client.post(
        "/login",
        data=_chunks(body),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )

    assert response.request_info.headers.get("Transfer-Encoding") == "chunked"
    assert response.status == 413
    assert "Request Entity Too Large" in await response.text()


async def test_a_gzip_form_that_inflates_past_the_limit_is_413(client: Client) -> None:
    response = await client.post(
        "/login",
        data=BOMB,
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Content-Encoding": "gzip",
        },
    )

    assert response.status == 413


async def test_a_small_gzip_form_is_read(client: Client, user: User) -> None:
    token = await csrf_token(client)
    form = f"csrf_token={token}&username=alice&password=wrong-password".encode()

    response = await client.post(
        "/login",
        data=gzip.compress(form),
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Content-Encoding": "gzip",
        },
    )

    # The form was read: a wrong password, not a missing token or a bad body.
    assert response.status == 400
    assert "Please enter a correct username and password." in await response.text()
