"""How a homeserver's answers become outbox outcomes and sync waits, with no homeserver.

matrix-nio's AsyncClient sends through the aiohttp session in its ``client_session``,
and the adapter takes one (``session=``). Here that session's connector is the
homeserver: it hands each connection, over a socket pair, to aiohttp's own HTTP
server protocol answering as a homeserver would. So nio's real requests, parsing and
the adapter's own client settings are under test, with no port, no Synapse, no network.

What must hold: a rate limit waits as long as the homeserver says and tries the same
row again; a refusal (403, 404, a file too large) keeps the row as failed with its
reason; a server error, a dropped connection or a timeout is tried again later; and
the sync loop stops the bot with what to do when the token is refused, and otherwise
syncs again with growing waits. Nothing is dropped, nothing crashes.
"""

from __future__ import annotations

import asyncio
import json
import logging
import socket
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import aiohttp
import pytest
from aiohttp import ClientRequest, web
from aiohttp.client_proto import ResponseHandler
from aiohttp.tracing import Trace
from nio import MatrixRoom

from bot.adapter import poll_backoff
from bot.config import parse_config
from bot.deliveries import BotReply, React, Redact
from bot.inbound import Inbound
from bot.matrix import DEVICE, SINCE, TOKEN, MatrixAdapter
from bot.matrix.translate import MatrixError
from bot.outbox import Delivery, DeliveryFailed, RetryLater
from bot.replies import OutFile, Reply
from storage import inbound
from tests.harness import TEST_CONFIG, FakeBot, Network

Answer = Callable[[web.BaseRequest], Awaitable[web.StreamResponse]]
BOT = "@caucusbot:example.org"
ROOM = "!ordinary:example.org"  # a configured room (tests.harness.TEST_CONFIG)
REQUEST_TIMEOUT = 0.5  # seconds: nio's, made short so that a timeout test is quick


def matrix_error(status: int, errcode: str, error: str, *, retry_after_ms: int | None = None,
                 headers: dict[str, str] | None = None) -> Answer:
    body: dict[str, Any] = {"errcode": errcode, "error": error}
    if retry_after_ms is not None:
        body["retry_after_ms"] = retry_after_ms
    return ok(body, status=status, headers=headers)


def ok(body: dict[str, Any], *, status: int = 200,
       headers: dict[str, str] | None = None) -> Answer:
    async def answer(request: web.BaseRequest) -> web.StreamResponse:
        return web.json_response(body, status=status, headers=headers)
    return answer


def page(status: int, text: str, *, headers: dict[str, str] | None = None) -> Answer:
    """What a reverse proxy answers for a homeserver that is down: HTML, no Matrix error."""
    async def answer(request: web.BaseRequest) -> web.StreamResponse:
        return web.Response(status=status, text=text, content_type="text/html",
                            headers=headers)
    return answer


async def dropped(request: web.BaseRequest) -> web.StreamResponse:
    """The connection closes before any answer (a restart, a proxy giving up)."""
    assert request.transport is not None
    request.transport.close()
    await asyncio.Event().wait()  # cancelled with the connection
    raise AssertionError("unreachable")


async def silent(request: web.BaseRequest) -> web.StreamResponse:
    """No answer ever: a half-open connection."""
    await asyncio.Event().wait()
    raise AssertionError("unreachable")


async def refused(request: web.BaseRequest) -> web.StreamResponse:
    """The homeserver's port is closed: the connector refuses before any request."""
    raise AssertionError("never called: the connection is refused")


async def long_poll(request: web.BaseRequest) -> web.StreamResponse:
    """An idle homeserver's sync: nothing new, after the timeout the client asked for."""
    await asyncio.sleep(int(request.query.get("timeout", 0)) / 1000)
    return web.json_response({"next_batch": request.query.get("since", "s0")})


HEALTHY: dict[str, list[Answer]] = {
    "/account/whoami": [ok({"user_id": BOT, "device_id": "DEVICE"})],
    "/keys/upload": [ok({"one_time_key_counts": {"signed_curve25519": 50}})],
    "/keys/query": [ok({"device_keys": {}, "failures": {}})],
    "/profile/": [ok({"displayname": "Caucus Bot"})],
    "/sync": [long_poll],
    "/send/": [ok({"event_id": "$sent"})],
    "/redact/": [ok({"event_id": "$redaction"})],
    "/upload": [ok({"content_uri": "mxc://example.org/file"})],
    "/join/": [ok({"room_id": ROOM})],
}


class Homeserver(aiohttp.BaseConnector):
    """A connector that is the homeserver: each request is answered by the next of the
    answers set for the longest path fragment it contains (the last answer repeats)."""

    def __init__(self) -> None:
        super().__init__(force_close=True)  # one request a connection: one answer each
        self.routes = {fragment: list(answers) for fragment, answers in HEALTHY.items()}
        self.seen: list[str] = []

    def answer(self, fragment: str, *answers: Answer) -> None:
        self.routes[fragment] = list(answers)

    def asked(self, fragment: str) -> int:
        return sum(fragment in path for path in self.seen)

    async def _create_connection(self, req: ClientRequest, traces: list[Trace],
                                 timeout: aiohttp.ClientTimeout  # noqa: ASYNC109
                                 ) -> ResponseHandler:
        path = req.url.raw_path
        self.seen.append(f"{req.method} {req.url.raw_path_qs}")
        answers = self.routes[max((f for f in self.routes if f in path), key=len)]
        answer = answers.pop(0) if len(answers) > 1 else answers[0]
        if answer is refused:
            raise aiohttp.ClientConnectorError(
                req.connection_key, ConnectionRefusedError(111, "Connection refused"))
        ours, theirs = socket.socketpair()
        await self._loop.connect_accepted_socket(
            web.Server(answer, handler_cancellation=True), theirs)
        _, protocol = await self._loop.create_connection(self._factory, sock=ours)
        return protocol


@pytest.fixture
async def homeserver() -> Homeserver:
    return Homeserver()


@pytest.fixture(scope="module")
def bot(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FakeBot]:
    """One database for the module: migrating one a test would take most of the time."""
    made = FakeBot(tmp_path_factory.mktemp("matrix-errors"), Network("matrix"))
    yield made
    made.close()


@pytest.fixture
async def adapter(tmp_path: Path, bot: FakeBot,
                  homeserver: Homeserver) -> AsyncIterator[MatrixAdapter]:
    config = parse_config({**TEST_CONFIG, "matrix": {
        "homeserver": "https://matrix.example.org", "user_id": BOT,
        "access_token": "syt_test_token", "store_path": str(tmp_path / "store")}})
    assert config.matrix is not None
    made = MatrixAdapter(config.matrix, config, database=bot.database,
                         dispatcher=bot.dispatcher, clock=lambda: bot.now, sync_timeout_ms=100,
                         inbound_handler=Inbound(bot.dispatcher, bot.database,
                                                 lambda: bot.now, lambda *r, **q: None),
                         session=aiohttp.ClientSession(connector=homeserver))
    made.client.config = replace(made.client.config, request_timeout=REQUEST_TIMEOUT)
    yield made
    await made.stop()


def logged_in(adapter: MatrixAdapter) -> MatrixAdapter:
    """As after a start: the token restored and the configured room synced."""
    adapter.client.restore_login(BOT, "DEVICE", "syt_test_token")
    adapter.client.rooms[ROOM] = MatrixRoom(ROOM, BOT)
    return adapter


# Each kind of delivery, and the homeserver call that carries it.
KINDS = {
    "message": ("/send/m.room.message/", BotReply(Reply.text("hello"))),
    "file": ("/upload", BotReply(Reply(file=OutFile("cases.csv", b"a,b\n", "text/csv")))),
    "reaction": ("/send/m.reaction/", React("👍", "tg-1")),
    "redaction": ("/redact/", Redact()),
}


def delivery(kind: str) -> Delivery:
    return Delivery(1, f"matrix:{ROOM}", "1-x", KINDS[kind][1], target_id="$original")


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("limit, wait", [
    pytest.param(matrix_error(429, "M_LIMIT_EXCEEDED", "Too Many Requests",
                              retry_after_ms=1500), 1.5, id="retry_after_ms"),
    # Matrix 1.10 moved the wait to the Retry-After header (in seconds).
    pytest.param(matrix_error(429, "M_LIMIT_EXCEEDED", "Too Many Requests",
                              headers={"Retry-After": "3"}), 3.0, id="Retry-After"),
    # Both, as Synapse sends them: never earlier than either says.
    pytest.param(matrix_error(429, "M_LIMIT_EXCEEDED", "Too Many Requests",
                              retry_after_ms=1200, headers={"Retry-After": "2"}), 2.0,
                 id="both"),
    # A proxy's own limit: no Matrix error, the header or nothing (then a second).
    pytest.param(page(429, "<h1>429 Too Many Requests</h1>", headers={"Retry-After": "4"}),
                 4.0, id="proxy-Retry-After"),
    pytest.param(page(429, "<h1>429 Too Many Requests</h1>"), 1.0, id="proxy-no-wait"),
])
async def test_a_rate_limit_waits_as_long_as_the_homeserver_says(
        adapter: MatrixAdapter, homeserver: Homeserver, kind: str, limit: Answer,
        wait: float) -> None:
    fragment = KINDS[kind][0]
    homeserver.answer(fragment, limit)
    with pytest.raises(RetryLater) as caught:
        await logged_in(adapter).send(delivery(kind))
    assert caught.value.after == wait
    assert homeserver.asked(fragment) == 1  # the outbox waits, in order; nio does not


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("refusal, reason", [
    pytest.param(matrix_error(403, "M_FORBIDDEN", f"User {BOT} not in room {ROOM}"),
                 "M_FORBIDDEN.*not in room", id="403"),
    pytest.param(matrix_error(404, "M_NOT_FOUND", "Unknown room"), "M_NOT_FOUND.*Unknown room",
                 id="404"),
    pytest.param(matrix_error(400, "M_BAD_JSON", "Content not JSON."), "M_BAD_JSON", id="400"),
    pytest.param(matrix_error(413, "M_TOO_LARGE", "File size limit exceeded"), "M_TOO_LARGE",
                 id="413"),
    pytest.param(page(413, "<h1>413 Request Entity Too Large</h1>"), "413", id="proxy-413"),
])
async def test_a_refusal_is_kept_as_failed_with_its_reason(
        adapter: MatrixAdapter, homeserver: Homeserver, kind: str, refusal: Answer,
        reason: str) -> None:
    homeserver.answer(KINDS[kind][0], refusal)
    with pytest.raises(DeliveryFailed, match=reason):
        await logged_in(adapter).send(delivery(kind))


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("trouble, reason", [
    # Synapse's own answer to an exception inside it: M_UNKNOWN, but a 500.
    pytest.param(matrix_error(500, "M_UNKNOWN", "Internal server error"), "M_UNKNOWN",
                 id="500"),
    pytest.param(page(502, "<h1>502 Bad Gateway</h1>"), "502", id="proxy-502"),
    pytest.param(page(503, "<h1>503 Service Unavailable</h1>"), "503", id="proxy-503"),
    pytest.param(refused, "network", id="refused"),
    pytest.param(dropped, "network", id="dropped"),
    pytest.param(silent, "network", id="timeout"),
    # A token refused while sending: the row waits (the sync stops the bot to say so).
    pytest.param(matrix_error(401, "M_UNKNOWN_TOKEN", "Invalid access token passed."),
                 "M_UNKNOWN_TOKEN", id="401"),
])
async def test_a_server_error_or_a_network_failure_is_tried_again_later(
        adapter: MatrixAdapter, homeserver: Homeserver, kind: str, trouble: Answer,
        reason: str) -> None:
    homeserver.answer(KINDS[kind][0], trouble)
    with pytest.raises(RetryLater, match=reason) as caught:
        await logged_in(adapter).send(delivery(kind))
    assert caught.value.after is None  # the worker's own growing backoff


async def test_a_room_slow_to_take_its_message_holds_up_no_other_room(
        adapter: MatrixAdapter, homeserver: Homeserver) -> None:
    """Each room is sent to in its own outbox task: while the homeserver has not yet
    answered a send to one room (a large room, a connection gone quiet), another room's
    message goes, and the slow one is still answered after."""
    slow_room = "!slow:example.org"
    answer_now = asyncio.Event()

    async def slow(request: web.BaseRequest) -> web.StreamResponse:
        await answer_now.wait()
        return web.json_response({"event_id": "$slow"})
    homeserver.answer(f"{slow_room}/send/", slow)
    logged_in(adapter).client.rooms[slow_room] = MatrixRoom(slow_room, BOT)
    adapter.client.config = replace(adapter.client.config, request_timeout=10)
    held = asyncio.create_task(adapter.send(Delivery(
        1, f"matrix:{slow_room}", "1-x", BotReply(Reply.text("to the slow room")))))
    await until(lambda: homeserver.asked(slow_room))
    other = asyncio.create_task(adapter.send(replace(delivery("message"), row_id=2)))
    await asyncio.wait([held, other], timeout=5, return_when=asyncio.FIRST_COMPLETED)
    assert other.done() and not held.done(), "the other room waited for the slow one"
    assert other.result() == "$sent"
    answer_now.set()
    assert await held == "$slow"


# ---- the sync loop ----------------------------------------------------------------------

def synced(next_batch: str, **rooms: Any) -> Answer:
    return ok({"next_batch": next_batch, "rooms": rooms})


async def started(adapter: MatrixAdapter) -> tuple[list[str], list[int]]:
    """Start as after an earlier run (a stored sync token); collect on_fatal reasons and
    on_recovered calls."""
    with adapter.database.session() as db:
        inbound.set_resume(db, SINCE, "s0")
        db.commit()
    fatal: list[str] = []
    recovered: list[int] = []
    adapter.on_fatal = fatal.append
    adapter.on_recovered = lambda: recovered.append(1)
    await adapter.start()
    return fatal, recovered


async def until(condition: Callable[[], object], seconds: float = 10.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while not condition():
        assert loop.time() < deadline, "not reached in time"
        await asyncio.sleep(0.02)


def failures_logged(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if "sync failed" in r.getMessage()]


async def test_the_first_start_fetches_one_event_a_room_of_the_history_it_skips(
        adapter: MatrixAdapter, homeserver: Homeserver) -> None:
    """With hundreds of rooms, a first start that fetched a page of history in each (to
    skip it) read tens of thousands of events before it was ready."""
    await first_start(adapter)
    await until(lambda: homeserver.asked("/sync"))
    first = next(path for path in homeserver.seen if "/sync" in path)
    query = parse_qs(urlsplit(first.split(" ", 1)[1]).query)
    assert json.loads(query["filter"][0])["room"]["timeline"]["limit"] == 1
    assert query["full_state"] == ["true"]


async def test_the_first_start_is_ready_before_the_homeserver_answers_the_first_sync(
        adapter: MatrixAdapter, homeserver: Homeserver) -> None:
    """A homeserver takes half a minute to answer the first sync of a bot in 500 rooms:
    the start does not wait for it (the sync loop does), and the history it brings is
    skipped when it comes."""
    answer_now = asyncio.Event()

    async def slow_first_sync(request: web.BaseRequest) -> web.StreamResponse:
        await answer_now.wait()
        return web.json_response({"next_batch": "s1", "rooms": {}})
    homeserver.answer("/sync", slow_first_sync, long_poll)
    adapter.client.config = replace(adapter.client.config, request_timeout=10)
    await asyncio.wait_for(first_start(adapter), 5)
    assert homeserver.asked("/sync") == 1 and not adapter.sender.synced.is_set()
    answer_now.set()
    await until(adapter.sender.synced.is_set)
    await until(lambda: inbound_resume(adapter) == "s1")


async def first_start(adapter: MatrixAdapter) -> None:
    """Start as the very first time: no sync token stored (the database is the module's)."""
    with adapter.database.session() as db:
        inbound.drop_resume(db, SINCE)
        db.commit()
    await adapter.start()


def inbound_resume(adapter: MatrixAdapter) -> str | None:
    with adapter.database.session() as db:
        return inbound.get_resume(db, SINCE)


async def test_a_refused_token_at_start_says_so(adapter: MatrixAdapter,
                                               homeserver: Homeserver) -> None:
    homeserver.answer("/account/whoami",
                      matrix_error(401, "M_UNKNOWN_TOKEN", "Invalid access token passed."))
    with pytest.raises(MatrixError, match="access token: M_UNKNOWN_TOKEN"):
        await adapter.start()


@pytest.mark.parametrize("login, what_to_do", [
    ("access token", "the homeserver refused the Matrix access token: set a valid one in "
                     "[matrix].access_token (or CAUCUS_MATRIX_ACCESS_TOKEN)"),
    ("password", "the homeserver refused the access token of the bot's password login (its "
                 "session was logged out): give it an access token in [matrix].access_token "
                 "(or CAUCUS_MATRIX_ACCESS_TOKEN)"),
])
async def test_a_token_refused_while_syncing_stops_the_bot_with_what_to_do(
        adapter: MatrixAdapter, homeserver: Homeserver, caplog: pytest.LogCaptureFixture,
        login: str, what_to_do: str) -> None:
    if login == "password":  # a password login of an earlier start, its token stored
        adapter.settings = replace(adapter.settings, access_token=None, password="pw")
        with adapter.database.session() as db:
            inbound.set_resume(db, DEVICE, "DEVICE")
            inbound.set_secret(db, TOKEN, "syt_stored_token")
            db.commit()
    homeserver.answer("/sync", matrix_error(401, "M_UNKNOWN_TOKEN", "Invalid access token"))
    caplog.set_level(logging.WARNING, "bot.matrix")
    fatal, _ = await started(adapter)
    await until(lambda: fatal)
    assert adapter._task is not None
    await until(adapter._task.done)
    assert fatal == [what_to_do]
    assert homeserver.asked("/sync") == 1  # stopped, not hammering the homeserver
    assert failures_logged(caplog) == []  # nor saying it will retry


async def test_a_failing_homeserver_is_synced_again_with_growing_waits(
        adapter: MatrixAdapter, homeserver: Homeserver, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    troubles = iter([matrix_error(500, "M_UNKNOWN", "Internal server error"), refused,
                     dropped, silent])
    waits: list[float] = []

    def quick(failures: int) -> float:
        """Record the real wait, and turn to the next trouble (nio and aiohttp try some
        requests more than once themselves: counting answers would test them)."""
        waits.append(poll_backoff(failures))
        trouble = next(troubles, None)
        homeserver.answer("/sync", *([trouble] if trouble else [synced("s1"), long_poll]))
        return 0.01

    monkeypatch.setattr("bot.matrix.poll_backoff", quick)
    homeserver.answer("/sync", page(502, "<h1>502 Bad Gateway</h1>"))
    caplog.set_level(logging.WARNING, "bot.matrix")
    fatal, recovered = await started(adapter)
    await until(lambda: recovered)
    assert adapter.client.next_batch == "s1"
    assert waits == [1.0, 2.0, 4.0, 8.0, 16.0]
    assert len(failures_logged(caplog)) == 5
    assert recovered == [1] and fatal == []
    assert adapter._task is not None and not adapter._task.done()


async def test_a_rate_limited_sync_waits_as_long_as_the_homeserver_says(
        adapter: MatrixAdapter, homeserver: Homeserver,
        caplog: pytest.LogCaptureFixture) -> None:
    homeserver.answer("/sync", matrix_error(429, "M_LIMIT_EXCEEDED", "Too Many Requests",
                                            headers={"Retry-After": "1"}, retry_after_ms=300),
                      synced("s1"), long_poll)
    caplog.set_level(logging.WARNING, "bot.matrix")
    await started(adapter)
    await until(lambda: adapter.client.next_batch == "s1")
    assert failures_logged(caplog) == ["matrix: sync failed (Too Many Requests); retrying in 1.0s"]


async def test_a_join_cut_off_is_tried_again_from_the_same_sync(
        adapter: MatrixAdapter, homeserver: Homeserver, monkeypatch: pytest.MonkeyPatch) -> None:
    """An admin's invite arrives, and the join cannot connect: the sync loop reads the
    same sync again and joins, rather than die with the error (and leave the bot deaf)."""
    invite = {ROOM: {"invite_state": {"events": [{
        "type": "m.room.member", "state_key": BOT, "sender": "@admin:example.org",
        "content": {"membership": "invite"}}]}}}

    async def sync(request: web.BaseRequest) -> web.StreamResponse:
        if request.query.get("since") == "s0":
            return web.json_response({"next_batch": "s1", "rooms": {"invite": invite}})
        return await long_poll(request)

    def back(failures: int) -> float:  # the homeserver is reachable again after a wait
        homeserver.answer("/join/", ok({"room_id": ROOM}))
        return 0.01

    monkeypatch.setattr("bot.matrix.poll_backoff", back)
    homeserver.answer("/sync", sync)
    homeserver.answer("/join/", refused)
    await started(adapter)
    await until(lambda: homeserver.asked("since=s1"))  # past the invite
    assert homeserver.asked("since=s0") == 2  # the sync with the invite, read again
    onwards = next(i for i, path in enumerate(homeserver.seen) if "since=s1" in path)
    assert homeserver.seen[onwards - 1].startswith("POST /_matrix/client/v3/join/")  # joined
    assert adapter._task is not None and not adapter._task.done()
