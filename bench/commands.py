"""Handler time of the everyday commands with a coalition's worth of records in SQLite."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert

from bench.stats import summary_ms
from bot.calendar_data import SHIPPED, import_file
from bot.config import parse_config
from bot.dispatcher import Dispatcher
from bot.events import Event
from handlers import build_registry
from storage.cases import Case, CaseTag
from storage.database import Database
from storage.statements import Signature, Statement, StatementRoom

NOW = datetime(2026, 11, 23, 9, tzinfo=UTC)
COUNTRIES = ["EG", "BH", "IR", "SA", "AE", "TR", "RU", "CN", "VN", "SD", "SS", "ET", "NI",
             "VE", "CU", "BY", "AZ", "KH", "MM", "PH"]
TAGS = ["detention", "travel-ban", "smear", "threats", "reprisal-un", "surveillance"]


def populate(database: Database, *, cases: int, statements: int, signons: int) -> None:
    rng = random.Random(7)
    with database.engine.begin() as conn:
        conn.execute(insert(Case), [
            {"id": n, "country": rng.choice(COUNTRIES), "summary": f"Defender {n} detained "
             "after meeting the Special Rapporteur", "status": rng.choice(
                 ["new", "verifying", "verified", "escalated", "public", "closed"]),
             "confidential": n % 10 == 0, "reporter_id": f"telegram:{1000 + n % 50}",
             "room_id": "telegram:-5", "consent": "share-un",
             "created_at": NOW - timedelta(minutes=n), "updated_at": NOW - timedelta(minutes=n)}
            for n in range(1, cases + 1)])
        conn.execute(insert(CaseTag), [{"case_id": n, "tag": rng.choice(TAGS)}
                                       for n in range(1, cases + 1)])
        conn.execute(insert(Statement), [
            {"id": n, "title": f"Joint letter {n}", "status": "open" if n <= 20 else "closed",
             "text_version": 1, "created_by": "telegram:1",
             "created_at": NOW,
             "deadline": NOW + timedelta(days=10 + n % 30)}
            for n in range(1, statements + 1)])
        conn.execute(insert(StatementRoom), [{"statement_id": n, "room_id": "telegram:-5"}
                                             for n in range(1, statements + 1)])
        per = signons // statements
        conn.execute(insert(Signature), [
            {"statement_id": s, "org_name": f"Organisation {k} for Human Rights",
             "org_key": f"organisation {k} for human rights", "country": rng.choice(COUNTRIES),
             "unlisted": k % 25 == 0, "signed_by": f"telegram:{2000 + k}",
             "signed_in": "telegram:-5", "text_version": 1,
             "signed_at": NOW}
            for s in range(1, statements + 1) for k in range(per)])
    with database.session() as db:
        import_file(db, SHIPPED, parse_config({}).bot.tz)
        db.commit()


def run(folder: Path, *, cases: int = 10_000, statements: int = 1_000, signons: int = 100_000,
        repeats: int = 200) -> dict:
    database = Database(f"sqlite:///{folder / 'commands.db'}")
    database.upgrade()
    started = time.perf_counter()
    populate(database, cases=cases, statements=statements, signons=signons)
    load_s = time.perf_counter() - started
    config = parse_config({"bot": {"admins": ["telegram:1"]},
                           "rooms": [{"name": "Caucus", "telegram_chat_id": -5}]})
    dispatcher = Dispatcher(config=config, registry=build_registry(), database=database,
                            clock=lambda: NOW)
    ids = iter(range(10**9))

    async def timed(make_text: Callable[[int], str], n: int) -> list[float]:
        out = []
        for k in range(n):
            event = Event(platform="telegram", room_id="telegram:-5", message_id=str(next(ids)),
                          sender_id="telegram:1001", sender_name="Ana", text=make_text(k))
            t0 = time.perf_counter()
            reply = (await dispatcher.handle(event)).reply
            out.append(time.perf_counter() - t0)
            assert reply is not None and not reply.error, (make_text(k), reply and reply.plain())
        return out

    async def all_commands() -> dict:
        open_ids = 20  # statements 1..20 are open
        return {
            "/cases": summary_ms(await timed(lambda k: "/cases", repeats)),
            "/cases Egypt #detention": summary_ms(await timed(
                lambda k: "/cases Egypt #detention", repeats)),
            "/case N": summary_ms(await timed(lambda k: f"/case {1 + (k * 37) % cases}",
                                              repeats)),
            "/signon": summary_ms(await timed(
                lambda k: f'/signon S{1 + k % open_ids} "Bench Org {k}" | Kenya', repeats)),
            "/signatories": summary_ms(await timed(
                lambda k: f"/signatories S{1 + k % statements}", repeats)),
            "/statements": summary_ms(await timed(lambda k: "/statements", repeats)),
            "/sessions": summary_ms(await timed(lambda k: "/sessions", repeats)),
        }

    results = asyncio.run(all_commands())
    database.dispose()
    return {"records": {"cases": cases, "statements": statements, "signons": signons},
            "populate_s": round(load_s, 2), "commands": results}
