"""``/indicators`` over a coalition's worth of cases: handler time through the dispatcher.

10,000 cases over 18 months, with their referrals, public reactions, status changes,
tags, consent and pseudonyms, and 2,000 recommendations with assessments, in
SQLite. The command runs as the secretariat in a direct message (every case
counted: the most work) and in an ordinary room; the chart is part of each answer.
The figures alone and the chart alone are timed too, to show where the time goes.
"""

from __future__ import annotations

import asyncio
import random
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert

from bench.stats import summary_ms
from bot.config import parse_config
from bot.dispatcher import Dispatcher
from bot.events import Event
from handlers import build_registry
from handlers.indicator_chart import chart_png
from handlers.indicator_figures import compute
from storage.cases import CHANNELS, Case, CaseEvent, CaseTag
from storage.database import Database
from storage.recommendations import RecAssessment, Recommendation

NOW = datetime(2026, 11, 23, 9, tzinfo=UTC)
COUNTRIES = ["EG", "BH", "IR", "SA", "AE", "TR", "RU", "CN", "VN", "SD", "SS", "ET", "NI",
             "VE", "CU", "BY", "AZ", "KH", "MM", "PH"]
TAGS = ["detention", "travel-ban", "smear", "threats", "reprisal-un", "surveillance"]
SCOPES = ["share-un", "sg-report", "publish-name"]


def populate(database: Database, *, cases: int, recommendations: int) -> None:
    rng = random.Random(22)
    rows, tags, events = [], [], []
    for n in range(1, cases + 1):
        flagged = NOW - timedelta(minutes=rng.randint(0, 540 * 24 * 60))
        status = rng.choice(["new", "verifying", "verified", "escalated", "public", "closed"])
        rows.append({"id": n, "country": rng.choice(COUNTRIES), "summary": f"Defender {n}",
                     "status": status, "close_reason": "resolved" if status == "closed"
                     and rng.random() < 0.5 else ("other" if status == "closed" else None),
                     "confidential": n % 10 == 0, "reporter_id": f"telegram:{1000 + n % 50}",
                     "room_id": "telegram:-5",
                     "consent": ",".join(s for s in SCOPES if rng.random() < 0.5),
                     "pseudonym": f"Person {rng.randint(1, 3000)}" if rng.random() < 0.5
                     else None, "created_at": flagged, "updated_at": flagged})
        tags += [{"case_id": n, "tag": t} for t in rng.sample(TAGS, rng.randint(1, 2))]
        at = flagged
        events.append(_event(n, at, "flagged"))
        if status in ("verified", "escalated", "public", "closed"):
            at += timedelta(hours=rng.randint(1, 48))
            events.append(_event(n, at, "status", "verified"))
        if status in ("escalated", "public", "closed") and rng.random() < 0.8:
            at += timedelta(hours=rng.randint(1, 96))
            events.append(_event(n, at, "escalation", rng.choice(CHANNELS)))
        if status in ("public", "closed") and rng.random() < 0.6:
            at += timedelta(hours=rng.randint(1, 96))
            events.append(_event(n, at, "public"))
        if status == "closed":
            events.append(_event(n, at + timedelta(days=rng.randint(1, 120)), "status", "closed"))
    recs = [{"id": r, "source": "upr", "country": rng.choice(COUNTRIES), "text": f"Rec {r}",
             "position": rng.choice(["supported", "noted"]), "session": rng.randint(41, 54),
             "affected": "Human rights defenders" if r % 2 else "Women",
             "statuses": rng.choice(["", "|not-implemented|", "|regressed|", "|implemented|"]),
             "recommending": "", "themes": "", "created_by": "cli", "created_at": NOW,
             "updated_at": NOW} for r in range(1, recommendations + 1)]
    with database.engine.begin() as conn:
        conn.execute(insert(Case), rows)
        conn.execute(insert(CaseTag), tags)
        conn.execute(insert(CaseEvent), events)
        conn.execute(insert(Recommendation), recs)
        conn.execute(insert(RecAssessment), [
            {"recommendation_id": r["id"], "status": r["statuses"].strip("|"),
             "organisation": "Org", "org_key": "org", "assessed_by": "telegram:1", "at": NOW,
             "evidence": ""} for r in recs if r["statuses"]])


def _event(case_id: int, at: datetime, kind: str, value: str = "") -> dict[str, Any]:
    return {"case_id": case_id, "at": at, "actor_id": "telegram:1", "kind": kind,
            "value": value, "text": ""}


def run(folder: Path, *, cases: int = 10_000, recommendations: int = 2_000,
        repeats: int = 60) -> dict[str, Any]:
    database = Database(f"sqlite:///{folder / 'indicators.db'}")
    database.upgrade()
    populate(database, cases=cases, recommendations=recommendations)
    config = parse_config({"bot": {"admins": ["telegram:1"]},
                           "rooms": [{"name": "Caucus", "telegram_chat_id": -5}]})
    dispatcher = Dispatcher(config=config, registry=build_registry(), database=database,
                            clock=lambda: NOW)
    ids = iter(range(10**9))

    async def timed(text: str, *, direct: bool) -> dict[str, Any]:
        wall, cpu = [], []
        for _ in range(repeats + 1):
            event = Event(platform="telegram", room_id="telegram:1" if direct else "telegram:-5",
                          message_id=str(next(ids)), sender_id="telegram:1", sender_name="Ana",
                          text=text, is_direct=direct)
            t0, c0 = time.perf_counter(), time.process_time()
            reply = (await dispatcher.handle(event)).reply
            wall.append(time.perf_counter() - t0)
            cpu.append(time.process_time() - c0)
            assert reply is not None and not reply.error and reply.file is not None, (
                reply and reply.plain())
        # The first loads matplotlib, once per process; the CPU time is what the command
        # itself took, whatever else the (shared) machine was doing meanwhile.
        return {**summary_ms(wall[1:]), "cpu": summary_ms(cpu[1:])}

    async def both() -> dict[str, Any]:
        return {"/indicators (direct message)": await timed("/indicators", direct=True),
                "/indicators (room)": await timed("/indicators", direct=False),
                "/indicators export": await timed("/indicators export", direct=True)}

    results = asyncio.run(both())
    parts: dict[str, list[float]] = {"figures": [], "chart": []}
    with database.session() as db:
        for _ in range(repeats):
            t0 = time.perf_counter()
            figures = compute(db, start=NOW - timedelta(days=365), end=NOW, country=None,
                              confidential=True)
            t1 = time.perf_counter()
            chart_png("Indicators", figures.bars)
            parts["figures"].append(t1 - t0)
            parts["chart"].append(time.perf_counter() - t1)
    database.dispose()
    return {"cases": cases, "recommendations": recommendations, "commands": results,
            "parts": {k: summary_ms(v) for k, v in parts.items()}}


if __name__ == "__main__":
    import json
    import tempfile

    print(json.dumps(run(Path(tempfile.mkdtemp(prefix="caucus-ind-"))), indent=1))
