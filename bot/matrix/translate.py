"""Matrix events to ours and back, and nio's error objects turned into exceptions."""

from __future__ import annotations

import json
import re
from typing import Any

from nio import ErrorResponse, MatrixRoom, RedactionEvent

from bot.deliveries import FileRef, SharedLocation
from bot.events import Attachment, AttachmentKind, Event, Location, Reaction
from storage.ids import room_id_for, user_id_for


class MatrixError(Exception):
    """A matrix-nio ErrorResponse, raised, with its HTTP status (None for an error of our
    own making) and how long the homeserver asks us to wait (None when it says nothing)."""

    def __init__(self, what: str, response: ErrorResponse):
        self.status_code = getattr(response, "status_code", None) or ""
        transport = getattr(response, "transport_response", None)
        self.http_status: int | None = getattr(transport, "status", None)
        self.retry_after = retry_after_of(response)
        # A proxy's error page has no Matrix code: its HTTP status says what happened.
        code = self.status_code or (str(self.http_status) if self.http_status else "")
        super().__init__(f"{what}: {code} {response.message}".strip())


def check(response: Any, what: str) -> Any:
    if isinstance(response, ErrorResponse):
        raise MatrixError(what, response)
    return response


def content_of(reply_plain: str, reply_html: str, reply_to: str | None,
               thread_root: str | None = None) -> dict[str, Any]:
    content: dict[str, Any] = {"msgtype": "m.notice", "body": reply_plain,
                               "format": "org.matrix.custom.html", "formatted_body": reply_html}
    return related(content, reply_to, thread_root)


def related(content: dict[str, Any], reply_to: str | None,
            thread_root: str | None = None) -> dict[str, Any]:
    """The content with its ``m.relates_to``: a reply, a message in a thread, or both
    (a thread's message without a reply "falls back" to replying to the root)."""
    reply = reply_to if reply_to and reply_to.startswith("$") else None
    if thread_root and thread_root.startswith("$"):
        content["m.relates_to"] = {"rel_type": "m.thread", "event_id": thread_root,
                                   "is_falling_back": reply is None,
                                   "m.in_reply_to": {"event_id": reply or thread_root}}
    elif reply:
        content["m.relates_to"] = {"m.in_reply_to": {"event_id": reply}}
    return content


def to_event(room: MatrixRoom, event: Any, *, direct: bool) -> Event | None:
    """An Event from a room message, edit or redaction; None for what we do not handle."""
    base = {"platform": "matrix", "room_id": room_id_for("matrix", room.room_id),
            "message_id": event.event_id, "sender_id": user_id_for("matrix", event.sender),
            "sender_name": room.user_name(event.sender) or event.sender, "is_direct": direct,
            "room_name": room.display_name}
    if isinstance(event, RedactionEvent):
        return Event(**base, redacts=event.redacts)
    content = event.source.get("content", {})
    relates = content.get("m.relates_to") or {}
    edit_of = relates.get("event_id") if relates.get("rel_type") == "m.replace" else None
    if edit_of:
        content = content.get("m.new_content", content)
    reply_to = (relates.get("m.in_reply_to") or {}).get("event_id")
    thread = relates.get("event_id") if relates.get("rel_type") == "m.thread" else None
    if thread is not None and (relates.get("is_falling_back") or not reply_to):
        reply_to = thread  # no reply of its own: on Telegram it answers the topic's root
    event_type, msgtype = event.source.get("type"), content.get("msgtype")
    attachments: tuple[Attachment, ...] = ()
    text, location, unbridged = "", None, None
    if event_type == "m.reaction":
        annotated = relates.get("event_id") if relates.get("rel_type") == "m.annotation" \
            else None
        if not annotated or not relates.get("key"):
            return None
        return Event(**base, reaction=Reaction(str(relates["key"]), str(annotated)))
    if event_type in POLL_STARTS:
        text = poll_text(content)
    elif event_type not in ("m.room.message", "m.sticker"):
        return None  # state, reactions, calls: not messages
    elif event_type == "m.sticker" or msgtype in FILE_KINDS:
        attachments = (_attachment(content, "sticker" if event_type == "m.sticker" else
                                   FILE_KINDS[msgtype]),)
    elif msgtype == "m.location":
        location = _location(content)
        if location is None:
            unbridged = "a location that could not be read"
    elif msgtype in ("m.text", "m.notice", "m.emote"):
        text = content.get("body", "")
    else:
        unbridged = f"a message of a kind the bridge does not carry ({msgtype})"
    html = content.get("formatted_body") if content.get("format") == \
        "org.matrix.custom.html" else None
    quote = None
    if reply_to:
        quote = _reply_quote(text)
        text = _strip_reply_fallback(text)
        if html:
            html = re.sub(r"<mx-reply>.*?</mx-reply>", "", html, flags=re.DOTALL)
    return Event(**base, text=text, html=html, reply_to=reply_to, reply_quote=quote,
                 edit_of=edit_of, emote=msgtype == "m.emote", attachments=attachments,
                 location=location, unbridged=unbridged, thread=thread)


# Matrix message types that carry a file, and what each is to a person.
FILE_KINDS: dict[str, AttachmentKind] = {"m.image": "image", "m.file": "file",
                                         "m.audio": "audio", "m.video": "video"}
POLL_STARTS = ("m.poll.start", "org.matrix.msc3381.poll.start")
VOICE = "org.matrix.msc3245.voice"


def _attachment(content: dict[str, Any], kind: AttachmentKind) -> Attachment:
    info = content.get("info") or {}
    if kind == "audio" and VOICE in content:
        kind = "voice"
    duration = info.get("duration")  # milliseconds on Matrix
    ref = json.dumps(content["file"]) if "file" in content else content.get("url", "")
    return Attachment(kind, content.get("body") or "file",
                      info.get("mimetype") or "application/octet-stream", info.get("size"),
                      ref, duration=round(duration / 1000) if isinstance(duration, int | float)
                      else None, width=info.get("w"), height=info.get("h"))


def _location(content: dict[str, Any]) -> Location | None:
    uri = content.get("geo_uri") or (content.get("org.matrix.msc3488.location") or {}).get("uri")
    match = re.match(r"geo:(-?\d+(?:\.\d+)?),(-?\d+(?:\.\d+)?)", uri or "")
    if match is None:
        return None
    title = content.get("body", "")
    return Location(float(match[1]), float(match[2]), "" if title.startswith("geo:") else title)


def poll_text(content: dict[str, Any]) -> str:
    """A poll as words: its question and numbered answers (stable or MSC3381 form)."""
    start = content.get("m.poll") or content.get("org.matrix.msc3381.poll.start") or {}

    def words(node: Any) -> str:
        if not isinstance(node, dict):
            return str(node or "")
        text = node.get("m.text") or node.get("org.matrix.msc1767.text") or node.get("body")
        if isinstance(text, list):
            return str(text[0].get("body", "")) if text and isinstance(text[0], dict) else ""
        return str(text or "")

    question = words(start.get("question")) or content.get("body", "") or "a poll"
    answers = [words(a) for a in start.get("answers") or [] if isinstance(a, dict)]
    lines = [f"📊 Poll: {question}"] + [f"{n}. {a}" for n, a in enumerate(answers, 1)]
    return "\n".join(lines) + "\n(vote on the other side)"


def file_content(name: str, mime: str, size: int,
                 source: FileRef | None) -> tuple[str, dict[str, Any]]:
    """The event type and content (without its url) that shows a file as its kind."""
    kind = source.kind if source is not None else ("image" if mime.startswith("image/")
                                                   else "file")
    info: dict[str, Any] = {"mimetype": mime, "size": size}
    if source is not None:
        if source.duration is not None:
            info["duration"] = source.duration * 1000
        if source.width and source.height:
            info["w"], info["h"] = source.width, source.height
    if kind == "sticker":
        return "m.sticker", {"body": name, "info": info}
    msgtype = {"image": "m.image", "audio": "m.audio", "voice": "m.audio", "video": "m.video",
               "animation": "m.video"}.get(kind, "m.file")
    if kind == "animation" and mime == "image/gif":
        msgtype = "m.image"
    content: dict[str, Any] = {"msgtype": msgtype, "body": name, "info": info}
    if kind == "voice":  # Element shows a voice message (MSC3245, MSC1767)
        content[VOICE] = {}
        content["org.matrix.msc1767.audio"] = {"duration": info.get("duration", 0)}
    return "m.room.message", content


def location_content(place: SharedLocation, reply_to: str | None,
                     thread_root: str | None = None) -> dict[str, Any]:
    geo = f"geo:{place.latitude},{place.longitude}"
    return related({"msgtype": "m.location", "body": place.caption.plain, "geo_uri": geo,
                    "org.matrix.msc3488.location": {"uri": geo}}, reply_to, thread_root)


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
    """Seconds to wait before trying again, as the homeserver says: the ``Retry-After``
    header (Matrix 1.10 on, in seconds) or the older ``retry_after_ms`` in the body, the
    longer of the two when both are given."""
    waits = []
    if ms := getattr(response, "retry_after_ms", None):
        waits.append(ms / 1000)
    transport = getattr(response, "transport_response", None)
    header = transport.headers.get("Retry-After", "") if transport is not None else ""
    if header.strip().isdigit():
        waits.append(float(header))
    return max(waits, default=None)
