"""Do the references answer what portal answers? One sample request per scenario.

A ratio means something only if both servers did the same work: the same
status, media type and body (JSON compared as data; HTML as text once CSRF
tokens and nonces are blanked; anything else byte for byte). Vote counts
change between samples, so they are left out.
"""

from __future__ import annotations

import difflib
import http.client
import json
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

__all__ = ["Sample", "compare_samples", "fetch_sample", "normalise_html"]

_VOLATILE_HTML = (
    (re.compile(r'(name="csrf_token" value=")[^"]*(")'), r"\1…\2"),
    (re.compile(r'(nonce=")[^"]*(")'), r"\1…\2"),
)
_DIFF_LINES = 20


@dataclass(frozen=True, slots=True)
class Sample:
    """One response: status, media type (without parameters) and body."""

    status: int
    media_type: str
    body: bytes


def fetch_sample(base_url: str, method: str, path: str, headers: dict[str, str]) -> Sample:
    """Ask *base_url* for *path* once."""
    netloc = urlsplit(base_url).netloc
    conn = http.client.HTTPConnection(netloc, timeout=10)
    try:
        conn.request(method, path, body=b"" if method == "POST" else None, headers=headers)
        response = conn.getresponse()
        media_type = (response.getheader("Content-Type") or "").split(";")[0].strip()
        return Sample(status=response.status, media_type=media_type, body=response.read())
    finally:
        conn.close()


def normalise_html(text: str) -> str:
    """*text* with its per-request values (CSRF tokens, nonces) blanked."""
    for pattern, replacement in _VOLATILE_HTML:
        text = pattern.sub(replacement, text)
    return text


def _json(body: bytes, volatile: tuple[str, ...]) -> Any:
    try:
        return _without(json.loads(body), volatile)
    except ValueError:
        return None


def _without(data: Any, keys: tuple[str, ...]) -> Any:
    # Drops *keys* at any depth: a vote count also sits inside a question's choices.
    if isinstance(data, dict):
        return {k: _without(v, keys) for k, v in data.items() if k not in keys}
    if isinstance(data, list):
        return [_without(item, keys) for item in data]
    return data


def compare_samples(
    what: str, portal: Sample, reference: Sample, *, volatile: tuple[str, ...] = ()
) -> list[str]:
    """How *reference*'s answer to *what* differs from portal's; empty when it does not.

    *volatile* names JSON keys left out of the comparison at any depth (vote
    counts, which other scenarios change between two samples).
    """
    problems: list[str] = []
    if portal.status != reference.status:
        problems.append(f"{what}: status {reference.status}, portal {portal.status}")
    if portal.media_type != reference.media_type:
        problems.append(
            f"{what}: Content-Type {reference.media_type!r}, portal {portal.media_type!r}"
        )
    if portal.media_type.endswith("json"):
        ours, theirs = _json(portal.body, volatile), _json(reference.body, volatile)
        if isinstance(ours, dict) and isinstance(theirs, dict):
            if ours.keys() != theirs.keys():
                problems.append(f"{what}: JSON keys {sorted(theirs)}, portal {sorted(ours)}")
            for key in ours.keys() & theirs.keys():
                if ours[key] != theirs[key]:
                    problems.append(
                        f"{what}: JSON {key!r} is {theirs[key]!r}, portal {ours[key]!r}"
                    )
        elif ours != theirs:
            problems.append(f"{what}: JSON bodies differ")
    elif portal.media_type == "text/html":
        ours_text = normalise_html(portal.body.decode(errors="replace"))
        theirs_text = normalise_html(reference.body.decode(errors="replace"))
        if ours_text != theirs_text:
            diff = difflib.unified_diff(
                ours_text.splitlines(), theirs_text.splitlines(), "portal", "reference", lineterm=""
            )
            shown = "\n".join(list(diff)[:_DIFF_LINES])
            problems.append(f"{what}: the HTML differs:\n{shown}")
    elif portal.body != reference.body:
        problems.append(
            f"{what}: bodies differ ({len(reference.body)} bytes, portal {len(portal.body)})"
        )
    return problems
