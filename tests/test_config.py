"""One test per documented config error, plus secrets handling."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest

from bot.cli import main
from bot.config import ConfigError, ConfigErrors, load_config, parse_config
from bot.summary import summarise

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "123456:ABCdefGhIJKlmnoPQRstu"


def error_of(data: dict[str, Any], env: dict[str, str] | None = None) -> str:
    with pytest.raises(ConfigError) as caught:
        parse_config(data, source="config.toml", env=env or {})
    return str(caught.value)


def test_empty_config_gives_defaults():
    config = parse_config({})
    assert config.bot.timezone == "Europe/Zurich"
    assert config.bot.database_url == "sqlite:///caucus.db"
    assert config.bot.command_prefixes == ("/", "!")
    assert config.telegram is None and config.matrix is None and config.rooms == ()
    assert config.reminders.session_offsets_days == (30, 14, 7, 1)
    assert config.reminders.deadline_offsets_days == (7, 2, 0)
    assert f"{config.reminders.send_time:%H:%M}" == "09:00"
    assert config.reminders.grace_hours == 6


PLACEHOLDER_KEYS = ["[telegram].token", "[matrix].access_token",
                    "[[rooms]][0].telegram_chat_id", "[[rooms]][0].matrix_room_id",
                    "[[rooms]][1].matrix_room_id"]


def filled_in_example() -> dict[str, Any]:
    """The example file as someone who filled in its placeholders would have it."""
    data = tomllib.loads((ROOT / "config.example.toml").read_text())
    data["telegram"]["token"] = TOKEN
    data["matrix"]["access_token"] = "syt_real_token"
    data["rooms"][0].update(telegram_chat_id=-1009876543210, matrix_room_id="!real:example.org")
    data["rooms"][1]["matrix_room_id"] = "!realsecretariat:example.org"
    return data


def test_the_example_file_placeholders_are_refused_every_one_of_them():
    with pytest.raises(ConfigErrors) as caught:
        load_config(ROOT / "config.example.toml", env={})
    assert [e.key for e in caught.value.errors] == PLACEHOLDER_KEYS
    assert "[telegram].token: is the example file's placeholder" in str(caught.value)


def test_every_error_is_reported_not_only_the_first():
    with pytest.raises(ConfigErrors) as caught:
        parse_config({"bot": {"timezone": "Mars/Olympus", "admins": ["alice"], "colour": 1},
                      "reminders": {"grace_hours": -1},
                      "rooms": [{"name": "A", "matrix_room_id": "#alias:x"}]}, env={})
    assert [e.key for e in caught.value.errors] == [
        "[bot].colour", "[bot].timezone", "[bot].admins[0]", "[[rooms]][0].matrix_room_id",
        "[reminders].grace_hours"]
    assert str(caught.value).startswith("5 problems:\nconfig.toml: [bot].colour: unknown key")


def test_a_bad_token_from_the_environment_is_blamed_on_the_environment():
    error = error_of({"telegram": {"token": TOKEN}}, env={"CAUCUS_TELEGRAM_TOKEN": "oops"})
    assert error == ("environment: CAUCUS_TELEGRAM_TOKEN: does not look like a BotFather token "
                     "(<digits>:<letters>)")


def test_example_config_is_valid_and_documents_every_key():
    config = parse_config(filled_in_example(), env={})
    assert config.telegram is not None and config.matrix is not None
    assert [r.name for r in config.rooms] == ["Geneva caucus", "Secretariat"]
    assert config.rooms[0].bridged and config.rooms[1].secure
    text = (ROOT / "config.example.toml").read_text()
    documented = {"timezone", "database_url", "admins", "command_prefixes", "display_name",
                  "token", "base_url", "base_file_url", "mode", "webhook_url", "webhook_listen",
                  "webhook_port", "webhook_secret", "homeserver", "user_id", "access_token",
                  "password", "device_id", "store_path", "verify_devices", "name",
                  "telegram_chat_id", "telegram_topic_id", "matrix_room_id", "secure",
                  "reminders",
                  "session_offsets_days", "deadline_offsets_days", "send_time", "grace_hours",
                  "stale_days", "nudge_days", "date_order", "web_signer_retention_days",
                  "listen", "port", "public_url", "trusted_proxies", "review",
                  "submissions_per_hour", "log_format"}
    for key in documented:
        assert f"{key} =" in text, f"config.example.toml does not document {key}"


@pytest.mark.parametrize(("data", "expected"), [
    ({"bot": {"timezone": "Mars/Olympus"}},
     "config.toml: [bot].timezone: unknown time zone 'Mars/Olympus'"),
    ({"bot": {"timezone": 5}}, "config.toml: [bot].timezone: must be a string, not a whole number"),
    ({"bot": {"database_url": "not a url"}}, "config.toml: [bot].database_url: is not an "
                                              "SQLAlchemy URL"),
    ({"bot": {"admins": ["alice"]}}, "config.toml: [bot].admins[0]: 'alice' is not a user id"),
    ({"bot": {"admins": ["telegram:abc"]}}, "[bot].admins[0]: 'telegram:abc' is not a user id"),
    ({"bot": {"admins": "telegram:1"}}, "[bot].admins: must be a list, not a string"),
    ({"bot": {"command_prefixes": ["go"]}}, "[bot].command_prefixes: must be a list of single "
                                            "punctuation characters"),
    ({"bot": {"command_prefixes": []}}, "[bot].command_prefixes: must be a list of single"),
    ({"bot": {"display_name": ""}}, "[bot].display_name: is required"),
    ({"bot": {"tiemzone": "UTC"}}, "config.toml: [bot].tiemzone: unknown key"),
    ({"telgram": {}}, "config.toml: (top level).telgram: unknown key"),
    ({"bot": []}, "config.toml: [bot]: must be a table"),
    ({"telegram": {}}, "config.toml: [telegram].token: is required (or set "
                       "CAUCUS_TELEGRAM_TOKEN)"),
    ({"telegram": {"token": "hunter2"}}, "[telegram].token: does not look like a BotFather "
                                         "token"),
    ({"telegram": {"token": TOKEN, "mode": "push"}}, "[telegram].mode: must be 'polling' or "
                                                     "'webhook', not 'push'"),
    ({"telegram": {"token": TOKEN, "mode": "webhook"}}, "[telegram].webhook_url: is required"),
    ({"telegram": {"token": TOKEN, "base_url": "ftp://x"}}, "[telegram].base_url: must be an "
                                                            "http(s) URL"),
    ({"telegram": {"token": TOKEN, "webhook_port": 70000}}, "[telegram].webhook_port: must be a "
                                                            "port number"),
    ({"matrix": {"homeserver": "matrix.example.org", "user_id": "@b:x", "password": "p"}},
     "config.toml: [matrix].homeserver: must be an http(s) URL"),
    ({"matrix": {"user_id": "@b:x", "password": "p"}}, "[matrix].homeserver: is required"),
    ({"matrix": {"homeserver": "https://x", "user_id": "bot", "password": "p"}},
     "[matrix].user_id: 'bot' is not a Matrix user id"),
    ({"matrix": {"homeserver": "https://x", "user_id": "@b:x"}},
     "[matrix].access_token: an access_token or a password is required"),
    ({"matrix": {"homeserver": "https://x", "user_id": "@b:x", "password": "p",
                 "verify_devices": "yes"}},
     "[matrix].verify_devices: must be true or false, not a string"),
    ({"rooms": {"name": "x"}}, "config.toml: [[rooms]]: must be an array of tables"),
    ({"rooms": [{"telegram_chat_id": -5}]}, "[[rooms]][0].name: is required"),
    ({"rooms": [{"name": "A"}]}, "[[rooms]][0].name: room 'A' needs telegram_chat_id, "
                                 "matrix_room_id or both"),
    ({"rooms": [{"name": "A", "telegram_chat_id": "group"}]},
     "[[rooms]][0].telegram_chat_id: 'group' is not a numeric chat id"),
    ({"rooms": [{"name": "A", "matrix_room_id": "#caucus:example.org"}]},
     "[[rooms]][0].matrix_room_id: '#caucus:example.org' is not a room id"),
    ({"rooms": [{"name": "A", "telegram_chat_id": -5, "secure": "yes"}]},
     "[[rooms]][0].secure: must be true or false"),
    ({"rooms": [{"name": "A", "telegram_chat_id": -5}, {"name": "a", "telegram_chat_id": -6}]},
     "[[rooms]][1].name: room name 'a' is used twice"),
    ({"rooms": [{"name": "A", "telegram_chat_id": -5}, {"name": "B", "telegram_chat_id": -5}]},
     "[[rooms]][1].telegram_chat_id: the group -5 is already room 'A' as a whole; another entry "
     "for it must name one of its forum topics (telegram_topic_id)"),
    ({"rooms": [{"name": "A", "telegram_chat_id": -5, "telegram_topic_id": 4},
                {"name": "B", "telegram_chat_id": -5, "telegram_topic_id": 4}]},
     "[[rooms]][1].telegram_topic_id: topic 4 of the group -5 is already room 'A'"),
    ({"rooms": [{"name": "A", "telegram_chat_id": -5, "telegram_topic_id": 0}]},
     "[[rooms]][0].telegram_topic_id: 0 is not a topic id: expected a positive whole number, "
     "the last number of a link to the topic (t.me/c/1234567890/45 is topic 45)"),
    ({"rooms": [{"name": "A", "telegram_chat_id": -5, "telegram_topic_id": "45"}]},
     "[[rooms]][0].telegram_topic_id: '45' is not a topic id"),
    ({"rooms": [{"name": "A", "telegram_chat_id": -5, "telegram_topic_id": True}]},
     "[[rooms]][0].telegram_topic_id: True is not a topic id"),
    ({"rooms": [{"name": "A", "telegram_chat_id": -5, "telegram_topic_id": 4.5}]},
     "[[rooms]][0].telegram_topic_id: 4.5 is not a topic id"),
    ({"rooms": [{"name": "A", "matrix_room_id": "!a:x", "telegram_topic_id": 4}]},
     "[[rooms]][0].telegram_topic_id: needs telegram_chat_id: the id of the group the topic "
     "is in"),
    ({"rooms": [{"name": "A", "telegram_chat_id": -5, "colour": "red"}]},
     "[[rooms]][0].colour: unknown key"),
    ({"rooms": [{"name": "A", "telegram_chat_id": -5, "matrix_room_id": "!a:example.org",
                 "secure": True}]},
     "[[rooms]][0].secure: room 'A' is bridged (it has both ids), and a bridged room cannot be "
     "secure"),
    ({"privacy": {"relay_retention_days": 0}}, "[privacy].relay_retention_days: must be 1 or more"),
    ({"privacy": {"link_retention_days": 0}}, "[privacy].link_retention_days: must be 1 or more"),
    ({"privacy": {"link_retention_days": "forever"}}, "[privacy].link_retention_days:"),
    ({"privacy": {"closed_case_retention_days": -3}},
     "[privacy].closed_case_retention_days: must be 1 or more"),
    ({"privacy": {"key_file": "/nonexistent/caucus.key"}},
     "[privacy].key_file: cannot be read: No such file or directory"),
    ({"reminders": {"send_time": "9am"}}, "[reminders].send_time: '9am' is not a time of day"),
    ({"reminders": {"send_time": "24:00"}}, "[reminders].send_time: '24:00' is not a time"),
    ({"reminders": {"session_offsets_days": [7, -1]}},
     "[reminders].session_offsets_days: must be a list of whole numbers of days"),
    ({"reminders": {"deadline_offsets_days": [True]}},
     "[reminders].deadline_offsets_days: must be a list of whole numbers of days"),
    ({"reminders": {"grace_hours": -1}}, "[reminders].grace_hours: must be 0 or more"),
    ({"cases": {"stale_days": 0}}, "[cases].stale_days: must be 1 or more"),
    ({"statements": {"nudge_days": "2"}}, "[statements].nudge_days: must be a list, not a "
                                          "string"),
    ({"bot": {"log_format": "yaml"}}, "[bot].log_format: must be 'text' or 'json', not 'yaml'"),
    ({"metrics": {"port": 0}}, "[metrics].port: must be a port number from 1 to 65535"),
    ({"metrics": {"port": "9120"}}, "[metrics].port: must be a whole number, not a string"),
    ({"metrics": {"listen": ""}}, "[metrics].listen: is required"),
    ({"metrics": {"path": "/m"}}, "[metrics].path: unknown key (known keys: listen, port)"),
    ({"web": {"port": 0}}, "[web].port: must be a port number from 1 to 65535"),
    ({"web": {"public_url": "sign.example.org"}}, "[web].public_url: must be an http(s) URL"),
    ({"web": {"public_url": "https://sign.example.org/?x=1"}},
     "[web].public_url: must be an address without ?query or #fragment"),
    ({"web": {"trusted_proxies": ["10.0.0.0/8", "proxy"]}},
     "[web].trusted_proxies[1]: 'proxy' is not an IP address or network"),
    ({"web": {"review": "yes"}}, "[web].review: must be true or false, not a string"),
    ({"web": {"submissions_per_hour": 0}}, "[web].submissions_per_hour: must be 1 or more"),
    ({"web": {"lisen": "0.0.0.0"}}, "[web].lisen: unknown key"),
    ({"privacy": {"web_signer_retention_days": 0}},
     "[privacy].web_signer_retention_days: must be 1 or more"),
])
def test_config_errors_name_the_key_and_the_problem(data: dict[str, Any], expected: str):
    assert expected in error_of(data)


def test_metrics_and_json_logs_are_off_unless_asked_for():
    assert parse_config({}).metrics is None and parse_config({}).bot.log_format == "text"
    config = parse_config({"bot": {"log_format": "json"}, "metrics": {}})
    assert config.bot.log_format == "json"
    assert (config.metrics.listen, config.metrics.port) == ("127.0.0.1", 9120)  # type: ignore[union-attr]
def test_the_web_table_and_its_defaults():
    assert parse_config({}).web is None  # no table: no pages
    web = parse_config({"web": {}}).web
    assert web is not None
    assert (web.listen, web.port, web.public_url, web.review, web.submissions_per_hour) == (
        "127.0.0.1", 8080, "http://127.0.0.1:8080", True, 10)
    web = parse_config({"web": {"listen": "0.0.0.0", "port": 8443,
                                "public_url": "https://sign.example.org/",
                                "trusted_proxies": ["127.0.0.1", "10.0.0.0/8"]}}).web
    assert web is not None
    assert web.page_url("abc") == "https://sign.example.org/s/abc"
    assert [str(n) for n in web.trusted_proxies] == ["127.0.0.1/32", "10.0.0.0/8"]
    assert parse_config({"web": {"listen": "0.0.0.0"}}).web.public_url == (  # type: ignore[union-attr]
        "http://127.0.0.1:8080")


def test_one_group_pairs_several_topics_and_itself_each_with_a_room_of_its_own():
    config = parse_config({"rooms": [
        {"name": "Caucus", "telegram_chat_id": -5, "matrix_room_id": "!all:x"},
        {"name": "Bahrain", "telegram_chat_id": -5, "telegram_topic_id": 45,
         "matrix_room_id": "!bh:x"},
        {"name": "Egypt", "telegram_chat_id": -5, "telegram_topic_id": 46,
         "matrix_room_id": "!eg:x"}]})
    assert [r.ids for r in config.rooms] == [("telegram:-5", "matrix:!all:x"),
                                             ("telegram:-5/45", "matrix:!bh:x"),
                                             ("telegram:-5/46", "matrix:!eg:x")]
    assert config.room_for("telegram:-5/45").name == "Bahrain"  # type: ignore[union-attr]
    assert [r.name for r in config.rooms_in_chat(-5)] == ["Caucus", "Bahrain", "Egypt"]
    assert "    - Bahrain: telegram:-5/45 <-> matrix:!bh:x (bridged pair, forum topic 45 of " \
           "the group -5, not secure, reminders on" in summarise(config)


def test_a_group_may_be_paired_by_its_topics_alone():
    config = parse_config({"rooms": [
        {"name": "Bahrain", "telegram_chat_id": -5, "telegram_topic_id": 45,
         "matrix_room_id": "!bh:x"},
        {"name": "Egypt", "telegram_chat_id": -5, "telegram_topic_id": 46}]})
    assert config.room_for("telegram:-5") is None
    assert len(config.rooms_in_chat(-5)) == 2


def test_numeric_string_chat_id_is_accepted():
    config = parse_config({"rooms": [{"name": "A", "telegram_chat_id": "-1001"}]})
    assert config.rooms[0].ids == ("telegram:-1001",)


def test_syntax_error_and_missing_file(tmp_path: Path):
    bad = tmp_path / "config.toml"
    bad.write_text("[bot\n")
    with pytest.raises(ConfigError, match=r"config.toml: \(syntax\): not valid TOML"):
        load_config(bad)
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "absent.toml")


def test_secrets_from_the_environment_win_and_never_show():
    data = {"telegram": {"token": TOKEN},
            "matrix": {"homeserver": "https://m.example.org", "user_id": "@b:example.org"}}
    env = {"CAUCUS_TELEGRAM_TOKEN": "999:EnvTokenEnvTokenEnv",
           "CAUCUS_MATRIX_PASSWORD": "correct horse battery"}
    config = parse_config(data, env=env)
    assert config.telegram is not None and config.telegram.token == "999:EnvTokenEnvTokenEnv"
    assert config.matrix is not None and config.matrix.password == "correct horse battery"
    for shown in (repr(config), summarise(config)):
        assert "EnvToken" not in shown and "correct horse" not in shown and TOKEN not in shown
    assert "token set (from CAUCUS_TELEGRAM_TOKEN)" in summarise(config)


def test_database_password_is_hidden_in_the_summary():
    config = parse_config({"bot": {"database_url": "postgresql://caucus:s3cret@db/caucus"}})
    assert "s3cret" not in summarise(config)


def test_bad_config_exits_2_with_the_message(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    path = tmp_path / "config.toml"
    path.write_text('[matrix]\nhomeserver = "matrix.example.org"\nuser_id = "@b:x"\n'
                    'password = "p"\n')
    assert main(["check-config", str(path)]) == 2
    err = capsys.readouterr().err
    assert "config.toml: [matrix].homeserver: must be an http(s) URL" in err


def test_check_config_prints_a_summary_without_secrets(tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str]):
    assert main(["check-config", str(ROOT / "config.example.toml")]) == 2
    err = capsys.readouterr().err
    assert all(key in err for key in PLACEHOLDER_KEYS)
    assert "replace-with" not in err  # a secret's value, even a placeholder, is not echoed
    filled = tmp_path / "config.toml"
    filled.write_text(toml_text(filled_in_example()))
    assert main(["check-config", str(filled)]) == 0
    out = capsys.readouterr().out
    assert "rooms (2):" in out
    assert "time zone: Europe/Zurich (numeric dates read DMY)" in out
    assert "Geneva caucus: telegram:-1009876543210 <-> matrix:!real:example.org" in out
    assert "admins: telegram:123456789, matrix:@ana:example.org" in out
    assert ("web: sign-on pages on 127.0.0.1:8080, public address http://127.0.0.1:8080 (only "
            "this machine can open it: set public_url), review on") in out
    assert TOKEN not in out and "syt_real_token" not in out


def toml_text(data: dict[str, Any]) -> str:
    """Just enough TOML writing for the example file's shapes."""
    def value(v: Any) -> str:
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, list):
            return "[" + ", ".join(value(x) for x in v) + "]"
        return f'"{v}"' if isinstance(v, str) else str(v)

    out = []
    for table, body in data.items():
        for row in body if isinstance(body, list) else [body]:
            out.append(f"[[{table}]]" if isinstance(body, list) else f"[{table}]")
            out += [f"{k} = {value(v)}" for k, v in row.items()]
    return "\n".join(out) + "\n"
