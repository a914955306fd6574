"""Flagging and following up cases, on both networks."""

from __future__ import annotations

import csv
import io

import pytest
from sqlmodel import select

from bot.replies import Reply
from storage.cases import Case, CaseEvent
from storage.models import AuditEntry
from tests.harness import FakeBot, Network


async def flag(bot: FakeBot, text: str, **kw: object) -> int:
    answer = await bot.say(f"/flag {text}", **kw)  # type: ignore[arg-type]
    assert answer.startswith("Case #"), answer
    return int(answer.split("#")[1].split()[0])


@pytest.mark.parametrize("country", ["Egypt", "EG", "egy", "EGYPT"])
async def test_flag_accepts_names_and_iso_codes(bot: FakeBot, country: str):
    answer = await bot.say(f"/flag {country} | Lawyer arrested at the airport #detention")
    assert answer.startswith("Case #1 flagged: Egypt — Lawyer arrested at the airport "
                             "[detention]")


async def test_flag_records_reporter_room_time_and_tags(bot: FakeBot, net: Network):
    n = await flag(bot, "South Sudan | Journalist threatened #threats #Death-Threat",
                   user=net.user(3))
    with bot.database.session() as db:
        case = db.get(Case, n)
        assert case is not None
        assert (case.country, case.status, case.reporter_id, case.room_id) == (
            "SS", "new", net.user(3), net.room)
        assert case.created_at == bot.now and not case.confidential
    shown = await bot.say(f"/case {n}")
    assert "Tags: death-threat, threats" in shown


async def test_unknown_country_gets_suggestions(bot: FakeBot):
    assert await bot.say("/flag Egpyt | x") == (
        "I don't know the country 'Egpyt'. Did you mean Egypt? Use a name or an ISO code "
        "(Egypt, EG, EGY).")


async def test_flag_usage_errors(bot: FakeBot):
    answer = await bot.say("/flag Egypt")
    assert answer.startswith("Missing <summary>.\nUsage: /flag <country> | <summary> "
                             "[#tag ...]")
    assert "not a tag" in await bot.say("/flag Egypt | x #Bad_Tag!")
    assert "in the future" in await bot.say("/flag Egypt | x date=2027-01-01")
    assert "date= must be a date" in await bot.say("/flag Egypt | x date=yesterday")
    assert "limit is 4,000" in await bot.say("/flag Egypt | " + "x" * 4001)
    with bot.database.session() as db:
        assert db.exec(select(Case)).all() == []


async def test_confidential_flag_in_an_ordinary_room_answers_number_only(bot: FakeBot):
    answer = await bot.say("/flag Bahrain | Zainab summoned --confidential")
    assert answer == ("Case #1 recorded as confidential.\nPlease delete your message here: what "
                      "it holds should stay out of this room. Next time, send it to me in a "
                      "direct message.")


async def test_phone_dash_confidential_flag(bot: FakeBot):
    assert "recorded as confidential" in await bot.say("/flag Bahrain | Zainab —confidential")


async def test_flag_in_a_dm_is_confidential(bot: FakeBot, net: Network):
    await bot.send("hi", user=net.user(3))
    answer = await bot.say("/flag Bahrain | Zainab summoned", user=net.user(3), dm=True)
    assert "recorded as confidential: only the secretariat sees its details" in answer
    assert await bot.say("/case 1") == (
        "#1 is confidential. Its details are shown only to the secretariat, in a direct "
        "message or a secure room.")


async def test_cases_pages_newest_first(bot: FakeBot):
    for k in range(25):
        await flag(bot, f"Egypt | case number {k}")
    first = await bot.say("/cases")
    assert first.startswith("25 cases, newest first (page 1 of 3):")
    assert first.index("#25") < first.index("#16") and "#15" not in first
    assert "More: /cases page=2" in first
    third = await bot.say("/cases page=3")
    assert "#5 " in third and "#1 " in third and "More:" not in third
    assert await bot.say("/cases page=4") == "There are only 3 pages."


async def test_cases_filters(bot: FakeBot):
    await flag(bot, "Egypt | one #detention")
    await flag(bot, "Iran | two #smear")
    await flag(bot, "Egypt | three #smear")
    await bot.send("/case status 3 verifying")
    assert _numbers(await bot.say("/cases Egypt")) == [3, 1]
    assert _numbers(await bot.say("/cases #smear")) == [3, 2]
    assert _numbers(await bot.say("/cases verifying")) == [3]
    assert _numbers(await bot.say("/cases new egypt #detention")) == [1]
    assert await bot.say("/cases closed") == "No cases match."
    assert "I don't know the country 'Atlantis'" in await bot.say("/cases Atlantis")


def _numbers(listing: str) -> list[int]:
    return [int(ln.split("#")[1].split()[0]) for ln in listing.splitlines() if ln.startswith("• #")]


async def test_status_flow_and_closing_reasons(bot: FakeBot):
    n = await flag(bot, "Egypt | x")
    assert await bot.say(f"/case status {n} verifying") == f"#{n}: new → verifying."
    assert await bot.say(f"/case status {n} verifying") == f"#{n} is already verifying."
    assert "Closing needs a reason: resolved, no-consent, duplicate, other" in await bot.say(
        f"/case status {n} closed")
    assert "must be one of: new, verifying" in await bot.say(f"/case status {n} done")
    assert await bot.say(f"/case status {n} closed no consent") == (
        f"#{n}: verifying → closed (no-consent).")
    assert await bot.say(f"/case status {n} verified") == f"#{n}: closed → verified."
    shown = await bot.say(f"/case {n}")
    assert "status → closed (no-consent)" in shown and "— verified" in shown


async def test_escalation_to_the_un_needs_share_un_consent(bot: FakeBot):
    n = await flag(bot, "Egypt | x")
    refused = await bot.say(f"/case escalate {n} ohchr-reprisals")
    assert refused.startswith(f"#{n} has no share-un consent")
    assert f"/case consent {n} share-un" in refused
    assert await bot.say(f"/case escalate {n} protection emergency grant") == (
        f"#{n} referred to protection; status escalated.")
    await bot.send(f"/case consent {n} share-un")
    assert "referred to ohchr-reprisals" in await bot.say(f"/case escalate {n} ohchr-reprisals")


async def test_public_reaction_and_no_downgrade(bot: FakeBot):
    n = await flag(bot, "Egypt | x")
    answer = await bot.say(f"/case public {n} https://example.org/statement")
    assert answer.startswith(f"Public reaction recorded for #{n}; status public.")
    assert "No publish-name consent" in answer
    await bot.send(f"/case consent {n} share-un")
    assert "status public" in await bot.say(f"/case escalate {n} upr")


async def test_consent_is_recorded_with_who_and_when_and_can_be_withdrawn(bot: FakeBot,
                                                                          net: Network):
    n = await flag(bot, "Egypt | x")
    answer = await bot.say(f"/case consent {n} share-un sg-report", name="Ana")
    assert answer == (f"Consent for #{n} now: share-un, sg-report (recorded by Ana, "
                      "2026-11-23 10:00).")
    assert "now: sg-report" in await bot.say(f"/case consent {n} withdraw share-un")
    assert "now: none" in await bot.say(f"/case consent {n} withdraw")
    assert "Consent scopes are: share-un, sg-report, publish-name (not everything)." in (
        await bot.say(f"/case consent {n} everything"))
    with bot.database.session() as db:
        kinds = [e.kind for e in db.exec(select(CaseEvent).where(CaseEvent.case_id == n))]
    assert kinds.count("consent") == 3


async def test_only_reporter_assignee_or_secretariat_change_a_case(bot: FakeBot, net: Network):
    n = await flag(bot, "Egypt | x", user=net.user(1))
    other = net.user(2)
    assert await bot.say(f"/case status {n} verifying", user=other) == (
        f"Only the reporter, the assignee or the secretariat can change #{n}.")
    assert await bot.say(f"/case note {n} seen it too", user=other) == f"Note added to #{n}."
    await bot.send(f"/case assign {n} {other}", user=net.user(1))
    assert await bot.say(f"/case status {n} verifying", user=other) == f"#{n}: new → verifying."
    await bot.send(f"/role grant {net.user(5)} secretariat", user=bot.admin)
    assert "verifying → verified" in await bot.say(f"/case status {n} verified",
                                                   user=net.user(5))


async def test_assign_me_and_pseudonym_and_un_details(bot: FakeBot, net: Network):
    n = await flag(bot, "Egypt | x")
    assert await bot.say(f"/case assign {n} me", name="Ana") == (
        f"#{n} assigned to Ana ({net.user(1)}).")
    assert await bot.say(f'/case pseudonym {n} "Lawyer A"') == (
        f'#{n} now calls the person "Lawyer A" in chat.')
    assert await bot.say(f"/case un {n} body=special-procedures ref=A/HRC/57/60") == (
        f"#{n}: UN body special-procedures, reference A/HRC/57/60.")
    assert "Give body=<UN body>" in await bot.say(f"/case un {n}")
    shown = await bot.say(f"/case {n}")
    assert "Person: Lawyer A (pseudonym)" in shown and "Assignee: Ana" in shown


async def test_missing_case(bot: FakeBot):
    assert await bot.say("/case 99") == "There is no case #99."
    # A note's text for a number that names no case may be meant for a confidential one.
    assert (await bot.say("/case note 99 x")).startswith(
        "There is no case #99.\nPlease delete your message here")


async def test_confidential_details_only_by_dm(bot: FakeBot, net: Network):
    n = await flag(bot, "Egypt | x")
    assert "go only in a direct message" in await bot.say(f"/case details {n} Real name Omar")
    assert "saved" in await bot.say(f"/case details {n} Real name Omar", dm=True)
    await bot.send(f"/role grant {net.user(2)} secretariat", user=bot.admin)
    assert "Real name Omar" not in await bot.say(f"/case {n}", user=net.user(2))
    assert "Confidential details: Real name Omar" in await bot.say(
        f"/case {n}", user=net.user(2), room=net.secure_room)


async def test_confidential_toggle_needs_secretariat_and_is_audited(bot: FakeBot, net: Network):
    n = await flag(bot, "Egypt | x")
    assert "needs the secretariat role" in await bot.say(f"/case confidential {n} on")
    assert await bot.say(f"/case confidential {n} on", user=bot.admin) == (
        f"#{n} is now confidential.")
    assert await bot.say(f"/case {n}") == (
        f"#{n} is confidential. Its details are shown only to the secretariat, in a direct "
        "message or a secure room.")
    with bot.database.session() as db:
        actions = [e.action for e in db.exec(select(AuditEntry))]
    assert actions == ["case.flag", "case.confidential"]


async def test_writes_about_a_confidential_case_are_refused_in_ordinary_rooms(bot: FakeBot):
    n = await flag(bot, "Bahrain | Zainab --confidential")
    for command in (f"/case note {n} more", f"/case status {n} verifying",
                    f"/case public {n} x", f"/case consent {n} share-un"):
        assert (await bot.say(command)).startswith(f"#{n} is confidential: send this in a "
                                                   "direct message")
    assert "Note added" in await bot.say(f"/case note {n} more", dm=True)


async def test_export_csv_is_spreadsheet_safe(bot: FakeBot, net: Network):
    await flag(bot, "Egypt | =HYPERLINK(\"http://evil\") arrested #detention")
    await flag(bot, "Bahrain | Zainab --confidential")
    reply = await bot.send("/case export", user=bot.admin)
    assert reply is not None and reply.file is not None
    assert "1 confidential case was left out" in reply.plain()
    assert reply.file.data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(reply.file.data.decode("utf-8-sig"))))
    assert len(rows) == 1
    assert rows[0]["summary"].startswith("'=HYPERLINK")
    assert rows[0]["consent"] == "none" and rows[0]["country"] == "Egypt"
    assert rows[0]["flagged_at"] == rows[0]["updated_at"] == "2026-11-23T10:00+01:00"
    secure = await bot.send("/case export", user=bot.admin, room=net.secure_room)
    assert secure is not None and secure.file is not None
    assert len(list(csv.DictReader(io.StringIO(secure.file.data.decode("utf-8-sig"))))) == 2
    assert "needs the secretariat role" in await bot.say("/case export")


async def test_stale_digest(bot: FakeBot):
    from handlers.case_reports import stale_digest

    await flag(bot, "Egypt | old one")
    bot.advance(days=2)
    await flag(bot, "Iran | newer one")
    await bot.send("/case note 1 still waiting")  # touching a case makes it fresh
    bot.advance(days=2)
    await flag(bot, "Sudan | done one")
    await bot.send("/case status 3 closed resolved")
    with bot.database.session() as db:
        assert stale_digest(db, now=bot.now, stale_days=3) is None
        bot.advance(days=2)
        digest = stale_digest(db, now=bot.now, stale_days=3)
    assert isinstance(digest, Reply)
    text = digest.plain()
    assert text.startswith("2 cases waiting (new or verifying, no update for 3+ days):")
    assert "#1 Egypt — new — old one · 4 days idle" in text
    assert "#2 Iran" in text and "#3" not in text


@pytest.mark.parametrize("command", ["/case 99999999999999999999", "/case \u00b2",
                                     "/cases page=99999999999999999999", "/case " + "9" * 100_000,
                                     "/case note 99999999999999999999 x"])
async def test_numbers_out_of_range_are_refused_with_the_range(bot: FakeBot, command: str):
    answer = await bot.say(command)
    assert "must be a whole number from 1 to 2147483647" in answer
    assert "Something went wrong" not in answer


async def test_a_flag_word_inside_the_summary_stays_and_flags_nothing(bot: FakeBot):
    answer = await bot.say("/flag Egypt | Defender arrested after leaking confidential "
                           "documents #detention")
    assert answer.startswith("Case #1 flagged: Egypt — Defender arrested after leaking "
                             "confidential documents [detention]")
    with bot.database.session() as db:
        case = db.get(Case, 1)
        assert case is not None and not case.confidential


def note_ids(bot: FakeBot, n: int) -> list[int]:
    with bot.database.session() as db:
        return [e.id or 0 for e in db.exec(select(CaseEvent).where(CaseEvent.case_id == n)
                                           .where(CaseEvent.kind == "note"))]


async def test_note_delete_by_its_author_or_the_secretariat(bot: FakeBot, net: Network):
    n = await flag(bot, "Egypt | Lawyer arrested")
    await bot.send(f"/case note {n} Called the family", user=net.user(1))
    await bot.send(f"/case note {n} Wrong case, sorry", user=net.user(2))
    first, second = note_ids(bot, n)
    shown = await bot.say(f"/case {n}")
    assert f"note {first}: Called the family" in shown
    refusal = (f"There is no note {first} of yours on #{n}: only whoever wrote a note, or the "
               "secretariat, can delete it.")
    assert await bot.say(f"/case unnote {n} {first}", user=net.user(2)) == refusal
    assert await bot.say(f"/case unnote {n} 999", user=net.user(2)) == refusal.replace(
        f"note {first}", "note 999")
    assert await bot.say(f"/case unnote {n} {second}", user=net.user(2)) == (
        f"Note {second} deleted from #{n}.")
    assert await bot.say(f"/case unnote {n} {first}", user=bot.admin) == (
        f"Note {first} deleted from #{n}.")
    shown = await bot.say(f"/case {n}")
    assert "Called the family" not in shown and "Wrong case" not in shown
    assert f"deleted note {first}" in shown
    assert note_ids(bot, n) == []


async def test_search_cases_by_words_never_matches_what_the_caller_cannot_read(
        bot: FakeBot, net: Network):
    await flag(bot, "Egypt | Lawyer arrested at the airport #detention")
    await flag(bot, "Bahrain | Lawyer Zainab summoned --confidential")
    await flag(bot, "Tunisia | Journalist threatened")
    await bot.send("/case note 3 the lawyer of the family called")
    found = await bot.say("/cases search lawyer")
    assert found.startswith("2 cases match “lawyer”")
    assert "#1" in found and "#3" in found and "#2" not in found
    assert "No case matches" in await bot.say("/cases search zainab")
    await bot.send(f"/role grant {net.user(9)} secretariat", user=bot.admin)
    private = await bot.say("/cases search lawyer zainab", user=net.user(9), dm=True)
    assert private.startswith("1 case matches “lawyer zainab”") and "#2" in private
    assert "No case matches" in await bot.say("/cases search zainab", user=net.user(9))
    assert "Missing <words>" in await bot.say("/cases search")
