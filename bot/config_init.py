"""``caucus-bot init``: a first, commented ``config.toml`` from a few questions.

Each answer is checked as ``check-config`` checks the file (by the same
``parse_config``), and asked again when it is wrong; the file written is read
back before it is kept. ``--defaults`` asks nothing (for scripts): every answer
is its default, and secrets come from the environment. An existing file is
never overwritten. Rooms are not asked for: they are set up from chat
(``/room allow``, ``/bridge pair``), so no id has to be copied.
"""

from __future__ import annotations

import getpass
import json
import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from bot.config import ConfigError, ConfigErrors, load_config, parse_config
from storage.crypto import new_key


class Stop(Exception):
    """No answer (the input ended): nothing is written."""


@dataclass
class Answers:
    timezone: str = "Europe/Zurich"
    admins: list[str] = field(default_factory=list)
    database_url: str = "sqlite:///caucus.db"
    telegram_token: str | None = None  # None: no Telegram; "" with the token in the env
    matrix: dict[str, str] = field(default_factory=dict)  # empty: no Matrix
    data_key: bool = True


def problems_with(data: Mapping[str, Any], key: str, env: Mapping[str, str]) -> list[str]:
    """What check-config says about ``key`` (e.g. "[bot].timezone") in ``data``."""
    try:
        parse_config(data, source="config.toml", env=env)
    except ConfigErrors as exc:
        return [e.problem for e in exc.errors if e.key.startswith(key)]
    return []


class Asker:
    """Questions on a terminal or from piped lines; secrets unechoed on a terminal."""

    def __init__(self, stdin: TextIO, stdout: TextIO):
        self.stdin, self.stdout = stdin, stdout
        self.terminal = stdin.isatty()

    def ask(self, question: str, default: str = "", *, secret: bool = False,
            check: Callable[[str], list[str]] | None = None) -> str:
        shown = f" [{default}]" if default and not secret else ""
        while True:
            self.stdout.write(f"{question}{shown}: ")
            self.stdout.flush()
            if secret and self.terminal:
                answer = getpass.getpass("", stream=self.stdout)
            else:
                line = self.stdin.readline()
                if not line:
                    raise Stop(question)
                answer = line.strip()
                if not self.terminal:
                    self.stdout.write("\n")
            answer = answer.strip() or default
            wrong = check(answer) if check is not None else []
            if not wrong:
                return answer
            for problem in wrong:
                self.stdout.write(f"  {problem}\n")

    def yes(self, question: str, default: bool = True) -> bool:
        def check(answer: str) -> list[str]:
            return [] if answer.lower() in ("y", "yes", "n", "no") else ["answer y or n"]
        return self.ask(question, "y" if default else "n", check=check).lower() in ("y", "yes")


def interview(asker: Asker, env: Mapping[str, str]) -> Answers:
    a = Answers()
    a.timezone = asker.ask("Time zone of the coalition (IANA name)", a.timezone, check=lambda v:
                           problems_with({"bot": {"timezone": v}}, "[bot].timezone", env))
    admins = asker.ask(
        "Admins: ids, comma-separated (telegram:123456, matrix:@you:example.org; /whoami "
        "shows yours once the bot runs; empty: add them later)", "",
        check=lambda v: problems_with({"bot": {"admins": _list(v)}}, "[bot].admins", env))
    a.admins = _list(admins)
    a.database_url = asker.ask("Database URL", a.database_url, check=lambda v: problems_with(
        {"bot": {"database_url": v}}, "[bot].database_url", env))
    a.telegram_token = _telegram(asker, env)
    a.matrix = _matrix(asker, env)
    a.data_key = asker.yes("Encrypt confidential text at rest with a new data key (written "
                           "to data.key beside the config)?")
    return a


def _telegram(asker: Asker, env: Mapping[str, str]) -> str | None:
    if env.get("CAUCUS_TELEGRAM_TOKEN"):
        return "" if asker.yes("Serve Telegram with the token in CAUCUS_TELEGRAM_TOKEN?") \
            else None
    token = asker.ask("Telegram bot token from @BotFather (empty: no Telegram)", secret=True,
                      check=lambda v: (v and problems_with({"telegram": {"token": v}},
                                                          "[telegram].token", env)) or [])
    return token or None


def _matrix(asker: Asker, env: Mapping[str, str]) -> dict[str, str]:
    def check(key: str, **known: str) -> Callable[[str], list[str]]:
        def problems(value: str) -> list[str]:
            table = {"homeserver": "https://example.org", "user_id": "@bot:example.org",
                     "access_token": "t", **known, key: value}
            return problems_with({"matrix": table}, f"[matrix].{key}", env)
        return problems

    homeserver = asker.ask("Matrix homeserver URL (empty: no Matrix)", check=lambda v: (v and
                           check("homeserver")(v)) or [])
    if not homeserver:
        return {}
    out = {"homeserver": homeserver,
           "user_id": asker.ask("The bot's Matrix account (@caucusbot:example.org)",
                                check=check("user_id"))}
    if env.get("CAUCUS_MATRIX_ACCESS_TOKEN") or env.get("CAUCUS_MATRIX_PASSWORD"):
        return out  # the secret is in the environment, which wins over the file
    token = asker.ask("The bot account's access token (empty: log in with a password)",
                      secret=True, check=lambda v: (v and check("access_token")(v)) or [])
    if token:
        out["access_token"] = token
    else:
        out["password"] = asker.ask("The bot account's password", secret=True,
                                    check=lambda v: check("password", access_token="")(v)
                                    if v else ["a password (or an access token) is needed"])
    return out


def _list(value: str) -> list[str]:
    return [part.strip() for part in value.replace(";", ",").split(",") if part.strip()]


def render(a: Answers, key_file: Path | None) -> str:
    """The config file: every key the answers set, with what it means."""
    q = json.dumps
    out = ["# Caucus Bot configuration, written by `caucus-bot init`. Check it with",
           "#   caucus-bot check-config config.toml",
           "# config.example.toml documents every key. Rooms need no entry here: an admin",
           "# allows a room from inside it (/room allow) or bridges a Telegram group with a",
           "# Matrix room (/bridge pair), and the bot needs no restart.", "",
           "[bot]", "# IANA time zone for deadlines, reminders and every time the bot prints.",
           f"timezone = {q(a.timezone)}",
           "# Where records live: SQLite by default; any SQLAlchemy URL works.",
           f"database_url = {q(a.database_url)}",
           "# Only this list makes admins: they set rooms up, grant the secretariat role and",
           "# read the audit trail. /whoami shows a person's id.",
           f"admins = [{', '.join(q(x) for x in a.admins)}]", ""]
    if a.telegram_token is not None:
        out += ["[telegram]", "# The token from @BotFather. CAUCUS_TELEGRAM_TOKEN, when set, "
                "wins over this key.",
                f"token = {q(a.telegram_token)}" if a.telegram_token else
                "# token: taken from CAUCUS_TELEGRAM_TOKEN",
                "# BotFather /setprivacy -> Disable, so the bot reads (and bridges) group "
                "messages.", ""]
    if a.matrix:
        out += ["[matrix]", "# The homeserver's client URL and the bot's own account.",
                *(f"{k} = {q(v)}" for k, v in a.matrix.items()),
                "# Folder of the end-to-end encryption keys: keep it safe and backed up.",
                'store_path = "matrix-store"', ""]
    if key_file is not None:
        out += ["[privacy]", "# The data key that encrypts confidential text at rest. Keep a "
                "copy apart from",
                "# the database's backups: without it, encrypted texts cannot be read.",
                f"key_file = {q(str(key_file))}", ""]
    return "\n".join(out)


def write_config(path: Path, a: Answers, env: Mapping[str, str]) -> Path | None:
    """Write the key (when asked for) and the config, checked; returns the key file."""
    key_file = None
    if a.data_key:
        key_file = path.resolve().with_name("data.key")
        if not key_file.exists():
            _create(key_file, new_key() + "\n")
    text = render(a, key_file)
    secret = a.telegram_token or "access_token" in a.matrix or "password" in a.matrix
    _create(path, text, private=bool(secret))
    try:
        load_config(path, env)
    except ConfigError:
        path.unlink()  # never leave a file that check-config refuses
        raise
    return key_file


def _create(path: Path, text: str, *, private: bool = True) -> None:
    """A new file (never over an old one), readable only by its owner when it holds a secret."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600 if private else 0o644)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)


def run_init(path: Path, *, defaults: bool, stdin: TextIO = sys.stdin,
             stdout: TextIO = sys.stdout, env: Mapping[str, str] | None = None) -> int:
    env = os.environ if env is None else env
    if path.exists():
        print(f"caucus-bot init: {path} exists; it is left as it is (remove it, or name "
              "another file).", file=sys.stderr)
        return 2
    try:
        answers = Answers(telegram_token="" if env.get("CAUCUS_TELEGRAM_TOKEN") else None) \
            if defaults else interview(Asker(stdin, stdout), env)
    except Stop as stop:
        print(f"\ncaucus-bot init: no answer to \"{stop}\"; nothing was written.",
              file=sys.stderr)
        return 2
    if path.exists():  # made while the questions were asked
        print(f"caucus-bot init: {path} exists; it is left as it is.", file=sys.stderr)
        return 2
    key_file = write_config(path, answers, env)
    from bot.summary import summarise

    stdout.write(f"Wrote {path}" + (f" and the data key {key_file}" if key_file else "")
                 + ".\n" + summarise(load_config(path, env)) + "\n")
    stdout.write(f"Next: caucus-bot run --config {path}; then, as an admin, send /bridge pair "
                 "in a Matrix room the bot is in (or a Telegram group), and the code it gives "
                 "in the other.\n")
    return 0
