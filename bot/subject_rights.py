"""A person's rights over their data, from the command line: erasure and access.

``caucus-bot erase --user ID`` and ``caucus-bot export-user ID`` run here, away
from chat on purpose: both act on one named person across every record, and
someone with the server in hand is the one to answer such a request. The work is
done by ``storage.personal_data``; this module asks, prints and audits.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import TextIO

from bot.config import Config
from bot.dispatcher import utcnow
from storage import audit
from storage.database import Database
from storage.personal_data import erase_person, export_person, placeholder, web_signer_email

# Who the audit trail names for what was done from the command line.
ACTOR = "caucus-bot:command-line"
CANONICAL_ID = re.compile(r"(telegram:-?\d+|matrix:@[^:\s]+:\S+|console:\S+"
                          r"|web:[^@\s]+@[^@\s]+)")


class PersonIdError(ValueError):
    """Not a canonical id: a typo must not erase or export the wrong person, or nobody."""


def checked_id(user_id: str) -> str:
    if not CANONICAL_ID.fullmatch(user_id):
        raise PersonIdError(f"'{user_id}' is not a canonical id: give one like telegram:123456 "
                            "or matrix:@ana:example.org (/whoami shows it), or web: and the "
                            "e-mail of someone who signed on a web page "
                            "(web:ana@example.org).")
    return user_id


def erase_user(config: Config, user_id: str, *, yes: bool, out: TextIO | None = None) -> int:
    """Erase one person after a confirmation; prints what changed, per table."""
    user_id = checked_id(user_id)
    out = out or sys.stdout
    if not yes:
        print(f"Erase or anonymise everything about {user_id}? This cannot be undone. "
              "Type yes to go on: ", end="", file=out, flush=True)
        answer = sys.stdin.readline()  # "" at end of input: no answer is not a yes
        if answer.strip().lower() != "yes":
            print("Nothing was erased.", file=out)
            return 1
    database = open_database(config)
    replacement = placeholder()
    try:
        with database.session() as db:
            counts = erase_person(db, user_id, replacement=replacement)
            summary = ", ".join(f"{table} {n}" for table, n in sorted(counts.items()))
            # Named by the placeholder: the trail must not keep the id it erased.
            audit.record(db, at=utcnow(), actor_id=ACTOR, room_id="", action="user.erase",
                         target=replacement, detail=summary or "nothing held")
            db.commit()
    finally:
        database.dispose()
    if not counts:
        print(f"The bot held nothing about {user_id}.", file=out)
        return 0
    if web_signer_email(user_id) is not None:
        print(f"Erased the name and e-mail of {counts['websignon']} web sign-on"
              f"{'s' if counts['websignon'] != 1 else ''} made by {user_id}; the "
              "organisations' signatures stay.", file=out)
        return 0
    print(f"Erased {user_id}; shared records now name {replacement} (shown as "
          "\"(erased user)\"). Rows removed or values replaced, per table:", file=out)
    for table, n in sorted(counts.items()):
        print(f"  {table}: {n}", file=out)
    print("Matrix direct-message rooms are not recorded by person: their old messages go "
          "with [privacy].relay_retention_days.", file=out)
    return 0


def open_database(config: Config) -> Database:
    """The database with the data keys set: records may be encrypted at rest."""
    from bot.startup import use_data_keys

    use_data_keys(config)
    database = Database(config.bot.database_url)
    database.upgrade()
    return database


def export_user(config: Config, user_id: str, output: Path | None, *,
                out: TextIO | None = None) -> int:
    """Write the access-request export as JSON, to ``output`` or to standard output."""
    user_id = checked_id(user_id)
    out = out or sys.stdout
    database = open_database(config)
    try:
        with database.session() as db:
            now = utcnow()
            data = export_person(db, user_id, admins=config.bot.admins, now=now)
            # An e-mail is not kept in the trail: the web signer is named by kind only.
            target = "web signer" if web_signer_email(user_id) else user_id
            audit.record(db, at=now, actor_id=ACTOR, room_id="", action="user.export",
                         target=target)
            db.commit()
    finally:
        database.dispose()
    text = json.dumps(data, ensure_ascii=False, indent=2) + "\n"
    if output is None:
        out.write(text)
        return 0
    output.write_text(text, encoding="utf-8")
    output.chmod(0o600)  # it is one person's data: readable by whoever ran this only
    print(f"Wrote what the bot holds about {user_id} to {output}.", file=out)
    return 0
