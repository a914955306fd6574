"""What every adapter does with an inbound message: once only, relayed, answered.

The adapters translate; this decides. An inbound message is recorded as
handled in the same transaction that queues its relay to the paired room; a
command, in the transaction that runs it and queues its answer (and its relay).
So a network that delivers it twice (or a restart that re-reads it) neither runs
a command twice nor relays a message twice, and a crash or a failing database
at any point loses neither, nor leaves a command done but unanswered. Answers
and relays are queued in the outbox, so each room keeps its order.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any, Protocol

from sqlalchemy import Connection
from sqlmodel import Session

from bot import deliveries
from bot.bridge import Bridge
from bot.dispatcher import Answer, Clock, Dispatcher, Reading, Settlement
from bot.events import Event
from storage import inbound, outbox
from storage.database import Database


class Wake(Protocol):
    """The outbox worker's wake (bot.outbox): these rooms have rows queued, and ``queued``
    the rows themselves as written, where the caller collected them."""

    def __call__(self, *room_ids: str, queued: Sequence[Any] = ()) -> None: ...


class Inbound:
    def __init__(self, dispatcher: Dispatcher, database: Database, clock: Clock,
                 wake_outbox: Wake):
        self.dispatcher = dispatcher
        self.database = database
        self.clock = clock
        self.wake_outbox = wake_outbox
        self.bridge = Bridge(dispatcher.rooms)

    async def receive(self, event: Event, *, version: str = "",
                      resume: tuple[str, str] | None = None) -> bool:
        """Handle an event unless handled before; True if it was new.

        ``resume``: a (name, value) resume point to store in the same transaction
        (the Telegram offset after this update), so that it costs no commit of its own.
        """
        reading = self.dispatcher.read(event)
        place = reading.place
        bridged = place is not None and not place.is_direct and \
            self.bridge.partner(event.room_id) is not None
        if reading.is_command:
            return await self._command(event, reading, version, resume, bridged)
        # Committed at the end of the block, before anything is sent; the rows it queued
        # go to the outbox worker as they are, so that it need not read them back.
        with self.database.begin() as db, outbox.collecting(db) as queued:
            fresh = self._claim(db, event, version, resume)
            relayed = fresh and bridged and self.bridge.relay(db, event, self.clock()) > 0
        if not fresh:
            return False
        partner = self.bridge.partner(event.room_id)
        if relayed and partner is not None:
            self.wake_outbox(partner, queued=queued)
            # Let the delivery start (up to its request on the wire) before the adapter
            # goes on to build its next poll or sync request: that work is not this
            # message's, and would otherwise sit in front of its send.
            await asyncio.sleep(0)
        reply = (await self.dispatcher.handle(event, reading=reading)).reply  # a DM hint, or none
        if reply is not None:
            with self.database.begin() as hint:
                deliveries.enqueue(hint, event.room_id, reply, now=self.clock(),
                                   reply_to=event.message_id)
            self.wake_outbox(event.room_id)
        return True

    async def _command(self, event: Event, reading: Reading, version: str,
                       resume: tuple[str, str] | None, bridged: bool) -> bool:
        """A command runs in one transaction with its record as handled and its answer."""
        def claim(db: Session) -> bool:
            return self._claim(db, event, version, resume)

        settled: list[Any] = []  # the rows settle queued: committed once handle returns

        def settle(db: Session, answer: Answer) -> None:
            with outbox.collecting(db) as queued:
                self._settle(db, event, answer, bridged)
            settled[:] = queued

        outcome = await self.dispatcher.handle(event, Settlement(claim, settle), reading)
        if not outcome.fresh:
            return False
        partner = self.bridge.partner(event.room_id) if bridged else None
        self.wake_outbox(*[r for r in (event.room_id, partner) if r], queued=settled)
        return True

    def _settle(self, db: Session, event: Event, answer: Answer, bridged: bool) -> None:
        """Queue a command's answer (and its relay), in the command's transaction."""
        now, subject = self.clock(), answer.subject
        if answer.reply is not None:
            deliveries.enqueue(db, event.room_id, answer.reply, now=now,
                               reply_to=event.message_id, subject=subject)
        if answer.delete:  # after the answer, which replies to it
            deliveries.queue(db, event.room_id, deliveries.Delete(), now=now,
                             reply_to=event.message_id, subject=subject)
        if bridged and not answer.private:
            # The command and its answer appear on the other side too, in that order.
            self.bridge.relay(db, event, now, subject=subject)
            if answer.reply is not None:
                self.bridge.mirror(db, event, answer.reply, now, subject=subject)

    def _claim(self, db: Session | Connection, event: Event, version: str,
               resume: tuple[str, str] | None) -> bool:
        """Record the event as handled (False if it was before), with the resume point."""
        fresh = inbound.first_sighting(db, event.room_id, event.message_id, version,
                                       self.clock())
        if resume is not None:
            inbound.set_resume(db, *resume)
        return fresh
