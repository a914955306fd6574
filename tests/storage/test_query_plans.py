"""Every query on the relay's path, at start-up, in /bridge status and in retention is
served by an index that finds its rows without walking the history: with a million
delivered rows a query that reads them all costs seconds, so a change that brings one
back must fail here, not in a coalition's third year. (SQLite and PostgreSQL.)

The statements are the ones the code runs, caught as it runs them against a history of
``HISTORY`` delivered messages in one room. Two checks each: the plan (EXPLAIN QUERY PLAN
on SQLite, EXPLAIN on PostgreSQL with sequential scans priced out, so that it shows
whether an index can serve the query at all), and what running it cost: SQLite's virtual
machine steps, counted as it ran, and on PostgreSQL the rows each plan node read (EXPLAIN
ANALYZE, in a transaction rolled back). An index that finds the room but then walks its
thousands of delivered rows (the outbox's old room index, for the room's next pending
row) passes the first check and fails the second.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, insert
from sqlmodel import Session

from storage import inbound, links, outbox, retention
from storage.database import Database
from storage.inbound import SEEN
from storage.links import LINKS
from storage.outbox import OUTBOX
from tests.harness import FakeBot, Network

NOW = datetime(2026, 11, 26, 9, tzinfo=UTC)
GROWING = ("outboxmessage", "messagelink", "inboundseen")
ROOM, OTHER = "matrix:!ordinary:example.org", "telegram:-5"
HISTORY = 3000  # delivered messages: a walk through them costs far more than the budgets
SQLITE_SCAN = re.compile(rf"^SCAN ({'|'.join(GROWING)})\b")
POSTGRES_SCAN = re.compile(rf"Seq Scan on ({'|'.join(GROWING)})\b")
SQLITE_STEPS = 2000  # virtual machine steps a statement may take (a walk: 10 a row at least)
POSTGRES_ROWS = 100  # rows of the growing tables a statement may read


class Statements:
    """What the engine was asked to run, with its parameters (and on SQLite the steps it
    took), while ``caught``."""

    def __init__(self, database: Database):
        self.database = database
        self.postgres = database.engine.dialect.name == "postgresql"
        self.seen: list[tuple[str, Any, int]] = []
        self.catching = False
        self.steps = 0
        event.listen(database.engine, "before_cursor_execute", self._before)
        event.listen(database.engine, "after_cursor_execute", self._after)

    def _count(self) -> int:
        self.steps += 1
        return 0

    def _before(self, conn: Any, cursor: Any, statement: str, parameters: Any,
                context: Any, executemany: bool) -> None:
        if self.catching and not self.postgres:
            self.steps = 0
            conn.connection.driver_connection.set_progress_handler(self._count, 1)

    def _after(self, conn: Any, cursor: Any, statement: str, parameters: Any,
               context: Any, executemany: bool) -> None:
        if not self.catching:
            return
        if not self.postgres:
            conn.connection.driver_connection.set_progress_handler(None, 1)
        self.seen.append((statement, parameters[0] if executemany else parameters, self.steps))

    def caught(self, run: Callable[[], object]) -> list[tuple[str, Any, int]]:
        self.seen, self.catching = [], True
        try:
            run()
        finally:
            self.catching = False
        return self.seen

    def costly(self, statements: list[tuple[str, Any, int]]) -> dict[str, list[str]]:
        """Each statement that reads a growing table whole, or walks it: its plan's lines."""
        found: dict[str, list[str]] = {}
        raw = self.database.engine.raw_connection()
        try:
            cursor = raw.cursor()
            if self.postgres:
                cursor.execute(f"ANALYZE {', '.join(GROWING)}")
            for statement, parameters, steps in statements:
                if self.postgres:
                    lines, cost = self._postgres(cursor, statement, parameters)
                    bad = [line for line in lines if POSTGRES_SCAN.search(line)]
                    if cost > POSTGRES_ROWS:
                        bad.append(f"read {cost} rows")
                else:
                    cursor.execute(f"EXPLAIN QUERY PLAN {statement}", parameters)
                    lines = [row[3] for row in cursor.fetchall()]
                    bad = [line for line in lines if SQLITE_SCAN.match(line)]
                    if steps > SQLITE_STEPS:
                        bad.append(f"took {steps} steps")
                if bad:
                    found[" ".join(statement.split())] = lines + bad
            raw.rollback()
        finally:
            raw.close()
        return found

    @staticmethod
    def _postgres(cursor: Any, statement: str, parameters: Any) -> tuple[list[str], int]:
        """The plan with sequential scans priced out, and the rows of the growing tables
        that running it read (an INSERT reads none: its conflicts go through a key)."""
        cursor.execute("SET enable_seqscan = off")
        cursor.execute(f"EXPLAIN {statement}", parameters)
        lines = [row[0] for row in cursor.fetchall()]
        cursor.execute("RESET enable_seqscan")
        if statement.lstrip().upper().startswith("INSERT"):
            return lines, 0
        cursor.execute("SAVEPOINT cost")
        cursor.execute(f"EXPLAIN (ANALYZE, FORMAT JSON) {statement}", parameters)
        plan = cursor.fetchone()[0]
        cursor.execute("ROLLBACK TO SAVEPOINT cost")
        return lines, _rows_read(plan[0]["Plan"])


def _rows_read(node: dict[str, Any]) -> int:
    own = 0
    if node.get("Relation Name") in GROWING:
        own = (node.get("Actual Rows", 0) + node.get("Rows Removed by Filter", 0)
               + node.get("Rows Removed by Index Recheck", 0)) * node.get("Actual Loops", 1)
    return own + sum(_rows_read(child) for child in node.get("Plans", ()))


@pytest.fixture
def history(database: Database) -> Database:
    """``HISTORY`` messages relayed into ROOM over the last days, as the bridge leaves them
    (a delivered row, its link, the inbound record of its original), after a failure and
    a retry long ago, and before a few rows waiting now; a reminder kept for good."""
    rows, seen, linked = [], [], []
    for n in range(HISTORY):
        at = NOW - timedelta(days=5) + timedelta(seconds=60 * n)
        rows.append({"room_id": ROOM, "kind": "relay", "payload": "{}", "created_at": at,
                     "next_attempt_at": at, "status": outbox.SENT, "attempts": 1,
                     "source_room": OTHER, "source_message": str(n), "sent_at": at,
                     "sent_message_id": f"$e{n}"})
        seen.append({"room_id": OTHER, "message_id": str(n), "version": "", "seen_at": at})
        linked.append({"source_room": OTHER, "source_message": str(n), "target_room": ROOM,
                       "target_message": f"$e{n}", "at": at})
    with database.session() as db:
        long_ago = NOW - timedelta(days=6)
        for room in (ROOM, OTHER):
            failed, retried = (outbox.add(db, room, kind="relay", payload="{}", now=long_ago)
                               for _ in range(2))
            assert failed is not None and retried is not None
            outbox.mark_failed(db, failed, "M_FORBIDDEN")
            outbox.mark_retry(db, retried, "M_LIMIT_EXCEEDED", long_ago)
            outbox.mark_sent(db, retried, "$late", long_ago)
        run = db.connection().execute
        run(insert(OUTBOX), rows)
        run(insert(SEEN), seen)
        run(insert(LINKS), linked)
        for n in range(5):
            outbox.add(db, ROOM if n % 2 else OTHER, kind="relay", payload="{}",
                       now=NOW - timedelta(minutes=n))
        outbox.add(db, OTHER, kind="reply", payload="{}", now=NOW - timedelta(days=20),
                   dedupe_key=f"reminder:1@{OTHER}")
        db.commit()
    return database


def hot_path(db: Session) -> None:
    """What a relayed message costs, both ways, and what the worker and a start ask."""
    inbound.first_sighting(db, OTHER, "m900", "", NOW)
    inbound.set_resume(db, "telegram.offset", "901")
    inbound.get_resume(db, "matrix.since")
    row_id = outbox.add(db, ROOM, kind="relay", payload="{}", now=NOW, source_room=OTHER,
                        source_message="m900", reply_source_room=OTHER,
                        reply_source_message="5")
    assert row_id is not None
    outbox.add(db, ROOM, kind="relay", payload="{}", now=NOW, dedupe_key="topic:x:1:y")
    outbox.next_attempt(db)
    outbox.rooms_due(db, NOW)
    outbox.next_for_room(db, ROOM)
    links.counterpart(db, OTHER, "5", ROOM)  # a reply: its copy here
    links.counterpart(db, ROOM, "$e5", OTHER)  # and the original, seen from the copy
    links.copy_in(db, OTHER, "7", ROOM)  # an edit or a redaction
    links.room_holding(db, [OTHER, "telegram:-5/45"], "404")  # a Telegram topic's poll
    outbox.mark_sent(db, row_id, "$new", NOW)
    links.record(db, OTHER, "m900", ROOM, "$new", NOW)
    links.replace(db, OTHER, "r900", ROOM, "$react", NOW)
    outbox.mark_retry(db, row_id, "M_LIMIT_EXCEEDED", NOW)
    outbox.mark_failed(db, row_id, "M_FORBIDDEN")
    outbox.retry_now(db, "matrix:", NOW)
    outbox.backlog(db)  # /metrics, and what a start reports
    outbox.next_for_room(db, ROOM)  # the next row, once this one failed


def every_retention_rule(db: Session) -> None:
    retention.apply_retention(db, now=NOW, relay_days=7, closed_case_days=None, link_days=10)


def test_the_relay_and_start_up_queries_use_an_index(history: Database):
    statements = Statements(history)
    with history.session() as db:
        caught = statements.caught(lambda: hot_path(db))
        db.rollback()
    assert len(caught) >= 20
    assert statements.costly(caught) == {}


def test_retention_finds_old_rows_through_an_index(history: Database):
    statements = Statements(history)
    with history.session() as db:
        caught = statements.caught(lambda: every_retention_rule(db))
    deletes = [s for s, _, _ in caught if s.lstrip().upper().startswith("DELETE")]
    assert {table for s in deletes for table in GROWING if f"FROM {table}" in s} == set(GROWING)
    assert statements.costly(caught) == {}


def test_bridge_status_counts_through_an_index(tmp_path: Path, history: Database):
    bot = FakeBot(tmp_path, Network("telegram"), database_url=history.url)
    statements = Statements(bot.database)
    try:
        answer: list[str] = []
        caught = statements.caught(lambda: answer.append(asyncio.run(
            bot.say("/bridge status", user=bot.admin))))
        assert "pending 6" in answer[0] and "failed 2" in answer[0]
        assert "last error: " in answer[0]
        assert any("FROM outboxmessage" in s for s, _, _ in caught)
        assert statements.costly(caught) == {}
    finally:
        bot.close()
