"""Canonical ids are built and taken apart in one place (storage/ids.py)."""

from __future__ import annotations

import pytest

from storage.ids import (
    chat_number,
    native_of,
    platform_of,
    room_id_for,
    split_id,
    telegram_room_id,
    topic_number,
    user_id_for,
)


def test_ids_carry_their_network_and_come_apart_again():
    assert room_id_for("telegram", -1001234) == "telegram:-1001234"
    assert user_id_for("matrix", "@alice:example.org") == "matrix:@alice:example.org"
    assert split_id("matrix:!room:example.org") == ("matrix", "!room:example.org")
    assert platform_of("console:you") == "console"
    assert native_of("matrix:@alice:example.org") == "@alice:example.org"
    assert chat_number("telegram:-1001234") == -1001234


@pytest.mark.parametrize("bad", ["-1001234", "irc:#room", "telegram:", ":x", "@a:example.org"])
def test_an_id_without_its_network_is_refused(bad: str):
    with pytest.raises(ValueError, match="not a canonical id"):
        split_id(bad)


def test_a_forum_topic_paired_on_its_own_is_a_room_inside_its_group():
    topic = telegram_room_id(-1001234, 45)
    assert topic == "telegram:-1001234/45" and telegram_room_id(-1001234) == "telegram:-1001234"
    assert (chat_number(topic), topic_number(topic)) == (-1001234, 45)
    assert topic_number("telegram:-1001234") is None
