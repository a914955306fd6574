"""``caucus-bot erase --user`` and ``caucus-bot export-user``: through ``bot.cli.main``,
on the database a bot wrote to through its commands."""

from __future__ import annotations

import io
import json
import stat
from pathlib import Path

import pytest
from sqlmodel import select

from bot.cli import main
from storage.models import AuditEntry, Identity
from storage.statements import Statement
from storage.web_signons import Submission, WebSignon, submit
from tests.harness import FakeBot, Network

NET = Network("telegram")
ANA = NET.user(3)


@pytest.fixture
async def bot(tmp_path: Path):  # type: ignore[no-untyped-def]
    """Ana reported a case in a DM, noted it, saved her organisation and signed S1."""
    fake = FakeBot(tmp_path, NET)
    sec = NET.user(9)
    await fake.send(f"/role grant {sec} secretariat", user=fake.admin)
    await fake.send("hello", user=ANA, name="Ana Reporter")
    # A Telegram private chat's id is the person's own id.
    dm = {"user": ANA, "dm": True, "room": ANA}
    await fake.send("/flag Bahrain | Zainab summoned after a side event", **dm)
    await fake.send("/case note 1 I called her lawyer", **dm)
    await fake.send("/case details 1 Real name Omar Ry", **dm)
    await fake.send("/flag Egypt | An open case", user=sec)
    await fake.send(f"/case assign 2 {ANA}", user=sec)
    await fake.send("/statement new Letter deadline=2026-12-01", user=sec)
    await fake.send('/org set "Gulf Centre" | Lebanon', user=ANA)
    await fake.send("/signon S1", user=ANA)
    yield fake
    fake.close()


def config_file(bot: FakeBot, tmp_path: Path) -> str:
    path = tmp_path / "caucus.toml"
    path.write_text(f'[bot]\ndatabase_url = "{bot.config.bot.database_url}"\n'
                    'admins = ["telegram:1"]\n')
    return str(path)


async def test_export_user_writes_their_data_as_json(bot: FakeBot, tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]):
    out = tmp_path / "ana.json"
    assert main(["export-user", ANA, "--config", config_file(bot, tmp_path),
                 "--output", str(out)]) == 0
    assert f"about {ANA} to {out}" in capsys.readouterr().out
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    data = json.loads(out.read_text())
    assert data["user"] == ANA and data["identity"]["display_name"] == "Ana Reporter"
    assert data["organisation"]["name"] == "Gulf Centre"
    assert [s["organisation"] for s in data["signatures"]] == ["Gulf Centre"]
    assert data["cases_reported"][0]["summary"] == "Zainab summoned after a side event"
    assert [e["text"] for e in data["cases_reported"][0]["your_entries"]
            if e["kind"] == "note"] == ["I called her lawyer"]
    assert [c["case"] for c in data["cases_assigned"]] == [2]
    assert "Omar Ry" not in out.read_text()  # confidential details: maybe someone else's
    # Standard output, when no file is named; and the request is in the audit trail.
    assert main(["export-user", ANA, "--config", config_file(bot, tmp_path)]) == 0
    assert json.loads(capsys.readouterr().out)["user"] == ANA
    with bot.database.session() as db:
        exports = db.exec(select(AuditEntry).where(AuditEntry.action == "user.export")).all()
    assert [e.target for e in exports] == [ANA, ANA]


async def test_erase_asks_first_then_anonymises_everywhere(bot: FakeBot, tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str],
                                                          monkeypatch: pytest.MonkeyPatch):
    config = config_file(bot, tmp_path)
    monkeypatch.setattr("sys.stdin", io.StringIO("no\n"))
    assert main(["erase", "--user", ANA, "--config", config]) == 1
    assert "Nothing was erased." in capsys.readouterr().out
    with bot.database.session() as db:
        assert db.get(Identity, ANA) is not None

    assert main(["erase", "--user", ANA, "--config", config, "--yes"]) == 0
    out = capsys.readouterr().out
    assert f"Erased {ANA}" in out
    for line in ("  identity: 1", "  orgprofile: 1", "  signature: 1", "  case: 3"):
        assert line in out, out
    shown = await bot.say("/case 1", user=bot.admin, dm=True)
    assert "Reporter: (erased user)" in shown and "Ana" not in shown
    assert "Zainab summoned" in shown  # the case itself stays: it is the coalition's record
    assert "Gulf Centre" in await bot.say("/statement export S1 text", user=bot.admin)
    with bot.database.session() as db:
        assert db.get(Identity, ANA) is None
        trail = db.exec(select(AuditEntry)).all()
    assert not any(ANA in f"{e.actor_id} {e.room_id} {e.target} {e.detail}" for e in trail)
    [erased] = [e for e in trail if e.action == "user.erase"]
    assert erased.target.startswith("erased:") and "identity 1" in erased.detail


def test_a_malformed_id_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    assert main(["erase", "--user", "ana", "--yes",
                 "--database", f"sqlite:///{tmp_path / 'x.db'}"]) == 2
    assert "not a canonical id" in capsys.readouterr().err
    assert main(["export-user", "@ana:example.org",
                 "--database", f"sqlite:///{tmp_path / 'x.db'}"]) == 2
    assert not (tmp_path / "x.db").exists()


async def test_a_web_signer_is_erased_and_exported_by_e_mail(tmp_path: Path,
                                                             capsys: pytest.CaptureFixture[str]):
    from tests.web.site import WebBot

    web = WebBot(tmp_path, NET)
    try:
        with web.database.session() as db:
            db.add(Statement(id=1, title="Letter", created_by="telegram:9", created_at=web.now))
            db.commit()
            statement = db.get(Statement, 1)
            assert statement is not None
            submit(db, statement, Submission(
                org_name="Gulf Centre", country="LB", level=None, ecosoc=None, unlisted=False,
                signer_name="Ana Signer", signer_email="ana@example.org"), now=web.now,
                review=True, org_key="gulf centre")
            db.commit()
        config = tmp_path / "caucus.toml"
        config.write_text(f'[bot]\ndatabase_url = "{web.config.bot.database_url}"\n')
        assert main(["export-user", "web:ana@example.org", "--config", str(config)]) == 0
        data = json.loads(capsys.readouterr().out)
        assert [(s["organisation"], s["your_name"]) for s in data["web_signons"]] == [
            ("Gulf Centre", "Ana Signer")]
        assert main(["erase", "--user", "web:ana@example.org", "--yes", "--config",
                     str(config)]) == 0
        assert capsys.readouterr().out.startswith(
            "Erased the name and e-mail of 1 web sign-on made by web:ana@example.org; the "
            "organisations' signatures stay.")
        with web.database.session() as db:
            [row] = db.exec(select(WebSignon)).all()
            assert (row.org_name, row.signer_name, row.signer_email) == ("Gulf Centre", None,
                                                                         None)
            trail = [e.target for e in db.exec(select(AuditEntry))]
        assert "web:ana@example.org" not in trail  # the e-mail is not kept in the trail
        assert main(["erase", "--user", "web:ana", "--yes", "--config", str(config)]) == 2
        assert "web:ana@example.org" in capsys.readouterr().err  # the form it wants
    finally:
        web.close()
