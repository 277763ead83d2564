"""The Alembic environment shared by every service: online migrations against the configured URL.

Each service keeps only its `migrations/versions/`; `servicekit.db.migrate` combines them with the
messaging tables' own versions here (every service's first revision builds on `sk0001`).
"""

from alembic import context
from sqlalchemy import create_engine, pool

url = context.config.get_main_option("sqlalchemy.url")
if context.is_offline_mode():
    context.configure(url=url, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    engine = create_engine(url, poolclass=pool.NullPool)
    with engine.connect() as connection:
        context.configure(connection=connection)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()
