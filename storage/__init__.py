"""Persistence: sqlmodel models, the database handle, queries and alembic migrations.

Nothing here knows a chat platform. Works on SQLite (default) and any
SQLAlchemy URL such as PostgreSQL: no SQLite-only SQL.
"""
