"""The real python-telegram-bot against the Bot API double, over HTTP on 127.0.0.1."""

from __future__ import annotations

import asyncio
import csv
import io
import time
from pathlib import Path

import aiohttp
import pytest
from sqlmodel import select
from telegram import Bot
from telegram.error import BadRequest

from bot.deliveries import Edit, Relay, Text
from bot.outbox import Delivery
from bot.replies import Reply
from bot.telegram.translate import split_html
from storage.cases import Case
from storage.inbound import ResumePoint
from storage.outbox import OutboxMessage
from tests.botapi_double import BotApiDouble
from tests.integration.conftest import (
    ADMIN,
    CAUCUS,
    MEMBER,
    SECURE,
    lock_the_database_once,
    stop,
)

pytestmark = pytest.mark.integration


def texts(api: BotApiDouble, chat_id: int) -> list[str]:
    return [s.plain for s in api.sent_to(chat_id)]


async def test_command_gets_an_html_reply_to_the_message(api: BotApiDouble, start_bot):
    await start_bot()
    asked = await api.user_message(CAUCUS, api.user(MEMBER, "Ana"), "/whoami")
    [answer] = await api.wait_for(lambda: api.sent_to(CAUCUS))
    assert answer.parse_mode == "HTML" and answer.reply_to == asked["message_id"]
    assert answer.plain.startswith(f"You: Ana — id telegram:{MEMBER}, role member")
    assert "<code>telegram:1001</code>" in answer.text


async def test_command_addressed_to_the_bot_or_to_another(api: BotApiDouble, start_bot):
    await start_bot()
    await api.user_message(CAUCUS, api.user(MEMBER), "/help@OtherBot")
    await api.user_message(CAUCUS, api.user(MEMBER), "/start@CaucusBot")
    await api.wait_for(lambda: api.sent_to(CAUCUS))
    await api.user_message(CAUCUS, api.user(MEMBER), "/whoami")
    sent = await api.wait_for(lambda: len(api.sent_to(CAUCUS)) == 2 and api.sent_to(CAUCUS))
    assert "helps the coalition flag cases" in sent[0].plain
    assert sent[1].plain.startswith("You:")


async def test_hostile_html_is_escaped(api: BotApiDouble, start_bot):
    await start_bot()
    hostile = '<script>alert("x")</script> & <b>bold</b> <a href="javascript:x">y</a>'
    await api.user_message(CAUCUS, api.user(MEMBER), f"/flag Egypt | {hostile}")
    [answer] = await api.wait_for(lambda: api.sent_to(CAUCUS))
    assert hostile in answer.plain  # shown as typed, not interpreted
    assert "<script>" not in answer.text and "&lt;script&gt;" in answer.text


async def test_long_replies_are_split_on_line_boundaries(api: BotApiDouble, start_bot):
    await start_bot()
    await api.user_message(SECURE, api.user(ADMIN), "/statement new Letter")
    await api.wait_for(lambda: api.sent_to(SECURE))
    for n in range(120):
        await api.user_message(SECURE, api.user(ADMIN),
                               f'/signon S1 "Organisation for Human Rights number {n:03d}" | '
                               "Egypt")
    await api.wait_for(lambda: len(api.sent_to(SECURE)) == 121, seconds=60)
    await api.user_message(SECURE, api.user(ADMIN), "/statement export S1 text")
    sent = await api.wait_for(lambda: len(api.sent_to(SECURE)) >= 124 and api.sent_to(SECURE))
    parts = [s for s in sent[121:] if s.method == "sendMessage"]
    document = [s for s in sent[121:] if s.method == "sendDocument"]
    assert len(parts) == 2 and all(len(p.plain) <= 4096 for p in parts)
    joined = "\n".join(p.plain for p in parts)
    assert joined.splitlines()[0] == "Organisation for Human Rights number 000 (Egypt)"
    assert "120 organisations from 1 country" in joined
    assert document and document[0].document is not None
    assert document[0].document[0] == "S1-signatories.txt"


async def test_an_export_arrives_as_a_document(api: BotApiDouble, start_bot):
    await start_bot()
    await api.user_message(SECURE, api.user(ADMIN), "/flag Egypt | Lawyer arrested")
    await api.wait_for(lambda: api.sent_to(SECURE))
    await api.user_message(SECURE, api.user(ADMIN), "/case export")
    sent = await api.wait_for(lambda: len(api.sent_to(SECURE)) == 2 and api.sent_to(SECURE))
    doc = sent[1]
    assert doc.method == "sendDocument" and doc.document is not None
    name, data = doc.document
    assert name.startswith("cases-") and name.endswith(".csv")
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0]["summary"] == "Lawyer arrested"
    assert doc.plain == "1 case exported."  # the caption


async def test_the_indicators_chart_arrives_as_a_photo(api: BotApiDouble, start_bot):
    await start_bot()
    await api.user_message(SECURE, api.user(ADMIN), "/indicators")
    sent = await api.wait_for(lambda: [s for s in api.sent_to(SECURE)
                                       if s.method == "sendPhoto"])
    texts_before = [s for s in api.sent_to(SECURE) if s.method == "sendMessage"]
    assert texts_before and texts_before[0].plain.startswith("Indicators, the 12 months to")
    assert sent[0].photo is not None and sent[0].photo.startswith(b"\x89PNG\r\n\x1a\n")


async def test_flood_control_is_waited_out_and_nothing_is_lost(api: BotApiDouble, start_bot):
    await start_bot()
    api.fail("sendMessage", 429, "Too Many Requests: retry after 1", retry_after=1)
    started = time.monotonic()
    await api.user_message(CAUCUS, api.user(MEMBER), "/whoami")
    [answer] = await api.wait_for(lambda: api.sent_to(CAUCUS))
    assert time.monotonic() - started >= 1.0
    assert answer.plain.startswith("You:")
    assert [m for m, _ in api.calls].count("sendMessage") == 2


async def test_a_forbidden_chat_is_kept_as_failed_not_retried(api: BotApiDouble, start_bot):
    service = await start_bot()
    api.fail("sendMessage", 403, "Forbidden: bot was kicked from the supergroup chat", times=5)
    await api.user_message(CAUCUS, api.user(MEMBER), "/whoami")

    def failed():
        with service.database.session() as db:
            return db.exec(select(OutboxMessage).where(OutboxMessage.status == "failed")).all()

    [row] = await api.wait_for(failed)
    assert "bot was kicked" in (row.last_error or "")
    assert [m for m, _ in api.calls].count("sendMessage") == 1


async def test_restart_neither_misses_nor_repeats(api: BotApiDouble, start_bot):
    first = await start_bot()
    await api.user_message(CAUCUS, api.user(MEMBER), "/flag Egypt | Lawyer arrested")
    await api.wait_for(lambda: api.sent_to(CAUCUS))
    await stop(first)
    # While the bot is down a member writes; and the stored offset is lost, so the
    # double hands back every update it still holds.
    await api.user_message(CAUCUS, api.user(MEMBER), "/flag Iran | Journalist summoned")
    with first.database.session() as db:
        db.delete(db.get(ResumePoint, "telegram.offset"))
        db.commit()
    second = await start_bot()
    sent = await api.wait_for(lambda: len(api.sent_to(CAUCUS)) >= 2 and api.sent_to(CAUCUS))
    await api.user_message(CAUCUS, api.user(MEMBER), "/cases")
    await api.wait_for(lambda: len(api.sent_to(CAUCUS)) >= 3)
    with second.database.session() as db:
        assert [c.country for c in db.exec(select(Case).order_by(Case.id))] == ["EG", "IR"]
    sent = texts(api, CAUCUS)
    assert [t.split(":")[0] for t in sent] == ["Case #1 flagged", "Case #2 flagged",
                                               "2 cases, newest first (page 1 of 1)"]


async def test_unauthorised_group_is_told_once_and_left(api: BotApiDouble, start_bot):
    await start_bot()
    stranger = -1009999999
    await api.bot_added(stranger, api.user(777, "Someone"), "Random group")
    await api.wait_for(lambda: stranger in api.left)
    await api.user_message(stranger, api.user(777), "/help")
    await api.user_message(CAUCUS, api.user(MEMBER), "/whoami")
    await api.wait_for(lambda: api.sent_to(CAUCUS))
    [goodbye] = api.sent_to(stranger)
    assert "is not authorised in this group" in goodbye.plain


async def test_command_menu_matches_what_members_see_in_help(api: BotApiDouble, start_bot):
    service = await start_bot()
    await api.wait_for(lambda: api.commands)  # set beside serving
    names = [c["command"] for c in api.commands]
    assert "flag" in names and "signon" in names and "sessions" in names
    assert "role" not in names and "audit" not in names
    assert names == sorted(names)
    help_text = service.dispatcher.registry  # same registry drives /help
    assert set(names) <= set(help_text.names())


async def test_a_telegram_slow_to_take_the_menu_does_not_hold_up_serving(
        api: BotApiDouble, start_bot):
    api.hold_method("setMyCommands")
    await asyncio.wait_for(start_bot(), 30)
    await api.user_message(CAUCUS, api.user(MEMBER), "/whoami")
    await api.wait_for(lambda: api.sent_to(CAUCUS))
    assert api.commands == []
    api.release_method("setMyCommands")
    await api.wait_for(lambda: api.commands)


async def test_an_edited_command_is_not_run_again(api: BotApiDouble, start_bot):
    service = await start_bot()
    asked = await api.user_message(CAUCUS, api.user(MEMBER), "/flag Egypt | one")
    await api.wait_for(lambda: api.sent_to(CAUCUS))
    await api.user_edit(CAUCUS, asked["message_id"], "/flag Egypt | one, edited")
    await api.user_message(CAUCUS, api.user(MEMBER), "/whoami")
    await api.wait_for(lambda: len(api.sent_to(CAUCUS)) == 2)
    with service.database.session() as db:
        assert len(db.exec(select(Case)).all()) == 1


async def test_direct_messages(api: BotApiDouble, start_bot):
    await start_bot()
    stranger = 424242
    await api.user_message(stranger, api.user(stranger), "hello?")
    [hint] = await api.wait_for(lambda: api.sent_to(stranger))
    assert hint.plain == "I answer commands: /help lists the ones you can use here, /start says " \
                         "what I do."
    await api.user_message(stranger, api.user(stranger), "/flag Egypt | x")
    await api.wait_for(lambda: len(api.sent_to(stranger)) == 2)
    assert "is for members of the coalition's rooms" in api.sent_to(stranger)[1].plain


async def test_captions_photos_and_documents(api: BotApiDouble, start_bot, tmp_path: Path):
    service = await start_bot()
    await api.user_message(CAUCUS, api.user(MEMBER), "/whoami",
                           document=("report.pdf", b"%PDF-1.7 evidence", "application/pdf"))
    [answer] = await api.wait_for(lambda: api.sent_to(CAUCUS))
    assert answer.plain.startswith("You:")  # a caption is read like a message
    photo = await api.user_message(CAUCUS, api.user(MEMBER), "", photo=b"\x89PNG fake")
    adapter = service.adapters[0]
    await adapter.fetch_file(photo["photo"][-1]["file_id"], tmp_path / "photo")
    assert (tmp_path / "photo").read_bytes() == b"\x89PNG fake"


async def test_polling_survives_network_errors(api: BotApiDouble, start_bot):
    await start_bot()
    api.fail("getUpdates", 502, "Bad Gateway", times=2)
    await api.user_message(CAUCUS, api.user(MEMBER), "/whoami")
    [answer] = await api.wait_for(lambda: api.sent_to(CAUCUS), seconds=15)
    assert answer.plain.startswith("You:")


async def test_an_update_that_could_not_be_recorded_is_polled_again(api: BotApiDouble,
                                                                    start_bot):
    """The database was locked (or full) for a moment: the command must not be lost."""
    service = await start_bot()
    calls = lock_the_database_once(service)
    recovered: list[bool] = []
    service.adapters[0].on_recovered = lambda: recovered.append(True)
    await api.user_message(CAUCUS, api.user(MEMBER), "/flag Egypt | Lawyer arrested")
    [answer] = await api.wait_for(lambda: api.sent_to(CAUCUS), seconds=15)
    assert answer.plain.startswith("Case #1 flagged")
    assert calls == ["/flag Egypt | Lawyer arrested"] * 2
    assert recovered == []  # Telegram never went away: its waiting rows keep their backoff


async def test_an_update_that_breaks_a_handler_is_skipped_not_repeated(api: BotApiDouble,
                                                                      start_bot):
    """A bug must not stop the chat: the update after a poisoned one is answered."""
    service = await start_bot()
    receive = service.inbound.receive

    async def poisoned(*args, **kwargs):  # type: ignore[no-untyped-def]
        if "poison" in args[0].text:
            raise ValueError("a bug in translating this update")
        return await receive(*args, **kwargs)

    service.inbound.receive = poisoned  # type: ignore[method-assign]
    await api.user_message(CAUCUS, api.user(MEMBER), "/whoami poison")
    await api.user_message(CAUCUS, api.user(MEMBER), "/whoami")
    [answer] = await api.wait_for(lambda: api.sent_to(CAUCUS))
    assert answer.plain.startswith("You:")
    with service.database.session() as db:
        stored = db.get(ResumePoint, "telegram.offset")
    assert stored is not None and stored.value == "3"  # past both updates (ids 1 and 2)


async def test_an_update_the_library_cannot_read_is_skipped_and_its_text_never_logged(
        api: BotApiDouble, start_bot, caplog: pytest.LogCaptureFixture):
    """A shape python-telegram-bot cannot parse (a newer Bot API, a bug) once ended the
    poll loop for good, and the library logged the whole batch, message text and all. Now
    that one update is skipped, the ones around it are answered, and no text is logged."""
    service = await start_bot()
    await api.user_message(CAUCUS, api.user(MEMBER), "/whoami")
    # Update 2: a date that is not a Unix time, on which Message.de_json fails.
    await api.user_message(CAUCUS, api.user(MEMBER), "Omar Haddad was taken at dawn",
                           extra={"date": "dawn"})
    await api.user_message(CAUCUS, api.user(MEMBER), "/whoami")
    answers = await api.wait_for(lambda: len(api.sent_to(CAUCUS)) >= 2 and api.sent_to(CAUCUS),
                                 seconds=15)
    assert [a.plain.startswith("You:") for a in answers] == [True, True]
    await api.user_message(CAUCUS, api.user(MEMBER), "/whoami")  # still polling after it
    await api.wait_for(lambda: len(api.sent_to(CAUCUS)) >= 3, seconds=15)
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "Omar" not in logged and "dawn" not in logged
    assert "telegram: update 2 could not be read" in logged
    with service.database.session() as db:
        stored = db.get(ResumePoint, "telegram.offset")
    assert stored is not None and stored.value == "5"  # past all four updates


async def test_a_relay_telegram_cannot_parse_arrives_as_plain_text(api: BotApiDouble,
                                                                 start_bot):
    """Telegram's HTML parser is the judge: a message it refuses as HTML still arrives."""
    service = await start_bot()
    adapter = service.adapters[0]
    broken = "<b>Ana</b>: 3 < 5 <b>unclosed"  # as if the converter had slipped
    message_id = await adapter.send(Delivery(
        1, f"telegram:{CAUCUS}", "1-x", Relay(Text("Ana: 3 < 5 unclosed", broken))))
    [sent] = api.sent_to(CAUCUS)
    assert str(sent.message_id) == message_id
    assert sent.plain == "Ana: 3 < 5 unclosed"
    await adapter.send(Delivery(2, f"telegram:{CAUCUS}", "2-x",
                                Edit(Text("Ana: 3 < 5 edited", "<i>Ana</i>: <i>edited")),
                                target_id=message_id))
    assert sent.plain == "Ana: 3 < 5 edited"  # an edit, the same way


def posted_update(api: BotApiDouble, text: str) -> dict:
    """What Telegram posts to a webhook: update 1, message 5 from a member in the caucus."""
    return {"update_id": 1, "message": {
        "message_id": 5, "from": api.user(MEMBER), "chat": api.chat(CAUCUS),
        "date": int(time.time()), "text": text}}


async def test_webhook_mode(api: BotApiDouble, start_bot, unused_tcp_port: int):
    url = f"http://127.0.0.1:{unused_tcp_port}/telegram"
    await start_bot(mode="webhook", webhook_url=url, webhook_port=unused_tcp_port,
                    webhook_secret="s3cret-token")
    assert api.webhook == url
    update = posted_update(api, "/whoami")
    async with aiohttp.ClientSession() as http:
        async with http.post(url, json=update) as refused:
            assert refused.status == 403
        async with http.post(url, json=update,
                             headers={"X-Telegram-Bot-Api-Secret-Token": "s3cret-token"}) as ok:
            assert ok.status == 200
    [answer] = await api.wait_for(lambda: api.sent_to(CAUCUS))
    assert answer.plain.startswith("You:") and answer.reply_to == 5


async def test_a_webhook_update_that_could_not_be_recorded_is_refused_for_a_retry(
        api: BotApiDouble, start_bot, unused_tcp_port: int):
    """With a webhook, answering "ok" is what makes Telegram forget an update: an update the
    database could not take gets an error answer, and Telegram's next delivery is handled."""
    url = f"http://127.0.0.1:{unused_tcp_port}/telegram"
    service = await start_bot(mode="webhook", webhook_url=url, webhook_port=unused_tcp_port)
    calls = lock_the_database_once(service)
    update = posted_update(api, "/flag Egypt | Lawyer arrested")
    async with aiohttp.ClientSession() as http:
        async with http.post(url, json=update) as first:
            assert first.status == 503
        assert api.sent_to(CAUCUS) == []
        async with http.post(url, json=update) as again:  # Telegram's retry
            assert again.status == 200
    [answer] = await api.wait_for(lambda: api.sent_to(CAUCUS))
    assert answer.plain.startswith("Case #1 flagged")
    assert calls == ["/flag Egypt | Lawyer arrested"] * 2


async def test_a_webhook_update_that_cannot_be_read_is_skipped_not_retried_forever(
        api: BotApiDouble, start_bot, unused_tcp_port: int, caplog: pytest.LogCaptureFixture):
    """An error answer would have Telegram deliver an update the bot can never read again
    and again; it is logged without its text and answered "ok", and the next one handled."""
    url = f"http://127.0.0.1:{unused_tcp_port}/telegram"
    await start_bot(mode="webhook", webhook_url=url, webhook_port=unused_tcp_port)
    unreadable = posted_update(api, "Omar Haddad was taken at dawn")
    unreadable["message"]["date"] = "dawn"
    update = posted_update(api, "/whoami")
    update["update_id"] = 2
    async with aiohttp.ClientSession() as http:
        async with http.post(url, data=b"{not json") as junk:
            assert junk.status == 400
        async with http.post(url, json=unreadable) as skipped:
            assert skipped.status == 200
        async with http.post(url, json=update) as ok:
            assert ok.status == 200
    [answer] = await api.wait_for(lambda: api.sent_to(CAUCUS))
    assert answer.plain.startswith("You:")
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "telegram: webhook update 1 could not be read (" in logged
    assert "Omar" not in logged and "dawn" not in logged


def test_split_html_never_cuts_a_tag():
    from bot.replies import b, line

    reply = Reply(tuple(line(b(f"#{n}"), " " + "x" * 100) for n in range(100)))
    chunks = split_html(reply, limit=1000)
    assert all(len(c) <= 1000 for c in chunks)
    assert all(c.count("<b>") == c.count("</b>") for c in chunks)
    assert "\n".join(chunks) == reply.html(html_lists=False)
    huge = split_html(Reply.text("<" * 9000), limit=4096)
    assert all(len(c) <= 4096 for c in huge) and "".join(huge) == "&lt;" * 9000


async def test_the_double_stops_only_the_bots_own_polls_as_telegram_does(api: BotApiDouble):
    """stopPoll: only a poll the bot sent; the bot hears of its own poll's close as a
    ``poll`` update. A person's poll the bot hears of only when it is stopped."""
    async with Bot(api.token, base_url=api.base_url, base_file_url=api.base_file_url) as bot:
        sent = await bot.send_poll(CAUCUS, "Lunch?", ["Yes", "No"])
        assert sent.poll is not None and not sent.poll.is_closed
        stopped = await bot.stop_poll(CAUCUS, sent.message_id)
        assert stopped.is_closed and stopped.id == sent.poll.id
        with pytest.raises(BadRequest, match=r"(?i)poll has already been closed"):
            await bot.stop_poll(CAUCUS, sent.message_id)
        [update] = await bot.get_updates(allowed_updates=["poll"])
        assert update.poll is not None and update.poll.id == sent.poll.id
        theirs = await api.user_message(CAUCUS, api.user(MEMBER), extra={"poll": {
            "id": "77", "question": "Q?", "total_voter_count": 0, "is_closed": False,
            "is_anonymous": True, "type": "regular", "allows_multiple_answers": False,
            "allows_revoting": True, "members_only": False,
            "options": [{"persistent_id": "a", "text": "A", "voter_count": 0},
                        {"persistent_id": "b", "text": "B", "voter_count": 0}]}})
        with pytest.raises(BadRequest, match=r"(?i)message with poll to stop not found"):
            await bot.stop_poll(CAUCUS, theirs["message_id"])
        await api.user_stops_poll(CAUCUS, theirs["message_id"], [2, 5])
        closed = (await bot.get_updates(offset=update.update_id + 1))[-1].poll
        assert closed is not None and closed.is_closed and closed.total_voter_count == 7


async def test_the_double_keeps_allowed_updates_as_telegram_does(api: BotApiDouble):
    """Not named: the setting of the call before; never set: all but reactions."""
    api.may_delete.add(CAUCUS)
    said = await api.user_message(CAUCUS, api.user(MEMBER), "hello")
    await api.user_reaction(CAUCUS, api.user(MEMBER), said["message_id"], [], ["👍"])
    async with Bot(api.token, base_url=api.base_url, base_file_url=api.base_file_url) as bot:
        assert [u.message is not None for u in await bot.get_updates()] == [True]
        reacted = await bot.get_updates(allowed_updates=["message_reaction"])
        assert [u.message_reaction is not None for u in reacted] == [True]
        assert [u.message_reaction is not None for u in await bot.get_updates()] == [True]


async def test_the_double_refuses_a_download_over_twenty_megabytes(api: BotApiDouble,
                                                                  tmp_path: Path):
    big = tmp_path / "big.mp4"
    with big.open("wb") as fh:
        fh.truncate(20 * 1024 * 1024 + 1)
    video = api.stored_file(big, mime_type="video/mp4")
    async with Bot(api.token, base_url=api.base_url, base_file_url=api.base_file_url) as bot:
        with pytest.raises(BadRequest, match=r"(?i)file is too big"):
            await bot.get_file(video["file_id"])
