"""Alembic environment of the audit store.

``krackwatch.fleet.store`` runs the migrations programmatically and passes its open connection in
``config.attributes["connection"]``. Run by hand (``alembic -x`` is not needed), a ``sqlalchemy.url`` main
option names the database instead. Offline (SQL script) mode is not supported.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import engine_from_config, pool

VERSION_TABLE = "krackwatch_alembic_version"

config = context.config


def _run(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=None,
        version_table=VERSION_TABLE,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters tables by copying them
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    raise RuntimeError("krackwatch's audit store migrations run online only")

_connection = config.attributes.get("connection")
if _connection is None:
    _engine = engine_from_config(config.get_section(config.config_ini_section, {}), prefix="sqlalchemy.",
                                 poolclass=pool.NullPool)
    with _engine.begin() as _conn:
        _run(_conn)
else:
    _run(_connection)
