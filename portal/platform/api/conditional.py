"""Conditional requests (RFC 9110 section 13): entity tags, ``If-None-Match``, ``If-Match``.

An API resource's tag is a digest of its JSON representation, so it changes
exactly when what a client would read changes (a vote changes a question's
tag: its choices are part of it). A ``GET`` answers ``304`` with no body
when the client's copy is current; a ``PATCH``, ``PUT`` or ``DELETE`` sent
with ``If-Match`` goes ahead only while the resource still has that tag,
else ``412`` and nothing changes.

Checking and writing must be one step, or two clients holding one tag could
both pass the check: the wrapper takes :data:`LOCK` (a transaction-scoped
advisory lock on the resource's URL) on the connection the handler then
writes through, so a second conditional write on the same resource waits,
then finds the tag changed.
"""

from __future__ import annotations

import base64
import hashlib
import re

import sqlalchemy as sa

__all__ = ["LOCK", "entity_tag", "matches_strongly", "matches_weakly"]

# Tags a client sends: a quoted string, maybe weak (W/"…").
_TAG = re.compile(r'\s*(W/)?("[\x21\x23-\x7e\x80-\xff]*")\s*(?:,|$)')

#: Every conditional write on one resource takes this lock first (``name`` names it).
LOCK = sa.select(
    sa.func.pg_advisory_xact_lock(
        sa.func.hashtextextended(sa.bindparam("name", type_=sa.Text), 17_001)
    )
)


def entity_tag(body: bytes) -> str:
    """The strong tag of the representation *body*: 128 bits of its BLAKE2b digest."""
    digest = hashlib.blake2b(body, digest_size=16).digest()
    return '"' + base64.urlsafe_b64encode(digest).decode().rstrip("=") + '"'


def _tags(header: str) -> list[tuple[bool, str]] | None:
    """The ``(weak, tag)`` pairs of an ``If-Match``/``If-None-Match`` list; None if malformed."""
    tags: list[tuple[bool, str]] = []
    position = 0
    while position < len(header):
        found = _TAG.match(header, position)
        if found is None or found.end() == position:
            return None
        tags.append((bool(found.group(1)), found.group(2)))
        position = found.end()
    return tags


def matches_weakly(header: str, tag: str) -> bool:
    """``If-None-Match``: whether *header* names *tag*, weak or strong (or is ``*``)."""
    if header.strip() == "*":
        return True
    return any(sent == tag for _, sent in _tags(header) or ())


def matches_strongly(header: str, tag: str | None) -> bool:
    """``If-Match``: whether *header* names *tag* strongly (``*``: any tag at all).

    *tag* None means the resource has no current representation: nothing
    matches it. A weak tag never matches here; a malformed header matches
    nothing, so the write does not happen.
    """
    if tag is None:
        return False
    if header.strip() == "*":
        return True
    return any(not weak and sent == tag for weak, sent in _tags(header) or ())
