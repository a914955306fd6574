"""Which rooms and pairs exist: the config's, and those set up from chat, read again live."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from bot.config import parse_config
from bot.rooms import RoomDirectory, Rooms
from storage import rooms as chat
from storage.database import Database
from storage.ids import RoomId

NOW = datetime(2026, 11, 23, 9, tzinfo=UTC)
CONFIG = parse_config({"rooms": [
    {"name": "Caucus", "telegram_chat_id": -5, "matrix_room_id": "!ordinary:x"},
    {"name": "Solo", "telegram_chat_id": -6}]})


def row(room_id: str, name: str, partner: str | None = None, secure: bool = False
        ) -> chat.ChatRoom:
    return chat.ChatRoom(room_id=room_id, name=name, partner_id=partner, secure=secure,
                         added_by="telegram:1", added_at=NOW)


def test_chat_pairs_and_rooms_stand_beside_the_configs():
    rooms = Rooms.of(CONFIG, [row("matrix:!a:x", "Geneva", "telegram:-7"),
                              row("telegram:-7", "Geneva", "matrix:!a:x"),
                              row("telegram:-8", "Annex", secure=True)])
    assert [r.name for r in rooms.all] == ["Caucus", "Solo", "Geneva", "Annex"]
    assert rooms.partner("telegram:-7") == "matrix:!a:x"
    assert rooms.partner("matrix:!a:x") == "telegram:-7"
    assert rooms.partner("telegram:-5") == "matrix:!ordinary:x"
    assert rooms.partner("telegram:-8") is None and rooms.room_for("telegram:-8").secure
    assert [r.name for r in rooms.pairs] == ["Caucus", "Geneva"]
    assert [r.from_chat for r in rooms.all] == [False, False, True, True]


def test_a_pair_of_two_names_shows_both():
    rooms = Rooms.of(CONFIG, [row("matrix:!a:x", "Geneva room", "telegram:-7"),
                              row("telegram:-7", "Geneva group", "matrix:!a:x")])
    assert rooms.room_for("telegram:-7").name == "Geneva room ⇄ Geneva group"


def test_the_config_wins_over_a_row_from_chat():
    rooms = Rooms.of(CONFIG, [row("telegram:-6", "Renamed", "matrix:!b:x"),
                              row("matrix:!b:x", "B", "telegram:-6")])
    assert rooms.room_for("telegram:-6").name == "Solo"
    assert rooms.partner("telegram:-6") is None
    assert rooms.room_for("matrix:!b:x").name == "B"  # its partner is the config's: alone


def test_the_directory_reads_again_after_a_rooms_change_and_tells_listeners(tmp_path: Path):
    database = Database(f"sqlite:///{tmp_path / 'r.db'}")
    database.upgrade()
    directory = RoomDirectory(CONFIG, database)
    heard: list[tuple[int, int]] = []
    directory.listeners.append(lambda before, after: heard.append((len(before.all),
                                                                   len(after.all))))
    with database.session() as db:
        chat.pair(db, ("matrix:!a:x", "A"), ("telegram:-7", "T"), by="telegram:1", now=NOW)
        db.commit()
    directory.after_commit(frozenset({"outbox"}))
    assert directory.partner("telegram:-7") is None  # not a rooms change: not read again
    directory.after_commit(frozenset({"rooms"}))
    assert directory.partner("telegram:-7") == "matrix:!a:x"
    assert heard == [(2, 3)]
    directory.refresh()
    assert heard == [(2, 3)]  # nothing changed, nobody told
    with database.session() as db:
        assert chat.unpair(db, "telegram:-7") == "matrix:!a:x"
        db.commit()
    directory.refresh()
    assert directory.partner("telegram:-7") is None and heard[-1] == (3, 4)
    database.dispose()


def test_a_pair_says_whether_it_can_work_from_what_the_adapters_found():
    from bot.rooms import Finding, check_pair

    config = parse_config({"telegram": {"token": "123456:ABCDEFGHIJKLmnop"},
                           "rooms": [{"name": "Caucus", "telegram_chat_id": -5,
                                      "matrix_room_id": "!a:x"}]}, env={})
    [pair] = Rooms.of(config).pairs
    assert not check_pair(pair, [], config).checked
    found = [Finding("telegram", None, None, "Telegram privacy mode off"),
             Finding("telegram", "telegram:-5", None, "in the Telegram group"),
             Finding("telegram", "telegram:-6", "elsewhere: not this pair's"),
             Finding("matrix", "matrix:!a:x", "cannot redact: give it Moderator")]
    check = check_pair(pair, found, config)
    assert check.checked
    assert check.problems == ("the config has no [matrix] section, so nothing reaches "
                              "matrix:!a:x: add it and restart.",
                              "cannot redact: give it Moderator")
    assert check.fine == ("Telegram privacy mode off", "in the Telegram group")


def test_many_pairs_are_checked_at_once_each_with_its_own_findings_in_order():
    from bot.rooms import Finding, check_pairs

    config = parse_config({"telegram": {"token": "123456:ABCDEFGHIJKLmnop"}, "rooms": [
        {"name": f"Group {n}", "telegram_chat_id": -n, "matrix_room_id": f"!{n}:x"}
        for n in range(1, 301)]}, env={})
    pairs = Rooms.of(config).pairs
    found = [Finding("telegram", RoomId(f"telegram:-{n}"), f"not in group {n}")
             for n in range(1, 301) if n % 2]
    found.insert(10, Finding("telegram", None, "privacy mode is on"))
    found.append(Finding("telegram", RoomId("telegram:-4"), None, "in group 4"))
    found.append(Finding("telegram", RoomId("telegram:-1"), "no admin in group 1"))
    found.append(Finding("matrix", None, "key store missing"))  # every pair's Matrix side
    checks = check_pairs(pairs, found, config)
    no_matrix = "the config has no [matrix] section, so nothing reaches matrix:!{}:x: add it " \
                "and restart."
    assert checks[0].problems == (no_matrix.format(1), "not in group 1", "privacy mode is on",
                                  "no admin in group 1", "key store missing")
    assert checks[3].problems == (no_matrix.format(4), "privacy mode is on", "key store missing")
    assert checks[3].fine == ("in group 4",)
    assert [c.checked for c in checks[:4]] == [False] * 4  # no Matrix finding for any
    assert len(checks) == 300 and checks[299].problems[1:] == ("privacy mode is on",
                                                                "key store missing")
