"""API rate limits: requests per client and window, counted in PostgreSQL.

``api_rate_limit`` (``600/minute`` unless set; ``off`` turns the limiter off)
holds for every client, ``api_rate_limit_staff`` for the tokens of staff
users. A request carrying a valid bearer token counts against that token; any
other (no token, a bad one) against its client address: the real one behind
a trusted proxy (:mod:`portal.platform.edge.proxy`), an IPv6 client by its
/64, as the login throttle counts them. Every API request counts, reads and
writes, errors too; a CORS preflight does not (the browser sends it itself).

Past the limit the answer is ``429`` (problem+json) with ``Retry-After``;
every counted answer says where its client stands, in the headers of the
IETF draft (draft-ietf-httpapi-ratelimit-headers-11)::

    RateLimit-Policy: "default";q=600;w=60
    RateLimit: "default";r=598;t=41

The counters are rows of one ``UNLOGGED`` table that every worker process
shares (:mod:`.queries`): one atomic upsert per request, so two workers
together allow the limit, not twice it.
"""

from portal.platform.ratelimit.middleware import Quota, rate_limit_middleware

__all__ = ["Quota", "rate_limit_middleware"]
