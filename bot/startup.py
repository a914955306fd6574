"""What every start does before serving: data keys, schema, first-run calendar, reminder plan."""

from __future__ import annotations

import logging

from bot.calendar_data import load_shipped_if_empty
from bot.config import Config
from bot.dispatcher import utcnow
from bot.features import Features
from storage.crypto import UNENCRYPTED_WARNING, DataKeyError, has_data_key, set_data_keys
from storage.database import Database
from storage.sealed_columns import check_keys

log = logging.getLogger(__name__)


def prepare(config: Config, features: Features) -> Database:
    use_data_keys(config)
    database = Database(config.bot.database_url)
    database.upgrade()
    try:
        check_keys(database)  # a missing or wrong key stops the start, with what to do
    except DataKeyError:
        database.dispose()
        raise
    with database.session() as db:
        loaded = load_shipped_if_empty(db, config.bot.tz)
        if loaded is not None:
            log.info("loaded the shipped HRC calendar: %s", loaded)
        features.replan(db, config, utcnow())
        db.commit()
    return database


def use_data_keys(config: Config) -> None:
    """The process-wide data keys from the config; every mode and command that opens the
    database calls this first.

    Without a key, a config that serves a network is warned about: real chats are
    written in clear. (A console on the built-in defaults is a trial and stays quiet.)
    """
    set_data_keys(config.privacy.data_key)
    if not has_data_key() and (config.telegram is not None or config.matrix is not None):
        log.warning("%s", UNENCRYPTED_WARNING)
