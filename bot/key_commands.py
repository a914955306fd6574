"""``caucus-bot keys new`` and ``caucus-bot keys rotate``: making and changing the data key.

A key is never printed except by ``keys new``, whose output is the key itself.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path

from bot.config import load_config

HOW_TO_USE = """\
This is a new data key. Keep it secret, and keep a copy where the database's backups
are not: without it, encrypted case texts cannot be read. Give it to the bot in the
environment variable CAUCUS_DATA_KEY, or write it into a file readable only by the bot
and name that file in [privacy].key_file. To change keys, put the new one first and
the old one after it, comma-separated, run `caucus-bot keys rotate --config FILE`,
then drop the old key. Texts stored before there was a key are encrypted by the same
command."""


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    keys = sub.add_parser("keys", help="the data key that encrypts confidential text at rest")
    keys_sub = keys.add_subparsers(dest="keys_command", metavar="ACTION", required=True)
    new = keys_sub.add_parser("new", help="print a fresh data key and how to use it")
    new.set_defaults(func=keys_new)
    rotate = keys_sub.add_parser("rotate", help="encrypt every confidential text again with "
                                                "the first key (and any clear text)")
    rotate.add_argument("--config", type=Path, required=True)
    rotate.add_argument("--database", help="database URL (overrides the config)")
    rotate.set_defaults(func=keys_rotate)


def keys_new(args: argparse.Namespace) -> int:
    from storage.crypto import new_key

    print(new_key())
    print(HOW_TO_USE, file=sys.stderr)  # on stderr: `caucus-bot keys new > file` is the key
    return 0


def keys_rotate(args: argparse.Namespace) -> int:
    from bot.startup import use_data_keys
    from storage.crypto import DataKeyError, has_data_key
    from storage.database import Database
    from storage.sealed_columns import rotate

    config = load_config(args.config)
    if args.database:
        config = replace(config, bot=replace(config.bot, database_url=args.database))
    use_data_keys(config)
    if not has_data_key():
        print("caucus-bot keys rotate: no data key: set CAUCUS_DATA_KEY or [privacy].key_file "
              "(make one with `caucus-bot keys new`)", file=sys.stderr)
        return 2
    database = Database(config.bot.database_url)
    try:
        database.upgrade()
        counts = rotate(database)
    except DataKeyError as exc:
        print(f"caucus-bot keys rotate: nothing was changed: {exc}", file=sys.stderr)
        return 1
    finally:
        database.dispose()
    for table_name, rows in counts.items():
        print(f"{table_name}: {rows} row{'s' if rows != 1 else ''} encrypted with the first key")
    print("Done. Keys after the first are no longer needed for this database (backups made "
          "before now still need them).")
    if database.engine.dialect.name != "sqlite":  # SQLite's file was rebuilt by rotate()
        print("The old forms of the rows stay on disk until the database is vacuumed: run "
              "VACUUM FULL on it to drop them.")
    return 0
