"""Recommendations in chat, on both networks: list, show, assess, link, add, export."""

from __future__ import annotations

import csv
import io

from docx import Document

from tests.harness import FakeBot, Network

ADD = ('/rec add Egypt | Ensure that human rights defenders can work without fear of '
       'reprisals source=upr cycle=4 session=43 symbol=A/HRC/52/12 para=6.1 position=supported '
       'by="Norway, France" affected="Human rights defenders"')


async def added(bot: FakeBot) -> None:
    answer = await bot.say(ADD, user=bot.admin)
    assert answer.startswith("R1 added for Egypt: Ensure that human rights defenders")


async def test_add_list_and_show(bot: FakeBot, net: Network):
    assert "No recommendations yet" in await bot.say("/recs")
    assert "needs the secretariat role" in await bot.say(ADD)
    await added(bot)
    await bot.say('/rec add Bahrain | Abolish the death penalty source=treaty-body body=CAT '
                  'themes="Death penalty"', user=bot.admin)
    listing = await bot.say("/recs")
    assert listing.startswith("2 recommendations (page 1 of 1):")
    assert ("• R1 Egypt · UPR cycle 4, session 43 · A/HRC/52/12, para 6.1 · supported · "
            "not-assessed — Ensure that human rights defenders") in listing
    assert "• R2 Bahrain · CAT · not-assessed — Abolish the death penalty" in listing
    assert "R2" not in await bot.say("/recs Egypt")
    assert "R1" not in await bot.say("/recs #death-penalty")
    card = await bot.say("/rec R1")
    assert card.startswith("R1 — Egypt — UPR cycle 4, session 43 — A/HRC/52/12, para 6.1\n"
                           "Ensure that human rights defenders can work")
    assert "Recommended by: Norway, France" in card and "Position of the State: supported" in card
    assert "Status: not-assessed" in card
    assert "Reviewed at UPR43; next review UPR57: not in the calendar yet." in card


async def test_assessments_are_kept_per_organisation_and_disagreement_shown(bot: FakeBot):
    await added(bot)
    asked = await bot.say("/rec status R1 initiated https://example.org/draft-law")
    assert "Which organisation assesses it?" in asked and "/org set" in asked
    await bot.send('/org set "Cairo Institute" | Egypt')
    first = await bot.say("/rec status R1 initiated https://example.org/draft-law")
    assert first == "R1: Cairo Institute assesses it initiated (evidence recorded)."
    second = await bot.say('/rec status R1 not-implemented nothing has changed org="Gulf Centre"',
                           user=bot.net.user(2))
    assert second.startswith("R1: Gulf Centre assesses it not-implemented")
    assert "Other organisations hold: Cairo Institute: initiated" in second
    await bot.say("/rec status R1 partially-implemented the law passed")  # Cairo again
    card = await bot.say("/rec R1")
    assert ("Status: not-implemented (Gulf Centre) · partially-implemented (Cairo Institute) — "
            "the organisations' assessments differ; each is kept") in card
    history = card.split("Assessments\n")[1]
    assert history.index("initiated: https://example.org/draft-law") < history.index(
        "not-implemented: nothing has changed") < history.index(
        "partially-implemented: the law passed")
    assert "R1" in await bot.say("/recs Egypt not-implemented")
    assert "R1" not in await bot.say("/recs initiated")
    audit = await bot.say("/audit", user=bot.admin)
    assert audit.count("rec.status R1 by") == 3


async def test_bad_input_gets_what_was_expected(bot: FakeBot):
    await added(bot)
    assert await bot.say("/rec R9") == "There is no recommendation R9."
    assert "'X1' is not a recommendation id" in await bot.say("/rec X1")
    assert "<status> must be one of: not-assessed" in await bot.say("/rec status R1 done")
    assert "not-assessed is where every recommendation starts" in await bot.say(
        '/rec status R1 not-assessed org="A"')
    assert "A case number, like 12" in await bot.say("/rec link R1 case abc")
    assert "There is no case #4." in await bot.say("/rec link R1 case 4")
    assert "I don't know the country 'Narnia'" in await bot.say("/recs Narnia")
    assert "There is only 1 page." in await bot.say("/recs page=2")
    assert "date= must be a date like 2023-01-27" in await bot.say(
        "/rec add Egypt | Text date=soon", user=bot.admin)
    assert "symbol= is longer than 64 characters" in await bot.say(
        f"/rec add Egypt | Text symbol={'A' * 65}", user=bot.admin)


async def test_a_linked_case_card_lists_its_recommendations(bot: FakeBot):
    await added(bot)
    await bot.send("/flag Egypt | Lawyer arrested at the airport #detention")
    assert await bot.say("/rec link R1 case 1") == "#1 linked to R1; the case's card lists it."
    assert "already linked" in await bot.say("/rec link R1 case 1")
    case = await bot.say("/case 1")
    assert "Recommendations\n• R1 Egypt · UPR cycle 4, session 43" in case
    assert "linked to recommendation R1" in case
    assert "Linked cases: #1" in await bot.say("/rec R1")
    await bot.send("/role grant " + bot.net.user(9) + " secretariat", user=bot.admin)
    await bot.send('/statement new "Joint letter on Egypt" deadline=2026-12-10',
                   user=bot.net.user(9))
    assert await bot.say("/rec link R1 statement S1") == "R1 linked to statement S1."
    assert "Linked statements: S1" in await bot.say("/rec R1")


async def test_a_confidential_case_is_never_leaked_through_recommendations(bot: FakeBot,
                                                                           net: Network):
    await added(bot)
    await bot.send("/flag Egypt | Lawyer arrested")  # 1, public
    await bot.send("/flag Egypt | Journalist summoned --confidential")  # 2
    refused = await bot.say("/rec link R1 case 2")
    assert "#2 is confidential: send this in a direct message" in refused
    with bot.database.session() as db:  # the line stays on its side of the bridge
        def stays(rest: str) -> bool:
            return bot.registry.private(db, bot.registry.read("rec", rest)) is not None

        assert stays("link R1 case 2") and stays("link R1 case 7")  # 7: no such case
        assert not stays("link R1 case 1") and not stays("link R1 statement S1")
    await bot.send("/whoami", user=net.user(4))  # seen in a room: a member in a DM too
    member_dm = await bot.say("/rec link R1 case 2", dm=True, user=net.user(4))
    assert "#2 is confidential: only the secretariat" in member_dm
    assert await bot.say("/rec link R1 case 2", dm=True, user=bot.admin) == (
        "#2 linked to R1; the case's card lists it.")
    await bot.send("/rec link R1 case 1")
    ordinary = await bot.say("/rec R1", user=bot.admin)
    assert "Linked cases: #1\n" in ordinary + "\n" and "#2" not in ordinary
    assert "Linked cases: #1, #2 (confidential)" in await bot.say(
        "/rec R1", user=bot.admin, room=net.secure_room)
    private_export = await bot.send("/recs export Egypt csv", user=bot.admin, dm=True)
    assert private_export is not None and private_export.file is not None
    rows = list(csv.reader(io.StringIO(private_export.file.data.decode("utf-8-sig"))))
    assert rows[1][-1] == "#1"  # linked public cases only, wherever it is asked for
    assert "#2" not in private_export.file.data.decode("utf-8-sig")
    assert "#2" not in await bot.say("/recs", user=bot.admin, room=net.secure_room)


async def test_export_csv_and_word(bot: FakeBot):
    await added(bot)
    await bot.send('/org set "Cairo Institute" | Egypt')
    await bot.send("/rec status R1 partially-implemented https://example.org/law")
    await bot.send("/flag Egypt | Lawyer arrested")
    await bot.send("/rec link R1 case 1")
    assert "needs the secretariat role" in await bot.say("/recs export Egypt")
    reply = await bot.send("/recs export Egypt", user=bot.admin)
    assert reply is not None and reply.file is not None
    assert reply.plain() == "1 recommendation exported (csv)."
    assert reply.file.name == "recommendations-eg-2026-11-23.csv"
    rows = list(csv.reader(io.StringIO(reply.file.data.decode("utf-8-sig"))))
    assert rows[0] == ["paragraph", "recommendation", "recommending States", "position",
                       "status", "evidence", "linked public cases"]
    assert rows[1] == ["A/HRC/52/12, para 6.1",
                       "Ensure that human rights defenders can work without fear of reprisals",
                       "Norway, France", "supported", "partially-implemented (Cairo Institute)",
                       "Cairo Institute, 2026-11-23: https://example.org/law", "#1"]
    every = await bot.send("/recs export csv", user=bot.admin)
    assert every is not None and every.file is not None
    assert every.file.data.decode("utf-8-sig").splitlines()[0].startswith("State,paragraph")
    word = await bot.send("/recs export Egypt docx", user=bot.admin)
    assert word is not None and word.file is not None
    assert word.file.name.endswith(".docx") and word.plain().endswith("exported (docx).")
    document = Document(io.BytesIO(word.file.data))
    assert document.paragraphs[0].text == "Recommendations to Egypt"
    table = document.tables[0]
    assert [c.text for c in table.rows[0].cells] == list(rows[0])
    assert [c.text for c in table.rows[1].cells] == rows[1]
    assert "No recommendations match" in await bot.say("/recs export Bahrain docx",
                                                       user=bot.admin)
    audit = await bot.say("/audit", user=bot.admin)
    assert "rec.export EG by" in audit
