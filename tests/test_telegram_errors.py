"""How Telegram's answers become outbox outcomes, with no server: an injected transport.

python-telegram-bot's HTTPXRequest takes httpx's own arguments, so a
``MockTransport`` answers as the Bot API would: flood control waits and retries the
same row, a refusal keeps it as failed, a server error or a dropped connection is
tried again later. Nothing is dropped in any of them.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import httpx
import pytest
from telegram import Bot
from telegram.request import HTTPXRequest

from bot.deliveries import BotReply, Delete, Relay, Text
from bot.outbox import Delivery, DeliveryFailed, RetryLater
from bot.replies import Reply
from bot.telegram.send import TelegramSender

Answer = Callable[[httpx.Request], httpx.Response]


def sender(answer: Answer) -> TelegramSender:
    request = HTTPXRequest(httpx_kwargs={"transport": httpx.MockTransport(answer)})
    return TelegramSender(Bot("123:TEST-token-for-errors", request=request))


def api_error(status: int, description: str, **parameters: int) -> Answer:
    body: dict[str, object] = {"ok": False, "error_code": status, "description": description}
    if parameters:
        body["parameters"] = parameters
    return lambda request: httpx.Response(status, content=json.dumps(body))


def delivery() -> Delivery:
    return Delivery(1, "telegram:-100500", "1-x", BotReply(Reply.text("hello")))


async def test_flood_control_waits_as_long_as_telegram_says():
    with pytest.raises(RetryLater) as caught:
        await sender(api_error(429, "Too Many Requests: retry after 7",
                               retry_after=7)).send(delivery())
    assert caught.value.after == 7


@pytest.mark.parametrize("status, description", [
    (403, "Forbidden: bot was kicked from the supergroup chat"),
    (400, "Bad Request: chat not found"),
])
async def test_a_refusal_is_kept_as_failed_with_its_reason(status: int, description: str):
    with pytest.raises(DeliveryFailed, match="(?i)" + description.split(": ")[1]):
        await sender(api_error(status, description)).send(delivery())


async def test_a_server_error_or_a_dropped_connection_is_tried_again():
    with pytest.raises(RetryLater) as server:
        await sender(api_error(502, "Bad Gateway")).send(delivery())
    assert server.value.after is None  # the worker's own backoff

    def unreachable(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    with pytest.raises(RetryLater, match="network"):
        await sender(unreachable).send(delivery())


async def test_html_telegram_cannot_parse_goes_again_as_plain_text():
    sent: list[dict[str, object]] = []

    def answer(request: httpx.Request) -> httpx.Response:
        params = dict(httpx.QueryParams(request.content.decode()))
        sent.append(params)
        if params.get("parse_mode") == "HTML" and "<b>" in str(params.get("text")):
            return api_error(400, "Bad Request: can't parse entities: unclosed tag")(request)
        return httpx.Response(200, content=json.dumps({"ok": True, "result": {
            "message_id": 9, "date": 0, "chat": {"id": -100500, "type": "supergroup"},
            "text": params.get("text")}}))

    relay = Delivery(2, "telegram:-100500", "2-x", Relay(Text("Ana: 3 < 5", "<b>Ana</b>: <b>")))
    assert await sender(answer).send(relay) == "9"
    assert [p["text"] for p in sent] == ["<b>Ana</b>: <b>", "Ana: 3 &lt; 5"]


async def test_a_deletion_that_names_no_message_fails_without_a_request():
    """It used to go out as deleteMessage(message_id=0)."""
    asked: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        asked.append(request)
        return httpx.Response(200, content=json.dumps({"ok": True, "result": True}))

    removal = Delivery(3, "telegram:-100500", "3-x", Delete(), target_id=None)
    with pytest.raises(DeliveryFailed, match="names no message"):
        await sender(answer).send(removal)
    assert asked == []
