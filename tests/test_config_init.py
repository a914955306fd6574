"""``caucus-bot init``: a first config from a few questions, checked as check-config checks."""

from __future__ import annotations

import io
import stat
from pathlib import Path

from bot.cli import main
from bot.config import load_config
from bot.config_init import run_init

ANSWERS = [
    "Mars/Olympus", "Europe/Paris",  # a wrong time zone is asked again
    "bob", "telegram:12, matrix:@ana:example.org",
    "",  # the database: its default
    "not-a-token", "123456:ABCDEFGHIJKLmnop",
    "ftp://x", "https://matrix.example.org",
    "caucusbot", "@caucusbot:example.org",
    "",  # no access token: a password
    "secret pass",
    "maybe", "y",
]


def init(path: Path, answers: list[str], env: dict[str, str] | None = None,
         defaults: bool = False) -> tuple[int, str]:
    out = io.StringIO()
    code = run_init(path, defaults=defaults, stdin=io.StringIO("\n".join(answers) + "\n"),
                    stdout=out, env=env or {})
    return code, out.getvalue()


def test_questions_make_a_config_that_check_config_accepts(tmp_path: Path):
    path = tmp_path / "config.toml"
    code, said = init(path, ANSWERS)
    assert code == 0, said
    assert "unknown time zone 'Mars/Olympus' (use an IANA name such as Europe/Zurich)" in said
    assert "'bob' is not a user id; expected telegram:<numeric user id>" in said
    assert "does not look like a BotFather token" in said
    assert "must be an http(s) URL" in said
    assert "'caucusbot' is not a Matrix user id" in said
    assert "answer y or n" in said
    config = load_config(path, {})
    assert config.bot.timezone == "Europe/Paris"
    assert config.bot.admins == ("telegram:12", "matrix:@ana:example.org")
    assert config.telegram is not None and config.telegram.token == "123456:ABCDEFGHIJKLmnop"
    assert config.matrix is not None and config.matrix.password == "secret pass"
    assert config.privacy.data_key and config.privacy.key_file == str(tmp_path / "data.key")
    text = path.read_text()
    assert text.startswith("# Caucus Bot configuration, written by `caucus-bot init`.")
    assert "# Only this list makes admins" in text
    assert stat.S_IMODE(path.stat().st_mode) == 0o600  # it holds secrets
    assert stat.S_IMODE((tmp_path / "data.key").stat().st_mode) == 0o600
    assert "config.toml: OK" in said and "Next: caucus-bot run --config" in said


def test_defaults_ask_nothing_and_take_secrets_from_the_environment(tmp_path: Path):
    path = tmp_path / "config.toml"
    env = {"CAUCUS_TELEGRAM_TOKEN": "123456:ABCDEFGHIJKLmnop"}
    code, said = init(path, [], env=env, defaults=True)
    assert code == 0 and "?" not in said.split("Wrote")[0]
    config = load_config(path, env)
    assert config.bot.timezone == "Europe/Zurich" and config.bot.admins == ()
    assert config.telegram is not None and config.telegram.token_from_env
    assert "123456:" not in path.read_text()
    assert config.matrix is None and config.privacy.data_key


def test_an_existing_file_is_never_overwritten(tmp_path: Path, capsys):  # type: ignore[no-untyped-def]
    path = tmp_path / "config.toml"
    path.write_text("# mine\n")
    assert main(["init", str(path), "--defaults"]) == 2
    assert path.read_text() == "# mine\n"
    assert "exists; it is left as it is" in capsys.readouterr().err


def test_input_that_ends_writes_nothing(tmp_path: Path, capsys):  # type: ignore[no-untyped-def]
    path = tmp_path / "config.toml"
    code, _ = init(path, ["Europe/Paris"])
    assert code == 2 and not path.exists() and not (tmp_path / "data.key").exists()
    assert 'no answer to "Admins' in capsys.readouterr().err


def test_no_networks_and_no_key(tmp_path: Path):
    path = tmp_path / "config.toml"
    code, _ = init(path, ["", "", "", "", "", "n"])
    assert code == 0
    config = load_config(path, {})
    assert config.telegram is None and config.matrix is None and config.privacy.data_key is None
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
