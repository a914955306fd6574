"""Console mode: the very same dispatcher and handlers, in a terminal, on SQLite.

It is a newcomer's first run and the developers' quickest check: no accounts,
no network. Interactive use gets readline history; piped stdin gets only the
bot's answers on stdout, which is what the tests feed it.
"""

from __future__ import annotations

import asyncio
import io
import itertools
import re
import sys
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO

from sqlmodel import col, func, select

import handlers
from bot.commands import Role
from bot.config import Config
from bot.context import Place
from bot.dispatcher import Dispatcher, utcnow
from bot.events import Event
from bot.features import Features
from bot.replies import OutFile, Reply
from bot.rooms import Rooms
from bot.startup import prepare
from storage import reminders
from storage.database import Database
from storage.ids import RoomId, room_id_for, user_id_for
from storage.outbox import OutboxMessage

HISTORY = Path.home() / ".caucus_bot_history"
REMINDER_POLL_SECONDS = 5
CONSOLE_ROOM = room_id_for("console", "console")


class ConsoleRoom:
    """One person typing into one room, as the adapters would present it."""

    def __init__(self, dispatcher: Dispatcher, *, user: str, room_id: RoomId, direct: bool):
        self.dispatcher = dispatcher
        self.user_id = user_id_for("console", user)
        self.user_name = user
        self.room_id = room_id
        self.direct = direct
        self._ids = itertools.count(1)

    async def send(self, text: str) -> Reply | None:
        event = Event(platform="console", room_id=self.room_id, message_id=str(next(self._ids)),
                      sender_id=self.user_id, sender_name=self.user_name, text=text,
                      is_direct=self.direct)
        return (await self.dispatcher.handle(event)).reply


def open_console(config: Config, *, role: Role, user: str, direct: bool,
                 room_name: str | None) -> tuple[ConsoleRoom, Database]:
    """Build the dispatcher over the configured database; raises ValueError on a bad room."""
    features = handlers.features()
    database = prepare(config, features)
    extra: dict[str, Place] = {}
    if direct:
        room_id = room_id_for("console", f"dm-{user}")
    elif room_name is not None:
        with database.session() as db:
            known = Rooms.read(config, db)
        room = known.named(room_name)
        if room is None:
            names = ", ".join(r.name for r in known.all) or "none in this config"
            raise ValueError(f"no room named '{room_name}' (rooms: {names})")
        room_id = room.ids[0]
    else:
        room_id = CONSOLE_ROOM
        extra[CONSOLE_ROOM] = Place(CONSOLE_ROOM, "console", "console")
    dispatcher = Dispatcher(config=config, registry=features.registry, database=database,
                            extra_rooms=extra, role_overrides={user_id_for("console", user): role})
    return ConsoleRoom(dispatcher, user=user, room_id=room_id, direct=direct), database


def queued_notices(database: Database, config: Config, after_id: int) -> tuple[str, int]:
    """What a command queued for other rooms, shown but left for the real bot to deliver.

    The console may be pointed at a live database: it must never consume rows
    that the running bot is to send to Telegram or Matrix.
    """
    with database.session() as db:
        rows = db.exec(select(OutboxMessage).where(col(OutboxMessage.id) > after_id)
                       .order_by(col(OutboxMessage.id))).all()
        known = Rooms.read(config, db)
    out = []
    for row in rows:
        room = known.room_for(row.room_id)
        text = "\n".join(f"  {ln}" for ln in Reply.from_json(row.payload).plain().split("\n"))
        out.append(f"[queued for {room.name if room else row.room_id}]\n{text}")
    return "\n".join(out), max([after_id, *(r.key for r in rows)])


def deliver_due(database: Database, config: Config, room_id: str, *, now: datetime,
                features: Features | None = None) -> list[str]:
    """Reminders due for this console room, shown here and marked sent, once.

    Only rows whose every target is a console room: a room of the config belongs
    to the running bot, which must still send its reminders to Telegram or Matrix.
    """
    render = (features or handlers.features()).render_reminder
    out = []
    with database.session() as db:
        for row in reminders.overdue(db, now):
            if room_id not in row.rooms or not all(r.startswith("console:") for r in row.rooms):
                continue
            reply = render(db, row, config, now)
            row.status = reminders.SENT if reply is not None else reminders.CANCELLED
            row.fired_at = now
            db.add(row)
            if reply is not None:
                out.append(f"[reminder] {reply.plain()}")
        db.commit()
    return out


async def show_reminders_when_due(room: ConsoleRoom, stdout: TextIO) -> None:
    """While the console is open, its reminders arrive as they would in a chat."""
    database, config = room.dispatcher.database, room.dispatcher.config
    features = handlers.features()
    while True:
        for text in deliver_due(database, config, room.room_id, now=utcnow(),
                                features=features):
            stdout.write(text + "\n")
            stdout.flush()
        await asyncio.sleep(REMINDER_POLL_SECONDS)


def last_outbox_id(database: Database) -> int:
    with database.session() as db:
        return db.exec(select(func.max(OutboxMessage.id))).one() or 0


def render(reply: Reply, save_file: Callable[[OutFile], Path]) -> str:
    text = reply.plain()
    if reply.file is not None:
        path = save_file(reply.file)
        size = len(reply.file.data)
        # The path, not the file's name: a second export is saved as name-2.txt.
        text += f"\n[file saved: {path} ({size:,} bytes)]"
    return text


def file_saver(folder: Path) -> Callable[[OutFile], Path]:
    def save(file: OutFile) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        stem, suffix = Path(file.name).stem, Path(file.name).suffix
        path = folder / file.name
        for n in itertools.count(2):
            if not path.exists():
                break
            path = folder / f"{stem}-{n}{suffix}"
        path.write_bytes(file.data)
        return path

    return save


async def repl(room: ConsoleRoom, *, stdin: TextIO, stdout: TextIO, interactive: bool,
               save_file: Callable[[OutFile], Path]) -> None:
    prompt = f"{room.user_name}> " if interactive else ""
    seen = last_outbox_id(room.dispatcher.database)
    reminders_task = asyncio.create_task(show_reminders_when_due(room, stdout))
    try:
        await _serve(room, stdin=stdin, stdout=stdout, interactive=interactive,
                     save_file=save_file, prompt=prompt, seen=seen)
    finally:
        reminders_task.cancel()


async def _serve(room: ConsoleRoom, *, stdin: TextIO, stdout: TextIO, interactive: bool,
                 save_file: Callable[[OutFile], Path], prompt: str, seen: int) -> None:
    loop = asyncio.get_running_loop()
    database, config = room.dispatcher.database, room.dispatcher.config
    while True:
        try:
            text = await loop.run_in_executor(None, _read_line, stdin, prompt, interactive)
        except (EOFError, KeyboardInterrupt):
            if interactive:
                stdout.write("\n")
            return
        if not text.strip():
            continue
        if _NOT_UTF8.search(text):
            stdout.write("That line is not valid UTF-8, so nothing was done. Set the terminal "
                         "(or the file piped in) to UTF-8 and type it again.\n")
            stdout.flush()
            continue
        reply = await room.send(text)
        if reply is not None:
            stdout.write(render(reply, save_file) + "\n")
            notices, seen = queued_notices(database, config, seen)
            if notices:
                stdout.write(notices + "\n")
            stdout.flush()
        elif interactive:
            stdout.write("(chat: no command, nothing to answer)\n")


# Bytes that are not UTF-8 arrive as lone surrogates (``surrogateescape``, set by
# run_console) instead of raising in the middle of the loop.
_NOT_UTF8 = re.compile("[\udc80-\udcff]")


def _read_line(stdin: TextIO, prompt: str, interactive: bool) -> str:
    if interactive:
        return input(prompt)
    line = stdin.readline()
    if not line:
        raise EOFError
    return line.rstrip("\n")


def setup_history() -> None:
    try:
        import readline
    except ImportError:  # Windows without pyreadline: plain input still works
        return
    try:
        readline.read_history_file(HISTORY)
    except OSError:
        pass
    readline.set_history_length(1000)
    import atexit

    atexit.register(_save_history, readline)


def _save_history(readline: Any) -> None:
    try:
        readline.write_history_file(HISTORY)
    except OSError:
        pass


def run_console(config: Config, *, role: Role, user: str, direct: bool, room_name: str | None,
                files: Path, stdin: TextIO = sys.stdin, stdout: TextIO = sys.stdout) -> int:
    try:
        room, database = open_console(config, role=role, user=user, direct=direct,
                                      room_name=room_name)
    except ValueError as exc:
        print(f"caucus-bot console: {exc}", file=sys.stderr)
        return 2
    interactive = stdin.isatty()
    if isinstance(stdin, io.TextIOWrapper):
        stdin.reconfigure(errors="surrogateescape")
    if interactive:
        setup_history()
        where = "a direct message" if direct else f"room {room_name or 'console'}"
        stdout.write(f"{config.bot.display_name} console — you are {user} ({role.label}) in "
                     f"{where}; database {database.engine.url.render_as_string()}.\n"
                     "Type /help (or !help). Ctrl-D quits.\n")
    try:
        asyncio.run(repl(room, stdin=stdin, stdout=stdout, interactive=interactive,
                         save_file=file_saver(files)))
    finally:
        database.dispose()
    return 0
