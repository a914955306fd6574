"""The data key from the config to the database: checked at load, used at start, rotated by
the CLI, and missed out loud (check-config, start-up, /bridge status) when there is none."""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path

import pytest

from bot.cli import main
from bot.config import ConfigError, parse_config
from bot.startup import prepare as prepare_with
from bot.summary import summarise
from handlers import features
from storage import inbound
from storage.cases import Case
from storage.crypto import DataKeyError, has_data_key, new_key, parse_keys, set_data_keys
from tests.harness import START, FakeBot, Network

NETWORK = {"telegram": {"token": "123456:ABCdefGhIJKlmnoPQRstu"}}


def prepare(config):  # type: ignore[no-untyped-def]
    return prepare_with(config, features())


def config_file(tmp_path: Path, privacy: str = "") -> Path:
    path = tmp_path / "config.toml"
    path.write_text(f'[bot]\ndatabase_url = "sqlite:///{tmp_path / "c.db"}"\n'
                    '[telegram]\ntoken = "123456:ABCdefGhIJKlmnoPQRstu"\n'
                    f"[privacy]\n{privacy}\n")
    return path


def test_a_bad_key_is_a_config_error_that_names_its_source_not_the_key(tmp_path: Path):
    good = new_key()
    with pytest.raises(ConfigError, match=r"CAUCUS_DATA_KEY: key 2 of 2 is not a data key") as e:
        parse_config({}, env={"CAUCUS_DATA_KEY": f"{good},hunter2hunter2"})
    assert good not in str(e.value) and "hunter2" not in str(e.value)
    key_file = tmp_path / "data.key"
    key_file.write_text("hunter2hunter2\n")
    with pytest.raises(ConfigError, match=r"\[privacy\].key_file: .*data.key: the key is not a "
                                          r"data key") as e:
        parse_config({"privacy": {"key_file": str(key_file)}})
    assert "hunter2" not in str(e.value)
    key_file.write_text(f"{good}\n")
    assert parse_config({"privacy": {"key_file": str(key_file)}}).privacy.data_key == good


def test_check_config_warns_without_a_key_and_says_where_the_key_comes_from(tmp_path: Path):
    shown = summarise(parse_config(NETWORK))
    assert "WARNING: no data key" in shown and "caucus-bot keys new" in shown
    assert "CAUCUS_DATA_KEY" in shown
    key = f"{new_key()},{new_key()}"
    shown = summarise(parse_config(NETWORK, env={"CAUCUS_DATA_KEY": key}))
    assert "WARNING" not in shown and key.split(",")[0] not in shown
    assert "data key: set (from CAUCUS_DATA_KEY); confidential text is encrypted at rest; " \
           "1 older key to read with" in shown


async def test_bridge_status_warns_while_text_is_stored_unencrypted(tmp_path: Path):
    bot = FakeBot(tmp_path, Network("matrix"))
    try:
        shown = await bot.say("/bridge status", user=bot.admin)
        assert "Warning: case summaries, details and notes, relayed messages" in shown
        assert "caucus-bot keys new" in shown and "CAUCUS_DATA_KEY" in shown
        set_data_keys(new_key())
        assert "Warning" not in await bot.say("/bridge status", user=bot.admin)
    finally:
        bot.close()


def test_start_up_takes_the_key_and_warns_without_one(tmp_path: Path,
                                                      caplog: pytest.LogCaptureFixture):
    url = f"sqlite:///{tmp_path / 'c.db'}"
    with caplog.at_level(logging.WARNING):
        prepare(parse_config({**NETWORK, "bot": {"database_url": url}})).dispose()
    assert not has_data_key() and "stored unencrypted" in caplog.text
    caplog.clear()
    key = new_key()
    with caplog.at_level(logging.WARNING):
        prepare(parse_config({**NETWORK, "bot": {"database_url": url}},
                             env={"CAUCUS_DATA_KEY": key})).dispose()
    assert has_data_key() and "unencrypted" not in caplog.text


def test_start_up_stops_on_a_key_that_does_not_open_the_database(tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'c.db'}"
    database = prepare(parse_config({"bot": {"database_url": url}},
                                    env={"CAUCUS_DATA_KEY": new_key()}))
    with database.session() as db:
        db.add(Case(country="EG", summary="sealed", reporter_id="x", room_id="y",
                    created_at=START, updated_at=START))
        db.commit()
    database.dispose()
    with pytest.raises(DataKeyError, match="none of the data keys"):
        prepare(parse_config({"bot": {"database_url": url}}, env={"CAUCUS_DATA_KEY": new_key()}))
    with pytest.raises(DataKeyError, match="no data key is set"):
        prepare(parse_config({"bot": {"database_url": url}}))


def test_start_up_checks_the_key_on_a_stored_access_token_too(tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'c.db'}"
    database = prepare(parse_config({"bot": {"database_url": url}},
                                    env={"CAUCUS_DATA_KEY": new_key()}))
    with database.session() as db:
        inbound.set_secret(db, inbound.MATRIX_ACCESS_TOKEN, "syt_token")
        db.commit()
    database.dispose()
    with pytest.raises(DataKeyError, match="none of the data keys"):
        prepare(parse_config({"bot": {"database_url": url}}, env={"CAUCUS_DATA_KEY": new_key()}))


def test_keys_new_prints_a_key_and_how_to_use_it(capsys: pytest.CaptureFixture[str]):
    assert main(["keys", "new"]) == 0
    printed = capsys.readouterr()
    [key] = printed.out.split()
    assert parse_keys(key) == (key,)
    assert "CAUCUS_DATA_KEY" in printed.err and "keys rotate" in printed.err


def test_keys_rotate_seals_clear_rows_and_prints_counts(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch,
                                                        capsys: pytest.CaptureFixture[str]):
    config = config_file(tmp_path)
    assert main(["keys", "rotate", "--config", str(config)]) == 2
    assert "no data key" in capsys.readouterr().err
    database = prepare(parse_config({"bot": {"database_url": f"sqlite:///{tmp_path / 'c.db'}"}}))
    with database.session() as db:
        db.add(Case(country="EG", summary="written in clear", reporter_id="x", room_id="y",
                    created_at=START, updated_at=START))
        db.commit()
    database.dispose()
    key = new_key()
    monkeypatch.setenv("CAUCUS_DATA_KEY", key)
    assert main(["keys", "rotate", "--config", str(config)]) == 0
    out = capsys.readouterr().out
    assert "case: 1 row encrypted with the first key" in out
    assert "outboxmessage: 0 rows" in out and key not in out
    with sqlite3.connect(tmp_path / "c.db") as connection:
        [(stored,)] = connection.execute('SELECT summary FROM "case"').fetchall()
    assert stored.startswith("enc:1:")
    monkeypatch.setenv("CAUCUS_DATA_KEY", new_key())  # not the key it was written with
    assert main(["keys", "rotate", "--config", str(config)]) == 1
    assert "nothing was changed" in capsys.readouterr().err
