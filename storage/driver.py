"""The few statements run for every message relayed, executed on the driver's cursor.

SQLAlchemy's work around one statement (its cache key, an execution context, a result
object) costs more CPU than SQLite takes to run it: measured side by side, the two
transactions of a relayed message cost 1.0-1.3 ms of CPU through SQLAlchemy Core and
0.5-0.7 ms with the same statements on the driver's cursor, in the same transaction
(the relay benchmark's note in the README). So these statements are written once as
SQLAlchemy statements, compiled once for each dialect, and run on the cursor of the
connection the transaction holds, with the columns' own conversions (aware UTC dates,
sealed text); the transaction itself (begin, commit, rollback, the pool) stays
SQLAlchemy's. A driver error is raised as SQLAlchemy's own error, as the callers expect.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql import Executable
from sqlalchemy.sql.elements import ClauseElement
from sqlmodel import Session

from storage.database import connection_of


@dataclass(frozen=True)
class _Compiled:
    sql: str
    order: tuple[str, ...] | None  # the parameters' order, for a positional paramstyle
    fixed: dict[str, Any]  # values written in the statement itself (attempts + 1)
    convert: dict[str, Callable[[Any], Any]]  # a parameter's conversion for the driver
    columns: tuple[str, ...]  # what a SELECT or RETURNING gives back
    read: tuple[Callable[[Any], Any] | None, ...]  # and the conversion of each


class DriverStatement:
    """One statement, compiled once per dialect and run on the driver's cursor."""

    def __init__(self, statement: Executable | Callable[[str], Executable], *,
                 values: bool = False):
        """``statement``, or what builds it for a dialect's name (an INSERT's ON CONFLICT
        is each dialect's own). ``values``: an INSERT or UPDATE whose columns are the
        keys of the values given at each call (compiled once for each set of keys)."""
        self.statement = statement
        self.values = values
        self._compiled: dict[tuple[str, frozenset[str]], _Compiled] = {}

    def _for(self, dialect: Dialect, values: Mapping[str, Any]) -> _Compiled:
        key = (dialect.name, frozenset(values) if self.values else frozenset())
        compiled = self._compiled.get(key)
        if compiled is None:
            compiled = self._compiled[key] = self._compile(dialect, sorted(key[1]) or None)
        return compiled

    def _compile(self, dialect: Dialect, column_keys: list[str] | None) -> _Compiled:
        statement = self.statement if isinstance(self.statement, ClauseElement) else \
            self.statement(dialect.name)  # type: ignore[operator]
        assert isinstance(statement, ClauseElement)
        compiled: Any = statement.compile(dialect=dialect, column_keys=column_keys)
        order = tuple(compiled.positiontup) if compiled.positional else None
        used = set(order) if order is not None else \
            {name for name in compiled.binds if f"%({name})s" in compiled.string}
        convert: dict[str, Callable[[Any], Any]] = {}
        fixed: dict[str, Any] = {}
        for name, bind in compiled.binds.items():
            if name not in used:
                continue
            process = bind.type.dialect_impl(dialect).bind_processor(dialect)
            if process is not None:
                convert[name] = process
            if not bind.required:
                fixed[name] = bind.effective_value
        columns = getattr(statement, "exported_columns", ())
        read = tuple(c.type.dialect_impl(dialect).result_processor(dialect, None)
                     for c in columns)
        return _Compiled(compiled.string, order, fixed, convert,
                         tuple(c.key for c in columns), read)

    def execute(self, db: Session | Connection, values: Mapping[str, Any]) -> Any:
        """Run it in ``db``'s transaction; the driver's cursor, to read from."""
        return self._run(connection_of(db), values)[0]

    def _run(self, connection: Connection, values: Mapping[str, Any]) -> tuple[Any, _Compiled]:
        dialect = connection.dialect
        compiled = self._for(dialect, values)
        params = {**compiled.fixed, **values}
        for name, process in compiled.convert.items():
            params[name] = process(params[name])
        arguments: Any = params if compiled.order is None else \
            [params[name] for name in compiled.order]
        cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        error = dialect.loaded_dbapi.Error
        # The engine's cursor events still see it (tests/storage/test_query_plans.py
        # checks every hot statement's plan through them); with none listening, as in
        # the bot, they cost a test each.
        events = connection.dispatch
        if events.before_cursor_execute:
            events.before_cursor_execute(connection, cursor, compiled.sql, arguments, None,
                                         False)
        try:
            cursor.execute(compiled.sql, arguments)
        except error as exc:
            # As SQLAlchemy raises it (OperationalError for a locked database...), and
            # without the parameters: they hold message text.
            raise DBAPIError.instance(compiled.sql, arguments, exc, error, hide_parameters=True,
                                      dialect=dialect) from exc
        if events.after_cursor_execute:
            events.after_cursor_execute(connection, cursor, compiled.sql, arguments, None,
                                        False)
        return cursor, compiled

    def rowcount(self, db: Session | Connection, values: Mapping[str, Any]) -> int:
        return int(self.execute(db, values).rowcount)

    def first(self, db: Session | Connection, values: Mapping[str, Any]) -> Any:
        """The first row, its columns as attributes (converted), or None."""
        cursor, compiled = self._run(connection_of(db), values)
        row = cursor.fetchone()
        if row is None:
            return None
        return SimpleNamespace(**{name: value if read is None else read(value)
                                  for name, value, read in zip(compiled.columns, row,
                                                               compiled.read, strict=True)})
