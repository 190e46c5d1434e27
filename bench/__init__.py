"""portal's load benchmark: ``make bench`` (``python -m bench``).

portal and reference servers (bare aiohttp with naive ``aiopg.sa``, a bare
aiohttp-jinja2 page, FastAPI + uvicorn + asyncpg) each run alone, pinned to
core 0, while ``wrk`` drives them from core 1; every result is reported as a
ratio to a reference measured in the same run. See ``bench/__main__.py``.
"""

__all__: list[str] = []
