"""Encryption at rest: a copy of the database reveals no case, note, relayed text or token."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text
from sqlmodel import col, select

from storage import inbound
from storage.cases import Case, CaseEvent
from storage.crypto import (
    DataKeyError,
    new_key,
    parse_keys,
    seal,
    set_data_keys,
    unseal,
)
from storage.outbox import OutboxMessage
from storage.sealed_columns import rotate
from tests.flows import Flow
from tests.harness import FakeBot, Network, every_row

SUMMARY = "Defender Yusra Malvecchi detained at Cairo airport"
DETAILS = "Real name Yusra Malvecchi-Odhiambo, sister on +20 100 777 8899"
NOTE = "Seen at Tora prison by Ilhem Dravonskaya"
REACTION = "Joint statement by Vexmoor Collective"
RELAYED = "Ilhem says the hearing moved to Thursday"
TOKEN = "syt_Y2F1Y3Vz_secretMatrixTokenValue_0abc12"
CLEAR = (SUMMARY, DETAILS, NOTE, REACTION, RELAYED, TOKEN, "Malvecchi", "Dravonskaya")
# Column by column: what a copy of the database shows.
RAW = {"case": ("summary", "details"), "caseevent": ("text",), "outboxmessage": ("payload",)}


async def fill(bot: FakeBot) -> None:
    """A case with details, a note and a public reaction; a relay; a DM answer that shows
    the case; the access token of a password login."""
    flow, member = Flow(bot), bot.net.user(1)
    await flow.say(f"/flag Egypt | {SUMMARY}", user=member)
    await flow.say(f"/case details 1 {DETAILS}", user=member, dm=True)
    await flow.say(f"/case note 1 {NOTE}", user=member)
    await flow.say(f"/case public 1 {REACTION}", user=member)
    await flow.say(RELAYED, user=member)
    await flow.say("/case 1", user=bot.admin, dm=True)  # its answer: summary and details
    with bot.database.session() as db:
        inbound.set_secret(db, inbound.MATRIX_ACCESS_TOKEN, TOKEN)
        db.commit()


def raw_values(bot: FakeBot) -> list[str]:
    """The stored forms of every encrypted column, read past the models."""
    with bot.database.engine.connect() as connection:
        values = [v for name, columns in RAW.items() for c in columns
                  for (v,) in connection.exec_driver_sql(f'SELECT {c} FROM "{name}"')
                  if v is not None]
        values += [v for (v,) in connection.execute(
            text("SELECT value FROM resumepoint WHERE name = :name"),
            {"name": inbound.MATRIX_ACCESS_TOKEN})]
    return values


def stored_copy(bot: FakeBot) -> bytes:
    """The database as a copy of it shows it: SQLite's files (the write-ahead log
    included); on PostgreSQL, a dump of every row (old row versions are the server's to
    reclaim: the README says to run VACUUM FULL after a rotation)."""
    if bot.database.engine.dialect.name != "sqlite":
        with bot.database.engine.connect() as connection:
            return every_row(connection).encode()
    path = Path(bot.database.engine.url.database or "")
    return b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))


@pytest.fixture
def bot(tmp_path: Path, database_url: str):  # type: ignore[no-untyped-def]
    fake = FakeBot(tmp_path, Network("telegram"), database_url=database_url)
    yield fake
    fake.close()


async def test_with_a_key_the_database_holds_no_clear_text(bot: FakeBot):
    set_data_keys(new_key())
    await fill(bot)
    stored = stored_copy(bot)
    assert [t for t in CLEAR if t.encode() in stored] == []
    values = raw_values(bot)
    assert len(values) >= 10 and all(v.startswith("enc:1:") for v in values)
    # Through the models the clear text comes back.
    with bot.database.session() as db:
        case = db.get(Case, 1)
        assert case is not None and (case.summary, case.details) == (SUMMARY, DETAILS)
        texts = [e.text for e in db.exec(select(CaseEvent))]
        assert NOTE in texts and REACTION in texts
        payloads = " ".join(row.payload for row in db.exec(select(OutboxMessage)))
        assert RELAYED in payloads and DETAILS in payloads  # the relay; the DM answer
        assert inbound.get_secret(db, inbound.MATRIX_ACCESS_TOKEN) == TOKEN
    assert SUMMARY in await bot.say("/case 1", user=bot.admin, dm=True)


async def test_without_a_key_text_is_stored_as_it_is(bot: FakeBot):
    await fill(bot)
    values = raw_values(bot)
    assert SUMMARY in values and TOKEN in values


async def test_rotation_seals_clear_rows_and_moves_old_key_rows_to_the_new_key(bot: FakeBot):
    await fill(bot)  # before there was a key: clear text
    old, new = new_key(), new_key()
    set_data_keys(old)
    await Flow(bot).say("/case note 1 Written under the old key", user=bot.net.user(1))
    before = raw_values(bot)
    assert SUMMARY in before  # clear rows are still read as they are ...
    assert "Written under the old key" in await bot.say("/case 1", user=bot.admin, dm=True)
    set_data_keys([new, old])
    counts = rotate(bot.database, batch=2)  # several batches per table
    assert counts["case"] == 1 and counts["caseevent"] >= 4 and counts["resumepoint"] == 1
    after = raw_values(bot)
    assert len(after) == len(before) and all(v.startswith("enc:1:") for v in after)
    assert not set(after) & set(before)
    assert [t for t in CLEAR if t.encode() in stored_copy(bot)] == []  # no old copy either
    set_data_keys(new)  # ... and the old key can go
    with bot.database.session() as db:
        case = db.get(Case, 1)
        assert case is not None and (case.summary, case.details) == (SUMMARY, DETAILS)
        assert inbound.get_secret(db, inbound.MATRIX_ACCESS_TOKEN) == TOKEN
        assert "Written under the old key" in [e.text for e in db.exec(select(CaseEvent))]


async def test_a_wrong_key_fails_loudly_and_shows_no_ciphertext(bot: FakeBot):
    set_data_keys(new_key())
    await fill(bot)
    set_data_keys(new_key())
    with bot.database.session() as db, pytest.raises(DataKeyError, match="none of the data keys"):
        db.get(Case, 1)
    answer = await bot.say("/case 1", user=bot.admin, dm=True)
    assert answer.startswith("Something went wrong (ref ") and "enc:" not in answer
    with pytest.raises(DataKeyError, match="none of the data keys"):
        rotate(bot.database)
    set_data_keys(None)
    with bot.database.session() as db, pytest.raises(DataKeyError, match="no data key is set"):
        inbound.get_secret(db, inbound.MATRIX_ACCESS_TOKEN)


def test_rotation_that_fails_changes_nothing(bot: FakeBot):
    key = new_key()
    set_data_keys(key)
    with bot.database.session() as db:
        for n in range(3):
            db.add(Case(country="EG", summary=f"case {n}", reporter_id="x", room_id="y",
                        created_at=bot.now, updated_at=bot.now))
        db.commit()
    set_data_keys(new_key())
    with bot.database.session() as db:
        db.add(Case(country="EG", summary="under another key", reporter_id="x", room_id="y",
                    created_at=bot.now, updated_at=bot.now))
        db.commit()
    before = raw_values(bot)
    set_data_keys([new_key(), key])  # opens the first three, not the fourth
    with pytest.raises(DataKeyError):
        rotate(bot.database, batch=2)
    assert raw_values(bot) == before


def test_sealing_round_trips_and_is_different_each_time():
    assert seal("x") == "x" and unseal("x") == "x"  # no key: as it is
    assert seal("enc:1:looks sealed") == "enc:0:enc:1:looks sealed"
    assert unseal(seal("enc:1:looks sealed")) == "enc:1:looks sealed"
    set_data_keys(new_key())
    one, two = seal("Ahmed, +20 100"), seal("Ahmed, +20 100")
    assert one != two and "Ahmed" not in one
    assert unseal(one) == unseal(two) == "Ahmed, +20 100"
    assert unseal("written before the key") == "written before the key"


def test_bad_keys_are_refused_without_being_repeated():
    good = new_key()
    with pytest.raises(DataKeyError, match="key 2 of 2 is not a data key") as refused:
        parse_keys(f"{good}, not-a-key-at-all")
    assert good not in str(refused.value) and "not-a-key-at-all" not in str(refused.value)
    assert parse_keys(f" {good} ,") == (good,)


@pytest.mark.parametrize("query", [
    lambda: select(Case).where(Case.summary == "Ahmed"),
    lambda: select(Case).where(col(Case.details).contains("Ahmed")),
    lambda: select(CaseEvent).order_by(col(CaseEvent.text).desc()),
    lambda: select(OutboxMessage).where(col(OutboxMessage.payload).like("%Ahmed%")),
])
def test_a_query_on_an_encrypted_column_fails_where_it_is_written(query):  # type: ignore[no-untyped-def]
    with pytest.raises(TypeError, match="encrypted at rest"):
        query()


def test_null_tests_on_an_encrypted_column_are_allowed(bot: FakeBot):
    with bot.database.session() as db:
        assert db.exec(select(Case).where(col(Case.details).is_(None))).all() == []
