"""``<api prefix>docs``: Swagger UI over this API's OpenAPI document, for trying it out.

Swagger UI's files are served straight from the installed
``swagger-ui-bundle-v2`` package (no copy here, no CDN: the page works offline);
our own start-up script is a static file of this app, reading the document's
URL from the page, so the site's Content-Security-Policy, which forbids inline
scripts, holds for scripts, styles and connections unchanged.
"""

from __future__ import annotations

from pathlib import Path

from aiohttp import web
from swagger_ui_bundle import swagger_ui_path

from portal.appkit import CONTENT_SECURITY_POLICY, render, settings_key

__all__ = ["DOCS_CONTENT_SECURITY_POLICY", "SWAGGER_UI", "SWAGGER_UI_PREFIX", "docs"]

#: The package's folder of Swagger UI files (``…/swagger-ui-5.31.0``).
SWAGGER_UI = Path(str(swagger_ui_path))
#: Where they are served: the folder's name carries Swagger UI's version, so a
#: new version has new URLs and no browser keeps an old file.
SWAGGER_UI_PREFIX = f"/docs/{SWAGGER_UI.name}/"


#: The site's policy, and ``data:`` images on this page alone: Swagger UI's
#: stylesheet draws its icons (the arrows of its selects and sections) as
#: ``data:`` SVG images, which ``default-src 'self'`` refuses. An image cannot
#: run script, and scripts, styles and connections stay held to the site's own
#: files, so nothing but those icons is let in.
DOCS_CONTENT_SECURITY_POLICY = f"{CONTENT_SECURITY_POLICY}; img-src 'self' data:"


async def docs(request: web.Request) -> web.Response:
    """The interactive documentation page."""
    response = await render(request, "api/docs.html")
    # With debug on the site sends no CSP at all (the toolbar's scripts are
    # inline), and neither does this page; the response hook adds none over it.
    if not request.config_dict[settings_key].debug:
        response.headers["Content-Security-Policy"] = DOCS_CONTENT_SECURITY_POLICY
    return response
