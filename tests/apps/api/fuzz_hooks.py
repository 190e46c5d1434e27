"""schemathesis hooks for ``test_fuzz``: what an OpenAPI document cannot say about a cursor.

A list's ``after`` is an opaque cursor: valid only as a page's ``cursor``,
and only for the ordering it was made for, which no JSON schema of one
parameter can express. Random text that fits its schema is rightly refused
(422, naming ``after``), which schemathesis would count as valid data
rejected; so its positive cases leave ``after`` out. Its negative cases
keep it: those must be refused, and are. Cursors themselves are tested in
``test_pagination``.

Loaded by schemathesis from ``SCHEMATHESIS_HOOKS`` (this file's path).
"""

from __future__ import annotations

from typing import Any

import schemathesis
from schemathesis import Case
from schemathesis.hooks import HookContext


@schemathesis.hook
def map_case(context: HookContext, case: Case[Any]) -> Case[Any]:
    if case.meta is None or not case.meta.generation.mode.is_positive:
        return case
    if case.query and "after" in case.query:
        case.query = {name: value for name, value in case.query.items() if name != "after"}
    return case
