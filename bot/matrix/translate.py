"""Matrix events to ours and back, and nio's error objects turned into exceptions."""

from __future__ import annotations

import json
import re
from typing import Any

from nio import (
    ErrorResponse,
    MatrixRoom,
    RedactionEvent,
    RoomEncryptedFile,
    RoomEncryptedImage,
    RoomMessageEmote,
    RoomMessageFile,
    RoomMessageImage,
    RoomMessageNotice,
    RoomMessageText,
)

from bot.events import Attachment, AttachmentKind, Event


class MatrixError(Exception):
    """A matrix-nio ErrorResponse, raised."""

    def __init__(self, what: str, response: ErrorResponse):
        self.status_code = getattr(response, "status_code", None) or ""
        self.retry_after_ms = getattr(response, "retry_after_ms", None)
        super().__init__(f"{what}: {self.status_code} {response.message}".strip())


def check(response: Any, what: str) -> Any:
    if isinstance(response, ErrorResponse):
        raise MatrixError(what, response)
    return response


def content_of(reply_plain: str, reply_html: str, reply_to: str | None) -> dict[str, Any]:
    content: dict[str, Any] = {"msgtype": "m.notice", "body": reply_plain,
                               "format": "org.matrix.custom.html", "formatted_body": reply_html}
    if reply_to and reply_to.startswith("$"):
        content["m.relates_to"] = {"m.in_reply_to": {"event_id": reply_to}}
    return content


def to_event(room: MatrixRoom, event: Any, *, direct: bool) -> Event | None:
    """An Event from a room message, edit or redaction; None for what we do not handle."""
    base = {"platform": "matrix", "room_id": f"matrix:{room.room_id}",
            "message_id": event.event_id, "sender_id": f"matrix:{event.sender}",
            "sender_name": room.user_name(event.sender) or event.sender, "is_direct": direct}
    if isinstance(event, RedactionEvent):
        return Event(**base, redacts=event.redacts)
    content = event.source.get("content", {})
    relates = content.get("m.relates_to") or {}
    edit_of = relates.get("event_id") if relates.get("rel_type") == "m.replace" else None
    if edit_of:
        content = content.get("m.new_content", content)
    reply_to = (relates.get("m.in_reply_to") or {}).get("event_id")
    attachments: tuple[Attachment, ...] = ()
    if isinstance(event, RoomMessageImage | RoomMessageFile | RoomEncryptedImage |
                  RoomEncryptedFile):
        info = content.get("info") or {}
        kind: AttachmentKind = ("image" if isinstance(event, RoomMessageImage | RoomEncryptedImage)
                                else "file")
        ref = json.dumps(content["file"]) if "file" in content else content.get("url", "")
        attachments = (Attachment(kind, content.get("body", "file"),
                                  info.get("mimetype", "application/octet-stream"),
                                  info.get("size"), ref),)
        text = ""
    elif isinstance(event, RoomMessageText | RoomMessageNotice | RoomMessageEmote):
        text = content.get("body", "")
    else:
        return None
    html = content.get("formatted_body") if content.get("format") == \
        "org.matrix.custom.html" else None
    quote = None
    if reply_to:
        quote = _reply_quote(text)
        text = _strip_reply_fallback(text)
        if html:
            html = re.sub(r"<mx-reply>.*?</mx-reply>", "", html, flags=re.DOTALL)
    return Event(**base, text=text, html=html, reply_to=reply_to, reply_quote=quote,
                 edit_of=edit_of, emote=isinstance(event, RoomMessageEmote),
                 attachments=attachments)


def _reply_quote(body: str) -> str | None:
    """The first quoted line of a reply fallback: "> <@ana:srv> what she said"."""
    first = body.split("\n", 1)[0]
    if not first.startswith(">"):
        return None
    quote = re.sub(r"^>\s*(<[^>]+>\s*)?", "", first)
    return quote if len(quote) <= 80 else quote[:79] + "…"


def _strip_reply_fallback(body: str) -> str:
    """Clients quote the replied-to message as "> ..." lines first; the command follows."""
    lines = body.split("\n")
    while lines and lines[0].startswith(">"):
        lines.pop(0)
    return "\n".join(lines).lstrip("\n")


def error_response(message: str, status_code: str = "M_UNKNOWN") -> ErrorResponse:
    """An error of our own making, in nio's shape, for ``check`` to raise like the others."""
    return ErrorResponse(message, status_code)


def retry_after_of(response: Any) -> float | None:
    ms = getattr(response, "retry_after_ms", None)
    return ms / 1000 if ms else None
