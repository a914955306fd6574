"""The Telegram adapter: the only module that imports ``telegram`` (python-telegram-bot 22).

It polls with the Bot API's own offsets, stored in the database after each
update, so a restart neither misses nor repeats one (and inbound ids are
de-duplicated besides); or it serves a webhook. It translates messages into
Events and sends Replies in Telegram's HTML, split under its length limit, with
exports as documents. Flood control and network errors become outbox retries;
nothing is dropped.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import warnings
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy.exc import SQLAlchemyError

# Opt in to PTB's coming behaviour: durations (RetryAfter.retry_after) as timedeltas.
os.environ.setdefault("PTB_TIMEDELTA", "1")

from telegram import Bot, ChatMember, Message, Poll, Update
from telegram.error import (
    Conflict,
    EndPointNotFound,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)
from telegram.request import HTTPXRequest
from telegram.warnings import PTBUserWarning

from bot import metrics
from bot.adapter import Adapter, poll_backoff
from bot.config import Config, TelegramConfig
from bot.dispatcher import Clock, Dispatcher
from bot.events import Event
from bot.failures import traceback_without_messages
from bot.history_gaps import TELEGRAM_KEEPS, WRITE_EVERY, LastContact
from bot.inbound import Inbound
from bot.outbox import Delivery
from bot.rooms import Rooms
from bot.telegram.send import TelegramSender
from bot.telegram.translate import (
    menu,
    poll_results,
    reaction_events,
    retry_seconds,
    to_event,
)
from bot.telegram.webhook import Webhook
from storage import inbound, links
from storage.database import Database
from storage.ids import RoomId, UserId, chat_number, room_id_for, telegram_room_id, user_id_for

log = logging.getLogger(__name__)
# getUpdates is read raw on purpose (TelegramAdapter._get_updates); PTB warns that it has
# a method for it.
warnings.filterwarnings("ignore", message=r"Please use 'Bot\.getUpdates'",
                        category=PTBUserWarning)

# message_reaction: Telegram sends it only to a bot that is an admin in the group.
# poll: a poll someone stopped (a bot is told of no other change to people's polls).
ALLOWED_UPDATES = ["message", "edited_message", "my_chat_member", "message_reaction", "poll"]
PRIVACY_MODE_ON = (
    "Telegram privacy mode is on, so the bot sees only commands in groups and bridges "
    "nothing else. In @BotFather: /setprivacy, pick the bot, Disable; then remove the bot "
    "from each group and add it again (Telegram applies it on joining).")
OFFSET = "telegram.offset"
# Where a poll was posted, by its id: the update that closes it names no chat or message.
POLL = "telegram.poll."
CONTACT = "telegram.contact_at"  # when getUpdates (or the webhook's server) last worked
# Each room's outbox task has one send in flight: this many rooms' sends (slow uploads
# among them) may be on the wire at once. A send beyond them waits its turn for a
# connection, up to the write timeout, rather than failing after PTB's 1 s and backing off.
SEND_CONNECTIONS = 64
RIGHTS_IN_FLIGHT = 8  # groups asked for the bot's rights at once, at start


class TelegramAdapter(Adapter):
    platform = "telegram"

    def __init__(self, settings: TelegramConfig, config: Config, *, database: Database,
                 dispatcher: Dispatcher, inbound_handler: Inbound, clock: Clock,
                 poll_timeout: int = 30):
        super().__init__(config, database=database, dispatcher=dispatcher,
                         inbound_handler=inbound_handler, clock=clock)
        self.settings = settings
        self.poll_timeout = poll_timeout
        base_file = settings.base_file_url or settings.base_url.replace("/bot", "/file/bot", 1)
        # One TLS context for both clients: each would load the CA bundle (60 ms a start).
        tls = {"verify": httpx.create_ssl_context()}
        self.bot = Bot(settings.token, base_url=settings.base_url, base_file_url=base_file,
                       request=HTTPXRequest(connection_pool_size=SEND_CONNECTIONS,
                                            read_timeout=20, write_timeout=30,
                                            connect_timeout=10, pool_timeout=30,
                                            httpx_kwargs=tls),
                       get_updates_request=HTTPXRequest(read_timeout=poll_timeout + 10,
                                                        connect_timeout=10, httpx_kwargs=tls))
        self.sender = TelegramSender(self.bot)
        self.username = ""
        self._task: asyncio.Task[None] | None = None
        self._webhook: Webhook | None = None
        self._refused: set[int] = set()
        self._may_delete: dict[int, bool] = {}  # chat -> the bot may delete others' messages
        # The rooms that are one forum topic of a group each (telegram:<chat>/<topic>).
        self.topic_rooms = frozenset(
            telegram_room_id(r.telegram_chat_id, r.telegram_topic_id) for r in config.rooms
            if r.telegram_chat_id is not None and r.telegram_topic_id is not None)
        self.contact = LastContact(database, CONTACT)
        self._tasks: set[asyncio.Task[None]] = set()  # the menu, the webhook's watch, rights

    async def start(self) -> None:
        try:
            await self.bot.initialize()  # getMe: fails fast on a bad token
        except (InvalidToken, EndPointNotFound):  # their message quotes the token itself
            raise RuntimeError("Telegram refused the token; check [telegram].token (BotFather's "
                               "/token shows it)") from None
        self.heard_from_network()
        self.username = self.bot.username or ""
        self.dispatcher.bot_usernames.add(self.username.lower())
        self.set_problem("privacy", None if self.bot.bot.can_read_all_group_messages
                         else PRIVACY_MODE_ON, fine="Telegram privacy mode off")
        self._background(self._set_menu(), "telegram menu")
        self._background(self._learn_rights(), "telegram rights")
        self.contact.load()
        if self.settings.mode == "webhook":
            self._webhook = Webhook(self.bot, self.settings, self.process,
                                    self.heard_from_network)
            await self._webhook.start(ALLOWED_UPDATES)
            self._task = asyncio.create_task(self._keep_contact(), name="telegram contact")
            self._background(self._webhook.watch(), "telegram webhook")
        else:
            await self.bot.delete_webhook(drop_pending_updates=False)
            self._task = asyncio.create_task(self._poll(), name="telegram polling")
        log.info("telegram: serving as @%s (%s)", self.username, self.settings.mode)

    async def _set_menu(self) -> None:
        """The command menu is a convenience, set beside serving rather than before it."""
        try:
            await self.bot.set_my_commands(menu(self.dispatcher.registry))
        except TelegramError as exc:
            log.warning("could not set the Telegram command menu: %s", exc)

    async def stop(self) -> None:
        for task in (self._task, *self._tasks):
            if task is not None:
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
        self._task = None
        if self._webhook is not None:
            await self._webhook.stop()
            self._webhook = None
        await self.bot.shutdown()

    # ---- receiving -------------------------------------------------------------------

    async def _poll(self) -> None:
        failures = 0  # getUpdates failed in a row: the network or Telegram
        unrecorded = 0  # batches the database could not take in a row
        with self.database.session() as db:
            offset = int(inbound.get_resume(db, OFFSET) or 0)
        while True:  # this loop alone moves the offset: the stored one is read once
            try:
                updates = await self._get_updates(offset)
                self._in_contact()
                self.heard_from_network()
                if failures:
                    self.on_recovered()
                failures = 0
            except RetryAfter as exc:
                metrics.flood_wait("telegram", retry_seconds(exc))
                await asyncio.sleep(retry_seconds(exc))
                continue
            except (InvalidToken, EndPointNotFound):  # 401/404: the token is not a bot's
                log.error("telegram: the token was refused; check [telegram].token")
                self.on_fatal("the Telegram token was refused")
                return
            except Conflict as exc:
                log.error("telegram: %s (is another instance polling?)", exc)
                await asyncio.sleep(5)
                continue
            except (NetworkError, TimedOut) as exc:
                failures += 1
                wait = poll_backoff(failures)
                log.warning("telegram: getUpdates failed (%s); retrying in %.1fs", exc, wait)
                await asyncio.sleep(wait)
                continue
            try:
                for raw in updates:
                    await self._take(raw)
                    offset = raw["update_id"] + 1
                unrecorded = 0
            except SQLAlchemyError as exc:
                # The database is locked or full: keep the update and ask for it again,
                # rather than let Telegram forget a message that was never recorded.
                unrecorded += 1
                wait = poll_backoff(unrecorded)
                log.error("telegram: could not record an update (%s); retrying in %.1fs",
                          type(exc).__name__, wait)
                await asyncio.sleep(wait)

    async def _get_updates(self, offset: int) -> list[dict[str, Any]]:
        """getUpdates, read raw. python-telegram-bot reads a batch whole: one update it
        cannot parse (a newer Bot API's shape, a bug) fails the batch every time it is asked
        for, which stops the chat, and the library then logs the batch, text and all."""
        result = await self.bot.do_api_request("getUpdates", api_kwargs={
            "offset": offset, "timeout": self.poll_timeout, "allowed_updates": ALLOWED_UPDATES})
        return list(result or [])

    async def _take(self, raw: dict[str, Any]) -> None:
        """Read and handle one polled update and store the offset past it.

        One that cannot be read, or that meets a bug in handling it, is logged (its id and
        the error's type, never its content) and skipped, so that one poisoned update
        cannot stop the chat; a storage error propagates, so that it is tried again.
        """
        resume = (OFFSET, str(raw["update_id"] + 1))
        try:
            update = Update.de_json(raw, self.bot)
        except Exception as exc:
            log.error("telegram: update %s could not be read (%s); skipped", raw["update_id"],
                      type(exc).__name__)
            update = None
        try:
            stored = update is not None and await self.process(update, resume=resume)
        except SQLAlchemyError:
            raise
        except Exception as exc:
            log.error("telegram: update %s could not be handled\n%s", raw["update_id"],
                      traceback_without_messages(exc))
            stored = False
        if not stored:  # stored with the message when there was one to record
            with self.database.session() as db:
                inbound.set_resume(db, *resume)
                db.commit()

    async def process(self, update: Update, resume: tuple[str, str] | None = None) -> bool:
        """Handle one update; True if ``resume`` was stored with it."""
        if update.my_chat_member is not None:
            await self._membership(update)
            return False
        if update.message_reaction is not None:
            change = update.message_reaction
            ours = change.user is not None and change.user.id == self.bot.id
            if ours or not self.rooms.rooms_in_chat(change.chat.id):
                return False  # our own reaction (from Matrix) must not come back as new
            room_id = self._room_of(change.chat.id, change.message_id)
            for event in reaction_events(change, room_id):
                await self.inbound.receive(event, version=str(int(change.date.timestamp())))
            return False
        if update.poll is not None:
            await self._poll_closed(update.poll)
            return False
        message = update.message or update.edited_message
        if message is None:
            return False
        if message.chat.id in self._refused:
            return False  # a group the bot was told to leave
        # A group the bot does not act in yet (an admin added it) reaches the dispatcher,
        # which answers only an admin's set-up commands there (/room allow, /bridge pair).
        edited = update.edited_message is not None
        version = str(int(message.edit_date.timestamp())) if edited and message.edit_date else ""
        event = to_event(message, edited=edited, topic_rooms=self.topic_rooms)
        room = self.rooms.room_for(event.room_id)
        if message.poll is not None and not edited and room is not None and room.bridged:
            self._remember_poll(message, event)
        fresh = await self.inbound.receive(event, version=version, resume=resume)
        return fresh and resume is not None

    def _room_of(self, chat_id: int, message_id: int) -> RoomId:
        """The room a message of a group is in: one of its topics paired on its own, when
        the message crossed the bridge there, or the group."""
        topics = [r for r in self.topic_rooms if chat_number(r) == chat_id]
        if topics:
            with self.database.session() as db:
                room = links.room_holding(db, topics, str(message_id))
            if room is not None:
                return RoomId(room)
        return telegram_room_id(chat_id)

    def _remember_poll(self, message: Message, event: Event) -> None:
        assert message.poll is not None
        where = {"room": event.room_id, "message": event.message_id, "thread": event.thread,
                 "sender": event.sender_id, "name": event.sender_name}
        with self.database.session() as db:
            inbound.set_resume(db, POLL + message.poll.id, json.dumps(where))
            db.commit()

    async def _poll_closed(self, poll: Poll) -> None:
        """A stopped poll's counts, on the other side, as a reply to the relayed poll."""
        with self.database.session() as db:
            stored = inbound.get_resume(db, POLL + poll.id)
        if not poll.is_closed or stored is None:
            return  # not a poll of a configured room (or its result was relayed already)
        where = json.loads(stored)
        await self.inbound.receive(Event(
            platform="telegram", room_id=RoomId(where["room"]),
            message_id=f"poll:{poll.id}:closed", sender_id=UserId(where["sender"]),
            sender_name=where["name"], text=poll_results(poll), reply_to=where["message"],
            thread=where.get("thread")))
        with self.database.session() as db:
            inbound.drop_resume(db, POLL + poll.id)
            db.commit()

    def can_delete(self, room_id: str) -> bool:
        return self._may_delete.get(chat_number(room_id), False)

    def _in_contact(self) -> None:
        """Telegram answered: if it had not for longer than it keeps updates, what was sent
        before then is gone, and the paired rooms are told."""
        now, before = self.clock(), self.contact.at
        if before is not None and now - before > TELEGRAM_KEEPS:
            log.warning("telegram: no contact since %s; updates older than a day are lost",
                        before.isoformat())
            try:
                self.on_history_lost(self.platform, before, now - TELEGRAM_KEEPS, None)
            except SQLAlchemyError as exc:  # not told yet: the next answer tries again
                log.error("telegram: could not queue the notice of lost messages (%s)",
                          type(exc).__name__)
                return
        self.contact.touch(now)

    async def _keep_contact(self) -> None:
        """With a webhook, Telegram keeps trying to deliver while the server is up."""
        while True:
            self._in_contact()
            await asyncio.sleep(WRITE_EVERY.total_seconds())

    async def _learn_rights(self, rooms: Rooms | None = None) -> None:
        """Whether the bot is in each group it serves, and may delete messages there (it
        must be an admin with that right); kept up to date by ``my_chat_member`` updates.

        A few groups are asked at once (500 groups one after another took a minute on
        Telegram), and flood control is waited out: a refused question is no answer."""
        chats = dict.fromkeys(r.telegram_chat_id for r in (rooms or self.rooms.current).all
                              if r.telegram_chat_id is not None)
        gate = asyncio.Semaphore(RIGHTS_IN_FLIGHT)

        async def learn(chat_id: int) -> None:
            async with gate:
                while True:
                    try:
                        member = await self.bot.get_chat_member(chat_id, self.bot.id)
                    except RetryAfter as exc:
                        metrics.flood_wait("telegram", retry_seconds(exc))
                        await asyncio.sleep(retry_seconds(exc))
                        continue
                    except TelegramError as exc:
                        log.warning("telegram: could not read the bot's rights in %s: %s",
                                    self._group_name(chat_id), exc)
                        member = None
                    break
            self._note_rights(chat_id, member)
        await asyncio.gather(*(learn(chat_id) for chat_id in chats))

    def _group_name(self, chat_id: int) -> str:
        return " / ".join(r.name for r in self.rooms.rooms_in_chat(chat_id)) or str(chat_id)

    def rooms_changed(self, before: Rooms, after: Rooms) -> None:
        super().rooms_changed(before, after)
        new = Rooms(tuple(r for r in after.all if r.telegram_chat_id is not None
                          and before.room_for(r.ids[0]) is None))
        if new.all:
            self._background(self._learn_rights(new), "telegram rights")

    def _background(self, work: Coroutine[Any, Any, None], name: str) -> None:
        """A task that lives until it ends or the adapter stops."""
        task = asyncio.get_running_loop().create_task(work, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _note_rights(self, chat_id: int, member: ChatMember | None) -> None:
        where = room_id_for("telegram", chat_id)
        served = bool(self.rooms.rooms_in_chat(chat_id))
        group = self._group_name(chat_id)
        present = member is not None and member.status in ("creator", "administrator", "member",
                                                           "restricted")
        if served:
            self.set_problem(f"member:{chat_id}", None if present else (
                f"the bot is not in the Telegram group {group}: add it to the group."),
                room=where, fine="in the Telegram group")
        if member is None:
            return
        may = member.status == "creator" or bool(getattr(member, "can_delete_messages", False))
        self._may_delete[chat_id] = may
        if not served or not present:
            return
        if may:
            problem = None
        elif member.status != "administrator":
            problem = (f"the bot is not an admin of the Telegram group {group}: Telegram tells "
                       "only admins of reactions, so none there cross the bridge, and it cannot "
                       "delete messages. Make it an admin with the right to delete messages, so "
                       "that it can also remove confidential details typed there.")
        else:
            problem = (f"the bot cannot delete messages in the Telegram group {group}: give it "
                       "the admin right to delete messages, so that it can remove confidential "
                       "details typed there.")
        self.set_problem(f"rights:{chat_id}", problem, room=where,
                         fine="admin there (reactions, deleting)")

    async def _membership(self, update: Update) -> None:
        change = update.my_chat_member
        assert change is not None
        chat = change.chat
        self._note_rights(chat.id, change.new_chat_member)
        joined = change.new_chat_member.status in ("member", "administrator")
        if not joined or chat.type == "private" or self.rooms.rooms_in_chat(chat.id):
            return
        if user_id_for("telegram", change.from_user.id) in self.config.bot.admins:
            await self._welcome(chat.id)  # an admin brought it: to be set up from chat
        else:
            await self._refuse(chat.id)

    async def _welcome(self, chat_id: int) -> None:
        self._refused.discard(chat_id)
        try:
            await self.bot.send_message(
                chat_id, f"{self.config.bot.display_name} is here, and silent until an admin "
                "sets this group up: /room allow lets commands and reminders work here; "
                "/bridge pair bridges it with a Matrix room.")
        except TelegramError as exc:
            log.warning("telegram: could not say hello in %s: %s", chat_id, exc)

    async def _refuse(self, chat_id: int) -> None:
        """A group the config does not allow: say so once, and leave."""
        if chat_id in self._refused:
            return
        self._refused.add(chat_id)
        log.warning("telegram: leaving unauthorised chat %s", chat_id)
        try:
            await self.bot.send_message(chat_id, f"{self.config.bot.display_name} is not "
                                        "authorised in this group, so it is leaving. Ask one of "
                                        "the coalition's admins to add it.")
        except TelegramError as exc:
            log.warning("telegram: could not say goodbye in %s: %s", chat_id, exc)
        try:
            await self.bot.leave_chat(chat_id)
        except TelegramError as exc:
            log.warning("telegram: could not leave %s: %s", chat_id, exc)

    # ---- sending (bot/telegram/send.py) -------------------------------------------------

    async def send(self, delivery: Delivery) -> str:
        return await self.sender.send(delivery)

    async def fetch_file(self, file_id: str, path: Path) -> None:
        await self.sender.fetch_file(file_id, path)
