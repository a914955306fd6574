"""caucus-bot backup and restore: a consistent copy while the bot writes, and never a restore
over a live database."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.cli import main
from bot.leadership import AdvisoryLock, FileLock
from storage.database import HEAD, Database
from storage.models import Identity
from tests.conftest import DATABASES
from tests.postgres_server import Postgres

NOW = datetime(2026, 11, 25, 9, tzinfo=UTC)


def people(url: str) -> int:
    database = Database(url)
    try:
        with database.session() as db:
            return int(db.execute(select(func.count()).select_from(Identity)).scalar_one())
    finally:
        database.dispose()


def add_people(url: str, names: range) -> None:
    database = Database(url)
    try:
        for n in names:
            with database.session() as db:
                db.add(Identity(id=f"telegram:{n}", display_name=f"P{n}", first_seen=NOW,
                                last_seen=NOW))
                db.commit()
    finally:
        database.dispose()


def test_a_backup_taken_while_the_bot_writes_is_whole_and_restores(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    live = tmp_path / "caucus.db"
    url = f"sqlite:///{live}"
    Database(url).upgrade()
    add_people(url, range(100))
    writer = threading.Thread(target=add_people, args=(url, range(100, 400)))
    writer.start()  # the bot goes on writing meanwhile
    backup = tmp_path / "backups" / "monday.db"
    backup.parent.mkdir()
    assert main(["backup", str(backup), "--database", url]) == 0
    writer.join()
    said = capsys.readouterr().out
    assert said.startswith(f"backed up {live} to {backup}: ") and f"schema {HEAD}, checked" in said
    assert "the data key" in said and "[matrix].store_path" in said
    assert oct(backup.stat().st_mode & 0o777) == "0o600"  # it holds what the database holds
    copied = people(f"sqlite:///{backup}")
    assert 100 <= copied <= 400  # a moment of the live database: whole rows, no torn pages
    # A backup never overwrites a file.
    assert main(["backup", str(backup), "--database", url]) == 2
    assert "exists; a backup never overwrites a file" in capsys.readouterr().err
    # Put back (the bot stopped): the live database is the backup again.
    assert main(["restore", str(backup), "--database", url, "--yes"]) == 0
    assert people(url) == copied
    assert "restored" in capsys.readouterr().out


def test_a_restore_over_a_running_bot_is_refused(tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]):
    live, backup = tmp_path / "caucus.db", tmp_path / "b.db"
    url = f"sqlite:///{live}"
    Database(url).upgrade()
    add_people(url, range(3))
    assert main(["backup", str(backup), "--database", url]) == 0
    add_people(url, range(3, 5))
    running = subprocess.Popen([sys.executable, "-c", (
        "import time\nfrom pathlib import Path\nfrom bot.leadership import FileLock\n"
        f"FileLock(Path({str(live)!r})).acquire()\nprint('serving', flush=True)\n"
        "time.sleep(60)\n")], stdout=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)})
    try:
        assert running.stdout is not None and running.stdout.readline().strip() == "serving"
        capsys.readouterr()
        assert main(["restore", str(backup), "--database", url, "--yes"]) == 2
        assert capsys.readouterr().err == (
            f"caucus-bot restore: refused: a caucus-bot (process {running.pid}) is running on "
            f"{live}; stop it first. A restore never overwrites a live database.\n")
        assert people(url) == 5  # untouched
    finally:
        running.kill()
        running.wait()
    # Stopped, and without --yes on a terminal-less standard input: asked, not done.
    assert main(["restore", str(backup), "--database", url]) == 1
    assert "Answer with --yes" in capsys.readouterr().err and people(url) == 5
    assert FileLock(live).holder() is None  # the restore let go of the lock


def test_what_is_not_a_backup_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    url = f"sqlite:///{tmp_path / 'caucus.db'}"
    junk = tmp_path / "notes.txt"
    junk.write_text("not a database at all, " * 100)
    assert main(["restore", str(junk), "--database", url, "--yes"]) == 2
    assert "is not a caucus-bot database" in capsys.readouterr().err
    assert main(["backup", str(tmp_path / "x.db"), "--database",
                 f"sqlite:///{tmp_path / 'missing.db'}"]) == 2
    assert "there is no database at" in capsys.readouterr().err


@pytest.mark.skipif("postgresql" not in DATABASES, reason="PostgreSQL not chosen")
def test_on_postgresql_the_printed_pg_dump_and_pg_restore_commands_work(
        postgres: Postgres, tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    source = postgres.new_database()
    target = postgres.new_database(migrated=False)
    try:
        add_people(source, range(7))
        dump = tmp_path / "caucus.dump"
        assert main(["backup", str(dump), "--database", source]) == 2
        out, err = capsys.readouterr()
        assert "pg_dump takes a consistent copy while the bot runs" in err
        assert out.startswith("pg_dump --format=custom") and "+psycopg" not in out

        def run(command: str) -> None:
            words = shlex.split(command)
            subprocess.run([str(postgres.bin / words[0]), *words[1:]], check=True)

        run(out)
        leader = AdvisoryLock(target)  # a bot serving the database to restore into
        try:
            leader._try_lock()
            assert main(["restore", str(dump), "--database", target]) == 2
            assert "refused: caucus-bot is connected to this database (caucus-bot leader" in \
                capsys.readouterr().err
        finally:
            leader.release()
        assert main(["restore", str(dump), "--database", target]) == 2
        out, err = capsys.readouterr()
        assert out.startswith("pg_restore --clean --if-exists --no-owner --dbname=")
        run(out)
        assert people(target) == 7 and Database(target).revision() == HEAD
    finally:
        postgres.drop_database(source)
        postgres.drop_database(target)
