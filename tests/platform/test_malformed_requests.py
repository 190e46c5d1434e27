"""A request aiohttp cannot parse is a 400 and one WARNING line, never a logged traceback."""

from __future__ import annotations

import asyncio
import logging

import pytest

from portal.testing import Client

GARBAGE = [
    b"GET / HTTP/1.1\r\nHost: localhost\r\nContent-Length: abc\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: localhost\r\nBad Header Name: x\r\n\r\n",
    b"POST / HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
    b"GET / HTTP/1.1\r\nHost: localhost\r\nX: " + b"a" * 20000 + b"\r\n\r\n",
]


async def _send(client: Client, raw: bytes) -> bytes:
    reader, writer = await asyncio.open_connection(client.server.host, client.server.port)
    writer.write(raw)
    await writer.drain()
    answer = await asyncio.wait_for(reader.read(), timeout=10)
    writer.close()
    return answer


@pytest.mark.parametrize("raw", GARBAGE, ids=["length", "header", "chunk", "long"])
async def test_a_malformed_request_is_a_400_logged_in_one_warning(
    client: Client, raw: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="aiohttp.server")

    answer = await _send(client, raw)
    await asyncio.sleep(0.05)

    assert answer.split(b"\r\n", 1)[0].endswith(b" 400 Bad Request")
    server_lines = [r for r in caplog.records if r.name == "aiohttp.server"]
    assert [r.levelname for r in server_lines if r.levelno >= logging.WARNING] == ["WARNING"]
    assert all(r.exc_info is None for r in server_lines)
    assert "Traceback" not in caplog.text
