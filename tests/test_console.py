"""Console mode end to end: the real program, fed on stdin, as a newcomer would run it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from bot import __version__

ROOT = Path(__file__).resolve().parent.parent


def caucus(*args: str, stdin: str = "", cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bot.cli", *args], input=stdin, text=True,
                          capture_output=True, cwd=cwd, timeout=60,
                          env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin",
                               "HOME": str(cwd)})


def test_console_on_defaults_answers_commands_and_stays_quiet_on_chat(tmp_path: Path):
    result = caucus("console", stdin="/whoami\nhello there\n!help role\n/nope\n", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert out.startswith("You: you — id console:you, role admin\n"
                          "Here: room console — id console:console (not secure)")
    assert "hello there" not in out and "(chat" not in out  # piped: only the bot's answers
    assert "!role grant <user> secretariat" in out
    assert out.rstrip().endswith("Unknown command /nope — try /help")
    assert (tmp_path / "caucus.db").exists()  # the default SQLite file, where it was run
    assert result.stderr == ""


def test_console_roles_and_persistence(tmp_path: Path):
    db = f"sqlite:///{tmp_path / 'c.db'}"
    first = caucus("console", "--database", db, stdin="/role grant telegram:5 secretariat\n",
                   cwd=tmp_path)
    assert first.stdout.strip() == "telegram:5 is now secretariat."
    second = caucus("console", "--database", db, "--as", "member", stdin="/role list\n/help\n",
                    cwd=tmp_path)
    assert "/role list needs the admin role; you are a member." in second.stdout
    assert "/role" not in second.stdout.split("\n", 1)[1]
    third = caucus("console", "--database", db, stdin="/role list\n", cwd=tmp_path)
    assert "telegram:5 — secretariat, by console:you" in third.stdout


def test_console_room_from_config_and_dm(tmp_path: Path):
    config = tmp_path / "config.toml"
    config.write_text(f'[bot]\ndatabase_url = "sqlite:///{tmp_path / "c.db"}"\n'
                      '[[rooms]]\nname = "Secretariat"\nmatrix_room_id = "!s:example.org"\n'
                      'secure = true\n')
    secure = caucus("console", "--config", str(config), "--room", "secretariat",
                    stdin="/whoami\n", cwd=tmp_path)
    assert "Here: room Secretariat — id matrix:!s:example.org (secure)" in secure.stdout
    dm = caucus("console", "--config", str(config), "--dm", "--user", "ana", stdin="/whoami\n",
                cwd=tmp_path)
    assert "You: ana — id console:ana" in dm.stdout
    assert "Here: a direct message" in dm.stdout
    missing = caucus("console", "--config", str(config), "--room", "Lobby", cwd=tmp_path)
    assert missing.returncode == 2
    assert "no room named 'Lobby' (rooms: Secretariat)" in missing.stderr


def test_console_bad_input_never_shows_a_traceback(tmp_path: Path):
    lines = ['/role grant "unclosed', "/role grant", "/help " + "x" * 10_000, "\u200f/whoami",
             "/role grant x wizard", "", "/"]
    result = caucus("console", stdin="\n".join(lines) + "\n", cwd=tmp_path)
    assert result.returncode == 0
    assert "Traceback" not in result.stdout + result.stderr
    assert 'A double quote (") is not closed.' in result.stdout
    assert "Missing <user>." in result.stdout
    assert "You: you" in result.stdout


def test_version_and_bad_config(tmp_path: Path):
    assert caucus("--version", cwd=tmp_path).stdout.strip() == f"caucus-bot {__version__}"
    bad = tmp_path / "config.toml"
    bad.write_text('[bot]\ntimezone = "Geneva"\n')
    result = caucus("console", "--config", str(bad), cwd=tmp_path)
    assert result.returncode == 2
    assert "config.toml: [bot].timezone: unknown time zone 'Geneva'" in result.stderr


def test_db_upgrade_and_run_say_what_they_do(tmp_path: Path):
    db = f"sqlite:///{tmp_path / 'u.db'}"
    upgraded = caucus("db", "upgrade", "--database", db, cwd=tmp_path)
    assert upgraded.returncode == 0 and "is up to date" in upgraded.stdout
    bare = tmp_path / "bare.toml"
    bare.write_text("")
    nothing = caucus("run", "--config", str(bare), cwd=tmp_path)
    assert nothing.returncode == 2 and "configures no network" in nothing.stderr


def test_console_refuses_a_line_that_is_not_utf8(tmp_path: Path):
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "console"],
        input=b"/flag Egypt | Lawyer \xff\xfe arrested\n/cases\n", capture_output=True,
        cwd=tmp_path, timeout=60,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path),
             "LC_ALL": "C.UTF-8"})
    out = result.stdout.decode()
    assert result.returncode == 0, result.stderr.decode()
    assert "Traceback" not in result.stderr.decode()
    assert "is not valid UTF-8" in out and "nothing was done" in out
    assert "No cases" in out  # the line was refused, not stored


def test_console_delivers_its_own_reminders_when_due_and_leaves_real_rooms_alone(
        tmp_path: Path):
    import asyncio
    from datetime import timedelta

    from bot.commands import Role
    from bot.config import parse_config
    from bot.console import deliver_due, open_console
    from bot.dispatcher import utcnow
    from storage.reminders import Reminder

    config = parse_config({"bot": {"database_url": f"sqlite:///{tmp_path / 'c.db'}"}})
    room, database = open_console(config, role=Role.ADMIN, user="you", direct=False,
                                  room_name=None)
    try:
        answer = asyncio.run(room.send("/remind in 2 hours Call the desk"))
        assert answer is not None and "Call the desk" in answer.plain()
        with database.session() as db:
            db.add(Reminder(key="remind:live", kind="remind", due_at=utcnow(),
                            targets="telegram:-5", text="for the real bot"))
            db.commit()
        later = utcnow() + timedelta(hours=3)
        assert deliver_due(database, config, room.room_id, now=utcnow()) == []
        assert deliver_due(database, config, room.room_id, now=later) == [
            "[reminder] Reminder from you: Call the desk"]
        assert deliver_due(database, config, room.room_id, now=later) == []  # never twice
        with database.session() as db:
            live = db.get(Reminder, "remind:live")
            assert live is not None and live.status == "pending"  # the real bot's to send
    finally:
        database.dispose()


def test_console_names_the_file_it_saved(tmp_path: Path):
    from bot.console import file_saver, render
    from bot.replies import OutFile, Reply

    reply = Reply.of("Done.", file=OutFile("S1-signatories.txt", b"x\n", "text/plain"))
    save = file_saver(tmp_path)
    assert render(reply, save) == (f"Done.\n[file saved: {tmp_path / 'S1-signatories.txt'} "
                                   "(2 bytes)]")
    assert render(reply, save) == (f"Done.\n[file saved: {tmp_path / 'S1-signatories-2.txt'} "
                                   "(2 bytes)]")
