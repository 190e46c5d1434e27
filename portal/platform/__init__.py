"""What the root application shares with every sub-app.

The database engine, sessions, CSRF, authentication, templates, error pages,
security headers and the registry of mountable apps.
"""
