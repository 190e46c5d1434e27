"""Alembic's entry point: run the revisions over one synchronous connection.

``makemigrations`` hands its comparison options (the app's tables, which
reflected tables are the app's) through ``config.attributes["compare"]``.
"""

from alembic import context
from sqlalchemy import create_engine, pool

config = context.config
engine = create_engine(config.attributes["url"], poolclass=pool.NullPool)
with engine.connect() as connection:
    context.configure(
        connection=connection,
        transaction_per_migration=True,
        **config.attributes.get("compare", {}),
    )
    with context.begin_transaction():
        context.run_migrations()
engine.dispose()
