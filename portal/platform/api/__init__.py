"""The JSON API toolkit: endpoints declared as data, validated, documented.

An app declares :class:`~portal.platform.api.endpoints.Endpoint` records (path,
handler, request and response models, who may call it); :func:`install` adds
them to its router with validation, bearer authentication and RFC 9457 errors,
and :func:`~portal.platform.api.openapi.openapi_document` describes exactly
those records, so the document cannot drift from what the server does.
"""
