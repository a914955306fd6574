"""A Telegram Bot API server double: real HTTP on 127.0.0.1, the real JSON shapes.

Telegram's servers cannot be reached from tests, and the npm telegram-test-api
is too thin for python-telegram-bot 22. This double speaks what the bot uses:
getMe, getUpdates (offset confirms, limit, long polling with timeout),
sendMessage, editMessageText, deleteMessage, sendDocument, sendPhoto, getFile
and file downloads, setMyCommands/getMyCommands, leaveChat, getChat,
setWebhook/deleteWebhook; per-chat message ids; Telegram's error answers
(429 with parameters.retry_after, 403, 400 with its descriptions); and it
refuses HTML that Telegram would refuse. Tests drive it in-process (methods
below) or over HTTP (``/control/...``) and read what the bot sent.
"""

from __future__ import annotations

import asyncio
import html.parser
import itertools
import json
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from telegram.constants import ReactionEmoji

TELEGRAM_TAGS = {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "span",
                 "tg-spoiler", "a", "code", "pre", "blockquote", "tg-emoji"}
MAX_TEXT = 4096
MAX_CAPTION = 1024
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
    document: tuple[str, bytes] | None = None
    photo: bytes | None = None
    media: tuple[str, bytes] | None = None  # sendVoice, sendVideo ...: (file name, bytes)
    place: dict[str, Any] | None = None  # sendVenue, sendLocation: what was sent
    deleted: bool = False
    edits: list[str] = field(default_factory=list)
    at: float = field(default_factory=time.perf_counter)  # when the double received it

    @property
    def plain(self) -> str:
        """The text a person reads, markup removed."""
        return check_html(self.text)[1] if self.parse_mode == "HTML" else self.text


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
        self.files: dict[str, tuple[str, bytes, str]] = {}  # file_id -> (path, data, name)
        self.failures: list[Failure] = []
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
        self._runner: web.AppRunner | None = None
        self.port = 0

    # ---- lifecycle -------------------------------------------------------------------

    async def start(self, port: int = 0) -> None:
        app = web.Application(client_max_size=60 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._api)
        app.router.add_get("/file/bot{token}/{path:.+}", self._file)
        app.router.add_post("/control/{action}", self._control)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", port)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

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
        body_key = "caption" if photo is not None or document is not None else "text"
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

    def hold_sends(self) -> None:
        """Keep the bot's next sends on the wire (for a kill at a known point: a send the
        bot had started, that Telegram had not yet taken)."""
        self._sends_open.clear()

    def release_sends(self) -> None:
        self._sends_open.set()

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
        params = await _params(request)
        if method.lower().startswith("send") and not self._sends_open.is_set():
            self.held += 1
            await self._sends_open.wait()
            self.held -= 1
            if request.transport is None or request.transport.is_closing():
                return web.Response(status=499)  # its sender died: it never arrived
        self.calls.append((method, params))
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
        path = request.match_info["path"]
        for stored_path, data, _ in self.files.values():
            if stored_path == path:
                return web.Response(body=data)
        return web.Response(status=404)

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
            while not self.updates and time.monotonic() < deadline:
                try:
                    await asyncio.wait_for(self._changed.wait(), deadline - time.monotonic())
                except TimeoutError:
                    break
        allowed = p.get("allowed_updates")
        batch = self.updates[:limit]
        if allowed:
            kinds = set(allowed)
            batch = [u for u in batch if kinds & set(u)]
        return batch

    def _record(self, method: str, chat_id: int, text: str, p: dict[str, Any],
                **extra: Any) -> dict[str, Any]:
        reply_to = _reply_to(p)
        message_id = self._next_message_id(chat_id)
        self.sent.append(Sent(method, chat_id, message_id, text, p.get("parse_mode"), reply_to,
                              **extra))
        message: dict[str, Any] = {"message_id": message_id, "from": self.bot_user(),
                                   "chat": self.chat(chat_id), "date": int(time.time())}
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
        chat_id = self._target(p)
        caption = self._checked_text(p, "caption", MAX_CAPTION)
        upload = p.get("document")
        if not isinstance(upload, tuple):
            raise ApiError(400, "Bad Request: there is no document in the request")
        name, data = upload
        message = self._record("sendDocument", chat_id, caption, p, document=(name, data))
        message["document"] = self._store_document(name, data, "application/octet-stream")
        return message

    async def _m_sendphoto(self, p: dict[str, Any]) -> dict[str, Any]:
        chat_id = self._target(p)
        caption = self._checked_text(p, "caption", MAX_CAPTION)
        upload = p.get("photo")
        if not isinstance(upload, tuple):
            raise ApiError(400, "Bad Request: there is no photo in the request")
        message = self._record("sendPhoto", chat_id, caption, p, photo=upload[1])
        message["photo"] = self._store_photo(upload[1])
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
        if file_id not in self.files:
            raise ApiError(400, "Bad Request: invalid file_id")
        path, data, _ = self.files[file_id]
        return {"file_id": file_id, "file_unique_id": "u" + file_id, "file_size": len(data),
                "file_path": path}

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

    def stored_file(self, data: bytes, **fields: Any) -> dict[str, Any]:
        """A file the double serves for getFile, as a Voice, Video, Sticker ... object."""
        file_id = f"media{len(self.files) + 1}"
        self.files[file_id] = (f"media/file_{len(self.files) + 1}", data,
                               fields.get("file_name", file_id))
        return {"file_id": file_id, "file_unique_id": "u" + file_id, "file_size": len(data),
                **fields}

    async def _send_media(self, method: str, field_name: str, p: dict[str, Any],
                          **shape: Any) -> dict[str, Any]:
        chat_id = self._target(p)
        caption = self._checked_text(p, "caption", MAX_CAPTION)
        upload = p.get(field_name)
        if not isinstance(upload, tuple):
            raise ApiError(400, f"Bad Request: there is no {field_name} in the request")
        message = self._record(method, chat_id, caption, p, media=upload)
        message[field_name] = self.stored_file(upload[1], **shape)
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

    def _store_document(self, name: str, data: bytes, mime: str) -> dict[str, Any]:
        file_id = f"doc{len(self.files) + 1}"
        self.files[file_id] = (f"documents/file_{len(self.files) + 1}", data, name)
        return {"file_id": file_id, "file_unique_id": "u" + file_id, "file_name": name,
                "mime_type": mime, "file_size": len(data)}

    def _store_photo(self, data: bytes) -> list[dict[str, Any]]:
        sizes = []
        for w in (90, 320, 800):
            file_id = f"photo{len(self.files) + 1}"
            self.files[file_id] = (f"photos/file_{len(self.files) + 1}.jpg", data, "photo.jpg")
            sizes.append({"file_id": file_id, "file_unique_id": "u" + file_id, "width": w,
                          "height": w, "file_size": len(data)})
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


async def _params(request: web.Request) -> dict[str, Any]:
    """Query string, JSON, form or multipart: PTB sends nested fields as JSON strings."""
    params: dict[str, Any] = dict(request.query)
    if request.can_read_body:
        if request.content_type == "application/json":
            params.update(await request.json())
        else:
            form = await request.post()
            for key, value in form.items():
                if hasattr(value, "file"):
                    params[key] = (value.filename, value.file.read())
                else:
                    params[key] = value
    for key in ("reply_parameters", "allowed_updates", "entities", "reaction"):
        if isinstance(params.get(key), str):
            params[key] = json.loads(params[key])
    for key, value in list(params.items()):  # attach://name references to uploaded parts
        if isinstance(value, str) and value.startswith("attach://"):
            params[key] = params.get(value.removeprefix("attach://"))
    return params


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
