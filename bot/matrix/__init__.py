"""The Matrix adapter: the only module that imports ``nio`` (matrix-nio, with E2E).

It logs in with an access token or a password and keeps its device (the id is
stored, the keys live in ``store_path``), so encrypted rooms keep working
across restarts. The sync token is stored in the database after each sync, so
a restart neither misses nor repeats an event; the very first start skips the
rooms' history. Replies go out as ``m.notice`` with ``formatted_body``, with a
transaction id derived from the outbox row, so a retried send is idempotent at
the homeserver. nio returns error objects instead of raising: every one is
turned into an exception here, so no failure passes silently.
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
from nio import (
    AsyncClient,
    AsyncClientConfig,
    ErrorResponse,
    InviteMemberEvent,
    LoginResponse,
    MatrixRoom,
    MegolmEvent,
    MessageDirection,
    PowerLevelsEvent,
    RoomEncryptionEvent,
    RoomMemberEvent,
    SyncResponse,
    WhoamiResponse,
)
from sqlalchemy.exc import SQLAlchemyError

from bot import metrics
from bot.adapter import Adapter, poll_backoff
from bot.config import Config, MatrixConfig
from bot.dispatcher import Clock, Dispatcher
from bot.failures import traceback_without_messages
from bot.history_gaps import LastContact
from bot.inbound import Inbound
from bot.matrix.room_checks import check_rooms
from bot.matrix.send import MatrixSender
from bot.matrix.store import KeyStore
from bot.matrix.translate import (
    MatrixError,
    check,
    error_response,
    retry_after_of,
    to_event,
)
from bot.outbox import Delivery
from bot.rooms import Rooms
from storage import inbound
from storage.database import Database
from storage.ids import native_of, room_id_for, user_id_for

log = logging.getLogger(__name__)
SINCE = "matrix.since"
SINCE_EVERY_SECONDS = 5.0
DEVICE = "matrix.device_id"
CONTACT = "matrix.contact_at"  # when a sync last succeeded: where a gap would begin
TOKEN = inbound.MATRIX_ACCESS_TOKEN
# A sync after a gap hands over only a room's newest events and says "limited"; a larger
# page means fewer gaps to fill with /messages (see _missed).
SYNC_FILTER = {"room": {"timeline": {"limit": 100}}}
# The very first sync skips the rooms' history: one event a room is enough (with 500 rooms,
# 100 each was up to 50,000 events fetched and parsed before the bot was ready, to be skipped).
FIRST_SYNC_FILTER = {"room": {"timeline": {"limit": 1}}}
MISSED_PAGE, MISSED_PAGES = 100, 100  # at most 10,000 missed events a room, a sync


class MatrixAdapter(Adapter):
    platform = "matrix"

    def __init__(self, settings: MatrixConfig, config: Config, *, database: Database,
                 dispatcher: Dispatcher, inbound_handler: Inbound, clock: Clock,
                 sync_timeout_ms: int = 30_000, session: aiohttp.ClientSession | None = None):
        """``session`` is the HTTP session nio sends through (its own, made at the first
        request, when None); tests give one whose connector answers as a homeserver."""
        super().__init__(config, database=database, dispatcher=dispatcher,
                         inbound_handler=inbound_handler, clock=clock)
        self.settings = settings
        self.sync_timeout_ms = sync_timeout_ms
        Path(settings.store_path).mkdir(parents=True, exist_ok=True)
        self.client = AsyncClient(
            settings.homeserver, settings.user_id, store_path=settings.store_path,
            config=AsyncClientConfig(encryption_enabled=True, store=KeyStore,
                                     store_sync_tokens=False,
                                     max_limit_exceeded=0, max_timeouts=2,
                                     request_timeout=60))
        self.client.client_session = session
        self._task: asyncio.Task[None] | None = None
        self.sender = MatrixSender(self.client, verify_devices=settings.verify_devices)
        # Rooms we just joined: what was said before our join is history, not ours to answer.
        self._joining: set[str] = set()
        self._since = ""
        self._since_saved_at = 0.0
        # The first sync of a process asks for the rooms' full state: without it, a restarted
        # bot knows no member's display name and relays "@ana:srv" instead of "Ana".
        self._full_state = True
        self._rights_known = False  # the configured rooms' power levels, checked once synced
        self._resume_from: str | None = None  # the stored sync token, until nio has its own
        # The very first start's first sync: the rooms' history is not ours to answer.
        self._skip_history = False
        self.contact = LastContact(database, CONTACT)

    # ---- lifecycle ---------------------------------------------------------------------

    async def start(self) -> None:
        await self._login()
        self.heard_from_network()
        if self.client.should_upload_keys:
            check(await self.client.keys_upload(), "uploading device keys")
        display = check(await self.client.get_displayname(self.settings.user_id),
                        "reading the display name")
        if display.displayname != self.config.bot.display_name:
            check(await self.client.set_displayname(self.config.bot.display_name),
                  "setting the display name")
        with self.database.session() as db:
            since = inbound.get_resume(db, SINCE)
        self.contact.load()
        # The first sync is the sync loop's, as on every start: with hundreds of rooms the
        # homeserver may take half a minute to answer it, and Telegram is served meanwhile
        # (sends to Matrix wait for it: MatrixSender.synced).
        if since is None:
            self._skip_history = True
        else:
            # Not given to nio as its own token: nio drops a sync answer that carries the
            # token it has, and after a quiet restart the first answer does, which would
            # leave the bot knowing none of its rooms until someone spoke in each.
            self._resume_from = since
        self._task = asyncio.create_task(self._sync_loop(), name="matrix sync")
        log.info("matrix: serving as %s (device %s)", self.client.user_id, self.client.device_id)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        if self._since:
            self._save_since(self._since)
        await self.client.close()

    async def _login(self) -> None:
        with self.database.session() as db:
            device = inbound.get_resume(db, DEVICE) or self.settings.device_id
            token = inbound.get_secret(db, TOKEN)
        if self.settings.access_token:
            self.client.access_token = self.settings.access_token
            who = check(await self.client.whoami(), "checking the access token")
            assert isinstance(who, WhoamiResponse)
            device = who.device_id or device
            if not device:
                raise MatrixError("logging in", error_response(
                    "the access token has no device; set [matrix].device_id"))
            self.client.restore_login(self.settings.user_id, device, self.settings.access_token)
        elif token and device:  # the device a password login made before: keep it
            self.client.restore_login(self.settings.user_id, device, token)
        else:
            if device:
                self.client.device_id = device
            response = check(await self.client.login(self.settings.password,
                                                     device_name=self.config.bot.display_name),
                             "logging in with the password")
            assert isinstance(response, LoginResponse)
            with self.database.session() as db:
                inbound.set_resume(db, DEVICE, response.device_id)
                inbound.set_secret(db, TOKEN, response.access_token)
                db.commit()

    # ---- receiving ----------------------------------------------------------------------

    async def _sync_loop(self) -> None:
        failures = 0  # syncs that failed in a row: the network or the homeserver
        unrecorded = 0  # syncs that could not be handled in a row (database, a join)
        while True:
            since = self.client.next_batch or self._resume_from
            if self._full_state:
                # nio drops a sync response whose token it holds already: a full-state sync
                # read again after a failure must not be taken for one it has seen.
                self.client.next_batch = ""
            try:
                # nio sets no time limit on a full-state sync: a connection gone silent would
                # leave the bot deaf for good.
                async with asyncio.timeout(self.sync_timeout_ms / 1000
                                           + self.client.config.request_timeout):
                    response = await self.client.sync(
                        timeout=0 if self._full_state else self.sync_timeout_ms, since=since,
                        full_state=self._full_state or None,
                        sync_filter=FIRST_SYNC_FILTER if self._skip_history else SYNC_FILTER)
            except (TimeoutError, aiohttp.ClientError, OSError) as exc:
                response = error_response(f"network: {exc!r}", "M_NETWORK")
            if isinstance(response, SyncResponse):
                try:
                    missed = await self._fill_gaps(response, since)
                except (MatrixError, TimeoutError, aiohttp.ClientError, OSError) as exc:
                    # Not one event may be skipped: sync again from where we were.
                    self.client.next_batch = since
                    response = error_response(f"fetching missed messages: {exc}", "M_NETWORK")
            if not isinstance(response, SyncResponse):
                if getattr(response, "status_code", "") == "M_UNKNOWN_TOKEN":
                    log.error("matrix: %s", self._token_refused())
                    self.on_fatal(self._token_refused())
                    return
                failures += 1
                wait = retry_after_of(response) or poll_backoff(failures)
                log.warning("matrix: sync failed (%s); retrying in %.1fs",
                            getattr(response, "message", response), wait)
                await asyncio.sleep(wait)
                continue
            self.heard_from_network()
            if failures:
                log.info("matrix: the homeserver answers again")
                self.on_recovered()
            failures = 0
            self._full_state = False
            self.sender.synced.set()  # nio has read the rooms: sends waiting for them go
            try:
                if self._skip_history:
                    await self._first_start(response)
                else:
                    await self._after_sync(response, missed)
            except (SQLAlchemyError, TimeoutError, aiohttp.ClientError, OSError) as exc:
                # The database is locked or full, or a join was cut off: read the same events
                # again later (those already recorded are recognised), rather than move past
                # them, or end this loop and leave the bot deaf.
                self.client.next_batch = since
                unrecorded += 1
                wait = poll_backoff(unrecorded)
                log.error("matrix: could not handle a sync (%s); reading it again in %.1fs",
                          type(exc).__name__, wait)
                await asyncio.sleep(wait)
                continue
            unrecorded = 0
            self.contact.touch(self.clock())

    async def _first_start(self, response: SyncResponse) -> None:
        """The first sync of the first start: joins where invited, checks the rooms, and
        moves past the history."""
        if not await self._handle_invites(response):
            self._rights_known = True
            check_rooms(self, set())
        # else the rooms are checked after the next sync, which brings the joins: checked
        # now, a room just joined would be reported as one the bot is not in.
        self._save_since(response.next_batch)
        self._skip_history = False

    def _token_refused(self) -> str:
        if self.settings.access_token:
            return ("the homeserver refused the Matrix access token: set a valid one in "
                    "[matrix].access_token (or CAUCUS_MATRIX_ACCESS_TOKEN)")
        return ("the homeserver refused the access token of the bot's password login (its "
                "session was logged out): give it an access token in [matrix].access_token "
                "(or CAUCUS_MATRIX_ACCESS_TOKEN)")

    async def _fill_gaps(self, response: SyncResponse, since: str | None
                         ) -> dict[str, list[Any]]:
        """The events each ``limited`` room's timeline left out since ``since``, oldest first."""
        missed: dict[str, list[Any]] = {}
        for room_id, joined in response.rooms.join.items():
            if since and joined.timeline.limited and joined.timeline.prev_batch and \
                    room_id not in self._joining:
                missed[room_id] = await self._missed(room_id, joined.timeline.prev_batch, since)
        return missed

    async def _missed(self, room_id: str, before: str, since: str) -> list[Any]:
        events: list[Any] = []
        start = before
        for _ in range(MISSED_PAGES):
            page = check(await self.client.room_messages(
                room_id, start=start, end=since, direction=MessageDirection.back,
                limit=MISSED_PAGE), "fetching missed messages")
            events.extend(page.chunk)
            if not page.chunk or not page.end or page.end == start:
                break
            start = page.end
        else:
            log.error("matrix: more than %d events missed in %s; the oldest are not relayed",
                      MISSED_PAGE * MISSED_PAGES, room_id)
            oldest = getattr(events[-1], "server_timestamp", None) if events else None
            try:
                self.on_history_lost(self.platform, self.contact.at, datetime.fromtimestamp(
                    oldest / 1000, UTC) if oldest else self.clock(),
                    room_id_for("matrix", room_id))
            except SQLAlchemyError as exc:  # not told: this sync is read again, and tells
                raise MatrixError("telling the pair of the gap", error_response(
                    type(exc).__name__)) from None
        if events:
            log.info("matrix: fetched %d events a sync left out in %s", len(events), room_id)
        return events[::-1]

    async def _after_sync(self, response: SyncResponse,
                          missed: dict[str, list[Any]] | None = None) -> None:
        await self._keys()
        await self._handle_invites(response)
        changed = {room_id for room_id, joined in response.rooms.join.items()
                   if any(isinstance(e, PowerLevelsEvent | RoomEncryptionEvent)
                          for e in (*joined.state, *joined.timeline.events))}
        if changed or not self._rights_known:
            self._rights_known = True
            check_rooms(self, changed)
        received = self.clock().timestamp() * 1000
        for room_id, joined in response.rooms.join.items():
            room = self.client.rooms.get(room_id)
            if room is None:
                continue
            for event in [*(missed or {}).get(room_id, ()), *joined.timeline.events]:
                if getattr(event, "server_timestamp", None):
                    metrics.SYNC_LAG.observe(max(0.0, received - event.server_timestamp) / 1000)
                if getattr(event, "sender", None) == self.client.user_id:
                    if isinstance(event, RoomMemberEvent) and event.membership == "join":
                        self._joining.discard(room_id)
                    continue  # never our own messages
                if room_id in self._joining:
                    continue  # before our join: history
                if isinstance(event, MegolmEvent):
                    log.warning("matrix: could not decrypt %s in %s (no session key yet)",
                                event.event_id, room_id)
                    continue
                translated = to_event(room, event, direct=self._is_direct(room))
                if translated is None:
                    continue
                try:
                    await self.inbound.receive(translated)
                except SQLAlchemyError:
                    raise  # not recorded: the sync loop reads it again
                except Exception as exc:  # a bug in this one event: skipped, not a stop
                    log.error("matrix: event %s could not be handled\n%s", event.event_id,
                              traceback_without_messages(exc))
        self._save_since(response.next_batch, eager=False)

    async def _keys(self) -> None:
        try:
            if self.client.should_upload_keys:
                check(await self.client.keys_upload(), "uploading keys")
            if self.client.should_query_keys:
                check(await self.client.keys_query(), "querying keys")
            if self.client.should_claim_keys:
                check(await self.client.keys_claim(self.client.get_users_for_key_claiming()),
                      "claiming keys")
        except MatrixError as exc:
            log.warning("matrix: key maintenance failed: %s", exc)

    def rooms_changed(self, before: Rooms, after: Rooms) -> None:
        super().rooms_changed(before, after)
        if self._rights_known:
            check_rooms(self, set())

    def can_delete(self, room_id: str) -> bool:
        """Whether the bot's power level in the room lets it redact others' messages."""
        room = self.client.rooms.get(native_of(room_id))
        return room is not None and bool(room.power_levels.can_user_redact(self.client.user_id))

    async def fetch_file(self, ref: str, path: Path) -> None:
        await self.sender.fetch_file(ref, path)

    def _is_direct(self, room: MatrixRoom) -> bool:
        # A named room is a group even with two members: a new room an admin made to pair.
        return (self.rooms.room_for(room_id_for("matrix", room.room_id)) is None
                and room.member_count <= 2 and room.is_group)

    async def _handle_invites(self, response: SyncResponse) -> int:
        """Join where invited to a configured room, by an admin, or directly; the rooms
        joined, which nio knows only from the next sync."""
        joined = 0
        for room_id, invited in response.rooms.invite.items():
            inviter, direct = None, False
            for event in invited.invite_state:
                if isinstance(event, InviteMemberEvent) and event.state_key == \
                        self.client.user_id:
                    inviter = event.sender
                    direct = bool(event.content.get("is_direct"))
            configured = self.rooms.room_for(room_id_for("matrix", room_id)) is not None
            by_admin = inviter is not None and \
                user_id_for("matrix", inviter) in self.config.bot.admins
            if configured or by_admin or direct:
                self._joining.add(room_id)
                response_join = await self.client.join(room_id)
                if isinstance(response_join, ErrorResponse):
                    self._joining.discard(room_id)
                    log.warning("matrix: could not join %s: %s", room_id, response_join.message)
                else:
                    joined += 1
                    log.info("matrix: joined %s (invited by %s)", room_id, inviter)
            else:  # not ours: decline without a word
                await self.client.room_leave(room_id)
                log.info("matrix: declined an invite to %s from %s", room_id, inviter)
        return joined

    def _save_since(self, token: str, *, eager: bool = True) -> None:
        """Store the sync token: at once when asked, else at most every few seconds.

        A token a little behind is safe: the events after it are re-read on a restart
        and recognised as handled. Writing it after every sync cost a commit per message.
        """
        self._since = token
        now = time.monotonic()
        if not eager and now - self._since_saved_at < SINCE_EVERY_SECONDS:
            return
        with self.database.session() as db:
            inbound.set_resume(db, SINCE, token)
            db.commit()
        self._since_saved_at = now

    # ---- sending (bot/matrix/send.py) ---------------------------------------------------

    async def send(self, delivery: Delivery) -> str:
        return await self.sender.send(delivery)
