"""The ``caucus-bot`` command: console, run, web, init, check-config, db upgrade, calendar
and recommendation imports, erase, export-user, keys, backup, restore."""

from __future__ import annotations

import argparse
import gc
import logging
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from bot import __version__

if TYPE_CHECKING:
    from bot.config import Config


def main(argv: list[str] | None = None) -> int:
    """The collector is off while the process starts. Starting imports and builds about
    190,000 objects that live as long as the process, and the collector walked them again
    and again as they came: about 0.5 s of ``run``'s start to ready (3.4 s before). ``run``
    turns it back on once it serves (:func:`bot.runner.serve`), every other command once
    its arguments are read. This is why the modules below are imported here, not above."""
    gc.disable()
    try:
        return _main(argv)
    finally:
        gc.enable()


def _main(argv: list[str] | None) -> int:
    from bot import logs
    from bot.backup import BackupError
    from bot.config import ConfigError
    from storage.crypto import DataKeyError

    parser = _parser()
    args = parser.parse_args(argv)
    if getattr(args, "func", None) is not _run:
        gc.enable()
    if args.command is None:
        parser.print_help()
        return 2
    logs.configure(logging.INFO if args.command in ("run", "web") else logging.WARNING)
    try:
        return int(args.func(args))
    except (ConfigError, DataKeyError) as exc:
        print(f"caucus-bot: {exc}", file=sys.stderr)
        return 2
    except BackupError as exc:
        print(f"caucus-bot {args.command}: {exc}", file=sys.stderr)
        return 2


def _parser() -> argparse.ArgumentParser:
    from bot import key_commands, rec_import

    parser = argparse.ArgumentParser(prog="caucus-bot", description=(
        "Chat-ops bot and Telegram<->Matrix bridge for NGO coalitions at the UN Human Rights "
        "Council."))
    parser.add_argument("--version", action="version", version=f"caucus-bot {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    console = sub.add_parser("console", help="talk to the bot in this terminal (SQLite)")
    console.add_argument("--config", type=Path, help="config file (default: built-in defaults)")
    console.add_argument("--as", dest="role", default="admin",
                         choices=["admin", "secretariat", "member"],
                         help="your role (default: admin: you own this terminal)")
    console.add_argument("--user", default="you", help="your user name (default: you)")
    where = console.add_mutually_exclusive_group()
    where.add_argument("--dm", action="store_true", help="a direct message with the bot")
    where.add_argument("--room", help="a room of the config, so its settings (secure) apply")
    console.add_argument("--database", help="database URL (overrides the config)")
    console.add_argument("--files", type=Path, default=Path("."),
                         help="folder for files the bot sends (exports); default: here")
    console.set_defaults(func=_console)

    run = sub.add_parser("run", help="connect to the configured networks and serve")
    run.add_argument("--config", type=Path, required=True)
    run.set_defaults(func=_run)

    web = sub.add_parser("web", help="serve the statements' public sign-on pages alone "
                                     "([web] in the config)")
    web.add_argument("--config", type=Path, required=True)
    web.add_argument("--database", help="database URL (overrides the config)")
    web.set_defaults(func=_web)
    init = sub.add_parser("init", help="write a first, commented config file from a few "
                                       "questions")
    init.add_argument("file", type=Path, nargs="?", default=Path("config.toml"),
                      help="the file to write (default: config.toml); never overwritten")
    init.add_argument("--defaults", action="store_true",
                      help="ask nothing: every answer its default, secrets from the environment")
    init.set_defaults(func=_init)

    check = sub.add_parser("check-config", help="validate a config file and summarise it")
    check.add_argument("file", type=Path)
    check.set_defaults(func=_check_config)

    db = sub.add_parser("db", help="database maintenance")
    db_sub = db.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    upgrade = db_sub.add_parser("upgrade", help="apply schema migrations")
    _where(upgrade)
    upgrade.set_defaults(func=_db_upgrade)

    cal = sub.add_parser("calendar", help="the HRC calendar")
    cal_sub = cal.add_subparsers(dest="calendar_command", metavar="ACTION", required=True)
    imp = cal_sub.add_parser("import", help="load sessions, deadlines and templates from a "
                                            "TOML file (idempotent)")
    imp.add_argument("file", type=Path)
    _where(imp)
    imp.set_defaults(func=_calendar_import)

    rec_import.register(sub).set_defaults(func=_recs_import)

    erase = sub.add_parser("erase", help="erase or anonymise everything about one person")
    erase.add_argument("--user", required=True, help="their canonical id (telegram:123, "
                                                     "matrix:@a:example.org)")
    erase.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    _where(erase)
    erase.set_defaults(func=_erase)

    export = sub.add_parser("export-user", help="write what the bot holds about one person "
                                                "as JSON (an access request)")
    export.add_argument("user", help="their canonical id")
    export.add_argument("--output", type=Path, help="file to write (default: standard output)")
    _where(export)
    export.set_defaults(func=_export_user)

    backup = sub.add_parser("backup", help="copy the database to FILE while the bot runs "
                                           "(SQLite; for PostgreSQL, prints the pg_dump command)")
    backup.add_argument("file", type=Path)
    _where(backup)
    backup.set_defaults(func=_backup)

    restore = sub.add_parser("restore", help="put a backup back (never over a live database)")
    restore.add_argument("file", type=Path)
    restore.add_argument("--yes", action="store_true",
                         help="replace an existing database without asking")
    _where(restore)
    restore.set_defaults(func=_restore)

    key_commands.register(sub)
    return parser


def _where(command: argparse.ArgumentParser) -> None:
    """The options of every command that opens the database: which config, which URL."""
    command.add_argument("--config", type=Path)
    command.add_argument("--database", help="database URL (overrides the config)")


def _config(args: argparse.Namespace) -> Config:
    from bot.config import load_config, parse_config

    # Without a file, the defaults with the environment's secrets (CAUCUS_DATA_KEY).
    config = load_config(args.config) if getattr(args, "config", None) else parse_config(
        {}, source="(defaults)", env=os.environ)
    url = getattr(args, "database", None)
    if url:
        from dataclasses import replace

        config = replace(config, bot=replace(config.bot, database_url=url))
    return config


def _console(args: argparse.Namespace) -> int:
    from bot.commands import Role
    from bot.console import run_console

    return run_console(_config(args), role=Role[args.role.upper()], user=args.user,
                       direct=args.dm, room_name=args.room, files=args.files)


def _run(args: argparse.Namespace) -> int:
    from bot import logs
    from bot.runner import run

    config = _config(args)
    logs.configure(logging.INFO, config.bot.log_format, config)
    return run(config)


def _backup(args: argparse.Namespace) -> int:
    from bot.backup import backup

    return backup(_config(args), args.file)


def _restore(args: argparse.Namespace) -> int:
    from bot.backup import restore

    return restore(_config(args), args.file, yes=args.yes)


def _web(args: argparse.Namespace) -> int:
    from bot.web.app import serve

    return serve(_config(args))


def _init(args: argparse.Namespace) -> int:
    from bot.config_init import run_init

    return run_init(args.file, defaults=args.defaults)


def _check_config(args: argparse.Namespace) -> int:
    from bot.config import load_config
    from bot.summary import summarise

    print(summarise(load_config(args.file)))
    return 0


def _db_upgrade(args: argparse.Namespace) -> int:
    from bot.startup import use_data_keys
    from storage.database import Database

    config = _config(args)
    use_data_keys(config)
    database = Database(config.bot.database_url)
    database.upgrade()
    print(f"database {database.engine.url.render_as_string()} is up to date")
    database.dispose()
    return 0


def _calendar_import(args: argparse.Namespace) -> int:
    from bot.calendar_data import CalendarFileError, import_file
    from bot.dispatcher import utcnow
    from bot.startup import use_data_keys
    from handlers import features
    from storage.database import Database

    config = _config(args)
    use_data_keys(config)
    database = Database(config.bot.database_url)
    database.upgrade()
    try:
        with database.session() as db:
            result = import_file(db, args.file, config.bot.tz)
            features().replan(db, config, utcnow())
            db.commit()
    except CalendarFileError as exc:
        print(f"caucus-bot calendar import: {exc}", file=sys.stderr)
        return 2
    finally:
        database.dispose()
    print(f"imported {args.file}: {result}")
    return 0


def _recs_import(args: argparse.Namespace) -> int:
    from bot import rec_import

    return rec_import.run_import(_config(args), args)


def _erase(args: argparse.Namespace) -> int:
    from bot.subject_rights import PersonIdError, erase_user

    try:
        return erase_user(_config(args), args.user, yes=args.yes)
    except PersonIdError as exc:
        print(f"caucus-bot erase: {exc}", file=sys.stderr)
        return 2


def _export_user(args: argparse.Namespace) -> int:
    from bot.subject_rights import PersonIdError, export_user

    try:
        return export_user(_config(args), args.user, args.output)
    except PersonIdError as exc:
        print(f"caucus-bot export-user: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
