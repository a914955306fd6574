"""Which rooms and pairs exist now: the config's, and those an admin set up from chat.

Everything that asks "does the bot act in this room?" or "what is this room's
partner?" asks here (the dispatcher, the bridge, the adapters, the reminder plan,
``/bridge status``), never the config alone. :class:`Rooms` is one reading, from the
config and the database; :class:`RoomDirectory` keeps the current one and reads it
again after a command changed the rooms (the dispatcher's ``after_commit`` with a
"rooms" change), so a pair made in chat relays at once, without a restart. A room
in the config wins over a row from chat that names it: the config is changed only
in the config.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from sqlmodel import Session

from bot.config import Config, RoomConfig
from storage import rooms as chat
from storage.database import Database
from storage.ids import RoomId, chat_number, native_of, platform_of

PAIR_MARK = " ⇄ "


@dataclass(frozen=True)
class Rooms:
    """One reading of the rooms the bot acts in: the config's first, then chat's."""

    all: tuple[RoomConfig, ...] = ()
    _by_id: dict[str, RoomConfig] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        for room in self.all:
            for room_id in room.ids:
                self._by_id.setdefault(room_id, room)

    @classmethod
    def of(cls, config: Config, from_chat: tuple[chat.ChatRoom, ...] | list[chat.ChatRoom] = (),
           ) -> Rooms:
        taken = {room_id for room in config.rooms for room_id in room.ids}
        rows = {row.room_id: row for row in from_chat if row.room_id not in taken}
        made: list[RoomConfig] = []
        done: set[str] = set()
        for row in rows.values():
            if row.room_id in done:
                continue
            partner = rows.get(row.partner_id or "")
            if partner is not None and partner.partner_id == row.room_id and \
                    platform_of(partner.room_id) != platform_of(row.room_id):
                done |= {row.room_id, partner.room_id}
                made.append(_pair(row, partner))
            else:
                done.add(row.room_id)
                made.append(_single(row))
        return cls((*config.rooms, *made))

    @classmethod
    def read(cls, config: Config, db: Session) -> Rooms:
        return cls.of(config, chat.chat_rooms(db))

    def room_for(self, room_id: str) -> RoomConfig | None:
        return self._by_id.get(room_id)

    def partner(self, room_id: str) -> RoomId | None:
        room = self._by_id.get(room_id)
        if room is None or not room.bridged:
            return None
        return next(other for other in room.ids if other != room_id)

    @property
    def pairs(self) -> tuple[RoomConfig, ...]:
        return tuple(room for room in self.all if room.bridged)

    def rooms_in_chat(self, chat_id: int) -> tuple[RoomConfig, ...]:
        """The rooms of a Telegram group: the whole group, and topics paired on their own."""
        return tuple(r for r in self.all if r.telegram_chat_id == chat_id)

    def named(self, name: str) -> RoomConfig | None:
        return next((r for r in self.all if r.name.lower() == name.lower()), None)


def _single(row: chat.ChatRoom) -> RoomConfig:
    return _room(row.name, [RoomId(row.room_id)], secure=row.secure)


def _pair(row: chat.ChatRoom, partner: chat.ChatRoom) -> RoomConfig:
    names = [row.name] if row.name == partner.name else [row.name, partner.name]
    return _room(PAIR_MARK.join(names), [RoomId(row.room_id), RoomId(partner.room_id)])


def _room(name: str, ids: list[RoomId], *, secure: bool = False) -> RoomConfig:
    telegram = next((chat_number(i) for i in ids if platform_of(i) == "telegram"), None)
    matrix = next((native_of(i) for i in ids if platform_of(i) == "matrix"), None)
    return RoomConfig(name, telegram_chat_id=telegram, matrix_room_id=matrix, secure=secure,
                      from_chat=True)


Listener = Callable[["Rooms", "Rooms"], None]


class RoomDirectory:
    """The current :class:`Rooms`, read again when a command changed them; listeners
    (the adapters: rights to learn in a new room) hear of each change."""

    def __init__(self, config: Config, database: Database | None = None):
        self.config = config
        self.database = database
        self.current = Rooms.of(config)
        self.listeners: list[Listener] = []
        self.refresh()

    def refresh(self) -> None:
        if self.database is None:
            return
        with self.database.session() as db:
            fresh = Rooms.read(self.config, db)
        before, self.current = self.current, fresh
        if fresh != before:
            for listener in self.listeners:
                listener(before, fresh)

    def after_commit(self, changes: frozenset[str]) -> None:
        if "rooms" in changes:
            self.refresh()

    def room_for(self, room_id: str) -> RoomConfig | None:
        return self.current.room_for(room_id)

    def partner(self, room_id: str) -> RoomId | None:
        return self.current.partner(room_id)

    def rooms_in_chat(self, chat_id: int) -> tuple[RoomConfig, ...]:
        return self.current.rooms_in_chat(chat_id)


@dataclass(frozen=True)
class Finding:
    """One thing an adapter found about how the bot is set up on its network: in one room
    (``room``; None: the whole network, such as Telegram's privacy mode), either a
    ``problem`` in one line with what to do, or (problem None) what is fine, in words."""

    platform: str
    room: RoomId | None
    problem: str | None
    fine: str = ""


@dataclass(frozen=True)
class PairCheck:
    """Whether a pair can work, in words: its problems (each with what to do), what was
    found fine, and whether both of its rooms have been checked yet."""

    problems: tuple[str, ...]
    fine: tuple[str, ...]
    checked: bool


def check_pair(room: RoomConfig, findings: Iterable[Finding], config: Config) -> PairCheck:
    """What the adapters found about this pair: its rooms, and its networks as a whole."""
    return check_pairs([room], findings, config)[0]


def check_pairs(rooms: Iterable[RoomConfig], findings: Iterable[Finding], config: Config
                ) -> list[PairCheck]:
    """:func:`check_pair` for each room, the findings read once and looked up by room
    (500 pairs against their 2,000 findings, each pair reading all of them: 4 s)."""
    served = {"telegram": config.telegram, "matrix": config.matrix}
    by_room: dict[RoomId, list[tuple[int, Finding]]] = {}
    by_network: dict[str, list[tuple[int, Finding]]] = {}
    for n, f in enumerate(findings):
        if f.room is None:
            by_network.setdefault(f.platform, []).append((n, f))
        else:
            by_room.setdefault(f.room, []).append((n, f))
    checks = []
    for room in rooms:
        networks = {platform_of(room_id) for room_id in room.ids}
        # In the order they were found, as the log and /bridge status have always said them.
        mine = [f for _, f in sorted([*(nf for r in room.ids for nf in by_room.get(r, ())),
                                      *(nf for p in networks for nf in by_network.get(p, ()))],
                                     key=lambda nf: nf[0])]
        problems = [f"the config has no [{platform_of(r)}] section, so nothing reaches {r}: "
                    "add it and restart." for r in room.ids
                    if served.get(platform_of(r)) is None]
        problems += [f.problem for f in mine if f.problem is not None]
        checked = all(r in by_room for r in room.ids)
        checks.append(PairCheck(tuple(problems), tuple(f.fine for f in mine if f.fine),
                                checked))
    return checks
