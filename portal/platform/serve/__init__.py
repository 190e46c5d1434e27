"""Serving the site: ``python -m portal run`` in production, ``adev runserver`` in development."""
