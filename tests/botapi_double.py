"""A Telegram Bot API server double: real HTTP on 127.0.0.1, the real JSON shapes.

Telegram's servers cannot be reached from tests, and the npm telegram-test-api
is too thin for python-telegram-bot 22. This double speaks what the bot uses:
getMe, getUpdates (offset confirms, limit, long polling with timeout, and
``allowed_updates`` remembered between calls, as Telegram documents it),
sendMessage, editMessageText, deleteMessage, sendDocument, sendPhoto and the other
media, sendVenue, sendPoll/stopPoll and ``poll`` updates, getFile and file
downloads (files on disk, served and received in chunks: tests/botapi_files.py),
``message_thread_id`` (forum topics), setMyCommands/getMyCommands, leaveChat,
getChat, setWebhook/deleteWebhook; per-chat message ids; Telegram's error answers
(429 with parameters.retry_after, 403, 400 with its descriptions), and flood control
of one chat for a span of time (:meth:`BotApiDouble.flood_chat`), a chat slow to
answer (:meth:`BotApiDouble.slow_chat`); and it refuses HTML that Telegram would
refuse. Tests drive it in-process (methods below) or over HTTP (``/control/...``) and
read what the bot sent.
"""

from __future__ import annotations

import asyncio
import html.parser
import itertools
import json
import math
import socket
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import BodyPartReader, web
from telegram.constants import ReactionEmoji

from tests.botapi_files import DOWNLOAD_LIMIT, FileStore, TooLarge

RECEIVE_BUFFER = 256 * 1024  # bytes: see BotApiDouble.start

TELEGRAM_TAGS = {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "span",
                 "tg-spoiler", "a", "code", "pre", "blockquote", "tg-emoji"}
MAX_TEXT = 4096
MAX_CAPTION = 1024
# A message with one of these has a caption, not a text.
MEDIA_FIELDS = frozenset({"animation", "audio", "document", "photo", "sticker", "video",
                          "video_note", "voice", "paid_media"})
# What a bot gets when it names no allowed_updates (Telegram's default): all but these.
NOT_BY_DEFAULT = frozenset({"chat_member", "message_reaction", "message_reaction_count"})
# The emoji Telegram lets bots react with (as python-telegram-bot documents Bot API's list).
BOT_REACTIONS = frozenset(e.value for e in ReactionEmoji)


class HtmlCheck(html.parser.HTMLParser):
    """Refuses what Telegram's HTML parse mode refuses: unknown tags, unbalanced tags."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.error: str | None = None
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in TELEGRAM_TAGS and self.error is None:
            self.error = f'Unsupported start tag "{tag}"'
        self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if (not self.stack or self.stack.pop() != tag) and self.error is None:
            self.error = f'Unmatched end tag "{tag}"'

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def check_html(text: str) -> tuple[str | None, str]:
    parser = HtmlCheck()
    parser.feed(text)
    parser.close()
    if parser.error is None and parser.stack:
        parser.error = f'Can\'t find end tag corresponding to start tag "{parser.stack[-1]}"'
    return parser.error, "".join(parser.text)


class ApiError(Exception):
    def __init__(self, code: int, description: str, retry_after: int | None = None):
        super().__init__(description)
        self.code, self.description, self.retry_after = code, description, retry_after


@dataclass
class Failure:
    """Answer the next ``times`` calls of ``method`` (to ``chat_id``, if given) with an error."""

    method: str
    code: int
    description: str
    times: int = 1
    chat_id: int | None = None
    retry_after: int | None = None


@dataclass
class Sent:
    method: str
    chat_id: int
    message_id: int
    text: str = ""
    parse_mode: str | None = None
    reply_to: int | None = None
    upload: tuple[str, Path] | None = None  # the file sent: (its name, where the double keeps it)
    place: dict[str, Any] | None = None  # sendVenue, sendLocation: what was sent
    thread: int | None = None  # message_thread_id: the forum topic it was sent into
    poll: dict[str, Any] | None = None  # sendPoll: the Poll, as updates show it
    deleted: bool = False
    edits: list[str] = field(default_factory=list)
    at: float = field(default_factory=time.perf_counter)  # when the double received it

    @property
    def plain(self) -> str:
        """The text a person reads, markup removed."""
        return check_html(self.text)[1] if self.parse_mode == "HTML" else self.text

    def _file(self, *methods: str) -> tuple[str, bytes] | None:
        if self.upload is None or (methods and self.method not in methods):
            return None
        return self.upload[0], self.upload[1].read_bytes()

    @property
    def document(self) -> tuple[str, bytes] | None:
        return self._file("sendDocument")

    @property
    def photo(self) -> bytes | None:
        sent = self._file("sendPhoto")
        return None if sent is None else sent[1]

    @property
    def media(self) -> tuple[str, bytes] | None:
        """sendVoice, sendVideo ...: (file name, bytes)."""
        return None if self.method in ("sendDocument", "sendPhoto") else self._file()


class BotApiDouble:
    def __init__(self, *, token: str = "123456:TEST-token-for-the-double",
                 username: str = "CaucusBot", bot_id: int = 123456):
        self.token, self.username, self.bot_id = token, username, bot_id
        self.updates: list[dict[str, Any]] = []
        self._update_ids = itertools.count(1)
        self._message_ids: dict[int, itertools.count[int]] = {}
        self.chats: dict[int, dict[str, Any]] = {}
        self.sent: list[Sent] = []
        self.user_messages: dict[tuple[int, int], dict[str, Any]] = {}
        self.files = FileStore()
        self.allowed_updates: list[str] = []  # as last asked for; [] is Telegram's default
        self.topics: dict[int, set[int]] = {}  # forum chat -> its topics' ids
        self.polls: dict[str, dict[str, Any]] = {}  # poll id -> the Poll, as it stands
        self.poll_messages: dict[str, tuple[int, int]] = {}  # poll id -> (chat, message)
        self.failures: list[Failure] = []
        self.flooded: dict[int, float] = {}  # chat -> time.monotonic() its flood control ends
        self.slow: dict[int, float] = {}  # chat -> seconds its sends take to be answered
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.commands: list[dict[str, str]] = []
        self.left: list[int] = []
        # Chats where the bot is an admin that may delete messages (getChatMember), and
        # the people's messages it deleted there.
        self.may_delete: set[int] = set()
        self.privacy_mode = False  # BotFather's /setprivacy: on, groups show only commands
        self.bot_reactions: dict[tuple[int, int], list[str]] = {}  # setMessageReaction
        self.deleted_user_messages: list[tuple[int, int]] = []
        self.webhook: str | None = None
        self._changed = asyncio.Condition()
        # While closed, requests that send to a chat wait as if still on the wire; one whose
        # sender has gone by the time it opens never reached Telegram (see hold_sends).
        self._sends_open = asyncio.Event()
        self._sends_open.set()
        self.held = 0  # send requests waiting now
        self._held_methods: dict[str, asyncio.Event] = {}  # method -> opens when released
        self._runner: web.AppRunner | None = None
        self._closing = False
        self.port = 0

    # ---- lifecycle -------------------------------------------------------------------

    async def start(self, port: int = 0) -> None:
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._api)
        app.router.add_get("/file/bot{token}/{path:.+}", self._file)
        app.router.add_post("/control/{action}", self._control)
        # A request whose client has gone is cancelled, as on a real server: a long poll
        # of a stopped bot must not keep this double's shutdown waiting for its timeout.
        self._runner = web.AppRunner(app, access_log=None, handler_cancellation=True)
        await self._runner.setup()
        # A fixed receive buffer, as a server's: on loopback Linux grows it up to
        # net.ipv4.tcp_rmem's maximum (32 MB seen here), which swallowed a whole 8 MB
        # upload a test meant to cut short by killing its sender.
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RECEIVE_BUFFER)
        listener.bind(("127.0.0.1", port))
        site = web.SockSite(self._runner, listener)
        await site.start()
        self.port = listener.getsockname()[1]

    async def stop(self) -> None:
        self._closing = True  # long polls still open answer now
        self._sends_open.set()
        async with self._changed:
            self._changed.notify_all()
        if self._runner is not None:
            await self._runner.cleanup()
        self.files.close()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/bot"

    @property
    def base_file_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/file/bot"

    # ---- what tests do -------------------------------------------------------------

    def chat(self, chat_id: int, title: str | None = None) -> dict[str, Any]:
        if chat_id not in self.chats:
            kind = "private" if chat_id > 0 else "supergroup" if chat_id < -10**12 else "group"
            chat: dict[str, Any] = {"id": chat_id, "type": kind}
            if kind == "private":
                chat["first_name"] = title or f"User {chat_id}"
            else:
                chat["title"] = title or f"Group {chat_id}"
            self.chats[chat_id] = chat
        return self.chats[chat_id]

    @staticmethod
    def user(user_id: int, first_name: str = "", username: str | None = None) -> dict[str, Any]:
        u: dict[str, Any] = {"id": user_id, "is_bot": False,
                             "first_name": first_name or f"User{user_id}"}
        if username:
            u["username"] = username
        return u

    def bot_user(self) -> dict[str, Any]:
        return {"id": self.bot_id, "is_bot": True, "first_name": "Caucus Bot",
                "username": self.username}

    def _next_message_id(self, chat_id: int) -> int:
        return next(self._message_ids.setdefault(chat_id, itertools.count(1)))

    async def _push(self, update: dict[str, Any]) -> dict[str, Any]:
        update["update_id"] = next(self._update_ids)
        async with self._changed:
            self.updates.append(update)
            self._changed.notify_all()
        return update

    async def user_message(self, chat_id: int, user: dict[str, Any], text: str = "", *,
                           reply_to: int | None = None, photo: bytes | None = None,
                           document: tuple[str, bytes, str] | None = None,
                           entities: list[dict[str, Any]] | None = None,
                           forward_from: dict[str, Any] | None = None,
                           extra: dict[str, Any] | None = None) -> dict[str, Any]:
        """A person posts in a chat; returns the Message as the bot will see it.

        ``extra``: more fields of the Message (a voice note from :meth:`stored_file`, a
        location, a poll, a contact ...), as Telegram sends them.
        """
        message: dict[str, Any] = {"message_id": self._next_message_id(chat_id), "from": user,
                                   "chat": self.chat(chat_id), "date": int(time.time())}
        media = photo is not None or document is not None or bool(MEDIA_FIELDS & set(extra or {}))
        body_key = "caption" if media else "text"
        if text:
            message[body_key] = text
            ents = list(entities or [])
            if text.startswith("/") and body_key == "text":
                length = len(text.split()[0])
                ents.insert(0, {"type": "bot_command", "offset": 0, "length": length})
            if ents:
                message["entities" if body_key == "text" else "caption_entities"] = ents
        if reply_to is not None:
            original = self.user_messages.get((chat_id, reply_to)) or self._sent_message(
                chat_id, reply_to)
            if original is not None:
                message["reply_to_message"] = original
        if photo is not None:
            message["photo"] = self._store_photo(photo)
        if document is not None:
            name, data, mime = document
            message["document"] = self._store_document(name, data, mime)
        message.update(extra or {})
        if "forum_topic_created" in message:
            self.topics.setdefault(chat_id, set()).add(message["message_id"])
        if "poll" in message:
            self.polls[message["poll"]["id"]] = message["poll"]
            self.poll_messages[message["poll"]["id"]] = (chat_id, message["message_id"])
        if forward_from is not None:
            message["forward_origin"] = {"type": "user", "date": int(time.time()) - 60,
                                         "sender_user": forward_from}
        self.user_messages[(chat_id, message["message_id"])] = message
        await self._push({"message": message})
        return message

    async def user_reaction(self, chat_id: int, user: dict[str, Any], message_id: int,
                            old: list[str], new: list[str]) -> bool:
        """A person changes their reactions on a message. Telegram tells only a bot that is
        an admin of the group (here: one that may delete messages); False if not told."""
        if chat_id not in self.may_delete:
            return False
        await self._push({"message_reaction": {
            "chat": self.chat(chat_id), "message_id": message_id, "user": user,
            "date": int(time.time()),
            "old_reaction": [{"type": "emoji", "emoji": e} for e in old],
            "new_reaction": [{"type": "emoji", "emoji": e} for e in new]}})
        return True

    async def user_stops_poll(self, chat_id: int, message_id: int,
                              votes: list[int]) -> dict[str, Any]:
        """Whoever posted a poll stops it: a bot is sent the closed Poll (an update that
        names neither the chat nor the message, only the poll's id)."""
        poll_id = next(i for i, where in self.poll_messages.items()
                       if where == (chat_id, message_id))
        return await self._push({"poll": self._close_poll(poll_id, votes)})

    def _close_poll(self, poll_id: str, votes: list[int] | None = None) -> dict[str, Any]:
        poll = self.polls[poll_id]
        if votes is not None:
            for option, count in zip(poll["options"], votes, strict=True):
                option["voter_count"] = count
            poll["total_voter_count"] = sum(votes)
        poll["is_closed"] = True
        return dict(poll)

    async def user_edit(self, chat_id: int, message_id: int, text: str) -> dict[str, Any]:
        message = dict(self.user_messages[(chat_id, message_id)])
        message["text"] = text
        message.pop("entities", None)
        message["edit_date"] = int(time.time()) + len(self.updates)
        self.user_messages[(chat_id, message_id)] = message
        await self._push({"edited_message": message})
        return message

    async def bot_added(self, chat_id: int, by: dict[str, Any], title: str | None = None,
                        ) -> dict[str, Any]:
        """Someone adds the bot to a group."""
        return await self._push({"my_chat_member": {
            "chat": self.chat(chat_id, title), "from": by, "date": int(time.time()),
            "old_chat_member": {"user": self.bot_user(), "status": "left"},
            "new_chat_member": {"user": self.bot_user(), "status": "member"}}})

    def fail(self, method: str, code: int, description: str, *, times: int = 1,
             chat_id: int | None = None, retry_after: int | None = None) -> None:
        self.failures.append(Failure(method, code, description, times, chat_id, retry_after))

    def flood_chat(self, chat_id: int, seconds: float) -> None:
        """For ``seconds`` from now, everything the bot sends to (or changes in) ``chat_id``
        is refused as Telegram's flood control refuses it: 429, ``retry_after`` the whole
        seconds left. Other chats answer as usual."""
        self.flooded[chat_id] = time.monotonic() + seconds

    def slow_chat(self, chat_id: int, seconds: float) -> None:
        """Sends to ``chat_id`` are answered only after ``seconds`` (a large upload, a slow
        link), each holding its connection meanwhile."""
        self.slow[chat_id] = seconds

    def hold_sends(self) -> None:
        """Keep the bot's next sends on the wire (for a kill at a known point: a send the
        bot had started, that Telegram had not yet taken)."""
        self._sends_open.clear()

    def release_sends(self) -> None:
        self._sends_open.set()

    def hold_method(self, method: str) -> None:
        """Calls of ``method`` are answered only once it is released (a Telegram slow to
        answer one call)."""
        self._held_methods[method.lower()] = asyncio.Event()

    def release_method(self, method: str) -> None:
        self._held_methods.pop(method.lower()).set()

    def sent_to(self, chat_id: int) -> list[Sent]:
        return [s for s in self.sent if s.chat_id == chat_id and not s.deleted]

    async def wait_for(self, predicate: Any, seconds: float = 10.0) -> Any:
        """Wait until ``predicate()`` is truthy (the bot answered); returns its value."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            value = predicate()
            if value:
                return value
            async with self._changed:
                try:
                    await asyncio.wait_for(self._changed.wait(), 0.05)
                except TimeoutError:
                    pass
        raise AssertionError(f"timed out after {seconds}s waiting for the bot")

    # ---- the Bot API -----------------------------------------------------------------

    async def _api(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return _error(401, "Unauthorized")
        method = request.match_info["method"]
        try:
            params = await _params(request, self.files)
        except TooLarge:
            return _error(413, "Request Entity Too Large")
        if method.lower().startswith("send") and not self._sends_open.is_set():
            self.held += 1
            await self._sends_open.wait()
            self.held -= 1
            if request.transport is None or request.transport.is_closing():
                return web.Response(status=499)  # its sender died: it never arrived
        held = self._held_methods.get(method.lower())
        if held is not None:
            await held.wait()
        self.calls.append((method, params))
        delay = self.slow.get(_chat_number(params.get("chat_id")) or 0, 0.0)
        if delay and method.lower().startswith("send"):
            await asyncio.sleep(delay)
        try:
            self._scripted_failure(method, params)
            handler = getattr(self, f"_m_{method.lower()}", None)
            if handler is None:
                raise ApiError(404, "Not Found: method not found")
            result = await handler(params)
        except ApiError as exc:
            return _error(exc.code, exc.description, exc.retry_after)
        async with self._changed:
            self._changed.notify_all()
        return web.json_response({"ok": True, "result": result})

    def _scripted_failure(self, method: str, params: dict[str, Any]) -> None:
        ends = self.flooded.get(_chat_number(params.get("chat_id")))
        left = ends - time.monotonic() if ends is not None else 0.0
        if left > 0 and not method.lower().startswith("get"):
            seconds = math.ceil(left)
            raise ApiError(429, f"Too Many Requests: retry after {seconds}", seconds)
        for failure in self.failures:
            if failure.method.lower() != method.lower() or failure.times <= 0:
                continue
            if failure.chat_id is not None and int(params.get("chat_id", 0)) != failure.chat_id:
                continue
            failure.times -= 1
            raise ApiError(failure.code, failure.description, failure.retry_after)

    async def _file(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.Response(status=401)
        return await self.files.serve(request, request.match_info["path"])

    async def _m_getme(self, p: dict[str, Any]) -> dict[str, Any]:
        return {**self.bot_user(), "can_join_groups": True,
                "can_read_all_group_messages": not self.privacy_mode,
                "supports_inline_queries": False}

    async def _m_getupdates(self, p: dict[str, Any]) -> list[dict[str, Any]]:
        offset = int(p.get("offset", 0) or 0)
        limit = max(1, min(100, int(p.get("limit", 100) or 100)))
        timeout = float(p.get("timeout", 0) or 0)
        if offset > 0:  # confirms every update before it, as Telegram does
            self.updates = [u for u in self.updates if u["update_id"] >= offset]
        elif offset < 0:
            self.updates = self.updates[offset:]
        deadline = time.monotonic() + timeout
        async with self._changed:
            while not self.updates and time.monotonic() < deadline and not self._closing:
                try:
                    await asyncio.wait_for(self._changed.wait(), deadline - time.monotonic())
                except TimeoutError:
                    break
        if "allowed_updates" in p:  # not named: the setting of the call before holds
            self.allowed_updates = list(p["allowed_updates"] or [])
        return [u for u in self.updates[:limit] if self._allowed(u)]

    def _allowed(self, update: dict[str, Any]) -> bool:
        kinds = set(update) - {"update_id"}
        if self.allowed_updates:
            return bool(kinds & set(self.allowed_updates))
        return not kinds & NOT_BY_DEFAULT

    def _record(self, method: str, chat_id: int, text: str, p: dict[str, Any],
                **extra: Any) -> dict[str, Any]:
        reply_to = _reply_to(p)
        thread = int(p["message_thread_id"]) if p.get("message_thread_id") else None
        if thread is not None and thread not in self.topics.get(chat_id, set()):
            raise ApiError(400, "Bad Request: message thread not found")
        message_id = self._next_message_id(chat_id)
        self.sent.append(Sent(method, chat_id, message_id, text, p.get("parse_mode"), reply_to,
                              thread=thread, **extra))
        message: dict[str, Any] = {"message_id": message_id, "from": self.bot_user(),
                                   "chat": self.chat(chat_id), "date": int(time.time())}
        if thread is not None:
            message.update(message_thread_id=thread, is_topic_message=True)
        if text:
            message["text" if method == "sendMessage" else "caption"] = _visible(text, p)
        return message

    def _target(self, p: dict[str, Any]) -> int:
        if "chat_id" not in p:
            raise ApiError(400, "Bad Request: chat_id is empty")
        chat_id = int(p["chat_id"])
        if chat_id in self.left:
            raise ApiError(403, "Forbidden: bot is not a member of the group chat")
        return chat_id

    def _checked_text(self, p: dict[str, Any], key: str, limit: int) -> str:
        text = str(p.get(key, ""))
        visible = _visible(text, p)
        if key == "text" and not visible.strip():
            raise ApiError(400, "Bad Request: message text is empty")
        if len(visible) > limit:
            raise ApiError(400, "Bad Request: message is too long" if key == "text" else
                           "Bad Request: message caption is too long")
        return text

    async def _m_sendmessage(self, p: dict[str, Any]) -> dict[str, Any]:
        chat_id = self._target(p)
        text = self._checked_text(p, "text", MAX_TEXT)
        return self._record("sendMessage", chat_id, text, p)

    async def _m_senddocument(self, p: dict[str, Any]) -> dict[str, Any]:
        message, (name, disk) = self._uploaded("sendDocument", "document", p)
        message["document"] = self._store_document(name, disk, "application/octet-stream")
        return message

    async def _m_sendphoto(self, p: dict[str, Any]) -> dict[str, Any]:
        message, (_, disk) = self._uploaded("sendPhoto", "photo", p)
        message["photo"] = self._store_photo(disk)
        return message

    def _find_sent(self, p: dict[str, Any], what: str) -> Sent:
        chat_id, message_id = int(p.get("chat_id", 0)), int(p.get("message_id", 0))
        for s in self.sent:
            if s.chat_id == chat_id and s.message_id == message_id and not s.deleted:
                return s
        raise ApiError(400, f"Bad Request: message to {what} not found")

    async def _m_editmessagetext(self, p: dict[str, Any]) -> dict[str, Any]:
        sent = self._find_sent(p, "edit")
        text = self._checked_text(p, "text", MAX_TEXT)
        if text == sent.text:
            raise ApiError(400, "Bad Request: message is not modified: specified new message "
                                "content and reply markup are exactly the same")
        sent.edits.append(sent.text)
        sent.text, sent.parse_mode = text, p.get("parse_mode")
        return {"message_id": sent.message_id, "from": self.bot_user(),
                "chat": self.chat(sent.chat_id), "date": int(time.time()),
                "edit_date": int(time.time()), "text": _visible(text, p)}

    async def _m_deletemessage(self, p: dict[str, Any]) -> bool:
        key = (int(p.get("chat_id", 0)), int(p.get("message_id", 0)))
        if key in self.user_messages and key not in self.deleted_user_messages:
            # Someone else's message: only an admin with the right may delete it in a group.
            if key[0] not in self.may_delete:
                raise ApiError(400, "Bad Request: message can't be deleted")
            self.deleted_user_messages.append(key)
            return True
        self._find_sent(p, "delete").deleted = True
        return True

    async def _m_setmessagereaction(self, p: dict[str, Any]) -> bool:
        chat_id, message_id = self._target(p), int(p.get("message_id", 0))
        reactions = p.get("reaction") or []
        emoji = [r.get("emoji", "") for r in reactions if isinstance(r, dict)]
        if any(e not in BOT_REACTIONS for e in emoji):
            raise ApiError(400, "Bad Request: REACTION_INVALID")
        if len(emoji) > 1:
            raise ApiError(400, "Bad Request: REACTIONS_TOO_MANY")
        self.bot_reactions[(chat_id, message_id)] = emoji
        return True

    async def _m_getchatmember(self, p: dict[str, Any]) -> dict[str, Any]:
        chat_id, user_id = int(p.get("chat_id", 0)), int(p.get("user_id", 0))
        if user_id != self.bot_id or chat_id not in self.may_delete:
            return {"status": "member", "user": self.bot_user() if user_id == self.bot_id
                    else self.user(user_id)}
        rights = dict.fromkeys(
            ("can_manage_chat", "can_delete_messages", "can_manage_video_chats",
             "can_restrict_members", "can_promote_members", "can_change_info",
             "can_invite_users", "can_post_stories", "can_edit_stories",
             "can_delete_stories", "can_pin_messages", "can_manage_topics"), False)
        return {"status": "administrator", "user": self.bot_user(), "can_be_edited": False,
                "is_anonymous": False, **rights, "can_manage_chat": True,
                "can_delete_messages": True}

    async def _m_getfile(self, p: dict[str, Any]) -> dict[str, Any]:
        file_id = str(p.get("file_id", ""))
        stored = self.files.by_id.get(file_id)
        if stored is None:
            raise ApiError(400, "Bad Request: invalid file_id")
        if stored.size > DOWNLOAD_LIMIT:
            raise ApiError(400, "Bad Request: file is too big")
        return {"file_id": file_id, "file_unique_id": "u" + file_id, "file_size": stored.size,
                "file_path": stored.url_path}

    async def _m_setmycommands(self, p: dict[str, Any]) -> bool:
        commands = p.get("commands")
        self.commands = json.loads(commands) if isinstance(commands, str) else list(commands)
        for c in self.commands:
            if not (1 <= len(c["command"]) <= 32) or not (1 <= len(c["description"]) <= 256):
                raise ApiError(400, "Bad Request: BOT_COMMAND_INVALID")
        return True

    async def _m_getmycommands(self, p: dict[str, Any]) -> list[dict[str, str]]:
        return self.commands

    async def _m_leavechat(self, p: dict[str, Any]) -> bool:
        self.left.append(int(p["chat_id"]))
        return True

    async def _m_getchat(self, p: dict[str, Any]) -> dict[str, Any]:
        chat_id = int(p.get("chat_id", 0))
        if chat_id not in self.chats:
            raise ApiError(400, "Bad Request: chat not found")
        return {**self.chats[chat_id], "accent_color_id": 0, "max_reaction_count": 11}

    async def _m_deletewebhook(self, p: dict[str, Any]) -> bool:
        self.webhook = None
        return True

    async def _m_setwebhook(self, p: dict[str, Any]) -> bool:
        self.webhook = str(p.get("url", ""))
        return True

    async def _m_getwebhookinfo(self, p: dict[str, Any]) -> dict[str, Any]:
        return {"url": self.webhook or "", "has_custom_certificate": False,
                "pending_update_count": len(self.updates)}

    async def _m_sendchataction(self, p: dict[str, Any]) -> bool:
        self._target(p)
        return True

    def stored_file(self, data: bytes | Path, **fields: Any) -> dict[str, Any]:
        """A file the double serves for getFile, as a Voice, Video, Sticker ... object
        (``data``: its bytes, or a file on disk, served from where it is)."""
        file_id = self.files.put("media", data, fields.get("file_name", "file"))
        return {"file_id": file_id, "file_unique_id": "u" + file_id,
                "file_size": self.files.by_id[file_id].size, **fields}

    def _uploaded(self, method: str, field_name: str, p: dict[str, Any]
                  ) -> tuple[dict[str, Any], tuple[str, Path]]:
        """A file sent with its caption: the Message (without the file yet) and the file."""
        chat_id = self._target(p)
        caption = self._checked_text(p, "caption", MAX_CAPTION)
        upload = p.get(field_name)
        if not isinstance(upload, tuple):
            raise ApiError(400, f"Bad Request: there is no {field_name} in the request")
        return self._record(method, chat_id, caption, p, upload=upload), upload

    async def _send_media(self, method: str, field_name: str, p: dict[str, Any],
                          **shape: Any) -> dict[str, Any]:
        message, (_, disk) = self._uploaded(method, field_name, p)
        message[field_name] = self.stored_file(disk, **shape)
        return message

    async def _m_sendvoice(self, p: dict[str, Any]) -> dict[str, Any]:
        return await self._send_media("sendVoice", "voice", p,
                                      duration=int(p.get("duration") or 0))

    async def _m_sendaudio(self, p: dict[str, Any]) -> dict[str, Any]:
        return await self._send_media("sendAudio", "audio", p,
                                      duration=int(p.get("duration") or 0))

    async def _m_sendvideo(self, p: dict[str, Any]) -> dict[str, Any]:
        return await self._send_media("sendVideo", "video", p, width=int(p.get("width") or 0),
                                      height=int(p.get("height") or 0),
                                      duration=int(p.get("duration") or 0))

    async def _m_sendanimation(self, p: dict[str, Any]) -> dict[str, Any]:
        return await self._send_media("sendAnimation", "animation", p,
                                      width=int(p.get("width") or 0),
                                      height=int(p.get("height") or 0),
                                      duration=int(p.get("duration") or 0))

    async def _m_sendsticker(self, p: dict[str, Any]) -> dict[str, Any]:
        if p.get("caption"):
            raise ApiError(400, "Bad Request: stickers take no caption")
        return await self._send_media("sendSticker", "sticker", p, type="regular", width=512,
                                      height=512, is_animated=False, is_video=False)

    async def _m_sendvenue(self, p: dict[str, Any]) -> dict[str, Any]:
        chat_id = self._target(p)
        place = {"location": {"latitude": float(p["latitude"]),
                              "longitude": float(p["longitude"])},
                 "title": str(p.get("title") or ""), "address": str(p.get("address") or "")}
        if not place["title"] or not place["address"]:
            raise ApiError(400, "Bad Request: venue title and address must be non-empty")
        message = self._record("sendVenue", chat_id, "", p, place=place)
        message.update(venue=place, location=place["location"])
        return message

    async def _m_sendpoll(self, p: dict[str, Any]) -> dict[str, Any]:
        chat_id = self._target(p)
        options = [o if isinstance(o, str) else o.get("text", "") for o in p.get("options") or []]
        if not 2 <= len(options) <= 12:
            raise ApiError(400, "Bad Request: poll must have 2-12 options")
        poll_id = str(5_000_000_000 + len(self.polls) + 1)
        poll = {"id": poll_id, "question": str(p.get("question", "")),
                "options": [{"persistent_id": str(n), "text": text, "voter_count": 0}
                            for n, text in enumerate(options)],
                "total_voter_count": 0, "is_closed": False,
                "is_anonymous": str(p.get("is_anonymous", "true")).lower() != "false",
                "type": str(p.get("type") or "regular"), "allows_multiple_answers": False,
                "allows_revoting": True, "members_only": False}
        message = self._record("sendPoll", chat_id, "", p, poll=poll)
        self.polls[poll_id] = poll
        self.poll_messages[poll_id] = (chat_id, message["message_id"])
        message["poll"] = dict(poll)
        return message

    async def _m_stoppoll(self, p: dict[str, Any]) -> dict[str, Any]:
        """Only a poll the bot sent may be stopped by it; the bot hears of it as a
        ``poll`` update too (bots are told every change of their own polls)."""
        where = (self._target(p), int(p.get("message_id", 0)))
        poll_id = next((i for i, at in self.poll_messages.items() if at == where), None)
        sent = [s for s in self.sent if (s.chat_id, s.message_id) == where and s.poll]
        if poll_id is None or not sent:
            raise ApiError(400, "Bad Request: message with poll to stop not found")
        if self.polls[poll_id]["is_closed"]:
            raise ApiError(400, "Bad Request: poll has already been closed")
        poll = self._close_poll(poll_id)
        await self._push({"poll": poll})
        return poll

    def _store_document(self, name: str, data: bytes | Path, mime: str) -> dict[str, Any]:
        file_id = self.files.put("doc", data, name)
        return {"file_id": file_id, "file_unique_id": "u" + file_id, "file_name": name,
                "mime_type": mime, "file_size": self.files.by_id[file_id].size}

    def _store_photo(self, data: bytes | Path) -> list[dict[str, Any]]:
        sizes = []
        for w in (90, 320, 800):
            file_id = self.files.put("photo", data, "photo.jpg", suffix=".jpg")
            sizes.append({"file_id": file_id, "file_unique_id": "u" + file_id, "width": w,
                          "height": w, "file_size": self.files.by_id[file_id].size})
        return sizes

    def _sent_message(self, chat_id: int, message_id: int) -> dict[str, Any] | None:
        for s in self.sent:
            if s.chat_id == chat_id and s.message_id == message_id:
                return {"message_id": message_id, "from": self.bot_user(),
                        "chat": self.chat(chat_id), "date": int(time.time()), "text": s.plain}
        return None

    # ---- the control API over HTTP, for other processes --------------------------------

    async def _control(self, request: web.Request) -> web.Response:
        action = request.match_info["action"]
        body = await request.json() if request.can_read_body else {}
        if action == "message":
            message = await self.user_message(int(body["chat_id"]), self.user(
                int(body["user_id"]), body.get("first_name", "")), body.get("text", ""),
                reply_to=body.get("reply_to"))
            return web.json_response(message)
        if action == "edit":
            return web.json_response(await self.user_edit(int(body["chat_id"]),
                                                          int(body["message_id"]), body["text"]))
        if action == "sent":
            chat_id = int(body["chat_id"])
            return web.json_response([{"message_id": s.message_id, "text": s.text,
                                       "method": s.method} for s in self.sent_to(chat_id)])
        if action == "fail":
            self.fail(body["method"], int(body["code"]), body["description"],
                      times=int(body.get("times", 1)), retry_after=body.get("retry_after"))
            return web.json_response({"ok": True})
        return web.json_response({"ok": False}, status=404)


async def _params(request: web.Request, files: FileStore) -> dict[str, Any]:
    """Query string, JSON, form or multipart: PTB sends nested fields as JSON strings.

    A file part is written to disk as it arrives, and given as (its name, its path).
    """
    params: dict[str, Any] = dict(request.query)
    if request.can_read_body:
        if request.content_type == "application/json":
            params.update(await request.json())
        elif request.content_type == "multipart/form-data":
            reader = await request.multipart()
            while (part := await reader.next()) is not None:
                assert isinstance(part, BodyPartReader) and part.name is not None
                if part.filename is not None:
                    params[part.name] = await files.receive(part)
                else:
                    params[part.name] = await part.text()
        else:
            params.update(await request.post())
    for key in ("reply_parameters", "allowed_updates", "entities", "reaction", "options"):
        if isinstance(params.get(key), str):
            params[key] = json.loads(params[key])
    for key, value in list(params.items()):  # attach://name references to uploaded parts
        if isinstance(value, str) and value.startswith("attach://"):
            params[key] = params.get(value.removeprefix("attach://"))
    return params


def _chat_number(chat_id: Any) -> int | None:
    try:
        return int(chat_id)
    except (TypeError, ValueError):  # none, or a channel's @username
        return None


def _reply_to(p: dict[str, Any]) -> int | None:
    if isinstance(p.get("reply_parameters"), dict):
        return int(p["reply_parameters"]["message_id"])
    if p.get("reply_to_message_id"):
        return int(p["reply_to_message_id"])
    return None


def _visible(text: str, p: dict[str, Any]) -> str:
    if p.get("parse_mode") != "HTML":
        return text
    error, visible = check_html(text)
    if error is not None:
        raise ApiError(400, f"Bad Request: can't parse entities: {error}")
    return visible


def _error(code: int, description: str, retry_after: int | None = None) -> web.Response:
    body: dict[str, Any] = {"ok": False, "error_code": code, "description": description}
    if retry_after is not None:
        body["parameters"] = {"retry_after": retry_after}
    return web.json_response(body, status=code)
