"""What every start does before serving: schema, first-run calendar, reminder plan."""

from __future__ import annotations

import logging

from bot.calendar_data import load_shipped_if_empty
from bot.config import Config
from bot.dispatcher import utcnow
from handlers.reminder_plan import replan
from storage.database import Database

log = logging.getLogger(__name__)


def prepare(config: Config) -> Database:
    database = Database(config.bot.database_url)
    database.upgrade()
    with database.session() as db:
        loaded = load_shipped_if_empty(db, config.bot.tz)
        if loaded is not None:
            log.info("loaded the shipped HRC calendar: %s", loaded)
        replan(db, config, utcnow())
        db.commit()
    return database
