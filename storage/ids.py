"""Canonical ids: one per user and per room, network-prefixed, the same everywhere.

``telegram:123``, ``telegram:-100123``, ``matrix:@a:srv``, ``matrix:!room:srv``,
``console:you``: config, roles, storage and reminders all speak of the same user
and room, and ``/whoami`` prints them. Typed (as mautrix has ``RoomID`` and
``UserID``) so that a room is never passed where a user is meant, and built and
taken apart only here. At the bottom of the layers, so storage may use them too.
"""

from __future__ import annotations

from typing import Literal, NewType

Platform = Literal["telegram", "matrix", "console"]
PLATFORMS: tuple[Platform, ...] = ("telegram", "matrix", "console")
UserId = NewType("UserId", str)
RoomId = NewType("RoomId", str)


def user_id_for(platform: Platform, native: str | int) -> UserId:
    """``user_id_for("telegram", 42)`` -> ``"telegram:42"``; ``("matrix", "@a:srv")`` ->
    ``"matrix:@a:srv"``."""
    return UserId(f"{platform}:{native}")


def room_id_for(platform: Platform, native: str | int) -> RoomId:
    """``room_id_for("telegram", -100123)`` -> ``"telegram:-100123"``."""
    return RoomId(f"{platform}:{native}")


def split_id(canonical: str) -> tuple[Platform, str]:
    """The network and its own id; raises ``ValueError`` on an unprefixed id."""
    platform, sep, native = canonical.partition(":")
    if not sep or not native or platform not in PLATFORMS:
        raise ValueError(f"not a canonical id: {canonical!r}")
    return platform, native


def platform_of(canonical: str) -> Platform:
    return split_id(canonical)[0]


def native_of(canonical: str) -> str:
    """The id as the network itself writes it (``-100123``, ``!room:srv``, ``@a:srv``)."""
    return split_id(canonical)[1]


def telegram_room_id(chat: int, topic: int | None = None) -> RoomId:
    """A Telegram group, or one forum topic of it paired as a room of its own:
    ``telegram:-100123`` and ``telegram:-100123/45`` (the topic's id is the last number
    of a link to the topic)."""
    return room_id_for("telegram", chat if topic is None else f"{chat}/{topic}")


def chat_number(canonical: str) -> int:
    """A Telegram chat or user id as the Bot API takes it (a topic's room: its group's)."""
    return int(native_of(canonical).partition("/")[0])


def topic_number(canonical: str) -> int | None:
    """The forum topic a Telegram room is (its ``message_thread_id``), or None for a chat."""
    topic = native_of(canonical).partition("/")[2]
    return int(topic) if topic else None
