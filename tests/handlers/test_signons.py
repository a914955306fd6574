"""Sign-ons: one list from both networks, duplicates caught by the database."""

from __future__ import annotations

import csv
import io
import threading
import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from storage.database import Database
from storage.models import AuditEntry
from storage.statements import Signature, Statement, normalise_org_name, sign
from tests.harness import START, FakeBot, Network


@pytest.fixture
async def s1(bot: FakeBot, net: Network) -> str:
    await bot.send(f"/role grant {net.user(9)} secretariat", user=bot.admin)
    await bot.send("/statement new Letter deadline=2026-12-01", user=net.user(9))
    return net.user(9)


# -- normalisation, as properties ----------------------------------------------------------

@given(st.text())
def test_normalisation_is_idempotent(name: str):
    once = normalise_org_name(name)
    assert normalise_org_name(once) == once


@given(st.text())
def test_compatibility_forms_map_equal(name: str):
    for form in ("NFC", "NFD", "NFKC", "NFKD"):
        assert normalise_org_name(unicodedata.normalize(form, name)) == normalise_org_name(name)


words = st.lists(st.text(alphabet=st.characters(categories=["Lu", "Ll"]), min_size=1,
                         max_size=8), min_size=1, max_size=5)
separators = st.sampled_from([" ", "  ", " - ", ".", ", ", "\t", "/", " · "])


@given(words, st.lists(separators, min_size=5, max_size=5), st.booleans())
def test_spellings_of_one_name_map_equal(parts: list[str], seps: list[str], upper: bool):
    plain = " ".join(parts)
    spelled = "".join(p + s for p, s in zip(parts, seps, strict=False)).strip(" -./,·\t")
    spelled = spelled.upper() if upper else spelled.lower()
    if plain.upper().casefold() != plain.casefold() or plain.lower().casefold() != plain.casefold():
        return  # letters whose case mapping is not reversible (e.g. dotless i) are other names
    assert normalise_org_name(spelled) == normalise_org_name(plain)


@pytest.mark.parametrize(("a", "b"), [
    ("Human Rights Watch", "human  rights-watch."),
    ("Lawyers & Advocates", "Lawyers and Advocates"),
    ("ＡＢＣ Foundation", "ABC foundation"),
    ("Café Collective", "Cafe\u0301 Collective"),
    ("مركز القاهرة لدراسات حقوق الإنسان", "مركز القاهرة  لدراسات حقوق الإنسان"),
    ("Asociación Pro Derechos Humanos", "Asociacion Pro Derechos Humanos"),
    ("\u0410mnesty International", "Amnesty International"),  # Cyrillic A
    ("\u0397uman Rights W\u0430tch", "Human Rights Watch"),  # Greek Eta, Cyrillic a
    ("Amnes\u00adty International", "Amnesty International"),  # a soft hyphen
    ("«Voices» Collective", "Voices Collective"),
    ("ＡＳＯＣＩＡＣＩÓＮ", "asociacion"),
])
def test_known_equal_names(a: str, b: str):
    assert normalise_org_name(a) == normalise_org_name(b)


def test_different_names_stay_different():
    assert normalise_org_name("Front Line Defenders") != normalise_org_name("Frontline")
    assert normalise_org_name("हिंदी संगठन") != normalise_org_name("हद सगठन")  # marks kept


# -- the database, not check-then-insert ------------------------------------------------------

def test_the_unique_index_refuses_a_second_active_signature(database_url: str):
    database = Database(database_url)
    database.upgrade()
    with database.session() as db:
        db.add(Statement(id=1, title="x", created_by="a", created_at=START))
        db.commit()
        for _ in range(2):
            db.add(Signature(statement_id=1, org_name="Org", org_key="org", signed_by="a",
                             signed_in="r", signed_at=START))
        with pytest.raises(IntegrityError):
            db.commit()
    database.dispose()


def test_two_sign_ons_at_the_same_moment_yield_one_record(database_url: str):
    database = Database(database_url)
    database.upgrade()
    with database.session() as db:
        db.add(Statement(id=1, title="x", created_by="a", created_at=START))
        db.commit()
    barrier = threading.Barrier(4)
    results: list[bool] = []
    errors: list[BaseException] = []

    def worker(n: int) -> None:
        try:
            with database.session() as db:
                barrier.wait()
                _, created = sign(db, Signature(
                    statement_id=1, org_name=f"Human Rights Watch{'.' * n}",
                    org_key="human rights watch", signed_by=f"telegram:{n}", signed_in="r",
                    signed_at=START))
                db.commit()
                results.append(created)
        except BaseException as exc:  # pragma: no cover - shown by the assert below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    assert sorted(results) == [False, False, False, True]
    with database.session() as db:
        assert len(db.exec(select(Signature)).all()) == 1
    database.dispose()


# -- the commands ----------------------------------------------------------------------------

async def test_signon_from_both_networks_into_one_list(bot: FakeBot, s1: str):
    other = "matrix:@ana:example.org" if bot.net.name == "telegram" else "telegram:4242"
    other_room = "matrix:!ordinary:example.org" if bot.net.name == "telegram" else "telegram:-5"
    await bot.send('/signon S1 "Cairo Institute" | Egypt')
    answer = await bot.say("/signon S1 Gulf Centre | Lebanon", user=other, room=other_room)
    assert answer == ("Signed S1 for Gulf Centre (Lebanon).\n"
                      "2 organisations from 2 countries so far.")
    listing = await bot.say("/signatories S1")
    assert "• Cairo Institute (Egypt)\n• Gulf Centre (Lebanon)" in listing


async def test_duplicate_signon_says_who_and_when(bot: FakeBot, s1: str, net: Network):
    await bot.send('/signon S1 "Human Rights Watch"', user=net.user(1), name="Ana")
    bot.advance(hours=2)
    answer = await bot.say("/signon S1 human-rights watch.", user=s1)  # the secretariat
    assert answer == (f"Human Rights Watch already signed S1 — by Ana ({net.user(1)}), "
                      "Mon 23 Nov 2026, 10:00.")
    # Anyone else learns only that it is recorded: the same words as for an unlisted one.
    assert await bot.say("/signon S1 human-rights watch.", user=net.user(2)) == (
        "That organisation's signature on S1 is already recorded. Only whoever signed, or the "
        "secretariat, can change it.")


async def test_signon_records_every_field(bot: FakeBot, s1: str, net: Network):
    await bot.send('/signon S1 "CIHRS" | EGY level=regional ecosoc=special')
    with bot.database.session() as db:
        row = db.exec(select(Signature)).one()
    assert (row.org_name, row.country, row.level, row.ecosoc, row.unlisted) == (
        "CIHRS", "EG", "regional", "special", False)
    assert (row.signed_by, row.signed_in, row.text_version, row.signed_at) == (
        net.user(1), net.room, 1, bot.now)


async def test_signon_bad_input(bot: FakeBot, s1: str):
    assert "level= must be one of: local, national" in await bot.say("/signon S1 Org level=big")
    assert "I don't know the country 'Narnia'" in await bot.say("/signon S1 Org | Narnia")
    assert "Which organisation?" in await bot.say("/signon S1")
    assert "The organisation's name is empty." in await bot.say('/signon S1 "..."')
    assert "the limit is 300" in await bot.say("/signon S1 " + "x" * 301)


async def test_unlisted_is_counted_never_named(bot: FakeBot, s1: str, net: Network):
    await bot.send("/signon S1 Open Org | Egypt")
    answer = await bot.say("/signon S1 Hidden Org | Bahrain unlisted", user=net.user(2))
    assert "unlisted: it counts, the name is never printed" in answer
    assert "Please delete your message here" in answer
    dm = await bot.say("/signon S1 Hidden Two --unlisted", user=net.user(2), dm=True)
    assert "Please delete" not in dm
    listing = await bot.say("/signatories S1")
    assert "3 organisations from 2 countries (2 unlisted, not named)" in listing
    assert "Hidden" not in listing
    probe = await bot.say("/signon S1 hidden org", user=net.user(3))
    assert probe == ("That organisation's signature on S1 is already recorded. Only whoever "
                     "signed, or the secretariat, can change it.")
    assert "Hidden" not in await bot.say("/statement S1", user=net.user(2))
    assert "Hidden Org" in await bot.say("/statement S1", user=net.user(2), dm=True)


async def test_withdraw_keeps_history_and_allows_signing_again(bot: FakeBot, s1: str,
                                                               net: Network):
    await bot.send("/signon S1 Org A | Egypt", user=net.user(1))
    refusal = ("There is no signature of that organisation on S1 that you can withdraw: only "
               "whoever signed, or the secretariat, can withdraw one.")
    assert (await bot.say("/withdraw S1 org a", user=net.user(2))).startswith(refusal)
    assert (await bot.say("/withdraw S1 Org A", user=net.user(1))).startswith(
        "Org A withdrawn from S1; 0 organisations from 0 countries remain.")
    assert (await bot.say("/withdraw S1 Org A")).startswith(refusal)
    assert "Signed S1 for Org A" in await bot.say("/signon S1 Org A", user=net.user(2))
    await bot.send("/withdraw S1 Org A", user=s1)  # the secretariat may
    with bot.database.session() as db:
        rows = db.exec(select(Signature).order_by(Signature.id)).all()
    assert [(r.signed_by, r.withdrawn_by) for r in rows] == [
        (net.user(1), net.user(1)), (net.user(2), s1)]


async def test_signatories_alphabetical_and_paged(bot: FakeBot, s1: str):
    for name in ["zeta", "Alpha", "beta"] + [f"Org {k:02d}" for k in range(60)]:
        await bot.send(f"/signon S1 {name}")
    first = await bot.say("/signatories S1")
    lines = [ln[2:] for ln in first.split("\n") if ln.startswith("• ")]
    assert lines[:3] == ["Alpha", "beta", "Org 00"] and len(lines) == 50
    assert "page 1 of 2" in first and "More: /signatories S1 page=2" in first
    second = await bot.say("/signatories S1 page=2")
    assert second.split("\n")[-1] == "• zeta"
    assert "Page 3 does not exist" in await bot.say("/signatories S1 page=3")


async def test_org_profile_signs_alone(bot: FakeBot, s1: str):
    assert "No organisation saved" in await bot.say("/org")
    await bot.send('/org set "Front Line Defenders" | Ireland level=international '
                   "ecosoc=special")
    assert await bot.say("/org") == (
        "You sign for: Front Line Defenders · Ireland · level international · ECOSOC special")
    assert (await bot.say("/signon S1")).startswith("Signed S1 for Front Line Defenders (Ireland)")
    with bot.database.session() as db:
        row = db.exec(select(Signature)).one()
    assert (row.country, row.level, row.ecosoc) == ("IE", "international", "special")


async def test_the_word_unlisted_inside_a_name_is_the_name(bot: FakeBot, s1: str):
    answer = await bot.say("/signon S1 Voices of the unlisted | Egypt")
    assert answer.startswith("Signed S1 for Voices of the unlisted (Egypt).")
    assert "Voices of the unlisted (Egypt)" in await bot.say("/signatories S1")


@pytest.mark.parametrize("typed", ["/signon S1 Hidden Org | Egypt unlisted",
                                   "/signon S1 Hidden Org --unlisted | Egypt",
                                   "/signon S1 Hidden Org | Egypt unlisted level=local"])
async def test_unlisted_as_an_option_still_works(bot: FakeBot, s1: str, typed: str):
    assert "unlisted: it counts" in await bot.say(typed)
    with bot.database.session() as db:
        row = db.exec(select(Signature)).one()
    assert (row.org_name, row.unlisted) == ("Hidden Org", True)


async def test_a_bare_flag_word_is_no_organisation(bot: FakeBot, s1: str):
    answer = await bot.say("/signon S1 unlisted")
    assert "--unlisted" in answer and "Signed" not in answer
    with bot.database.session() as db:
        assert db.exec(select(Signature)).all() == []


@pytest.mark.parametrize("typed", ['/signon S1 "\u200b\u200b"', '/signon S1 "\u2060" | Egypt',
                                   '/signon S1 "" | Egypt', '/signon S1 "\x00\x1b"'])
async def test_an_invisible_name_never_signs_for_the_saved_organisation(
        bot: FakeBot, s1: str, typed: str):
    await bot.send("/org set Saved Org | Egypt")
    answer = await bot.say(typed)
    assert "The organisation's name is empty." in answer
    with bot.database.session() as db:
        assert db.exec(select(Signature)).all() == []


async def test_an_empty_name_without_a_saved_organisation_is_refused(bot: FakeBot, s1: str):
    answer = await bot.say('/signon S1 "" | Egypt')
    assert "The organisation's name is empty." in answer and "went wrong" not in answer


async def test_control_characters_never_reach_the_record(bot: FakeBot, s1: str):
    await bot.send("/signon S1 Org\x00 \x1b[2JName | Egypt")
    with bot.database.session() as db:
        assert db.exec(select(Signature.org_name)).one() == "Org [2JName"


async def test_an_accent_only_variant_is_the_same_signature(bot: FakeBot, s1: str, net: Network):
    await bot.send("/signon S1 Asociación Pro Derechos Humanos | Spain")
    answer = await bot.say("/signon S1 Asociacion Pro Derechos Humanos", user=net.user(2))
    assert answer.startswith("That organisation's signature on S1 is already recorded.")
    assert "1 organisation from 1 country" in await bot.say("/signatories S1")


async def test_guillemets_stay_in_the_printed_name(bot: FakeBot, s1: str):
    answer = await bot.say("/signon S1 «Voices» Collective | Egypt")
    assert answer.startswith("Signed S1 for «Voices» Collective (Egypt).")


# -- signing again after the text changed ----------------------------------------------------

def signature_of(bot: FakeBot, name: str) -> Signature:
    with bot.database.session() as db:
        return db.exec(select(Signature).where(Signature.org_name == name)
                       .where(col(Signature.withdrawn_at).is_(None))).one()


async def test_signing_again_reconfirms_on_the_new_text(bot: FakeBot, s1: str, net: Network):
    await bot.send("/signon S1 Org A | Egypt")
    await bot.send("/statement text S1 Second version", user=s1)
    answer = await bot.say("/signon S1 Org A")
    assert answer == "Re-confirmed S1 for Org A on text version 2."
    assert signature_of(bot, "Org A").text_version == 2
    assert "†" not in await bot.say("/signatories S1")


async def test_signing_again_with_ecosoc_follows_the_export_advice(bot: FakeBot, s1: str):
    await bot.send("/signon S1 Sponsor Org | Egypt ecosoc=general", user=s1)
    await bot.send("/signon S1 Org A | Egypt")
    assert "re-sign with ecosoc=" in await bot.say("/statement export S1 hrc", user=s1)
    answer = await bot.say("/signon S1 Org A ecosoc=special level=national")
    assert answer.startswith("Re-confirmed S1 for Org A on text version 1")
    row = signature_of(bot, "Org A")
    assert (row.ecosoc, row.level, row.country) == ("special", "national", "EG")


async def test_the_secretariat_may_reconfirm(bot: FakeBot, s1: str):
    await bot.send("/signon S1 Org A | Egypt")
    await bot.send("/statement text S1 Second version", user=s1)
    assert (await bot.say("/signon S1 org a", user=s1)).startswith("Re-confirmed S1 for Org A")


async def test_someone_else_gets_the_neutral_answer(bot: FakeBot, s1: str, net: Network):
    await bot.send("/signon S1 Org A | Egypt")
    await bot.send("/statement text S1 Second version", user=s1)
    answer = await bot.say("/signon S1 Org A ecosoc=roster", user=net.user(2))
    assert answer == ("That organisation's signature on S1 is already recorded. Only whoever "
                      "signed, or the secretariat, can change it.")
    row = signature_of(bot, "Org A")
    assert (row.text_version, row.ecosoc) == (1, None)


async def test_an_unlisted_name_is_not_printed_when_reconfirmed_in_a_room(bot: FakeBot, s1: str):
    await bot.send("/signon S1 Hidden Org | Egypt unlisted")
    await bot.send("/statement text S1 Second version", user=s1)
    answer = await bot.say("/signon S1 Hidden Org")
    assert "Hidden" not in answer and "Re-confirmed" in answer
    assert signature_of(bot, "Hidden Org").text_version == 2
    assert "Hidden Org" in await bot.say("/signon S1 Hidden Org ecosoc=special", dm=True)


async def test_after_close_only_the_secretariat_withdraws_and_it_is_marked_late(
        bot: FakeBot, s1: str, net: Network):
    await bot.send("/signon S1 Org A", user=net.user(1))
    await bot.send("/statement close S1", user=s1)
    bot.advance(minutes=5)
    refusal = "S1 is closed: only the secretariat can withdraw a signature now."
    assert (await bot.say("/withdraw S1 Org A", user=net.user(1))).startswith(refusal)
    assert (await bot.say("/withdraw S1 Nobody Signed This", user=net.user(1))).startswith(
        refusal)
    assert (await bot.say("/withdraw S1 Org A", user=s1)).startswith(
        "Org A withdrawn from S1 after it closed (marked late); 0 organisations from 0 "
        "countries remain.")
    with bot.database.session() as db:
        entry = db.exec(select(AuditEntry).where(AuditEntry.action == "statement.withdraw")).one()
    assert entry.detail == "Org A (late: after the close)"
    bot.advance(minutes=5)
    await bot.send("/statement reopen S1", user=s1)
    await bot.send("/signon S1 Org B", user=net.user(1))
    await bot.send("/withdraw S1 Org B", user=net.user(1))
    reply = await bot.send("/statement export S1 csv", user=s1, room=net.secure_room)
    assert reply is not None and reply.file is not None
    rows = csv.DictReader(io.StringIO(reply.file.data.decode("utf-8-sig")))
    assert {r["organisation"]: r["withdrawn_late"] for r in rows} == {"Org A": "yes",
                                                                      "Org B": "no"}
