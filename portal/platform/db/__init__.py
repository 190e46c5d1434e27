"""The database: the shared engine, its pool and statements, the embedded server, migrations."""
