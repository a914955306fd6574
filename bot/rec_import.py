"""``caucus-bot recs import FILE``: UN recommendations into the database, from the server.

The file is a UHRI full export (JSON) or a UPR Info CSV export, told apart by its
first bytes. On a terminal a progress bar shows how far through the file it is,
with the records read, imported and skipped; the last line is the summary, on a
terminal or not. The calendar's reminders are re-derived afterwards: a State's
UPR review dates come from its recommendations.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from bot.config import Config
from bot.dispatcher import utcnow
from bot.subject_rights import ACTOR
from storage import audit

if TYPE_CHECKING:  # the importers load only when an import runs, not with every command
    from storage.importers import Filters, ImportCounts

PROG = "caucus-bot recs import"


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]
             ) -> argparse.ArgumentParser:
    """The ``recs`` command and its ``import`` action (returned, for the command line to
    give it what it runs), with the options ``calendar import`` has."""
    recs = sub.add_parser("recs", help="UN recommendations (UPR, treaty bodies, special "
                                       "procedures)")
    actions = recs.add_subparsers(dest="recs_command", metavar="ACTION", required=True)
    imp = actions.add_parser("import", help="load recommendations from a UHRI JSON export or a "
                                            "UPR Info CSV export (re-importing updates)")
    imp.add_argument("file", type=Path)
    imp.add_argument("--country", help="only this State under review (a name or ISO code)")
    imp.add_argument("--affected", action="append", default=[], metavar="WORDS",
                     help='only recommendations whose affected persons include these words, '
                          'e.g. "Human rights defenders" (may be repeated: any of them)')
    imp.add_argument("--since", type=int, metavar="YEAR",
                     help="only recommendations published in or after this year")
    imp.add_argument("--config", type=Path)
    imp.add_argument("--database", help="database URL (overrides the config)")
    return imp


def filters_from(args: argparse.Namespace) -> Filters:
    """The options as filters; ValueError names the option that is wrong."""
    from storage.countries import find_country
    from storage.importers import Filters

    country = None
    if args.country:
        found = find_country(args.country)
        if found is None:
            raise ValueError(f"--country: unknown country '{args.country}' (use a name or an "
                             "ISO code: Egypt, EG, EGY)")
        country = found.code
    if args.since is not None and not 1946 <= args.since <= 2100:
        raise ValueError(f"--since: {args.since} is not a year")
    affected = tuple(a.strip() for a in args.affected if a.strip())
    return Filters(country=country, affected=affected, since=args.since)


def run_import(config: Config, args: argparse.Namespace) -> int:
    from bot.startup import use_data_keys
    from handlers import features
    from storage.database import Database
    from storage.importers import ImportFileError, import_file

    try:
        filters = filters_from(args)
    except ValueError as exc:
        print(f"{PROG}: {exc}", file=sys.stderr)
        return 2
    use_data_keys(config)
    database = Database(config.bot.database_url)
    database.upgrade()
    bar = _Bar(args.file) if sys.stderr.isatty() else None
    try:
        with database.session() as db:
            counts = import_file(db, args.file, filters, actor=ACTOR, now=utcnow(),
                                 progress=bar.update if bar else None)
            audit.record(db, at=utcnow(), actor_id=ACTOR, room_id="", action="rec.import",
                         target=args.file.name, detail=counts.summary())
            features().replan(db, config, utcnow())
            db.commit()
    except ImportFileError as exc:
        if bar is not None:
            bar.close()
        print(f"{PROG}: {args.file}: {exc}", file=sys.stderr)
        return 2
    finally:
        database.dispose()
    if bar is not None:
        bar.close()
    print(f"imported {args.file}: {counts.summary()}")
    return 0


class _Bar:
    """tqdm over the file's bytes, its postfix the counts so far."""

    def __init__(self, path: Path):
        from tqdm import tqdm

        size = path.stat().st_size if path.exists() else None
        self.bar = tqdm(total=size, unit="B", unit_scale=True, desc=path.name, file=sys.stderr,
                        dynamic_ncols=True)
        self.done = 0

    def update(self, counts: ImportCounts, position: int) -> None:
        self.bar.update(max(0, position - self.done))
        self.done = max(self.done, position)
        self.bar.set_postfix_str(f"read {counts.read:,} · imported {counts.imported:,} · "
                                 f"skipped {counts.skipped_total:,}", refresh=False)

    def close(self) -> None:
        self.bar.close()
